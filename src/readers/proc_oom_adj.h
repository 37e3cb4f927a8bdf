/* The one write gsmapper makes to /proc (watch/serve --protect): a process's oom_score_adj, and
 * its comm to find the processes a rule names. Through a process handle (readers/proc_handle.h),
 * so a recycled PID is never written: the start time is checked right before the write. Inside
 * the sandbox (Landlock refuses writes under /proc) the /proc broker writes it
 * (util/proc_broker.h). */
#pragma once

#include "readers/proc_handle.h"

#include <stddef.h>
#include <stdint.h>

/* /proc/PID/comm without its newline (at most 15 bytes + NUL), relative to a /proc directory fd.
 * 0, -ENOENT (gone), -EACCES. */
int gsm_read_comm_at(int proc_dirfd, pid_t pid, char *buf, size_t len);

/* Writes value (-1000 .. 1000) to the process's oom_score_adj; *ret_old is what it was (read
 * first). 0; -ESRCH when the process is gone or its PID now names another; -EACCES / -EPERM
 * when refused (lowering it needs CAP_SYS_RESOURCE; raising it needs nothing for one's own
 * processes); -EINVAL for a value out of range. */
int gsm_proc_oom_score_adj_set(const struct gsm_proc *h, int value, int64_t *ret_old);
