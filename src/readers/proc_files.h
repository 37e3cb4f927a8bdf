/* The small per-process /proc files: status, stat, statm, oom_score, oom_score_adj, the task
 * list with each task's stack pointer, and the exe link. Pure parsers beside thin readers that
 * take an open /proc/PID directory fd. Readers return 0, -ENOENT/-ESRCH when the process is
 * gone, -EACCES/-EPERM when not permitted, -EBADMSG when malformed (err filled). */
#pragma once

#include "model/process.h"
#include "readers/proc_smaps.h"   /* struct gsm_parse_error */

#include <stddef.h>

/* status: "Name:\tgo-svc", "VmRSS:\t  123 kB", "Threads:\t12" ... (fs/proc/array.c) */
int gsm_parse_status(const char *buf, size_t len, struct gsm_status *ret, struct gsm_parse_error *err);
/* stat: "1234 (my (weird) comm) S 1 ..." — comm may contain spaces and ')': parse from the last ')'. */
int gsm_parse_stat(const char *buf, size_t len, struct gsm_stat *ret, struct gsm_parse_error *err);
/* statm: "size resident shared text lib data dt" in pages. */
int gsm_parse_statm(const char *buf, size_t len, struct gsm_statm *ret, struct gsm_parse_error *err);
/* A single signed integer followed by a newline (oom_score, oom_score_adj). */
int gsm_parse_int_file(const char *buf, size_t len, int64_t *ret, struct gsm_parse_error *err);
/* task/TID/syscall: "0 0x3 0x7ffd... 0x1 0 0 0 0x7ffd5a1c8e38 0x7f..." (nr, 6 args, sp, pc),
 * "-1 0x7ffd... 0x7f..." (blocked, not in a syscall: sp, pc) or "running". Returns the sp, 0 if
 * unknown. */
int gsm_parse_task_syscall_sp(const char *buf, size_t len, uint64_t *ret_sp);

/* limits: the soft "Max stack size" in bytes (0 = unlimited). glibc sizes each pthread stack
 * (guard included) from it; "Max stack size            8388608              unlimited            bytes" */
int gsm_parse_limits_stack(const char *buf, size_t len, uint64_t *ret_bytes, struct gsm_parse_error *err);

/* task/TID/schedstat (kernel/sched/stats.c, CONFIG_SCHED_INFO): "run_ns wait_ns timeslices":
 * time on a CPU and time runnable but waiting for one. */
int gsm_parse_schedstat(const char *buf, size_t len, uint64_t *ret_run_ns, uint64_t *ret_wait_ns);

int gsm_read_status_at(int procfd, struct gsm_status *ret, struct gsm_parse_error *err);
int gsm_read_stat_at(int procfd, struct gsm_stat *ret, struct gsm_parse_error *err);
int gsm_read_statm_at(int procfd, struct gsm_statm *ret, struct gsm_parse_error *err);
int gsm_read_limits_stack_at(int procfd, uint64_t *ret_bytes, struct gsm_parse_error *err);
int gsm_read_int_file_at(int procfd, const char *name, int64_t *ret, struct gsm_parse_error *err);
/* The tasks of the process with their stack pointers where readable (sp = 0 otherwise). */
int gsm_read_tasks_at(int procfd, struct gsm_task **ret_tasks, size_t *ret_n);
/* The CPU a process asked for: the sum over its threads (at most max_tasks of them) of the time
 * each ran and waited runnable (task/TID/schedstat), in ns. Waiting counts: a CPU-bound process
 * on a busy machine asks for a whole CPU whatever share it gets. Returns 0, -ERANGE when it
 * has more threads than max_tasks, -ENOTSUP when the kernel keeps no schedstat (all zero). */
int gsm_read_cpu_demand_at(int procfd, size_t max_tasks, uint64_t *ret_ns);
/* readlink of exe; " (deleted)" is stripped and reported through ret_deleted. */
int gsm_read_exe_link_at(int procfd, char *buf, size_t size, bool *ret_deleted);
