#include "engine/engine_internal.h"
#include "readers/host.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

void gsm_watch_opts_default(struct gsm_watch_opts *o) {
    *o = (struct gsm_watch_opts){
        .interval_ms = 2000, .window_ms = 120000, .short_window_ms = 20000, .baseline_ms = 180000,
        .ring_ms = 300000, .horizon_s = 300, .z_threshold = 3.5, .rollup_budget_us = 5000, .go_stats = true,
        .warmup_s = WARMUP_S, .smaps_budget_us = 20000, .top_processes = 50,
        .fast_interval_ms = FAST_INTERVAL_MS, .young_s = YOUNG_S, .notify = true,
    };
}

uint64_t gsm_engine_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int gsm_watch_new(const struct gsm_root *root, const struct gsm_watch_opts *o, struct gsm_watch **ret) {
    struct gsm_watch *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->root = root;
    w->o = *o;
    /* Keep process handles open below the soft fd limit, 256 spare for everything else. */
    struct rlimit rl;
    w->keep_fd_below = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                           ? (rl.rlim_cur > 512 ? (int)(rl.rlim_cur > 1048576 ? 1048576 : rl.rlim_cur) - 256 : 0)
                           : 65536;
    long tck = sysconf(_SC_CLK_TCK);
    w->clk_tck = tck > 0 ? (double)tck : 100.0;
    /* The node's memory: the limit of last resort for targets without a cgroup limit. */
    struct gsm_meminfo mi;
    if (gsm_meminfo_read(root, &mi) == 0 && mi.have_mem_total)
        w->mem_total_bytes = mi.mem_total_bytes;
    *ret = w;
    return 0;
}

void gsm_watch_free(struct gsm_watch *w) {
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        gsm_engine_target_free(w->t[i]);
    free(w->t);
    free(w->pts);
    free(w->raw);
    gsm_engine_tick_cache_free(&w->tc);
    free(w->protect_done);
    free(w);
}

void gsm_watch_set_all(struct gsm_watch *w, bool all) {
    w->all = all;
}

/* The detectors' events of one target are held (buf) until the target's health score of this
 * tick is known, so every event carries it. */
#define HELD_EVENTS 16
struct emitter {
    gsm_watch_event_fn fn;
    void *userdata;
    struct gsm_watch *w;
    struct gsm_watch_event *buf;     /* NULL: fire at once */
    size_t n;
};

static void fire(struct gsm_watch_event *ev, void *userdata) {
    struct emitter *e = userdata;
    if (e->buf && e->n < HELD_EVENTS) {
        e->buf[e->n++] = *ev;
        return;
    }
    e->w->stats.events++;
    if (e->fn)
        e->fn(ev, e->userdata);
}

static const struct cg_tick *target_cg_tick(const struct gsm_watch_target *t);

/* The Go part's input: not applicable without Go, unknown when a Go member has no statistics,
 * else the largest GC CPU fraction among the members (-1 when none reports it). */
static enum gsm_health_go target_go(const struct gsm_watch_target *t, double *ret_gc_cpu) {
    *ret_gc_cpu = -1;
    if (t->n_go == 0)
        return t->exe_checked && t->is_go ? GSM_HGO_UNKNOWN : GSM_HGO_NO;
    bool any = false;
    for (size_t i = 0; i < t->n_go; i++) {
        if (!t->go[i].have)
            continue;
        any = true;
        if ((t->go[i].stats.have >> GSM_GO_GC_CPU_FRACTION) & 1 && t->go[i].stats.gc_cpu_fraction > *ret_gc_cpu)
            *ret_gc_cpu = t->go[i].stats.gc_cpu_fraction;
    }
    return any ? GSM_HGO_YES : GSM_HGO_UNKNOWN;
}

/* This tick's health score; an event when the band (with hysteresis) changed. */
static void health_step(struct gsm_watch_target *t, const struct gsm_watch_sample *s, struct emitter *e) {
    uint64_t hits, kills;
    bool counters = target_cg_tick(t) != NULL;
    gsm_health_window_step(&t->health_win, s->t_ms, s->max_events + s->high_events + s->failcnt, s->oom_kill, &hits,
                           &kills);
    double gc_cpu;
    enum gsm_health_go go = target_go(t, &gc_cpu);
    struct gsm_health_input in;
    gsm_health_input_from_sample(s, t->det.last_eta_s, counters, hits, kills, go, gc_cpu, &in);
    struct gsm_health h;
    gsm_health_compute(&in, &h);
    gsm_health_brief_of(&h, &t->health);
    if (!h.have)
        return;
    enum gsm_health_band prev = t->health_band.band;
    if (!gsm_health_band_update(&t->health_band, h.score, s->t_ms))
        return;
    enum gsm_health_band band = t->health_band.band;
    struct gsm_watch_event ev = {.time_ms = s->t_ms, .kind = GSM_WK_HEALTH, .target = t, .eta_seconds = NAN,
                                 .value = h.score};
    static const double lower[GSM_HB__COUNT] = {GSM_HEALTH_GOOD, GSM_HEALTH_FAIR, GSM_HEALTH_POOR, 0};
    ev.threshold = lower[band];
    ev.level = band == GSM_HB_CRITICAL ? GSM_WL_CRITICAL : band == GSM_HB_POOR ? GSM_WL_WARN : GSM_WL_INFO;
    gsm_watch_target_ref(t, &ev.ref);
    /* the two largest penalties name why */
    int a = -1, b = -1;
    for (int i = 0; i < GSM_HP__COUNT; i++) {
        double p = h.parts[i].penalty;
        if (p <= 0)
            continue;
        if (a < 0 || p > h.parts[a].penalty)
            b = a, a = i;
        else if (b < 0 || p > h.parts[b].penalty)
            b = i;
    }
    char why[240] = "no penalty", second[48] = "";
    if (b >= 0)
        snprintf(second, sizeof second, "; %s -%.0f", gsm_health_part_name((enum gsm_health_part)b),
                 h.parts[b].penalty);
    if (a >= 0)
        snprintf(why, sizeof why, "%s -%.0f: %.150s%s", gsm_health_part_name((enum gsm_health_part)a),
                 h.parts[a].penalty, h.parts[a].note, second);
    snprintf(ev.message, sizeof ev.message, "health %d/100: %s -> %s (%s)", h.score, gsm_health_band_name(prev),
             gsm_health_band_name(band), why);
    static const char *const keys[GSM_HP__COUNT] = {"headroom_penalty", "trend_penalty", "pressure_penalty",
                                                    "limit_hits_penalty", "oom_kills_penalty", "go_gc_penalty"};
    gsm_watch_event_evidence(&ev, "health_score", h.score);
    gsm_watch_event_evidence(&ev, "previous_band", prev);
    gsm_watch_event_evidence(&ev, "band", band);
    for (int i = 0; i < GSM_HP__COUNT; i++)
        if (h.parts[i].status == GSM_HPS_USED)
            gsm_watch_event_evidence(&ev, keys[i], round(h.parts[i].penalty * 10) / 10);
    fire(&ev, e);
}

/* The target's series (the ring's values) into w->pts, then the detectors (analyses/detect). */
static void detect(struct gsm_watch *w, struct gsm_watch_target *t, const struct gsm_watch_sample *s, struct emitter *e) {
    uint64_t t0 = gsm_engine_mono_ns();
    size_t n = gsm_sample_ring_len(&t->ring);
    if (w->pts_cap < n) {
        size_t want = n > t->ring_max + GSM_RING_BLOCK ? n : t->ring_max + GSM_RING_BLOCK;
        struct gsm_point *p = realloc(w->pts, want * sizeof *p), *q = p ? realloc(w->raw, want * sizeof *q) : NULL;
        if (p)
            w->pts = p;
        if (!q)
            return;
        w->raw = q;
        w->pts_cap = want;
    }
    struct gsm_point *pts = w->pts;
    struct gsm_sample_ring_iter it;
    gsm_sample_ring_iter_init(&it, &t->ring);
    struct gsm_ring_entry re;
    uint64_t basis_ms = 0;   /* the last sample whose Go adjustment differs from its predecessor's */
    bool prev_adj = false;
    for (size_t i = 0; i < n && gsm_sample_ring_next(&it, &re); i++) {
        struct gsm_watch_sample x;
        gsm_engine_ring_entry_sample(&re, &x);
        pts[i] = (struct gsm_point){re.t_ms, (double)x.value_bytes};
        w->raw[i] = (struct gsm_point){re.t_ms, (double)x.unreclaimable_bytes};
        if (i > 0 && x.go_adjusted != prev_adj)
            basis_ms = re.t_ms;
        prev_adj = x.go_adjusted;
    }
    struct gsm_detect_opts o = {
        .window_ms = w->o.window_ms, .short_window_ms = w->o.short_window_ms, .baseline_ms = w->o.baseline_ms,
        .horizon_s = w->o.horizon_s, .z_threshold = w->o.z_threshold, .warmup_s = w->o.warmup_s,
        .interval_ms = w->o.interval_ms,
    };
    struct gsm_point cpu[CPU_HIST];
    for (unsigned i = 0; i < t->cpu_n; i++) {
        const struct cpu_point *c = &t->cpu[(t->cpu_head + CPU_HIST - t->cpu_n + i) % CPU_HIST];
        cpu[i] = (struct gsm_point){c->t_ms, (double)c->demand_ns / 1e9};
    }
    struct gsm_detect_input in = {
        .pts = pts, .raw = w->raw, .n = n, .s = s, .cpu = cpu, .n_cpu = t->cpu_n, .basis_ms = basis_ms,
        .age_s = t->have_start && w->uptime_s > 0 ? w->uptime_s - t->start_s : -1,
        .empty = t->type == GSM_WT_CGROUP && t->members_known && s->members == 0, .target = t,
    };
    gsm_watch_target_ref(t, &in.ref);
    gsm_detect_run(&t->det, &o, &in, fire, e);
    w->stats.detect.reads++;
    w->stats.detect.ns += gsm_engine_mono_ns() - t0;
}

/* The next sample: soon while the target is young and growing (at 1 MiB/s or more since the
 * last sample: an idle young process costs no more than an old one), within reach of its limit
 * and moving, or its forecast is pending or firing; every STEADY_FACTOR intervals while steady
 * (watch); else at the interval. An eighth of slack, so a loop that wakes a little early does
 * not skip a round. */
static void schedule(struct gsm_watch *w, struct gsm_watch_target *t, const struct gsm_watch_sample *s,
                     uint64_t now_ms) {
    uint64_t iv = w->o.interval_ms, fast = w->o.fast_interval_ms && w->o.fast_interval_ms < iv ? w->o.fast_interval_ms : iv;
    bool near = !s->limit_is_node && s->limit_bytes != UINT64_MAX && s->value_bytes * 2 >= s->limit_bytes &&
                (t->type == GSM_WT_CGROUP || t->explicit_target);
    /* Growing: the value or the memory the kernel cannot reclaim. A Go target's value moves only
     * when its statistics are polled (about once a second, engine/go_poll.c), so two samples a
     * quarter second apart often show the same value while the memory grows: on the value alone
     * a leak from start at 8-32 MiB/s fell back to the 2 s interval after every fast sample
     * (scenarios heap-8s/heap-32s, 2026-12-06). */
    double dt_s = t->last_t_ms && now_ms > t->last_t_ms ? (double)(now_ms - t->last_t_ms) / 1000.0 : 0;
    bool growing = dt_s > 0 && (((double)s->value_bytes - (double)t->last_value_bytes) / dt_s >= 1048576.0 ||
                                ((double)s->unreclaimable_bytes - (double)t->last_unrecl_bytes) / dt_s >= 1048576.0);
    /* ... and it stays fast for FAST_HOLD_MS after it last grew: a Go heap grows in bursts
     * between GC pauses, and a quarter second without growth is not the end of a leak. */
    if (growing)
        t->grew_ms = now_ms;
    growing |= t->grew_ms && now_ms - t->grew_ms < FAST_HOLD_MS;
    growing |= !t->last_t_ms;   /* the first samples of a young target come fast (an idle one: two) */
    t->last_value_bytes = s->value_bytes;
    t->last_unrecl_bytes = s->unreclaimable_bytes;
    t->last_t_ms = now_ms;
    bool young = growing && t->have_start && w->uptime_s > 0 && w->uptime_s - t->start_s < w->o.young_s;
    bool busy = t->det.eta.level != GSM_WL_NONE || t->det.eta.pending != GSM_WL_NONE;
    double tol = fmax(1048576.0, 0.01 * (double)t->steady_ref_bytes);
    if (t->steady_samples && fabs((double)s->value_bytes - (double)t->steady_ref_bytes) <= tol)
        t->steady_samples++;
    else {
        t->steady_ref_bytes = s->value_bytes;
        t->steady_samples = 1;
    }
    bool steady = fast < iv && t->steady_samples > STEADY_SAMPLES && !t->det.growth.level && !t->det.growth.pending;
    /* Near its limit: fast while it moves, at the interval while steady (a burst from there
     * wakes the loop through the kernel's usage threshold); elsewhere steady backs off. */
    uint64_t step = young || busy ? fast : near ? (steady ? iv : fast) : steady ? iv * STEADY_FACTOR : iv;
    t->fast = step < iv;
    /* With one rate (serve), the caller ticks at the interval: any tick half an interval on
     * samples every target, even one a notification sampled in between. */
    t->next_due_ms = now_ms + step - (fast == iv ? step / 2 : step / 8);
    t->woken = false;
}

uint64_t gsm_watch_next_due_ms(const struct gsm_watch *w) {
    uint64_t due = UINT64_MAX;
    for (size_t i = 0; i < w->n; i++)
        if (w->t[i]->woken)
            return 0;
        else if (w->t[i]->next_due_ms < due)
            due = w->t[i]->next_due_ms;
    if (w->all && w->last_refresh_ms + REFRESH_TICKS * w->o.interval_ms < due)
        due = w->last_refresh_ms + REFRESH_TICKS * w->o.interval_ms;
    return due;
}

int gsm_watch_tick(struct gsm_watch *w, uint64_t now_ms, gsm_watch_event_fn on_event, gsm_watch_sample_fn on_sample,
                   void *userdata) {
    struct emitter e = {on_event, userdata, w};
    if (w->all && (w->ticks == 0 || now_ms - w->last_refresh_ms >= REFRESH_TICKS * w->o.interval_ms)) {
        for (size_t i = 0; i < w->n; i++)
            w->t[i]->seen = w->t[i]->explicit_target;
        gsm_engine_refresh_all(w);
        w->last_refresh_ms = now_ms;
    } else if (w->all)
        for (size_t i = 0; i < w->n; i++)
            w->t[i]->seen = true;   /* only a refresh says a target is gone */
    w->ticks++;
    w->stats.ticks++;
    _cleanup_free_ char *up = NULL;
    size_t uplen;
    if (gsm_read_file_at(w->root->fd, "proc/uptime", 4096, &up, &uplen) == 0)
        w->uptime_s = strtod(up, NULL);
    gsm_engine_tick_cache_clear(&w->tc);
    for (size_t i = 0; i < w->n;) {
        struct gsm_watch_target *t = w->t[i];
        struct gsm_watch_sample s;
        /* Not due and not woken; or sampled in this very millisecond already (a notification
         * right after a tick): one sample per target per moment. */
        if ((!t->woken && now_ms < t->next_due_ms && !(w->all && !t->seen)) || (t->last_t_ms && now_ms <= t->last_t_ms)) {
            i++;
            continue;
        }
        int r = (w->all && !t->seen) ? -ESRCH : gsm_engine_sample_target(w, t, now_ms, &s);
        if (r == -ESRCH || r == -ENOENT) {
            /* Gone: a process that exited (or whose PID now names another), a removed cgroup. */
            if (t->explicit_target) {
                struct gsm_watch_event ev = {.time_ms = now_ms, .level = GSM_WL_INFO, .kind = GSM_WK_TARGET_GONE,
                                             .target = t, .eta_seconds = NAN};
                gsm_watch_target_ref(t, &ev.ref);
                /* A watched process that died of the OOM killer: its cgroup counted the kill (a
                 * cgroup target reports kills from its own counters, detect_counters). */
                uint64_t kills;
                uint64_t before = t->det.prev.oom_kill;
                if (t->type == GSM_WT_PROCESS && t->det.have_prev && gsm_engine_cgroup_oom_kills(w, t, &kills) == 0 &&
                    (kills > before || (t->oom_rise_ms && now_ms - t->oom_rise_ms <= OOM_EXIT_MS))) {
                    if (kills == before && before > 0)
                        before--;   /* the kill was counted while the process was still exiting */
                    ev.kind = GSM_WK_OOM_KILL;
                    ev.level = GSM_WL_CRITICAL;
                    ev.value = (double)kills;
                    ev.threshold = (double)before;
                    ev.wants_bundle = true;
                    snprintf(ev.message, sizeof ev.message,
                             "the process is gone: the OOM killer killed it (its cgroup's oom_kill %llu -> %llu)",
                             (unsigned long long)before, (unsigned long long)kills);
                    gsm_watch_event_evidence(&ev, "count", (double)kills);
                    gsm_watch_event_evidence(&ev, "increase", (double)(kills - before));
                } else
                    snprintf(ev.message, sizeof ev.message, "%s is gone", t->type == GSM_WT_CGROUP ? "the cgroup" : "the process");
                fire(&ev, &e);
            }
            gsm_engine_target_free(t);
            w->t[i] = w->t[--w->n];
            continue;
        }
        if (r < 0) {
            i++;
            continue;
        }
        if (t->det.have_prev && s.oom_kill > t->det.prev.oom_kill)
            t->oom_rise_ms = now_ms;   /* its cgroup counted a kill: maybe this process, still exiting */
        if (gsm_engine_ring_push(t, &s) < 0) {
            i++;
            continue;
        }
        if (!t->class_only) {   /* a named cgroup's member, there for its classes only */
            if (on_sample)
                on_sample(t, &s, userdata);
            struct gsm_watch_event held[HELD_EVENTS];
            e.buf = held;
            e.n = 0;
            detect(w, t, &s, &e);
            health_step(t, &s, &e);
            e.buf = NULL;
            for (size_t k = 0; k < e.n; k++) {
                held[k].have_health = t->health.have;
                held[k].health_score = t->health.score;
                fire(&held[k], &e);
            }
        } else {
            t->det.prev = s;   /* what detect() keeps: the exporter's and the classes tier's sample */
            t->det.have_prev = true;
        }
        schedule(w, t, &s, now_ms);
        if (w->o.notify && !t->notify_tried && !t->class_only && (t->type == GSM_WT_CGROUP || t->explicit_target))
            gsm_engine_notify_register(w, t, &s);
        i++;
    }
    gsm_engine_protect_scan(w, now_ms, fire, &e);
    gsm_engine_rollup_tier(w, now_ms);
    if (w->o.classes)
        gsm_engine_classes_tick(w, now_ms);
    return 0;
}

const struct gsm_watch_stats *gsm_watch_get_stats(const struct gsm_watch *w) {
    return &w->stats;
}
size_t gsm_watch_n_targets(const struct gsm_watch *w) {
    return w->n;
}
uint64_t gsm_watch_interval_ms(const struct gsm_watch *w) {
    return w->o.interval_ms;
}
enum gsm_watch_target_type gsm_watch_target_type(const struct gsm_watch_target *t) {
    return t->type;
}
pid_t gsm_watch_target_pid(const struct gsm_watch_target *t) {
    return t->pid;
}
uint64_t gsm_watch_target_starttime(const struct gsm_watch_target *t) {
    return t->starttime;
}
const char *gsm_watch_target_name(const struct gsm_watch_target *t) {
    return t->name;
}
const char *gsm_watch_target_cgroup(const struct gsm_watch_target *t) {
    return t->has_cg ? t->loc.path : NULL;
}
const struct gsm_cgroup_location *gsm_watch_target_cgroup_loc(const struct gsm_watch_target *t) {
    return t->has_cg ? &t->loc : NULL;
}
void gsm_watch_target_identity(const struct gsm_watch_target *t, struct gsm_container_identity *ret) {
    memset(ret, 0, sizeof *ret);
    if (t->has_cg && t->loc.path)
        gsm_container_identity_parse(t->loc.path, ret);
}
const char *gsm_watch_target_go_endpoint(const struct gsm_watch_target *t) {
    return t->n_go ? t->go[0].endpoint : NULL;
}
size_t gsm_watch_target_n_go(const struct gsm_watch_target *t) {
    return t->n_go;
}
const struct gsm_go_stats *gsm_watch_target_go_stats(const struct gsm_watch_target *t, size_t i, pid_t *ret_pid) {
    if (i >= t->n_go)
        return NULL;
    if (ret_pid)
        *ret_pid = t->go[i].pid;
    return t->go[i].have ? &t->go[i].stats : NULL;
}
const struct gsm_watch_target *gsm_watch_target_at(const struct gsm_watch *w, size_t i) {
    return i < w->n ? w->t[i] : NULL;
}
bool gsm_watch_target_is_explicit(const struct gsm_watch_target *t) {
    return t->explicit_target;
}

bool gsm_watch_target_current(const struct gsm_watch_target *t, struct gsm_watch_sample *ret, double *ret_eta_s,
                              double *ret_z) {
    if (!t->det.have_prev)
        return false;
    *ret = t->det.prev;
    *ret_eta_s = t->det.last_eta_s;
    *ret_z = t->det.last_z;
    return true;
}

enum gsm_watch_level gsm_watch_target_condition(const struct gsm_watch_target *t, enum gsm_watch_kind k) {
    return k == GSM_WK_ETA        ? t->det.eta.level
           : k == GSM_WK_GROWTH   ? t->det.growth.level
           : k == GSM_WK_PRESSURE ? t->det.pressure.level
                                  : GSM_WL_NONE;
}

void gsm_watch_target_ref(const struct gsm_watch_target *t, struct gsm_target_ref *ret) {
    *ret = (struct gsm_target_ref){
        .type = t->type, .pid = t->pid, .starttime = t->starttime, .name = t->name,
        .cgroup = t->has_cg ? t->loc.path : NULL, .explicit_target = t->explicit_target,
    };
}

bool gsm_watch_target_state(const struct gsm_watch_target *t, struct gsm_watch_state *ret) {
    if (!t->det.have_prev)
        return false;
    memset(ret, 0, sizeof *ret);
    gsm_watch_target_ref(t, &ret->ref);
    ret->s = t->det.prev;
    ret->eta_s = t->det.last_eta_s;
    ret->z = t->det.last_z;
    ret->eta_level = t->det.eta.level;
    ret->growth_level = t->det.growth.level;
    ret->pressure_level = t->det.pressure.level;
    ret->selected = t->selected;
    ret->classes = t->selected ? t->cls : NULL;
    ret->health = t->health;
    return true;
}

/* t->cg_tick indexes the engine's tick cache; the target does not point at its engine, so the
 * cache entry is found through the container: every target lives in exactly one engine. */
static const struct cg_tick *target_cg_tick(const struct gsm_watch_target *t) {
    if (t->cg_tick < 0 || !t->tc || (size_t)t->cg_tick >= t->tc->n)
        return NULL;
    const struct cg_tick *c = &t->tc->c[t->cg_tick];
    return c->r == 0 ? c : NULL;
}

const struct gsm_cgroup_memory *gsm_watch_target_cgroup_memory(const struct gsm_watch_target *t) {
    const struct cg_tick *c = target_cg_tick(t);
    return c ? &c->mem : NULL;
}

const struct gsm_cg_breakdown *gsm_watch_target_cgroup_breakdown(const struct gsm_watch_target *t) {
    const struct cg_tick *c = target_cg_tick(t);
    return c && c->have_bd ? &c->bd : NULL;
}

const struct gsm_cg_effective *gsm_watch_target_limits(const struct gsm_watch_target *t) {
    return t->have_eff ? &t->eff : NULL;
}

int gsm_watch_target_is_go(const struct gsm_watch_target *t) {
    return t->exe_checked ? t->is_go : -1;
}

const struct gsm_totals *gsm_watch_target_go_totals(const struct gsm_watch_target *t, uint64_t *ret_taken_ms) {
    if (!t->go_totals || !t->cls || !t->selected)
        return NULL;
    if (ret_taken_ms)
        *ret_taken_ms = t->cls->taken_ms;
    return t->go_totals;
}
