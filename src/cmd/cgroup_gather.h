/* The reads behind a cgroup report (explain PID, explain --cgroup, serve's Go findings):
 * locate the cgroup, read its memory files and its ancestors' limits, and for --cgroup its
 * member processes; analyses/cgroup_report.c computes the rest. */
#pragma once

#include "analyses/cgroup_report.h"
#include "util/root.h"

/* The memory cgroup of a process. 0; -ENOENT process or cgroup gone; -ENOMEDIUM no memory
 * controller mounted; -EXDEV, -EREMOTE, -ENOLINK the cgroup lies outside our view (outside
 * the mounted sub-trees; above our cgroup namespace root with no mount reaching it; a mount
 * reaches it but our own cgroup is not found in it: gsm_cgroup_locate_pid()). */
int gsm_cgroup_report_for_pid(const struct gsm_root *root, pid_t pid, struct gsm_cgroup_report *ret);
/* Same for the process behind an open handle (explain reads one process through one handle). */
struct gsm_proc;
int gsm_cgroup_report_for_proc(const struct gsm_root *root, const struct gsm_proc *h, struct gsm_cgroup_report *ret);

/* A cgroup named by path (relative to the hierarchy root, or absolute under the mount), with
 * its processes (and those of its descendants) read from cgroup.procs. -ENOENT: no such cgroup. */
int gsm_cgroup_report_for_path(const struct gsm_root *root, const char *path, struct gsm_cgroup_report *ret);
