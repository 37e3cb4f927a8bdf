#include "analyses/detect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A trend counts only when most pairs of points rise: a leak does, a GC sawtooth and a
 * one-time step do not (analyses/trend.h). */
#define ETA_MIN_POSITIVE_FRACTION 0.75
/* The short window (a few points) must be near-unanimous: benign noise (a Go-adjusted series
 * jitters by the heap goal's steps) easily rises in 3 of 4 pairs of 10 points, a leak in 9 of
 * 10. Measured on the sawtooth scenario (tests/scenarios). */
#define ETA_SHORT_MIN_POSITIVE_FRACTION 0.90
/* ... and most of its non-zero steps must rise (trend.h: a ramp then a plateau does not). */
#define ETA_MIN_STEP_FRACTION 0.80
#define ETA_MIN_POINTS 5
#define ETA_MIN_SPAN_MS 8000
/* The Z-score's sd floor: 256 KiB/s, so a flat baseline does not make every wiggle sudden. */
#define Z_SD_FLOOR (256.0 * 1024)
#define Z_MIN_BASELINE 10
/* v2 PSI: a tenth of the time stalled on memory (some), or a twentieth fully stalled. */
#define PSI_SOME_WARN 10.0
#define PSI_FULL_CRITICAL 5.0

bool gsm_detector_step(struct gsm_detector *d, enum gsm_watch_level candidate) {
    if (candidate > d->level) {
        if (candidate != d->pending) {
            d->pending = candidate;
            d->pending_ticks = 0;
        }
        d->clear_ticks = 0;
        if (++d->pending_ticks >= GSM_DETECT_CONFIRM_TICKS) {
            d->level = candidate;
            d->pending_ticks = 0;
            return true;
        }
        return false;
    }
    d->pending_ticks = 0;
    d->pending = GSM_WL_NONE;
    if (candidate == d->level) {
        d->clear_ticks = 0;
        return false;
    }
    if (++d->clear_ticks >= GSM_DETECT_CLEAR_TICKS) {   /* candidate < level for long enough */
        d->level = candidate;
        d->clear_ticks = 0;
        return true;
    }
    return false;
}

void gsm_detect_state_init(struct gsm_detect_state *st) {
    memset(st, 0, sizeof *st);
    st->last_eta_s = INFINITY;
}

struct run {
    struct gsm_detect_state *st;
    const struct gsm_detect_opts *o;
    const struct gsm_detect_input *in;
    gsm_detect_emit_fn emit;
    void *userdata;
};

/* An event for a detector whose level just changed from `before`. */
static void event_init(const struct run *r, struct gsm_watch_event *ev, enum gsm_watch_kind kind,
                       const struct gsm_detector *d, enum gsm_watch_level before) {
    memset(ev, 0, sizeof *ev);
    ev->time_ms = r->in->s->t_ms;
    ev->kind = kind;
    ev->ref = r->in->ref;
    ev->target = r->in->target;
    ev->level = d->level ? d->level : before;
    ev->resolved = d->level == GSM_WL_NONE;
    ev->eta_seconds = NAN;
}

static void emit(const struct run *r, struct gsm_watch_event *ev) {
    if (r->emit)
        r->emit(ev, r->userdata);
}

/* The most pessimistic consistent trend of the short and the long window: ETA (INFINITY when
 * none) and its slope. */
static double trend_eta(const struct run *r, double limit, double *ret_slope) {
    const struct gsm_detect_input *in = r->in;
    double eta = INFINITY;
    *ret_slope = 0;
    const uint64_t windows[2] = {r->o->short_window_ms, r->o->window_ms};
    struct gsm_trend tr;
    for (int k = 0; k < 2; k++) {
        /* Most series (idle processes) fail the O(n) step test: skip the O(n^2) pairs. */
        if (gsm_step_positive_fraction(in->pts, in->n, windows[k]) < ETA_MIN_STEP_FRACTION)
            continue;
        if (!gsm_theil_sen(in->pts, in->n, windows[k], ETA_MIN_POINTS, ETA_MIN_SPAN_MS, &tr))
            continue;
        if (tr.positive_fraction < (k == 0 ? ETA_SHORT_MIN_POSITIVE_FRACTION : ETA_MIN_POSITIVE_FRACTION) ||
            tr.step_positive_fraction < ETA_MIN_STEP_FRACTION || tr.slope_per_s <= 0)
            continue;
        double x = gsm_eta_seconds((double)in->s->value_bytes, limit, tr.slope_per_s);
        if (x < eta) {
            eta = x;
            *ret_slope = tr.slope_per_s;
        }
    }
    return eta;
}

/* (a) time to limit; the headroom is the limit minus what else the cgroup holds. */
static void detect_eta(const struct run *r) {
    const struct gsm_watch_sample *s = r->in->s;
    struct gsm_detect_state *st = r->st;
    double limit = s->limit_bytes == UINT64_MAX ? INFINITY : (double)s->limit_bytes - (double)s->others_bytes;
    double slope;
    double eta = trend_eta(r, limit, &slope);
    if (r->in->age_s >= 0 && r->in->age_s < r->o->warmup_s)
        eta = INFINITY;
    st->last_eta_s = eta;
    st->last_slope_per_s = isinf(eta) ? 0 : slope;
    enum gsm_watch_level c = eta < GSM_DETECT_ETA_CRITICAL_S ? GSM_WL_CRITICAL
                             : eta < r->o->horizon_s         ? GSM_WL_WARN
                             : eta < GSM_DETECT_ETA_INFO_S   ? GSM_WL_INFO
                                                             : GSM_WL_NONE;
    enum gsm_watch_level before = st->eta.level;
    if (!gsm_detector_step(&st->eta, c))
        return;
    struct gsm_watch_event ev;
    event_init(r, &ev, GSM_WK_ETA, &st->eta, before);
    ev.value = (double)s->value_bytes;
    ev.threshold = limit;
    ev.eta_seconds = isinf(eta) ? NAN : eta;
    if (ev.resolved)
        snprintf(ev.message, sizeof ev.message, "memory growth toward the limit stopped");
    else
        snprintf(ev.message, sizeof ev.message, "%s reaches its limit in %.0f s at %.2f MiB/s",
                 r->in->ref.type == GSM_WT_CGROUP ? "the cgroup" : "the process", eta, slope / 1048576.0);
    gsm_watch_event_evidence(&ev, "slope_bytes_per_second", slope);
    gsm_watch_event_evidence(&ev, "unreclaimable_bytes", (double)s->unreclaimable_bytes);
    gsm_watch_event_evidence(&ev, "limit_bytes", s->limit_bytes == UINT64_MAX ? -1 : (double)s->limit_bytes);
    gsm_watch_event_evidence(&ev, "others_bytes", (double)s->others_bytes);
    gsm_watch_event_evidence(&ev, "go_adjusted", s->go_adjusted);
    ev.wants_bundle = !ev.resolved && ev.level == GSM_WL_CRITICAL;
    emit(r, &ev);
}

/* (b) sudden growth: Z-score of the growth rate against the baseline. */
static void detect_growth(const struct run *r) {
    struct gsm_detect_state *st = r->st;
    const struct gsm_detect_input *in = r->in;
    double z = 0, rate = 0;
    enum gsm_watch_level g = GSM_WL_NONE;
    st->last_z = 0;
    if (gsm_growth_zscore(in->pts, in->n, r->o->baseline_ms, Z_MIN_BASELINE, Z_SD_FLOOR, &z, &rate) &&
        z > r->o->z_threshold && rate > 0)
        g = GSM_WL_WARN;
    if (in->n >= 3)
        st->last_z = z;
    enum gsm_watch_level before = st->growth.level;
    if (!gsm_detector_step(&st->growth, g))
        return;
    struct gsm_watch_event ev;
    event_init(r, &ev, GSM_WK_GROWTH, &st->growth, before);
    ev.value = z;
    ev.threshold = r->o->z_threshold;
    snprintf(ev.message, sizeof ev.message, ev.resolved ? "growth back to its baseline"
                                                        : "sudden growth: %.2f MiB/s, z = %.1f against the last %llu s",
             rate / 1048576.0, z, (unsigned long long)(r->o->baseline_ms / 1000));
    gsm_watch_event_evidence(&ev, "rate_bytes_per_second", rate);
    gsm_watch_event_evidence(&ev, "z", z);
    emit(r, &ev);
}

/* (c) pressure: PSI on v2, cgroup targets. */
static void detect_pressure(const struct run *r) {
    const struct gsm_watch_sample *s = r->in->s;
    struct gsm_detect_state *st = r->st;
    if (r->in->ref.type != GSM_WT_CGROUP)
        return;
    enum gsm_watch_level pl = GSM_WL_NONE;
    if (s->have_psi)
        pl = s->psi_full_avg10 >= PSI_FULL_CRITICAL ? GSM_WL_CRITICAL
             : s->psi_some_avg10 >= PSI_SOME_WARN   ? GSM_WL_WARN
                                                    : GSM_WL_NONE;
    enum gsm_watch_level before = st->pressure.level;
    if (!gsm_detector_step(&st->pressure, pl))
        return;
    struct gsm_watch_event ev;
    event_init(r, &ev, GSM_WK_PRESSURE, &st->pressure, before);
    ev.value = s->psi_some_avg10;
    ev.threshold = PSI_SOME_WARN;
    snprintf(ev.message, sizeof ev.message, ev.resolved ? "memory pressure back to normal"
                                                        : "memory pressure: some %.1f%%, full %.1f%% (avg10)",
             s->psi_some_avg10, s->psi_full_avg10);
    gsm_watch_event_evidence(&ev, "psi_some_avg10_pct", s->psi_some_avg10);
    gsm_watch_event_evidence(&ev, "psi_full_avg10_pct", s->psi_full_avg10);
    ev.wants_bundle = !ev.resolved && ev.level == GSM_WL_CRITICAL;
    emit(r, &ev);
}

/* (d) the kernel's own signals: counter increments. Cgroup targets only, so one kill is
 * reported once, not once per process of the cgroup. OOM and OOM kills: one event per
 * increment (each kill matters). Limit hits (max, high, failcnt) are a condition: firing while
 * they keep rising, resolved after they stop; with page cache at the limit v1's failcnt rises
 * every tick without any OOM. */
static void detect_counters(const struct run *r) {
    const struct gsm_watch_sample *s = r->in->s, *p = &r->st->prev;
    struct gsm_detect_state *st = r->st;
    if (!st->have_prev || r->in->ref.type != GSM_WT_CGROUP)
        return;
    struct gsm_watch_event ev;
    bool hits_rising = s->max_events > p->max_events || s->high_events > p->high_events || s->failcnt > p->failcnt;
    if (gsm_detector_step(&st->limit_hits, hits_rising ? GSM_WL_INFO : GSM_WL_NONE)) {
        event_init(r, &ev, GSM_WK_FAILCNT, &st->limit_hits, GSM_WL_INFO);
        ev.kind = s->max_events > p->max_events ? GSM_WK_MAX : s->high_events > p->high_events ? GSM_WK_HIGH : GSM_WK_FAILCNT;
        ev.level = GSM_WL_INFO;
        snprintf(ev.message, sizeof ev.message, ev.resolved ? "usage stopped hitting the limit"
                                                            : "usage keeps hitting the limit (reclaim at the limit; "
                                                              "an OOM follows only if nothing can be reclaimed)");
        gsm_watch_event_evidence(&ev, "max_events", (double)s->max_events);
        gsm_watch_event_evidence(&ev, "high_events", (double)s->high_events);
        gsm_watch_event_evidence(&ev, "failcnt", (double)s->failcnt);
        emit(r, &ev);
    }
    const struct {
        enum gsm_watch_kind kind;
        uint64_t now, before;
        const char *what;
    } counters[] = {
        {GSM_WK_OOM_KILL, s->oom_kill, p->oom_kill, "the OOM killer killed a process"},
        {GSM_WK_OOM, s->oom, p->oom, "the cgroup ran out of memory (memory.events oom)"},
    };
    for (size_t i = 0; i < 2; i++) {
        if (counters[i].now <= counters[i].before)
            continue;
        struct gsm_detector fired = {.level = GSM_WL_CRITICAL};
        event_init(r, &ev, counters[i].kind, &fired, GSM_WL_CRITICAL);
        ev.value = (double)counters[i].now;
        ev.threshold = (double)counters[i].before;
        snprintf(ev.message, sizeof ev.message, "%s (+%llu)", counters[i].what,
                 (unsigned long long)(counters[i].now - counters[i].before));
        gsm_watch_event_evidence(&ev, "count", (double)counters[i].now);
        gsm_watch_event_evidence(&ev, "increase", (double)(counters[i].now - counters[i].before));
        ev.wants_bundle = counters[i].kind == GSM_WK_OOM_KILL;
        emit(r, &ev);
    }
}

void gsm_detect_run(struct gsm_detect_state *st, const struct gsm_detect_opts *o, const struct gsm_detect_input *in,
                    gsm_detect_emit_fn emit_fn, void *userdata) {
    struct run r = {st, o, in, emit_fn, userdata};
    detect_eta(&r);
    detect_growth(&r);
    detect_pressure(&r);
    detect_counters(&r);
    st->prev = *in->s;
    st->have_prev = true;
}
