/* The /proc broker: a tiny unsandboxed helper process for what a Landlock domain hides
 * (docs/sandbox.md). Inside a Landlock domain the kernel refuses, for any process outside the
 * domain and whatever the capabilities, the ptrace-checked links and files of /proc/PID:
 * exe (Go detection and build information), fd/N and ns/net (the Go stats port discovery) and
 * task/TID/syscall (thread stacks). Writes to cgroup files (a PSI trigger on memory.pressure,
 * v1's cgroup.event_control) are refused too, as all writes outside the allowed directories.
 *
 * gsm_broker_start() forks the broker before Landlock is applied. It keeps nothing but one
 * SOCK_SEQPACKET socket to us, sets no_new_privs and PR_SET_PDEATHSIG, and loads its own
 * seccomp filter (libseccomp): recvmsg, sendmsg, openat without O_CREAT/O_TRUNC/O_APPEND/
 * O_TMPFILE/O_PATH, readlinkat, read, fstatfs, close, poll/ppoll, exit. It takes no path from
 * us: it builds "/proc/<pid>/exe", "/proc/<pid>/fd/<n>" (and answers only for a socket),
 * "/proc/<pid>/ns/net" or "/proc/<pid>/task/<tid>/syscall" from integers, and opens only the
 * two notification files by fixed name relative to a directory we pass that fstatfs proves to
 * be a cgroup file system. It answers with the link's text, up to 4 KiB of the file, or the
 * descriptor (SCM_RIGHTS), or an errno; it exits when every socket to it is closed.
 *
 * The PID is only a number: the callers (readers/proc_priv) check afterwards that their
 * /proc/PID directory descriptor still names a live process, so a recycled PID is caught.
 *
 * One write (watch/serve --protect, which a Landlock domain would refuse): a process's
 * oom_score_adj. The broker is told the --protect rules before it is forked and writes only a
 * rule's value to a process whose comm the rule names; the caller passes its pidfd of the
 * process it checked, and the broker writes only while that pidfd says the process has not
 * exited (opened before the poll, /proc/PID/oom_score_adj is then that process's).
 *
 * One read outside /proc: the two transparent-hugepage settings the findings need, by fixed
 * name (the domain never reads /sys/kernel; docs/sandbox.md "Reads"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The environment variable naming an inherited broker socket (the flight recorder's explain). */
#define GSM_BROKER_FD_ENV "GSMAPPER_BROKER_FD"

enum gsm_broker_cgroup_file {
    GSM_BROKER_CG_PRESSURE,        /* memory.pressure, O_RDWR|O_NONBLOCK (a v2 PSI trigger) */
    GSM_BROKER_CG_EVENT_CONTROL,   /* cgroup.event_control, O_WRONLY (v1 notifications) */
};

/* Adopts the socket GSMAPPER_BROKER_FD names (then unsets it; returns 1), else forks a broker
 * (returns 0). -errno when neither worked. */
int gsm_broker_start(void);
bool gsm_broker_active(void);

/* /proc/PID/exe: its link text into link (NUL-terminated; may be NULL) and/or an O_RDONLY fd of
 * the executable into *ret_fd (may be NULL). Returns 0 or -errno (-EPIPE: the broker is gone). */
int gsm_broker_exe(pid_t pid, char *link, size_t link_size, int *ret_fd);
/* /proc/PID/fd/N (fd >= 0; answered only when it is a socket, else -ENOTSOCK) or ns/net
 * (fd == -1). Returns the length written to buf (NUL-terminated) or -errno. */
int gsm_broker_readlink(pid_t pid, int fd, char *buf, size_t size);
/* /proc/PID/task/TID/syscall (at most 4 KiB). Returns its length or -errno. */
int gsm_broker_task_syscall(pid_t pid, pid_t tid, char *buf, size_t size);
/* A notification file of the cgroup directory dirfd. Returns the fd or -errno. */
int gsm_broker_cgroup_open(int dirfd, enum gsm_broker_cgroup_file which);
/* The --protect rules the broker may carry out (copied; call before gsm_broker_start, which
 * the sandbox calls). At most GSM_BROKER_OOM_RULES_MAX. */
#define GSM_BROKER_OOM_RULES_MAX 32
struct gsm_broker_oom_rule {
    char comm[16];
    int adj;
};
void gsm_broker_allow_oom_adj(const struct gsm_broker_oom_rule *rules, size_t n);
/* Writes value to /proc/PID/oom_score_adj through the broker; pidfd is the caller's pidfd of the
 * process (required: -ESRCH without one). 0, -ESRCH (gone, or the PID changed hands), -EPERM
 * (no rule names the process's comm with this value), -EACCES (the kernel refused it: the file
 * is the process's user's; lowering needs CAP_SYS_RESOURCE), -EPIPE (no broker). */
int gsm_broker_oom_score_adj(pid_t pid, int pidfd, int value);
enum gsm_broker_thp_file {
    GSM_BROKER_THP_ENABLED,          /* /sys/kernel/mm/transparent_hugepage/enabled */
    GSM_BROKER_THP_MAX_PTES_NONE,    /* .../transparent_hugepage/khugepaged/max_ptes_none */
};
/* One of them (at most 4 KiB). Returns its length or -errno. */
int gsm_broker_thp(enum gsm_broker_thp_file which, char *buf, size_t size);
/* A new socket to the broker for a child process (close-on-exec; the child learns its number
 * through GSMAPPER_BROKER_FD). Returns the fd or -errno. */
int gsm_broker_attach_new(void);
