/* Everything explain says about one memory cgroup: where it is, what the kernel reports, the
 * effective limit, the breakdown, the container identity — and, for `explain --cgroup`, its
 * processes with their classes, the reconciliation of the processes' memory with the cgroup's
 * usage, and the OOM forecast. */
#pragma once

#include "analyses/cgroup_analysis.h"
#include "analyses/totals.h"
#include "model/process.h"
#include "readers/cgroup.h"

struct gsm_cgroup_member {
    struct gsm_process proc;
    struct gsm_totals totals;
    bool have_smaps;                 /* else RSS figures come from status */
    uint64_t badness_pages;          /* mm/oom_kill.c oom_badness() against this cgroup's limit */
    bool unkillable;                 /* oom_score_adj -1000 */
};

struct gsm_cgroup_report {
    struct gsm_cgroup_location loc;
    struct gsm_cgroup_memory mem;
    struct gsm_cg_effective eff;
    bool have_eff;
    struct gsm_cg_breakdown bd;
    bool have_bd;
    struct gsm_container_identity id;

    /* explain --cgroup only */
    struct gsm_cgroup_member *members;   /* ranked by PSS, largest first */
    size_t n_members;
    size_t n_members_gone;               /* listed in cgroup.procs, exited before being read */
    ssize_t victim;                      /* index of the process the OOM killer picks, or -1 */
};

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

void gsm_cgroup_report_free(struct gsm_cgroup_report *r);

/* The reconciliation of the members' memory with the cgroup's usage: named items that add up
 * to usage. */
struct gsm_reconcile_item {
    const char *name;
    uint64_t bytes;
    const char *note;
};
#define GSM_RECONCILE_MAX 8
size_t gsm_cgroup_reconcile(const struct gsm_cgroup_report *r, struct gsm_reconcile_item *items);
