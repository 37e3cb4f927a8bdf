/* /proc/PID/smaps read on the calling thread through one small buffer: for a daemon that reads
 * many processes' smaps in the background (serve's classes tier), where memory matters more
 * than speed. gsm_smaps_read_at() (proc_smaps.h) reads through a 64 KiB buffer and parses
 * the kernel's fixed field layout on a fast path: faster for one large process. */
#pragma once

#include "readers/proc_smaps.h"

#include <sys/types.h>

/* Bytes of the buffer; a line may have 28 KiB (the kernel's are < 16 KiB: header + an escaped
 * PATH_MAX name). */
#define GSM_SMAPS_LEAN_BUF_BYTES ((size_t)32 * 1024)

/* Streams `name` ("smaps" or "maps") from an open /proc/PID directory into p, calling progress
 * after each buffer's lines (as gsm_smaps_read_at does). Returns 0, -ENOENT/-ESRCH when the
 * process is gone, -EACCES when not permitted, -EBADMSG when malformed or a line is longer
 * than 28 KiB (err filled), -ENOMEM. */
int gsm_smaps_read_lean_at(int procfd, const char *name, struct gsm_process *p,
                           const struct gsm_smaps_progress *progress, struct gsm_parse_error *err);

/* The same reader over any source of bytes: read_fn(arg, buf, len) behaves as read(2) (bytes
 * stored, 0 at the end, -errno). buf_bytes (at least 64; GSM_SMAPS_LEAN_BUF_BYTES for the
 * reader above) is the buffer: a line longer than 7/8 of it is refused with -EBADMSG. The
 * chunks are not NUL-terminated; in ASan builds the unused part of the buffer is poisoned, so
 * a parser that reads past a line's end trips ASan. For tests/fuzz/fuzz_smaps_lean.c, which
 * feeds chunks of varying sizes and buffers of varying sizes. */
int gsm_smaps_read_lean_stream(ssize_t (*read_fn)(void *arg, char *buf, size_t len), void *arg, size_t buf_bytes,
                               struct gsm_process *p, const struct gsm_smaps_progress *progress,
                               struct gsm_parse_error *err);
