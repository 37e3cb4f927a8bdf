/* Reading whole files relative to a directory fd (the --root idiom: every read is openat()
 * against one root, so fixture trees stand in for / in tests). */
#pragma once

#include <dirent.h>
#include <stddef.h>

/* Read all of `path` (relative to dirfd) into a NUL-terminated malloc'd buffer, growing it as
 * needed, refusing files larger than max_bytes with -EFBIG. Opens with O_NOFOLLOW unless
 * follow is set (procfs magic links such as exe need following). Returns 0 or -errno. */
int gsm_read_file_at(int dirfd, const char *path, size_t max_bytes, char **ret_buf, size_t *ret_len);

/* The same from an open fd, from its current offset to EOF. */
int gsm_read_fd(int fd, size_t max_bytes, char **ret_buf, size_t *ret_len);

/* Default cap for small /proc and cgroup files (status, stat, memory.stat ...): 1 MiB. */
#define GSM_SMALL_FILE_MAX ((size_t)1 << 20)

/* Write `len` bytes to `path` atomically: a temp file in the same directory created with
 * O_EXCL|O_NOFOLLOW, fsync'd, then renamed over the final name. Nothing is left under the
 * final name on failure. Returns 0 or -errno. */
int gsm_write_file_atomic(const char *path, const void *data, size_t len);

/* Open `path` (relative to dirfd; "." for dirfd itself, with an offset of its own) as a
 * directory stream, never through a symlink. Returns 0 and *ret (closedir() it) or -errno. */
int gsm_opendir_at(int dirfd, const char *path, DIR **ret);
