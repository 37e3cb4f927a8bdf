/* Why this process cannot see or read another one, for the hint of the one-line error
 * (PRODUCT.md: exit 4 names the capability needed; tests/live/test_permissions.sh). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Whether /proc under the root is mounted with a hidepid= that hides other users' processes
 * (1, 2, noaccess, invisible, ptraceable: proc(5)); its value into buf. False when /proc shows
 * every process, or its mount is not found. */
bool gsm_proc_hidepid(int rootfd, char *buf, size_t len);

/* Whether pid is not dumpable (prctl(PR_SET_DUMPABLE, 0), a setuid program, a changed
 * credential): its /proc/PID/<file> belongs to root while the process runs as another user.
 * Then only CAP_SYS_PTRACE opens its files, even for that user. */
bool gsm_proc_not_dumpable(int rootfd, pid_t pid, const char *file);

/* The hint after "no process PID" for a caller that is not root: " (or hidden from this user:
 * /proc is mounted hidepid=V; CAP_SYS_PTRACE sees it)" when gsm_proc_hidepid(), else "". */
void gsm_proc_notfound_hint(int rootfd, char *buf, size_t len);
