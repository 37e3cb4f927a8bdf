#include "engine/engine_internal.h"
#include "readers/proc_files.h"
#include "readers/proc_handle.h"
#include "readers/proc_smaps.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* smaps_rollup walks the page tables: about 10 ms per GiB of RSS here (PRODUCT.md). */
#define ROLLUP_US_PER_GIB 10000
#define ROLLUP_MIN_INTERVAL_MS 30000

/* The flight recorder's ring keeps a compact copy of each sample (delta-encoded:
 * analyses/sample_ring); the full sample lives only for its tick. Every field of a sample,
 * exactly, so a bundle's samples.jsonl is what --emit-samples showed. Three things keep an idle
 * process's sample at 3-5 bytes (it was ~10: 1.4 MiB of rings over 600 processes):
 * - the fields that change from tick to tick come first, so the ring's change mask (a varint, 7
 *   fields a byte) is one byte: a process's size fields, the rest of its cgroup (which moves
 *   whenever anything else in the cgroup does), its age;
 * - the age is kept as the start time (t_ms - age_ms), which stays put (it moves by the 10 ms
 *   resolution of /proc/uptime and the process's start) where the age grows every sample;
 * - a size that is a whole number of 4 KiB pages (all of them but a Go heap goal, as the kernel
 *   counts in pages) is kept in pages, 12 bits shorter; FL_RAW(k) marks the ones kept in bytes. */
enum {
    RF_VALUE, RF_UNRECL, RF_USAGE, RF_ANON, RF_FILE, RF_OTHERS, RF_START, RF_WSET, RF_PSI_SOME, RF_PSI_FULL,
    RF_LIMIT, RF_FLAGS, RF_THREADS, RF_PSS, RF_SWAP, RF_NEXT_GC, RF_MEMBERS, RF_OOM_KILL, RF_OOM, RF_MAX_EV,
    RF_HIGH_EV, RF_FAILCNT, RF__COUNT
};
_Static_assert(RF__COUNT <= GSM_RING_FIELDS, "the ring holds every field");
enum { FL_GO_ADJUSTED = 1, FL_HAVE_PSI = 2, FL_LIMIT_IS_NODE = 4, FL_AGE_KNOWN = 8 };
#define FL_RAW(k) (16ull << (k))
/* The fields that are sizes in bytes, kept in pages when they are whole pages. */
static const int page_fields[] = {RF_VALUE, RF_UNRECL, RF_USAGE, RF_ANON, RF_FILE, RF_OTHERS,
                                  RF_WSET, RF_LIMIT, RF_PSS, RF_SWAP, RF_NEXT_GC};
#define N_PAGE_FIELDS (sizeof page_fields / sizeof page_fields[0])

/* PSI averages have two decimals in the file: kept as hundredths. */
static uint64_t centi(double v) {
    return v <= 0 ? 0 : (uint64_t)llround(v * 100.0);
}

int gsm_engine_ring_push(struct gsm_watch_target *t, const struct gsm_watch_sample *s) {
    struct gsm_ring_entry e = {.t_ms = s->t_ms};
    uint64_t *f = e.f;
    f[RF_VALUE] = s->value_bytes, f[RF_UNRECL] = s->unreclaimable_bytes, f[RF_USAGE] = s->usage_bytes;
    f[RF_ANON] = s->anon_bytes, f[RF_FILE] = s->file_bytes, f[RF_SWAP] = s->swap_bytes, f[RF_LIMIT] = s->limit_bytes;
    f[RF_THREADS] = s->threads, f[RF_WSET] = s->working_set_bytes, f[RF_OTHERS] = s->others_bytes;
    f[RF_OOM_KILL] = s->oom_kill, f[RF_OOM] = s->oom, f[RF_MAX_EV] = s->max_events, f[RF_HIGH_EV] = s->high_events;
    f[RF_FAILCNT] = s->failcnt, f[RF_PSI_SOME] = centi(s->psi_some_avg10), f[RF_PSI_FULL] = centi(s->psi_full_avg10);
    f[RF_PSS] = s->pss_bytes, f[RF_NEXT_GC] = s->go_next_gc_bytes, f[RF_MEMBERS] = s->members;
    f[RF_START] = s->age_ms ? s->t_ms - s->age_ms : 0;   /* unsigned: exact whatever the two are */
    uint64_t flags = (s->go_adjusted ? FL_GO_ADJUSTED : 0) | (s->have_psi ? FL_HAVE_PSI : 0) |
                     (s->limit_is_node ? FL_LIMIT_IS_NODE : 0) | (s->age_ms ? FL_AGE_KNOWN : 0);
    for (size_t k = 0; k < N_PAGE_FIELDS; k++) {
        uint64_t *v = &f[page_fields[k]];
        if (*v & 4095)
            flags |= FL_RAW(k);
        else
            *v >>= 12;
    }
    f[RF_FLAGS] = flags;
    return gsm_sample_ring_push(&t->ring, &e);
}

void gsm_engine_ring_entry_sample(const struct gsm_ring_entry *e, struct gsm_watch_sample *ret) {
    uint64_t f[GSM_RING_FIELDS];
    memcpy(f, e->f, sizeof f);
    for (size_t k = 0; k < N_PAGE_FIELDS; k++)
        if (!(f[RF_FLAGS] & FL_RAW(k)))
            f[page_fields[k]] <<= 12;
    *ret = (struct gsm_watch_sample){
        .t_ms = e->t_ms, .value_bytes = f[RF_VALUE], .unreclaimable_bytes = f[RF_UNRECL], .usage_bytes = f[RF_USAGE],
        .anon_bytes = f[RF_ANON], .file_bytes = f[RF_FILE], .swap_bytes = f[RF_SWAP], .limit_bytes = f[RF_LIMIT],
        .threads = f[RF_THREADS], .working_set_bytes = f[RF_WSET], .others_bytes = f[RF_OTHERS],
        .oom_kill = f[RF_OOM_KILL], .oom = f[RF_OOM], .max_events = f[RF_MAX_EV], .high_events = f[RF_HIGH_EV],
        .failcnt = f[RF_FAILCNT], .psi_some_avg10 = (double)f[RF_PSI_SOME] / 100.0,
        .psi_full_avg10 = (double)f[RF_PSI_FULL] / 100.0, .pss_bytes = f[RF_PSS], .go_next_gc_bytes = f[RF_NEXT_GC],
        .members = f[RF_MEMBERS], .age_ms = f[RF_FLAGS] & FL_AGE_KNOWN ? e->t_ms - f[RF_START] : 0,
        .go_adjusted = f[RF_FLAGS] & FL_GO_ADJUSTED, .have_psi = f[RF_FLAGS] & FL_HAVE_PSI,
        .limit_is_node = f[RF_FLAGS] & FL_LIMIT_IS_NODE,
    };
}

size_t gsm_watch_target_ring_len(const struct gsm_watch_target *t) {
    return gsm_sample_ring_len(&t->ring);
}

bool gsm_watch_target_ring_get(const struct gsm_watch_target *t, size_t i, struct gsm_watch_sample *ret) {
    struct gsm_ring_entry e;
    if (!gsm_sample_ring_get(&t->ring, i, &e))
        return false;
    gsm_engine_ring_entry_sample(&e, ret);
    return true;
}

/* This tick's read of the cgroup at loc: its index in w->tc (read once per tick), -1 without
 * memory. */
static ssize_t cg_sample(struct gsm_watch *w, const struct gsm_cgroup_location *loc) {
    struct tick_cache *tc = &w->tc;
    for (size_t i = 0; i < tc->n; i++)
        if (strcmp(tc->c[i].dir, loc->dir) == 0)
            return (ssize_t)i;
    if (tc->n == tc->cap) {
        size_t nc = tc->cap ? tc->cap * 2 : 8;
        struct cg_tick *n = realloc(tc->c, nc * sizeof *n);
        if (!n)
            return -1;
        tc->c = n;
        tc->cap = nc;
    }
    struct cg_tick *c = &tc->c[tc->n];
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", loc->dir);
    uint64_t t0 = gsm_engine_mono_ns();
    c->r = gsm_cgroup_memory_read(w->root, loc, &c->mem);
    w->stats.cgroup.reads++;
    w->stats.cgroup.ns += gsm_engine_mono_ns() - t0;
    if (c->r < 0)
        gsm_engine_count_error(w, &w->stats.cgroup, "cgroup", NULL, loc->dir, c->r, gsm_engine_mono_ns() / 1000000);
    else
        c->have_bd = gsm_cgroup_breakdown(&c->mem, &c->bd) == 0;
    return (ssize_t)tc->n++;
}

/* Forgets the previous tick's reads (the array is kept for the next tick). */
void gsm_engine_tick_cache_clear(struct tick_cache *tc) {
    for (size_t i = 0; i < tc->n; i++)
        if (tc->c[i].r == 0)
            gsm_cgroup_memory_free(&tc->c[i].mem);
    tc->n = 0;
}

void gsm_engine_tick_cache_free(struct tick_cache *tc) {
    gsm_engine_tick_cache_clear(tc);
    free(tc->c);
    *tc = (struct tick_cache){0};
}

static uint64_t effective_limit(const struct gsm_watch *w, const struct gsm_watch_target *t) {
    if (t->have_eff && t->eff.max.limited)
        return t->eff.max.bytes;
    return w->mem_total_bytes ? w->mem_total_bytes : UINT64_MAX;
}

static void refresh_limit(struct gsm_watch *w, struct gsm_watch_target *t, const struct cg_tick *c) {
    if (!t->has_cg || (t->have_eff && t->ticks_since_limit < LIMIT_REFRESH_TICKS)) {
        t->ticks_since_limit++;
        return;
    }
    t->ticks_since_limit = 0;
    if (t->have_eff)
        gsm_cg_effective_free(&t->eff);
    struct gsm_cg_ancestry anc;
    t->have_eff = c && c->r == 0 && gsm_cgroup_read_ancestors(w->root, &t->loc, &anc) == 0;
    if (t->have_eff) {
        t->have_eff = gsm_cgroup_effective_limits(&t->loc, &c->mem, &anc, &t->eff) == 0;
        gsm_cg_ancestry_free(&anc);
    }
}

/* A cgroup's members (cgroup.procs, every sample: an empty cgroup forecasts nothing, a new
 * process starts a new life) and its age: the start of its oldest process, re-read every few
 * samples and whenever the members change. The list read is left in *l for sample_cpu (the
 * same sample's members: one read of cgroup.procs per sample); < 0 when it could not be read. */
static int scan_members(struct gsm_watch *w, struct gsm_watch_target *t, struct gsm_watch_sample *s,
                        struct gsm_pid_list *l) {
    int r = gsm_engine_members(w, t, 256, l);
    if (r < 0) {
        s->members = t->members;
        return r;
    }
    bool changed = l->n != t->members || (l->n && l->pids[0] != t->first_member);
    t->members = s->members = l->n;
    t->members_known = true;
    t->first_member = l->n ? l->pids[0] : 0;
    if (!changed && t->have_start && t->ticks_since_scan++ < REFRESH_TICKS)
        return 0;
    t->ticks_since_scan = 0;
    uint64_t start;
    double oldest = INFINITY;
    for (size_t k = 0; k < l->n; k++)
        if (gsm_engine_process_identity(w->root, l->pids[k], &start, NULL, 0) == 0 && (double)start / w->clk_tck < oldest)
            oldest = (double)start / w->clk_tck;
    if (!isinf(oldest)) {
        t->start_s = oldest;
        t->have_start = true;
    }
    return 0;
}

static uint64_t v2_event(const struct gsm_cgroup_memory *m, enum gsm_cg_event e) {
    return m->events.have && m->events.have_key[e] ? m->events.count[e] : 0;
}

/* A process's comm changes while it lives (exec, prctl(PR_SET_NAME)) and its identity (PID +
 * start time) does not: the name shown with a sample is the one from the same read of status as
 * its figures, never the one seen when the target was made. status escapes '\n' and '\\'
 * (stat's comm, the first name, does not): undone, so an unchanged comm compares equal. */
static void refresh_name(struct gsm_watch_target *t, const char *status_name) {
    char n[sizeof t->name];
    size_t k = 0;
    for (const char *p = status_name; *p && k + 1 < sizeof n; p++) {
        if (p[0] == '\\' && (p[1] == 'n' || p[1] == '\\')) {
            n[k++] = p[1] == 'n' ? '\n' : '\\';
            p++;
        } else
            n[k++] = *p;
    }
    n[k] = '\0';
    if (k && strcmp(n, t->name) != 0)
        memcpy(t->name, n, k + 1);
}

/* A process that is exiting: a zombie, or one whose memory is already gone (no Vm lines where
 * the last sample had memory: a kernel thread never has them). */
static bool status_exiting(const struct gsm_watch_target *t, const struct gsm_status *ss) {
    return ss->state == 'Z' || ss->state == 'X' ||
           (ss->vm_size_bytes == 0 && t->det.have_prev && t->det.prev.usage_bytes > 0);
}

/* A process's cgroup is not fixed: systemd, kubelet or anyone writing its PID to another
 * cgroup.procs moves it (its later charges go to the new cgroup). /proc/PID/cgroup is re-read
 * every CG_RECHECK_TICKS samples (one small read through the kept directory); on a move the
 * target takes the new cgroup, its limits are re-read at once and its kernel notifications are
 * registered again for the new cgroup. A process moved out of our view (another cgroup
 * namespace's part of the tree: -EXDEV) keeps no cgroup; a failed read keeps the last one (the
 * sample that follows says whether the process is gone). */
static void recheck_cgroup(struct gsm_watch *w, struct gsm_watch_target *t) {
    if (t->type != GSM_WT_PROCESS || t->cg_checks++ % CG_RECHECK_TICKS != CG_RECHECK_TICKS - 1)
        return;
    struct gsm_cgroup_location loc;
    int r = t->h.dirfd >= 0 ? gsm_cgroup_locate_proc(w->root, &t->h, &loc) : gsm_cgroup_locate_pid(w->root, t->pid, &loc);
    w->stats.cgroup.reads++;
    if (r < 0 && r != -EXDEV)
        return;
    if (r == 0 && t->has_cg && strcmp(loc.path, t->loc.path) == 0 && loc.version == t->loc.version) {
        gsm_cgroup_location_free(&loc);
        return;
    }
    if (r < 0 && !t->has_cg)
        return;
    /* An exiting process is not moved: cgroup_exit() puts it in the root cgroup after its memory
     * is gone, and following it there lost the OOM kill of the cgroup it died in (watch PID). */
    struct gsm_status ss;
    if (t->h.dirfd >= 0 && (gsm_read_status_at(t->h.dirfd, &ss, NULL) < 0 || status_exiting(t, &ss))) {
        if (r == 0)
            gsm_cgroup_location_free(&loc);
        return;
    }
    gsm_debug("watch: pid %d (%s) moved from cgroup %s to %s", (int)t->pid, t->name, t->has_cg ? t->loc.path : "(none)",
              r == 0 ? loc.path : "(out of view)");
    if (t->has_cg)
        gsm_cgroup_location_free(&t->loc);
    t->has_cg = r == 0;
    if (r == 0)
        t->loc = loc;
    else
        memset(&t->loc, 0, sizeof t->loc);
    if (t->have_eff)
        gsm_cg_effective_free(&t->eff);
    t->have_eff = false;   /* refresh_limit reads the new cgroup's limits this sample */
    gsm_engine_notify_close(t);
    t->notify_tried = false;   /* the tick registers them again, for the new cgroup */
}

/* The CPU the target asked for, while it is sampled fast (a young or growing target, near its
 * limit, or forecasting: analyses/detect uses it for rises of a few seconds): the sum over its
 * processes of their threads' run and runnable-wait time. A process target reads through its
 * kept /proc/PID; a cgroup target through each member's (at most CPU_MAX_MEMBERS). Any failure
 * forgets the measurements (a rate across a gap or across changed members would be wrong). */
static void sample_cpu(struct gsm_watch *w, struct gsm_watch_target *t, const struct gsm_pid_list *members,
                       int members_r, uint64_t now_ms) {
    if (t->last_t_ms && !t->fast) {
        t->cpu_n = 0;
        return;
    }
    uint64_t sum = 0;
    int r = 0;
    if (t->type == GSM_WT_PROCESS) {
        if (t->h.dirfd >= 0)
            r = gsm_read_cpu_demand_at(t->h.dirfd, CPU_MAX_TASKS, &sum);
        else {
            _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
            r = gsm_proc_handle_open(w->root, t->pid, &h);
            if (r == 0 && h.start_ticks != t->starttime)
                r = -ESRCH;
            if (r == 0)
                r = gsm_read_cpu_demand_at(h.dirfd, CPU_MAX_TASKS, &sum);
        }
    } else {
        r = members_r;
        if (r == 0 && (members->n == 0 || members->n > CPU_MAX_MEMBERS))
            r = -ERANGE;
        for (size_t k = 0; r == 0 && k < members->n; k++) {
            _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
            uint64_t one;
            r = gsm_proc_handle_open(w->root, members->pids[k], &h);
            if (r == 0)
                r = gsm_read_cpu_demand_at(h.dirfd, CPU_MAX_TASKS, &one);
            sum += r == 0 ? one : 0;
        }
    }
    /* A member that left or a restarted process takes its CPU with it: a fall starts afresh. */
    const struct cpu_point *prev = t->cpu_n ? &t->cpu[(t->cpu_head + CPU_HIST - 1) % CPU_HIST] : NULL;
    if (r < 0 || (prev && sum < prev->demand_ns)) {
        t->cpu_n = 0;
        if (r < 0)
            return;
    }
    t->cpu[t->cpu_head] = (struct cpu_point){now_ms, sum};
    t->cpu_head = (t->cpu_head + 1) % CPU_HIST;
    if (t->cpu_n < CPU_HIST)
        t->cpu_n++;
}

/* The cgroup's count of OOM kills: v2's memory.events oom_kill, v1's memory.oom_control oom_kill. */
static uint64_t cg_oom_kills(const struct gsm_cgroup_memory *m) {
    return m->version == GSM_CGROUP_V2 ? v2_event(m, GSM_CG_EV_OOM_KILL) : m->oom_control.oom_kill;
}

int gsm_engine_cgroup_oom_kills(struct gsm_watch *w, const struct gsm_watch_target *t, uint64_t *ret) {
    if (!t->has_cg)
        return -ENOENT;
    ssize_t k = cg_sample(w, &t->loc);
    if (k < 0 || w->tc.c[k].r < 0)
        return k < 0 ? (int)k : w->tc.c[k].r;
    *ret = cg_oom_kills(&w->tc.c[k].mem);
    return 0;
}

int gsm_engine_sample_target(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms,
                             struct gsm_watch_sample *s) {
    memset(s, 0, sizeof *s);
    s->t_ms = now_ms;
    recheck_cgroup(w, t);
    t->cg_tick = t->has_cg ? cg_sample(w, &t->loc) : -1;
    const struct cg_tick *c = t->cg_tick >= 0 ? &w->tc.c[t->cg_tick] : NULL;
    refresh_limit(w, t, c);
    s->limit_bytes = effective_limit(w, t);
    s->limit_is_node = !(t->have_eff && t->eff.max.limited) && w->mem_total_bytes;
    if (c && c->r == 0) {
        const struct gsm_cgroup_memory *m = &c->mem;
        s->oom_kill = cg_oom_kills(m);
        s->oom = v2_event(m, GSM_CG_EV_OOM);
        s->max_events = v2_event(m, GSM_CG_EV_MAX);
        s->high_events = v2_event(m, GSM_CG_EV_HIGH);
        s->failcnt = m->failcnt.have ? m->failcnt.value : 0;
        if (m->pressure.have) {
            s->have_psi = true;
            s->psi_some_avg10 = m->pressure.some.avg10_pct;
            s->psi_full_avg10 = m->pressure.full.avg10_pct;
        }
    }
    if (t->type == GSM_WT_CGROUP) {
        if (!c || c->r < 0)
            return c ? c->r : -ENOMEM;
        const struct gsm_cgroup_memory *m = &c->mem;
        s->usage_bytes = m->usage_bytes.have ? m->usage_bytes.value : 0;
        if (c->have_bd) {
            s->unreclaimable_bytes = c->bd.unreclaimable_bytes;
            s->anon_bytes = c->bd.parts[GSM_CG_PART_ANON].bytes;
            s->file_bytes = c->bd.parts[GSM_CG_PART_FILE_ACTIVE].bytes + c->bd.parts[GSM_CG_PART_FILE_INACTIVE].bytes;
            s->working_set_bytes = c->bd.working_set_bytes;
            s->swap_bytes = c->bd.swap_bytes.have ? c->bd.swap_bytes.value : 0;
        } else
            s->unreclaimable_bytes = s->usage_bytes;
    } else {
        _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
        uint64_t t0 = gsm_engine_mono_ns();
        int r = 0, dirfd = t->h.dirfd;
        struct gsm_status ss;
        if (dirfd < 0) {
            r = gsm_proc_handle_open(w->root, t->pid, &h);   /* reads stat: the start time */
            if (r == 0 && !h.have_start)
                r = -ESRCH;
            if (r == 0 && h.start_ticks != t->starttime)
                r = -ESRCH;   /* the PID was recycled */
            w->stats.status.reads++;
            dirfd = h.dirfd;
            if (r == 0 && w->root->is_host && h.dirfd < w->keep_fd_below) {
                t->h = h;   /* kept: the live directory names this process until it is reaped */
                if (t->h.pidfd >= 0)
                    close(t->h.pidfd);
                t->h.pidfd = -1;
                h = (struct gsm_proc)GSM_PROC_INIT;
            }
        }
        if (r == 0)
            r = gsm_read_status_at(dirfd, &ss, NULL);
        if (r == 0 && t->pidfd >= 0 && gsm_pidfd_exited(t->pidfd))
            r = -ESRCH;   /* exited: what /proc/PID named may be a PID reused within the start time's tick */
        if (r == 0 && status_exiting(t, &ss))
            r = -ESRCH;   /* exiting: its memory is gone, a sample of 0 bytes would be a lie */
        w->stats.status.reads++;
        w->stats.status.ns += gsm_engine_mono_ns() - t0;
        if (r < 0) {
            gsm_engine_count_error(w, &w->stats.status, "status", t, NULL, r, now_ms);
            return r == -ENOENT ? -ESRCH : r;
        }
        refresh_name(t, ss.name);
        s->usage_bytes = ss.vm_rss_bytes;
        s->anon_bytes = ss.rss_anon_bytes;
        s->file_bytes = ss.rss_file_bytes;
        s->swap_bytes = ss.vm_swap_bytes;
        s->shmem_bytes = ss.rss_shmem_bytes;
        s->threads = ss.threads;
        s->unreclaimable_bytes = ss.rss_anon_bytes + ss.rss_shmem_bytes + ss.vm_swap_bytes;
        s->working_set_bytes = ss.vm_rss_bytes;
        if (c && c->r == 0 && c->have_bd && c->bd.unreclaimable_bytes > s->unreclaimable_bytes)
            s->others_bytes = c->bd.unreclaimable_bytes - s->unreclaimable_bytes;
    }
    s->value_bytes = s->unreclaimable_bytes;
    struct gsm_pid_list members = {0};
    int members_r = t->type == GSM_WT_CGROUP ? scan_members(w, t, s, &members) : -ENOENT;
    sample_cpu(w, t, &members, members_r, now_ms);
    gsm_pid_list_free(&members);
    if (t->have_start && w->uptime_s > t->start_s)
        s->age_ms = (uint64_t)((w->uptime_s - t->start_s) * 1000.0);
    gsm_engine_go_discover(w, t, now_ms);
    uint64_t adjusted, next_gc;
    if (gsm_engine_go_adjust(w, t, now_ms, s->value_bytes, &adjusted, &next_gc)) {
        s->value_bytes = adjusted;
        s->go_adjusted = true;
        s->go_next_gc_bytes = next_gc;
    }
    return 0;
}

/* Tier 2: smaps_rollup for a few process targets per tick, within the kernel-time budget. */
void gsm_engine_rollup_tier(struct gsm_watch *w, uint64_t now_ms) {
    int64_t budget_us = (int64_t)w->o.rollup_budget_us;
    for (size_t k = 0; k < w->n && budget_us > 0; k++) {
        struct gsm_watch_target *t = w->t[(w->rollup_cursor + k) % w->n];
        if (t->type != GSM_WT_PROCESS || gsm_sample_ring_len(&t->ring) == 0 || now_ms - t->last_rollup_ms < ROLLUP_MIN_INTERVAL_MS)
            continue;
        struct gsm_watch_sample *s = &t->det.prev;   /* this tick's sample */
        int64_t cost_us = (int64_t)(s->usage_bytes * ROLLUP_US_PER_GIB >> 30) + 50;
        if (cost_us > budget_us && k > 0)
            continue;   /* too big for what is left of this tick; try a smaller one */
        _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
        int hr = gsm_proc_handle_open(w->root, t->pid, &h);
        if (hr < 0) {
            gsm_engine_count_error(w, &w->stats.rollup, "smaps_rollup", t, NULL, hr, now_ms);
            continue;
        }
        struct gsm_process p;
        gsm_process_init(&p, t->pid);
        struct gsm_parse_error err;
        uint64_t t0 = gsm_engine_mono_ns();
        int r = gsm_smaps_read_at(h.dirfd, "smaps_rollup", &p, NULL, &err);
        if (r == 0 && gsm_engine_same_process(t, &h) < 0)
            r = -ESRCH;   /* a recycled PID's PSS is not this target's */
        uint64_t spent = gsm_engine_mono_ns() - t0;
        w->stats.rollup.reads++;
        w->stats.rollup.ns += spent;
        if (r == 0 && p.have_rollup)
            s->pss_bytes = p.rollup.f[GSM_F_PSS];
        else
            gsm_engine_count_error(w, &w->stats.rollup, "smaps_rollup", t, NULL, r < 0 ? r : -EBADMSG, now_ms);
        gsm_process_free(&p);
        t->last_rollup_ms = now_ms;
        budget_us -= (int64_t)(spent / 1000);
        w->rollup_cursor = (w->rollup_cursor + k + 1) % (w->n ? w->n : 1);
    }
}
