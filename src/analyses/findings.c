#include "analyses/findings_internal.h"
#include "util/cleanup.h"
#include "util/units.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Thresholds ------------------------------------------------------------------------
 * Each is a judgement, not a kernel constant; the comment says what it is based on. */

/* Unreclaimable memory (usage - file LRU - reclaimable slab) against the binding memory.max.
 * At 85% the headroom left for an allocation burst is about what page cache a busy service
 * needs to keep working; at 95% one burst (a request spike, a GC cycle's new heap) meets the
 * OOM killer, since nothing below the line can be freed without swap. */
#define NEAR_LIMIT_WARN_RATIO 0.85
#define NEAR_LIMIT_CRITICAL_RATIO 0.95
/* What to suggest as a new limit: unreclaimable memory at 80% of it, back under the warn line
 * with room for the page cache. */
#define SUGGESTED_LIMIT_RATIO 0.80

/* File pages at half of usage or more: usage then says more about the cache than about what
 * the workload holds, and working set / unreclaimable are the numbers to watch. */
#define PAGE_CACHE_DOMINANT_RATIO 0.50

/* Socket buffers or slab at a quarter of usage, or 256 MiB whatever the usage: far beyond a
 * typical service (a few MiB of sock, tens of MiB of slab), so usually a leak of sockets,
 * files or dentries, or buffers a slow peer never drains. */
#define KERNEL_MEM_RATIO 0.25
#define KERNEL_MEM_BYTES (UINT64_C(256) << 20)

/* Without swap, anonymous memory cannot be reclaimed at all; at 85% of the limit only the page
 * cache stands between the workload and the OOM killer (same line as NEAR_LIMIT_WARN). */
#define NO_SWAP_TIGHT_RATIO 0.85

/* AnonHugePages at a quarter of the process's anonymous memory under THP "always": enough for
 * sparse huge pages to be a visible part of RSS (each is 512 base pages on x86-64, charged in
 * full even if one was touched). */
#define THP_ANON_RATIO 0.25

/* Threads: 1000 is well above what a thread pool sized to the CPUs uses (Go's runtime keeps
 * about GOMAXPROCS plus those blocked in syscalls); at that count the kernel stacks alone are
 * 16 MiB, and the usual cause is a leak (threads blocked forever, an unbounded pool). */
#define MANY_THREADS 1000

/* VMAs against vm.max_map_count (default 65530): mmap(), mprotect() splitting a mapping and
 * pthread_create() fail with ENOMEM at the limit. Half is a trend worth a look; 90% is one
 * burst of allocations away. */
#define MAPS_WARN_RATIO 0.50
#define MAPS_CRITICAL_RATIO 0.90
static bool limit_finite(const struct gsm_cg_limit *l) {
    return l->have && !l->unlimited;
}

static const char *max_file(const struct gsm_findings_input *in) {
    return in->cg && in->cg->version == GSM_CGROUP_V1 ? "memory.limit_in_bytes" : "memory.max";
}

/* Usage of the cgroup, from the breakdown or the raw value. */
static bool cg_usage(const struct gsm_findings_input *in, uint64_t *ret) {
    if (in->bd) {
        *ret = in->bd->usage_bytes;
        return true;
    }
    if (in->cg && in->cg->usage_bytes.have) {
        *ret = in->cg->usage_bytes.value;
        return true;
    }
    return false;
}

/* "/kubepods.slice/x.slice" or a phrase for a binding level whose path is not visible. */
static const char *binding_where(const struct gsm_cg_binding *b) {
    return b->path ? b->path : "(an ancestor outside the visible tree)";
}

/* Does an ancestor's limit, not the cgroup's own, bind? */
static bool ancestor_binds(const struct gsm_findings_input *in) {
    const struct gsm_cg_binding *b = &in->eff->max;
    if (!b->limited)
        return false;
    if (b->level > 0)
        return true;
    /* v1 with no visible level matching hierarchical_memory_limit: binding is above us
     * unless our own limit is the effective one. */
    if (!b->path && in->cg)
        return !limit_finite(&in->cg->max) || in->cg->max.bytes != b->bytes;
    return false;
}

/* ---- Rules --------------------------------------------------------------------------- */


static int rule_near_limit(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                           struct gsm_findings *out) {
    if (!in->bd || !in->eff || !in->eff->max.limited || in->eff->max.bytes == 0)
        return 0;
    const struct gsm_cg_breakdown *bd = in->bd;
    uint64_t limit = in->eff->max.bytes;
    double ratio = ratio_of(bd->unreclaimable_bytes, limit);
    if (ratio < NEAR_LIMIT_WARN_RATIO)
        return 0;
    struct gsm_finding *f = emit(out, r->id, ratio >= NEAR_LIMIT_CRITICAL_RATIO ? GSM_SEV_CRITICAL : GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    bool anc = ancestor_binds(in);
    set_text(f->message, sizeof f->message, "unreclaimable memory %s is %u%% of the %s limit%s%s%s",
             SZ(bd->unreclaimable_bytes), pct(ratio), SZ(limit), anc ? " set by " : "",
             anc ? binding_where(&in->eff->max) : "", ratio >= 1.0 ? ": at the limit" : "");
    ev(f, "usage_bytes", (double)bd->usage_bytes);
    ev(f, "unreclaimable_bytes", (double)bd->unreclaimable_bytes);
    ev(f, "reclaimable_bytes", (double)bd->reclaimable_bytes);
    ev(f, "limit_bytes", (double)limit);
    ev(f, "ratio", ratio);
    ev(f, "binding_level", (double)in->eff->max.level);
    if (in->n_processes)
        ev(f, "processes", (double)in->n_processes);
    /* Rounded up to a MiB; clamped so a hostile 2^64-ish usage cannot overflow the cast. */
    double want = (double)bd->unreclaimable_bytes / SUGGESTED_LIMIT_RATIO;
    uint64_t suggest = want >= 1.8e19 ? UINT64_C(18000000000000000000) : (uint64_t)want;
    suggest = suggest > UINT64_MAX - (UINT64_C(1) << 20) ? suggest
                                                          : (suggest + (UINT64_C(1) << 20) - 1) & ~((UINT64_C(1) << 20) - 1);
    set_text(f->advice, sizeof f->advice,
             "Raise %s of %s to at least %s (Kubernetes: resources.limits.memory; systemd: MemoryMax=), "
             "or shrink the anonymous memory (anon %s)%s%s",
             max_file(in), binding_where(&in->eff->max), SZ(suggest), SZ(bd->parts[GSM_CG_PART_ANON].bytes),
             anc ? "; siblings share that limit, so this cgroup's share understates it" : "",
             in->proc && in->proc->go ? "; for Go, set GOMEMLIMIT to about 90% of the limit" : "");
    return 0;
}

static int rule_ancestor_limit(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                               struct gsm_findings *out) {
    if (!in->eff || !ancestor_binds(in))
        return 0;
    const struct gsm_cg_binding *b = &in->eff->max;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_INFO);
    if (!f)
        return -ENOMEM;
    bool own = in->cg && limit_finite(&in->cg->max);
    set_text(f->message, sizeof f->message, "the %s limit of %s binds, not this cgroup's own (%s)", SZ(b->bytes),
             binding_where(b), own ? SZ(in->cg->max.bytes) : in->cg && in->cg->max.malformed ? "malformed" : "none");
    ev(f, "limit_bytes", (double)b->bytes);
    if (own)
        ev(f, "own_limit_bytes", (double)in->cg->max.bytes);
    if (b->level > 0)
        ev(f, "binding_level", (double)b->level);
    set_text(f->advice, sizeof f->advice,
             "Raising this cgroup's %s has no effect beyond %s: change %s of %s instead (in Kubernetes the "
             "pod-level cgroup's limit is the sum of its containers' limits), and count the siblings that "
             "share it",
             max_file(in), SZ(b->bytes), max_file(in), binding_where(b));
    return 0;
}

static int rule_oom_kills(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                          struct gsm_findings *out) {
    const struct gsm_cgroup_memory *cg = in->cg;
    if (!cg)
        return 0;
    uint64_t kills;
    const char *source;
    if (cg->events.have && cg->events.have_key[GSM_CG_EV_OOM_KILL]) {
        kills = cg->events.count[GSM_CG_EV_OOM_KILL];
        source = "memory.events oom_kill";
    } else if (cg->oom_control.have && cg->oom_control.have_oom_kill) {
        kills = cg->oom_control.oom_kill;
        source = "memory.oom_control oom_kill";
    } else {
        return 0;
    }
    if (kills == 0)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_CRITICAL);
    if (!f)
        return -ENOMEM;
    /* mm/oom_kill.c charges MEMCG_OOM_KILL to the victim's cgroup and memcg_memory_event()
     * propagates it to every ancestor (v1 and v2; events.local alone stays put). */
    set_text(f->message, sizeof f->message, "the OOM killer has killed %llu process%s in this cgroup or below (%s)",
             (unsigned long long)kills, kills == 1 ? "" : "es", source);
    ev(f, "oom_kills", (double)kills);
    if (cg->events.have && cg->events.have_key[GSM_CG_EV_OOM])
        ev(f, "oom_events", (double)cg->events.count[GSM_CG_EV_OOM]);
    if (cg->events.have && cg->events.have_key[GSM_CG_EV_OOM_GROUP_KILL])
        ev(f, "oom_group_kills", (double)cg->events.count[GSM_CG_EV_OOM_GROUP_KILL]);
    if (cg->oom_control.have)
        ev(f, "under_oom", cg->oom_control.under_oom ? 1 : 0);
    if (cg->peak_bytes.have)
        ev(f, "peak_bytes", (double)cg->peak_bytes.value);
    if (in->eff && in->eff->max.limited)
        ev(f, "limit_bytes", (double)in->eff->max.bytes);
    set_text(f->advice, sizeof f->advice,
             "Find the victims with `journalctl -k | grep -i 'killed process'` (or dmesg); then raise %s above "
             "the peak%s%s or cut the memory of the process the kernel picks (highest oom_score). The counter "
             "only resets when the cgroup is recreated",
             max_file(in), cg->peak_bytes.have ? " (" : "",
             cg->peak_bytes.have ? (cg->version == GSM_CGROUP_V1 ? "memory.max_usage_in_bytes)" : "memory.peak)")
                                 : "");
    return 0;
}

static int rule_limit_hits(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                           struct gsm_findings *out) {
    const struct gsm_cgroup_memory *cg = in->cg;
    if (!cg)
        return 0;
    uint64_t hits;
    const char *key, *source;
    if (cg->events.have && cg->events.have_key[GSM_CG_EV_MAX]) {
        hits = cg->events.count[GSM_CG_EV_MAX];
        key = "max_events";
        source = "memory.events max";
    } else if (cg->failcnt.have) {
        hits = cg->failcnt.value;
        key = "failcnt";
        source = "memory.failcnt";
    } else {
        return 0;
    }
    if (hits == 0)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message,
             "usage hit the hard limit %llu time%s (%s): allocations stalled in direct reclaim",
             (unsigned long long)hits, hits == 1 ? "" : "s", source);
    ev(f, key, (double)hits);
    if (in->eff && in->eff->max.limited)
        ev(f, "limit_bytes", (double)in->eff->max.bytes);
    if (in->bd)
        ev(f, "working_set_bytes", (double)in->bd->working_set_bytes);
    if (cg->pressure.have && cg->pressure.some.have)
        ev(f, "pressure_some_avg60_pct", cg->pressure.some.avg60_pct);
    bool lim = in->eff && in->eff->max.limited;
    set_text(f->advice, sizeof f->advice,
             "Each hit makes the allocating task reclaim before it continues. If the working set%s%s is close to "
             "the limit%s%s, raise %s; if it is far below, the hits are page cache being recycled%s",
             in->bd ? " " : "", in->bd ? SZ(in->bd->working_set_bytes) : "", lim ? " " : "",
             lim ? SZ(in->eff->max.bytes) : "", max_file(in),
             cg->version == GSM_CGROUP_V2 ? "; memory.pressure shows the time lost to it" : "");
    return 0;
}

static int rule_high_throttle(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                              struct gsm_findings *out) {
    const struct gsm_cgroup_memory *cg = in->cg;
    if (!cg || !cg->events.have || !cg->events.have_key[GSM_CG_EV_HIGH] || cg->events.count[GSM_CG_EV_HIGH] == 0)
        return 0;
    uint64_t n = cg->events.count[GSM_CG_EV_HIGH];
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_INFO);
    if (!f)
        return -ENOMEM;
    bool high = in->eff && in->eff->high.limited;
    set_text(f->message, sizeof f->message, "usage went over memory.high %llu time%s%s%s: allocations were throttled",
             (unsigned long long)n, n == 1 ? "" : "s", high ? " at " : "", high ? SZ(in->eff->high.bytes) : "");
    ev(f, "high_events", (double)n);
    if (high)
        ev(f, "high_limit_bytes", (double)in->eff->high.bytes);
    if (cg->pressure.have && cg->pressure.some.have)
        ev(f, "pressure_some_avg60_pct", cg->pressure.some.avg60_pct);
    set_text(f->advice, sizeof f->advice,
             "memory.high makes tasks reclaim and sleep instead of OOM-killing them; if the slowdown is unwanted "
             "raise memory.high of %s (or write \"max\"; systemd: MemoryHigh=), if it is intended, nothing to do",
             high ? binding_where(&in->eff->high) : "this cgroup");
    return 0;
}

static int rule_page_cache(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                           struct gsm_findings *out) {
    const struct gsm_cg_breakdown *bd = in->bd;
    if (!bd || bd->usage_bytes == 0)
        return 0;
    const struct gsm_cg_part_item *act = &bd->parts[GSM_CG_PART_FILE_ACTIVE];
    const struct gsm_cg_part_item *inact = &bd->parts[GSM_CG_PART_FILE_INACTIVE];
    if (!act->have && !inact->have)
        return 0;
    uint64_t file = act->bytes + inact->bytes;
    double ratio = ratio_of(file, bd->usage_bytes);
    if (ratio < PAGE_CACHE_DOMINANT_RATIO)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_INFO);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message,
             "page cache is %u%% of usage (%s of %s): reclaimable, so usage overstates what the workload holds",
             pct(ratio), SZ(file), SZ(bd->usage_bytes));
    ev(f, "usage_bytes", (double)bd->usage_bytes);
    ev(f, "file_bytes", (double)file);
    ev(f, "file_active_bytes", (double)act->bytes);
    ev(f, "file_inactive_bytes", (double)inact->bytes);
    ev(f, "working_set_bytes", (double)bd->working_set_bytes);
    ev(f, "unreclaimable_bytes", (double)bd->unreclaimable_bytes);
    ev(f, "ratio", ratio);
    set_text(f->advice, sizeof f->advice,
             "Alert on the working set (usage - inactive_file = %s: what kubelet evicts on and "
             "container_memory_working_set_bytes reports) or on unreclaimable memory (%s), not on usage; "
             "active_file (%s) still counts in the working set even though the kernel can drop it",
             SZ(bd->working_set_bytes), SZ(bd->unreclaimable_bytes), SZ(act->bytes));
    return 0;
}

static int kernel_finding(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                          struct gsm_findings *out, const char *what, const char *key, uint64_t bytes,
                          const char *advice) {
    const struct gsm_cg_breakdown *bd = in->bd;
    double ratio = ratio_of(bytes, bd->usage_bytes);
    if (ratio < KERNEL_MEM_RATIO && bytes < KERNEL_MEM_BYTES)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "kernel memory for %s is %s, %u%% of usage (%s)", what, SZ(bytes),
             pct(ratio), SZ(bd->usage_bytes));
    ev(f, key, (double)bytes);
    ev(f, "usage_bytes", (double)bd->usage_bytes);
    ev(f, "ratio", ratio);
    if (strcmp(key, "slab_bytes") == 0) {
        ev(f, "slab_reclaimable_bytes", (double)bd->parts[GSM_CG_PART_SLAB_RECLAIMABLE].bytes);
        ev(f, "slab_unreclaimable_bytes", (double)bd->parts[GSM_CG_PART_SLAB_UNRECLAIMABLE].bytes);
    }
    set_text(f->advice, sizeof f->advice, "%s", advice);
    return 0;
}

static int rule_kernel_memory(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                              struct gsm_findings *out) {
    const struct gsm_cg_breakdown *bd = in->bd;
    if (!bd)
        return 0;
    int k;
    const struct gsm_cg_part_item *sock = &bd->parts[GSM_CG_PART_SOCK];
    if (sock->have &&
        (k = kernel_finding(in, r, out, "socket buffers", "sock_bytes", sock->bytes,
                            "Find sockets with full queues: `ss -tmp` (Recv-Q/Send-Q, skmem); usually a peer that "
                            "does not read, or a connection leak. Cap buffers with sysctl net.ipv4.tcp_rmem and "
                            "net.ipv4.tcp_wmem (third field, the maximum)")) < 0)
        return k;
    const struct gsm_cg_part_item *sr = &bd->parts[GSM_CG_PART_SLAB_RECLAIMABLE];
    const struct gsm_cg_part_item *su = &bd->parts[GSM_CG_PART_SLAB_UNRECLAIMABLE];
    if (sr->have || su->have)
        return kernel_finding(in, r, out, "slab", "slab_bytes", sr->bytes + su->bytes,
                              "Look at which cache grows: `slabtop -s c` or /proc/slabinfo. Reclaimable slab "
                              "(dentries, inodes) is dropped under pressure; unreclaimable slab follows open "
                              "objects, so count them: `ls /proc/PID/fd | wc -l`, sockets, inotify watches");
    const struct gsm_cg_part_item *km = &bd->parts[GSM_CG_PART_KERNEL_OTHER];
    if (bd->version == GSM_CGROUP_V1 && km->have)
        return kernel_finding(in, r, out, "kmem (v1: slab, stacks, page tables)", "kmem_bytes", km->bytes,
                              "v1 has no split: look at `slabtop -s c` or /proc/slabinfo, and count threads "
                              "(kernel stacks) and open files (`ls /proc/PID/fd | wc -l`) of the processes in "
                              "the cgroup");
    return 0;
}

static int rule_swap_in_use(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                            struct gsm_findings *out) {
    const struct gsm_cg_breakdown *bd = in->bd;
    if (!bd || !bd->swap_bytes.have || bd->swap_bytes.value == 0)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_INFO);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "%s of this cgroup's memory is in swap (usage %s)",
             SZ(bd->swap_bytes.value), SZ(bd->usage_bytes));
    ev(f, "swap_bytes", (double)bd->swap_bytes.value);
    ev(f, "usage_bytes", (double)bd->usage_bytes);
    bool v1 = bd->version == GSM_CGROUP_V1;
    if (in->cg && !v1 && limit_finite(&in->cg->swap_max))
        ev(f, "swap_max_bytes", (double)in->cg->swap_max.bytes);
    if (in->cg && in->cg->stat.have && !v1 && in->cg->stat.have_v2[GSM_CG2_PGMAJFAULT])
        ev(f, "major_faults", (double)in->cg->stat.v2[GSM_CG2_PGMAJFAULT]);
    set_text(f->advice, sizeof f->advice,
             "Swapped pages cost a disk read when touched again (watch pgmajfault in memory.stat); if latency "
             "matters, cap it with %s or raise %s so the working set fits in memory",
             v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max", max_file(in));
    return 0;
}

static int rule_no_swap(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                        struct gsm_findings *out) {
    const struct gsm_cgroup_memory *cg = in->cg;
    uint64_t usage;
    if (!cg || !in->eff || !in->eff->max.limited || in->eff->max.bytes == 0 || !cg_usage(in, &usage))
        return 0;
    bool host_none = in->host && in->host->have_swap && in->host->swap_total_bytes == 0;
    bool cg_none = false;
    const char *why;
    if (cg->version == GSM_CGROUP_V2)
        cg_none = limit_finite(&cg->swap_max) && cg->swap_max.bytes == 0;
    else   /* v1: memory+swap capped at the memory limit leaves no room for swap */
        cg_none = limit_finite(&cg->memsw_limit) && limit_finite(&cg->max) && cg->memsw_limit.bytes <= cg->max.bytes;
    if (host_none)
        why = "host SwapTotal is 0";
    else if (cg_none)
        why = cg->version == GSM_CGROUP_V2 ? "memory.swap.max is 0" : "memory.memsw.limit_in_bytes equals the limit";
    else
        return 0;
    uint64_t limit = in->eff->max.bytes;
    double ratio = ratio_of(usage, limit);
    if (ratio < NO_SWAP_TIGHT_RATIO)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    uint64_t anon = in->bd ? in->bd->anon_swappable_bytes : 0;
    set_text(f->message, sizeof f->message,
             "no swap (%s) and usage is %u%% of the %s limit: anonymous memory%s%s cannot be reclaimed", why,
             pct(ratio), SZ(limit), in->bd ? " " : "", in->bd ? SZ(anon) : "");
    ev(f, "usage_bytes", (double)usage);
    ev(f, "limit_bytes", (double)limit);
    ev(f, "ratio", ratio);
    if (in->bd)
        ev(f, "anon_bytes", (double)anon);
    if (in->host && in->host->have_swap)
        ev(f, "host_swap_total_bytes", (double)in->host->swap_total_bytes);
    if (cg->version == GSM_CGROUP_V2 && limit_finite(&cg->swap_max))
        ev(f, "swap_max_bytes", (double)cg->swap_max.bytes);
    set_text(f->advice, sizeof f->advice,
             "Only page cache can be freed before the OOM killer runs: raise %s of %s, or give the cgroup swap "
             "(a swap file or zram on the host, then %s)",
             max_file(in), binding_where(&in->eff->max),
             cg->version == GSM_CGROUP_V2 ? "memory.swap.max > 0" : "memory.memsw.limit_in_bytes > the limit");
    return 0;
}

static int rule_thp_bloat(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                          struct gsm_findings *out) {
    if (!in->proc || !in->totals || !in->host || !in->host->have_thp || strcmp(in->host->thp_enabled, "always") != 0)
        return 0;
    uint64_t anon = in->totals->all.anon_bytes, huge = in->totals->all.anon_huge_bytes;
    double ratio = ratio_of(huge, anon);
    if (anon == 0 || ratio < THP_ANON_RATIO)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    /* PMD-sized huge page = one page table of PTEs: page_size / 8 subpages (512 with 4 KiB). */
    uint64_t page = in->host->page_size ? in->host->page_size : 4096;
    uint64_t subpages = page / 8;
    char ptes[96] = "";
    if (in->host->have_max_ptes_none)
        set_text(ptes, sizeof ptes, "; khugepaged max_ptes_none=%llu: up to %llu of %llu subpages may be unused",
                 (unsigned long long)in->host->khugepaged_max_ptes_none,
                 (unsigned long long)in->host->khugepaged_max_ptes_none, (unsigned long long)subpages);
    set_text(f->message, sizeof f->message, "THP \"always\": %s of %s anonymous memory (%u%%) is in huge pages%s",
             SZ(huge), SZ(anon), pct(ratio), ptes);
    ev(f, "anon_huge_bytes", (double)huge);
    ev(f, "anon_bytes", (double)anon);
    ev(f, "ratio", ratio);
    if (in->host->have_max_ptes_none)
        ev(f, "max_ptes_none_pages", (double)in->host->khugepaged_max_ptes_none);
    ev(f, "huge_page_bytes", (double)(page * subpages));
    set_text(f->advice, sizeof f->advice,
             "Write madvise to /sys/kernel/mm/transparent_hugepage/enabled (boot: transparent_hugepage=madvise), "
             "or 0 to /sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none so khugepaged collapses only "
             "fully used ranges (faults still get huge pages under always); for this process alone, "
             "prctl(PR_SET_THP_DISABLE) or madvise(MADV_NOHUGEPAGE) before allocating%s",
             in->proc->go ? "; Go 1.21.6+: GODEBUG=disablethp=1 keeps the heap off huge pages" : "");
    return 0;
}

static int rule_many_threads(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                             struct gsm_findings *out) {
    if (!in->proc || !in->proc->have_status || in->proc->status.threads < MANY_THREADS)
        return 0;
    const struct gsm_process *p = in->proc;
    uint64_t n = p->status.threads;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "%llu threads: each holds a kernel stack and a user stack",
             (unsigned long long)n);
    ev(f, "threads", (double)n);
    if (p->have_stack_rlimit && p->stack_rlimit_bytes)
        ev(f, "stack_rlimit_bytes", (double)p->stack_rlimit_bytes);
    set_text(f->advice, sizeof f->advice,
             "Check whether the count keeps growing (`ls /proc/%d/task | wc -l` over time): a thread leak or an "
             "unbounded pool; see where they wait in /proc/%d/task/*/wchan%s",
             (int)p->pid, (int)p->pid,
             p->go ? "; in Go, goroutines blocked in cgo or syscalls each hold a thread "
                     "(debug.SetMaxThreads caps them, default 10000)"
                   : "");
    return 0;
}

static int rule_many_mappings(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                              struct gsm_findings *out) {
    if (!in->proc || !in->host || !in->host->have_max_map_count || in->host->max_map_count == 0)
        return 0;
    uint64_t n;
    if (in->proc->have_smaps)
        n = in->proc->n_maps;
    else if (in->totals)
        n = in->totals->all.n_mappings;
    else
        return 0;
    uint64_t max = in->host->max_map_count;
    double ratio = ratio_of(n, max);
    if (ratio < MAPS_WARN_RATIO)
        return 0;
    bool crit = ratio >= MAPS_CRITICAL_RATIO;
    struct gsm_finding *f = emit(out, r->id, crit ? GSM_SEV_CRITICAL : GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "%llu mappings, %u%% of vm.max_map_count (%llu)%s",
             (unsigned long long)n, pct(ratio), (unsigned long long)max,
             crit ? ": mmap, mprotect and thread creation will soon fail with ENOMEM" : "");
    ev(f, "mappings", (double)n);
    ev(f, "max_map_count", (double)max);
    ev(f, "ratio", ratio);
    set_text(f->advice, sizeof f->advice,
             "Raise the limit: sysctl -w vm.max_map_count=%llu (persist it in /etc/sysctl.d/); and find what "
             "splits the address space: many small mmap()s, mprotect()ed guard pages, or many malloc arenas "
             "(MALLOC_ARENA_MAX=2)",
             (unsigned long long)(max < 262144 ? 262144 : max > UINT64_MAX / 2 ? UINT64_MAX : max * 2));
    return 0;
}

static int rule_no_limit(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                         struct gsm_findings *out) {
    if (!in->eff || in->eff->max.limited || in->eff->max.unknown)   /* unknown is not "none" */
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_INFO);
    if (!f)
        return -ENOMEM;
    /* Only a complete walk may claim the node's memory is the limit. */
    bool mem = in->eff->complete && in->host && in->host->have_mem_total;
    set_text(f->message, sizeof f->message, "no memory limit on the %s path%s%s%s",
             in->eff->complete ? "whole" : "visible", mem ? ": the node's " : "", mem ? SZ(in->host->mem_total_bytes) : "",
             mem ? " is the limit" : "");
    ev(f, "levels_checked", (double)in->eff->n_levels);
    if (in->host && in->host->have_mem_total)
        ev(f, "node_memory_bytes", (double)in->host->mem_total_bytes);
    uint64_t usage;
    if (cg_usage(in, &usage))
        ev(f, "usage_bytes", (double)usage);
    set_text(f->advice, sizeof f->advice,
             "An overrun then meets the global OOM killer, which may pick any process on the node; set a limit "
             "so it stays here: %s (Kubernetes: resources.limits.memory; docker run --memory; systemd: "
             "MemoryMax=)%s",
             max_file(in), in->eff->complete ? "" : "; the walk stopped at the visible top, a limit above it may exist");
    return 0;
}

#define SEV(lo, hi) .min_severity = GSM_SEV_##lo, .max_severity = GSM_SEV_##hi
#define CAT(c) .category = GSM_RULE_##c

/* The rule table: evaluation order, and the order of equal-severity findings. */

static const struct rule rules[] = {
    {{"GSM-OOM-KILLS", SEV(CRITICAL, CRITICAL), "the cgroup's OOM kill counter is above 0", CAT(CGROUP)}, rule_oom_kills},
    {{"GSM-NEAR-LIMIT", SEV(WARN, CRITICAL), "unreclaimable memory >= 85% (warn) / 95% (critical) of the binding limit", CAT(CGROUP)},
     rule_near_limit},
    {{"GSM-MANY-MAPPINGS", SEV(WARN, CRITICAL), "mappings >= 50% (warn) / 90% (critical) of vm.max_map_count", CAT(PROCESS)},
     rule_many_mappings},
    {{"GSM-LIMIT-HITS", SEV(WARN, WARN), "usage hit the hard limit (v2 memory.events max, v1 memory.failcnt)", CAT(CGROUP)},
     rule_limit_hits},
    {{"GSM-NO-SWAP", SEV(WARN, WARN), "no swap (host or cgroup) and usage >= 85% of the binding limit", CAT(CGROUP)}, rule_no_swap},
    {{"GSM-KERNEL-MEMORY", SEV(WARN, WARN), "sock or slab >= 25% of usage or >= 256 MiB", CAT(CGROUP)}, rule_kernel_memory},
    {{"GSM-THP-BLOAT", SEV(WARN, WARN), "THP \"always\" and AnonHugePages >= 25% of the process's anonymous memory", CAT(PROCESS)},
     rule_thp_bloat},
    {{"GSM-MANY-THREADS", SEV(WARN, WARN), "the process has >= 1000 threads", CAT(PROCESS)}, rule_many_threads},
    {{"GSM-ANCESTOR-LIMIT", SEV(INFO, INFO), "an ancestor's memory limit is the binding one", CAT(CGROUP)}, rule_ancestor_limit},
    {{"GSM-HIGH-THROTTLE", SEV(INFO, INFO), "usage went over memory.high (v2 memory.events high)", CAT(CGROUP)}, rule_high_throttle},
    {{"GSM-PAGE-CACHE", SEV(INFO, INFO), "page cache (active + inactive file) >= 50% of usage", CAT(CGROUP)}, rule_page_cache},
    {{"GSM-SWAP-IN-USE", SEV(INFO, INFO), "the cgroup has memory in swap", CAT(CGROUP)}, rule_swap_in_use},
    {{"GSM-NO-LIMIT", SEV(INFO, INFO), "no memory limit on the whole cgroup path", CAT(CGROUP)}, rule_no_limit},
    {{"GSM-GO-MEMLIMIT", SEV(WARN, CRITICAL), "GOMEMLIMIT unset (warn), too close (warn) or above (critical) the cgroup limit", CAT(GO)},
     gsm_rule_go_memlimit},
    {{"GSM-GO-RSS-OVER-HEAP", SEV(INFO, INFO), "RSS >= 2x the Go heap in use: names the class that explains it", CAT(GO)},
     gsm_rule_go_rss_over_heap},
    {{"GSM-GO-LAZYFREE", SEV(WARN, WARN), "LazyFree (MADV_FREE) pages inflate the Go heap's RSS", CAT(GO)}, gsm_rule_go_lazyfree},
    {{"GSM-GO-GC-THRASH", SEV(WARN, WARN), "GC CPU >= 25% while the runtime sits at >= 90% of GOMEMLIMIT", CAT(GO)},
     gsm_rule_go_gc_thrash},
    {{"GSM-GO-GC-PAUSE", SEV(WARN, WARN), "GC pause p99 over 10 ms", CAT(GO)}, gsm_rule_go_gc_pause},
    {{"GSM-GO-GOROUTINES", SEV(WARN, WARN), ">= 10000 goroutines", CAT(GO)}, gsm_rule_go_goroutines},
    {{"GSM-GO-GOGC", SEV(INFO, WARN), "a GOGC whose heap goal fits under the limit (CPU for headroom)", CAT(GO)}, gsm_rule_go_gogc},
    {{"GSM-GO-SYNC-POOL", SEV(INFO, WARN), "sync.Pool New functions allocated >= 10% (info) / 30% (warn) of the "
      "in-use heap profile", CAT(GO)}, gsm_rule_go_sync_pool},
    {{"GSM-GO-TOP-SITE", SEV(INFO, INFO), "the allocation site holding the most of the in-use heap profile", CAT(GO)},
     gsm_rule_go_top_site},
};

const char *gsm_rule_category_name(enum gsm_rule_category c) {
    switch (c) {
    case GSM_RULE_PROCESS: return "process";
    case GSM_RULE_GO: return "go";
    default: return "cgroup";
    }
}

const struct gsm_rule_info *gsm_findings_rule(size_t i) {
    return i < ELEMENTSOF(rules) ? &rules[i].info : NULL;
}

/* ---- Evaluation ---------------------------------------------------------------------- */

void gsm_findings_free(struct gsm_findings *f) {
    if (!f)
        return;
    free(f->items);
    *f = (struct gsm_findings){0};
}

int gsm_findings_evaluate(const struct gsm_findings_input *in, struct gsm_findings *ret) {
    if (!in || !ret)
        return -EINVAL;
    struct gsm_findings out = {0};
    for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
        size_t before = out.n;
        int r = rules[i].eval(in, &rules[i].info, &out);
        if (r < 0) {
            gsm_findings_free(&out);
            return r;
        }
        for (size_t k = before; k < out.n; k++)
            out.items[k].category = rules[i].info.category;
    }
    /* Stable insertion sort, most severe first (a handful of items). */
    for (size_t i = 1; i < out.n; i++) {
        struct gsm_finding tmp = out.items[i];
        size_t j = i;
        while (j > 0 && out.items[j - 1].severity < tmp.severity) {
            out.items[j] = out.items[j - 1];
            j--;
        }
        out.items[j] = tmp;
    }
    *ret = out;
    return out.n > INT32_MAX ? INT32_MAX : (int)out.n;
}

bool gsm_findings_reach(const struct gsm_findings *f, enum gsm_severity level) {
    for (size_t i = 0; f && i < f->n; i++)
        if (f->items[i].severity >= level)
            return true;
    return false;
}

const char *gsm_severity_name(enum gsm_severity s) {
    switch (s) {
    case GSM_SEV_INFO: return "info";
    case GSM_SEV_WARN: return "warn";
    case GSM_SEV_CRITICAL: return "critical";
    }
    return "unknown";
}

int gsm_severity_parse(const char *s, enum gsm_severity *ret) {
    if (!s)
        return -EINVAL;
    enum gsm_severity v;
    if (strcmp(s, "info") == 0)
        v = GSM_SEV_INFO;
    else if (strcmp(s, "warn") == 0 || strcmp(s, "warning") == 0)
        v = GSM_SEV_WARN;
    else if (strcmp(s, "critical") == 0)
        v = GSM_SEV_CRITICAL;
    else
        return -EINVAL;
    *ret = v;
    return 0;
}
