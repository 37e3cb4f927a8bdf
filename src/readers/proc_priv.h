/* The files of /proc/PID (and of cgroups) that a sandboxed gsmapper cannot open itself: every
 * reader goes through these. Each tries the direct call first (unsandboxed, with --root fixture
 * trees, and for processes inside our own Landlock domain it just works); when that is refused
 * (EACCES/EPERM) and the /proc broker is running (util/proc_broker.h, docs/sandbox.md), the
 * broker is asked, for the PID that procfd names on the live /proc. A PID is only a number:
 * after the broker's answer, procfd must still name a live process (a /proc/PID directory
 * descriptor is tied to its process), else the answer is dropped and -ESRCH returned — a
 * recycled PID is never read as the process the handle was opened on. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* /proc/PID/exe opened O_RDONLY|O_CLOEXEC|O_NOCTTY (procfd is /proc/PID). Returns the fd or -errno. */
int gsm_proc_exe_open(int procfd);
/* readlink of a link of procfd: "exe", "ns/net" or "fd/N" (for fd/N only a socket's link is
 * answered through the broker). Returns the length written (NUL-terminated) or -errno. */
int gsm_proc_readlink(int procfd, const char *name, char *buf, size_t size);
/* task/TID/syscall of procfd into buf (NUL-terminated). Returns the length or -errno. */
int gsm_proc_task_syscall(int procfd, pid_t tid, char *buf, size_t size);
/* Writes value to procfd's oom_score_adj (--protect). Inside a Landlock domain, which refuses
 * the open, through the broker, which writes only while pidfd (the caller's pidfd of procfd's
 * process; -1: none, then not written, -ESRCH) says the process has not exited. 0 or -errno
 * (-ESRCH: gone). */
int gsm_proc_oom_score_adj_write(int procfd, int pidfd, int value);
/* A cgroup directory's notification file opened for writing: "memory.pressure" (O_RDWR|
 * O_NONBLOCK) or "cgroup.event_control" (O_WRONLY). Returns the fd or -errno. */
int gsm_cgroup_notify_open(int dirfd, const char *name);
/* A transparent-hugepage setting of the host: 0 "enabled", 1 "khugepaged/max_ptes_none".
 * With a broker running (our Landlock domain never reads /sys/kernel), through it, else
 * directly below root. Returns 0 with a malloc'ed, NUL-terminated *ret_buf, or -errno. */
struct gsm_root;
int gsm_host_thp_read(const struct gsm_root *root, int which, char **ret_buf, size_t *ret_len);
