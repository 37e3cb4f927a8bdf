/* One process, opened once and passed to every reader of a file of /proc/PID.
 *
 * A PID is only a number: when the process exits, the kernel may hand the number to a new
 * process, and a reader that opens "/proc/PID" again would describe that one. The handle keeps
 * what identifies the process it was opened on:
 *   - dirfd: /proc/PID opened once (O_DIRECTORY|O_NOFOLLOW relative to the root's fd); on the
 *     live system, files opened through it belong to that process only (a /proc/PID directory
 *     is tied to its struct pid: once the process is reaped, opens fail with ENOENT/ESRCH);
 *   - pidfd: pidfd_open(2) (Linux >= 5.3) on the live system, -1 elsewhere; it polls readable
 *     once the process has exited, so a check of a running process costs one poll(), no read;
 *   - start_ticks: field 22 of stat (clock ticks after boot) when opened: a recycled PID has a
 *     later start time. Under a --root fixture tree this is the only identity there is.
 * gsm_proc_handle_check() compares both again; readers that read more than one file call it
 * after their last read, and report -ESRCH (exit 3, "no process") on a mismatch. */
#pragma once

#include "util/root.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct gsm_proc {
    pid_t pid;
    int dirfd;               /* proc/PID under the root */
    int pidfd;               /* -1: not the live system, or the kernel has no pidfd_open */
    uint64_t start_ticks;    /* stat field 22 at open */
    bool have_start;         /* stat was readable and well-formed at open */
};

#define GSM_PROC_INIT {.pid = 0, .dirfd = -1, .pidfd = -1}

/* Open PID under root. Returns 0, -ENOENT when there is no such process, -EACCES, -ENOMEM.
 * A stat that cannot be read or parsed leaves have_start false (not an error: the readers
 * report that file themselves). *ret is written only on success. */
int gsm_proc_handle_open(const struct gsm_root *root, pid_t pid, struct gsm_proc *ret);

/* 0 while the handle still names the process it was opened on (a zombie still does); -ESRCH
 * when it is gone (stat no longer readable through the dirfd) or the PID now belongs to another
 * process (start time changed). */
int gsm_proc_handle_check(const struct gsm_proc *h);

/* A start time read by a caller (e.g. the snapshot's stat) against the handle's: -ESRCH when
 * they differ. */
int gsm_proc_handle_same_start(const struct gsm_proc *h, uint64_t start_ticks);

/* pidfd_open(2) of pid on the live system: the fd, or -1 when the kernel has none (before 5.3)
 * or refuses it. */
int gsm_pidfd_open(pid_t pid);
/* Has the process of this pidfd exited (poll says readable: a zombie, or reaped)? A PID is not
 * given to another process before its process is reaped, so while this is false every
 * /proc/PID opened before the call named the pidfd's process. */
bool gsm_pidfd_exited(int pidfd);

void gsm_proc_handle_close(struct gsm_proc *h);
static inline void gsm_proc_handle_closep(struct gsm_proc *h) {
    gsm_proc_handle_close(h);
}
#define _cleanup_proc_ __attribute__((cleanup(gsm_proc_handle_closep)))
