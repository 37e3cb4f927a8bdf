/* Everything explain says about one memory cgroup: where it is, what the kernel reports, the
 * effective limit, the breakdown, the container identity — and, for `explain --cgroup`, its
 * processes with their classes, the reconciliation of the processes' memory with the cgroup's
 * usage, and the OOM forecast. */
#pragma once

#include "analyses/cgroup_analysis.h"
#include "analyses/totals.h"
#include "model/process.h"
#include "model/cgroup.h"

struct gsm_cgroup_member {
    struct gsm_process proc;
    struct gsm_totals totals;
    bool have_smaps;                 /* else RSS figures come from status */
    bool complete;                   /* every file was read; else `reason` says what was not */
    char reason[256];                /* "smaps: line 12: ..." (set by the reader, cmd/cgroup_gather.c) */
    uint64_t file_pss_bytes;         /* sum over non-shmem mappings of Pss - Anonymous: its
                                      * proportional share of the file pages it maps (smaps only) */
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

/* Pure: the effective limits (from r->mem and the ancestors' limits `anc`; none when anc is
 * NULL), the breakdown and the container identity of r, whose loc and mem the caller read
 * (cmd/cgroup_gather.c). Returns 0, -ENOMEM. */
int gsm_cgroup_report_analyse(struct gsm_cgroup_report *r, const struct gsm_cg_ancestry *anc);

/* Pure: the members the caller read into r->members[0..n_members) (proc filled): their
 * classes, totals and OOM badness, ranked by PSS, and the OOM killer's victim. */
void gsm_cgroup_report_rank(struct gsm_cgroup_report *r);

void gsm_cgroup_report_free(struct gsm_cgroup_report *r);

/* The reconciliation of the members' memory with the cgroup's usage: named items that add up
 * to usage. */
struct gsm_reconcile_item {
    const char *name;
    uint64_t bytes;
    const char *note;
};
#define GSM_RECONCILE_MAX 8
/* Returns the number of items; *ret_saturated (may be NULL) says a sum reached 2^64 - 1 and
 * was held there (malformed input), or the breakdown's did. */
size_t gsm_cgroup_reconcile(const struct gsm_cgroup_report *r, struct gsm_reconcile_item *items, bool *ret_saturated);
