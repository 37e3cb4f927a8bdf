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

bool gsm_detector_step_at(struct gsm_detector *d, enum gsm_watch_level candidate, uint64_t t_ms, uint64_t hold_ms) {
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
    if (d->clear_ticks++ == 0)
        d->below_since_ms = t_ms;
    if (d->clear_ticks >= GSM_DETECT_CLEAR_TICKS && t_ms - d->below_since_ms >= hold_ms) {   /* below for long enough */
        d->level = candidate;
        d->clear_ticks = 0;
        return true;
    }
    return false;
}

bool gsm_detector_step(struct gsm_detector *d, enum gsm_watch_level candidate) {
    return gsm_detector_step_at(d, candidate, 0, 0);
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

/* Hysteresis at this sample's time: a lower level waits GSM_DETECT_CLEAR_TICKS samples and
 * GSM_DETECT_CLEAR_MIN_MS or 3 base intervals, whichever is longer. */
static bool step(const struct run *r, struct gsm_detector *d, enum gsm_watch_level candidate) {
    uint64_t hold = (uint64_t)GSM_DETECT_CLEAR_TICKS * r->o->interval_ms;
    return gsm_detector_step_at(d, candidate, r->in->s->t_ms, hold > GSM_DETECT_CLEAR_MIN_MS ? hold : GSM_DETECT_CLEAR_MIN_MS);
}

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

#define SPAN_MAX_POINTS 40
static size_t span_grid(const struct gsm_point *pts, size_t n, uint64_t span_ms, struct gsm_point *buf, size_t *first);
static bool rise_spread(const struct gsm_point *buf, size_t k, bool going_on);

/* The most pessimistic consistent trend of the short and the long window: ETA (INFINITY when
 * none) and its slope. The horizon rule. */
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
        struct gsm_point buf[SPAN_MAX_POINTS];
        size_t first, m = span_grid(in->pts, in->n, windows[k], buf, &first);
        if (m < ETA_MIN_POINTS || buf[m - 1].t_ms - buf[0].t_ms < ETA_MIN_SPAN_MS || !rise_spread(buf, m, true) ||
            !gsm_theil_sen(buf, m, windows[k] + 1, ETA_MIN_POINTS, ETA_MIN_SPAN_MS, &tr))
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

/* The last span_ms of a series on an even grid of times (at most SPAN_MAX_POINTS points: a span
 * costs the same at any sampling rate): at each grid time, the latest sample at or before it. A
 * target is sampled fast while it grows and slowly while it is flat, and late under CPU load;
 * counting samples would weigh a second of rise above seconds of flat, the grid weighs time.
 * Its size, 0 without 5 samples covering 3/4 of the span; *first is the span's first sample. */
static size_t span_grid(const struct gsm_point *pts, size_t n, uint64_t span_ms, struct gsm_point *buf, size_t *first) {
    if (n < 5)
        return 0;
    uint64_t end = pts[n - 1].t_ms;
    size_t f = n - 1;
    while (f > 0 && end - pts[f - 1].t_ms <= span_ms)
        f--;
    size_t m = n - f;
    uint64_t t0 = pts[f].t_ms, len = end - t0;
    if (m < 5 || len * 4 < span_ms * 3)
        return 0;
    size_t k = m <= SPAN_MAX_POINTS ? m : SPAN_MAX_POINTS, j = f;
    for (size_t i = 0; i < k; i++) {
        uint64_t t = t0 + len * i / (k - 1);
        while (j + 1 < n && pts[j + 1].t_ms <= t)
            j++;
        buf[i] = (struct gsm_point){t, pts[j].v};
    }
    *first = f;
    return k;
}

/* A rise spread over its span: each half of it carries a fifth of the rise or more. A ramp that
 * began a few seconds ago, seen through a longer span, is a rise of those few seconds; one that
 * ended (a start-up that loaded its working set) is not going on. */
static bool rise_spread(const struct gsm_point *buf, size_t k, bool going_on) {
    double rise = buf[k - 1].v - buf[0].v, mid = buf[(k - 1) / 2].v;
    return rise > 0 && mid - buf[0].v >= 0.2 * rise && (!going_on || buf[k - 1].v - mid >= 0.2 * rise);
}

/* The trend of the last span_ms of a series, on its grid, when the rise is spread over the span
 * and no single step carries more than half of it (a service that steps up to its working size
 * and holds, a spike), ... */
static bool span_trend(const struct gsm_point *pts, size_t n, uint64_t span_ms, struct gsm_trend *ret) {
    struct gsm_point buf[SPAN_MAX_POINTS];
    size_t first, k = span_grid(pts, n, span_ms, buf, &first);
    if (!k || !rise_spread(buf, k, false))
        return false;
    double rise = pts[n - 1].v - pts[first].v, max_step = 0, second = 0;
    for (size_t i = first + 1; i < n; i++) {
        double d = pts[i].v - pts[i - 1].v;
        if (d > max_step)
            second = max_step, max_step = d;
        else if (d > second)
            second = d;
    }
    /* ... nor two steps more than 4/5 of it: a start-up step followed by the Go heap goal's jump
     * at the first GC (scenario burst at 256 MiB: 3 -> 96 -> 205 MiB in 4 s, then flat) is two
     * steps, not a trend; a Go leak's value climbs in one step per statistics poll, 4-5 in 5 s. */
    if (rise <= 0 || max_step > 0.5 * rise || max_step + second > 0.8 * rise)
        return false;
    return gsm_theil_sen(buf, k, span_ms + 1, 5, 0, ret);
}

/* Each quarter of the last span_ms (on its grid) carries a twentieth of the rise or more. */
static bool rise_in_every_quarter(const struct gsm_point *pts, size_t n, uint64_t span_ms) {
    struct gsm_point buf[SPAN_MAX_POINTS];
    size_t first, k = span_grid(pts, n, span_ms, buf, &first);
    if (k < 5)
        return false;
    double rise = buf[k - 1].v - buf[0].v;
    if (rise <= 0)
        return false;
    for (size_t q = 0; q < 4; q++)
        if (buf[(q + 1) * (k - 1) / 4].v - buf[q * (k - 1) / 4].v < 0.05 * rise)
            return false;
    return true;
}

/* How many times its own length a rise is believed: a rise of a few seconds about once (a
 * service's start-up ramp lasts that long), one of 10 s or more three times. */
static double span_factor(double span_s) {
    if (span_s <= 6)
        return 1.2;
    if (span_s >= 10)
        return GSM_DETECT_ETA_SPAN_FACTOR;
    return 1.2 + (GSM_DETECT_ETA_SPAN_FACTOR - 1.2) * (span_s - 6) / 4;
}

/* ... and a quiet rise (made at under GSM_DETECT_QUIET_CPU): GSM_DETECT_QUIET_SPAN_FACTOR at 2 s,
 * growing to GSM_DETECT_ETA_SPAN_FACTOR at 5 s, so a quiet leak from start is announced a quarter
 * of its way to the limit from 5 s on (heap-8s at 256 MiB: 15 s lead of 22 with 1.2 until 6 s). */
static double quiet_span_factor(double span_s) {
    if (span_s >= 5)
        return GSM_DETECT_ETA_SPAN_FACTOR;
    double x = span_s <= GSM_DETECT_QUIET_MIN_SPAN_S ? 0 : (span_s - GSM_DETECT_QUIET_MIN_SPAN_S) / (5 - GSM_DETECT_QUIET_MIN_SPAN_S);
    return GSM_DETECT_QUIET_SPAN_FACTOR + (GSM_DETECT_ETA_SPAN_FACTOR - GSM_DETECT_QUIET_SPAN_FACTOR) * x;
}

/* The CPUs the target asked for over the last span_ms (cpu: cumulative seconds), or -1 when the
 * measurements do not cover three quarters of the span. */
static double cpu_demand(const struct gsm_detect_input *in, uint64_t span_ms) {
    if (!in->cpu || in->n_cpu < 2)
        return -1;
    const struct gsm_point *c = in->cpu;
    size_t last = in->n_cpu - 1, f = last;
    while (f > 0 && c[last].t_ms - c[f - 1].t_ms <= span_ms)
        f--;
    uint64_t dt = c[last].t_ms - c[f].t_ms;
    if (f == last || dt * 4 < span_ms * 3 || in->s->t_ms - c[last].t_ms > 1000)
        return -1;
    return (c[last].v - c[f].v) * 1000.0 / (double)dt;
}

/* The sustained-rise rule: over the recent spans, the shortest time to the limit among the
 * spans whose rise is consistent and whose forecast is within span_factor() times the span
 * (quiet_span_factor() at least for a rise the target made while it asked for less than
 * GSM_DETECT_QUIET_CPU: the only kind believed under GSM_DETECT_MIN_SPAN_S).
 * The rise over the span must exceed the noise floor (1 % of the limit, 1 MiB). */
static double sustained_eta(const struct gsm_detect_input *in, const struct gsm_point *pts, size_t n, double current,
                            double limit, double *ret_slope, double *ret_span_s, double *ret_cpu) {
    static const uint16_t spans_s[] = {GSM_DETECT_QUIET_MIN_SPAN_S, 3, 4, GSM_DETECT_MIN_SPAN_S, 6, 8, 12, 16, 24,
                                       32, 48, 64, 96, 128, 192, 256};
    double best = INFINITY, floor_bytes = isinf(limit) ? 1048576.0 : fmax(limit * 0.01, 1048576.0);
    *ret_slope = 0;
    *ret_span_s = 0;
    *ret_cpu = -1;
    if (n < 5 || pts[n - 1].v <= pts[0].v)
        return INFINITY;
    for (size_t k = 0; k < sizeof spans_s / sizeof spans_s[0]; k++) {
        uint64_t span_ms = (uint64_t)spans_s[k] * 1000;
        if (pts[n - 1].t_ms - pts[0].t_ms + span_ms / 4 < span_ms)
            break;   /* not that much history yet */
        double cpu = spans_s[k] < 10 ? cpu_demand(in, span_ms) : -1;   /* k is 3 from 10 s anyway */
        bool quiet = cpu >= 0 && cpu < GSM_DETECT_QUIET_CPU;
        if (spans_s[k] < GSM_DETECT_MIN_SPAN_S && !quiet)
            continue;
        /* A rise must be going on all along its span: each quarter of it carries a twentieth of
         * the memory's rise. A start-up step of half a second with idle time around it averages
         * to little CPU over 2 s (scenario stepup-start at 256 MiB); at 768 MiB the same service
         * loaded 537 MiB in 1.4 s at a whole CPU, and a 5 s span holding 1.5 s of flat before it
         * and 2 s after passed the halves test below (rise_spread) and fired critical. */
        if (!rise_in_every_quarter(in->raw ? in->raw : pts, n, span_ms))
            continue;
        if (quiet && in->basis_ms && pts[n - 1].t_ms - in->basis_ms < span_ms)
            quiet = false;   /* the value switched between the heap goal and the raw memory within it */
        if (spans_s[k] < GSM_DETECT_MIN_SPAN_S && !quiet)
            continue;
        struct gsm_trend tr;
        if (!span_trend(pts, n, span_ms, &tr) || tr.slope_per_s <= 0 || tr.positive_fraction < 0.8 ||
            tr.step_positive_fraction < 0.8 || tr.slope_per_s * (double)tr.span_ms / 1000.0 < floor_bytes)
            continue;
        double eta = gsm_eta_seconds(current, limit, tr.slope_per_s);
        double d_s = (double)tr.span_ms / 1000.0;
        double factor = quiet ? fmax(span_factor(d_s), quiet_span_factor(d_s)) : span_factor(d_s);
        if (eta <= factor * d_s && eta < best) {
            best = eta;
            *ret_slope = tr.slope_per_s;
            *ret_span_s = (double)tr.span_ms / 1000.0;
            *ret_cpu = quiet ? cpu : -1;
        }
    }
    return best;
}

/* The near-limit rule: usage at 85 % of the limit or more, at least half of the limit memory
 * the kernel cannot reclaim, and that rising over the last second or more. Its slope, 0 when the
 * rule does not hold. */
static double near_limit_slope(const struct gsm_detect_input *in, double limit) {
    const struct gsm_watch_sample *s = in->s;
    const struct gsm_point *p = in->raw ? in->raw : in->pts;
    if (isinf(limit) || in->n < 2 || (double)s->usage_bytes < GSM_DETECT_NEAR_LIMIT * limit ||
        (double)s->unreclaimable_bytes < 0.5 * limit)
        return 0;
    size_t j = in->n - 1;
    while (j > 0 && p[in->n - 1].t_ms - p[j].t_ms < 1000)
        j--;
    uint64_t dt = p[in->n - 1].t_ms - p[j].t_ms;
    double rise = p[in->n - 1].v - p[j].v;
    return dt > 0 && rise > 0 ? rise * 1000.0 / (double)dt : 0;
}

/* A forecast's level: critical under a minute, warn under the horizon, info under an hour. A
 * sustained rise (believed: it has lasted at least a third of the time it still needs, up to
 * 3 x 256 s) warns whatever the horizon: with a fixed 300 s horizon a leak of 2 MiB/s towards
 * 1 GiB (506 s) was announced at 59 % of its way and one towards 2 GiB at 29 %, where the rise
 * had been believed since 25 %. */
static enum gsm_watch_level eta_level(const struct run *r, double eta, bool sustained) {
    return eta < GSM_DETECT_ETA_CRITICAL_S                               ? GSM_WL_CRITICAL
           : eta < r->o->horizon_s || (sustained && eta < GSM_DETECT_ETA_INFO_S) ? GSM_WL_WARN
           : eta < GSM_DETECT_ETA_INFO_S                                 ? GSM_WL_INFO
                                                                        : GSM_WL_NONE;
}

static void eta_message(const struct run *r, struct gsm_watch_event *ev, double eta, double slope, const char *rule,
                        double raw_eta, double raw_slope) {
    const struct gsm_watch_sample *s = r->in->s;
    const char *who = r->in->ref.type == GSM_WT_CGROUP ? "the cgroup" : "the process";
    char what[96], when[96];
    if (isinf(raw_eta))
        snprintf(when, sizeof when, "is not rising now");
    else
        snprintf(when, sizeof when, "reaches it in %.0f s at %.2f MiB/s", raw_eta, raw_slope / 1048576.0);
    if (s->limit_is_node)
        snprintf(what, sizeof what, "the node's memory (%.0f MiB, no cgroup limit)", (double)s->limit_bytes / 1048576.0);
    else
        snprintf(what, sizeof what, "its limit (%.0f MiB)", (double)s->limit_bytes / 1048576.0);
    if (ev->resolved)
        snprintf(ev->message, sizeof ev->message, "memory growth toward %s stopped", s->limit_is_node ? "the node's memory" : "the limit");
    else if (s->go_adjusted && s->go_next_gc_bytes && (double)s->value_bytes >= (double)s->limit_bytes - (double)s->others_bytes)
        snprintf(ev->message, sizeof ev->message,
                 "the Go heap goal (%.0f MiB) with the other memory (%.0f MiB) is above %s: the next GC comes "
                 "too late; %s (%.0f MiB now) %s",
                 (double)s->go_next_gc_bytes / 1048576.0,
                 fmax(0, (double)s->value_bytes - (double)s->go_next_gc_bytes) / 1048576.0, what, who,
                 (double)s->unreclaimable_bytes / 1048576.0, when);
    else
        snprintf(ev->message, sizeof ev->message, "%s reaches %s in %.0f s at %.2f MiB/s (%s)", who, what, eta,
                 slope / 1048576.0, rule);
}

/* (a) time to limit; the headroom is the limit minus what else the cgroup holds. */
static void detect_eta(const struct run *r) {
    const struct gsm_watch_sample *s = r->in->s;
    const struct gsm_detect_input *in = r->in;
    struct gsm_detect_state *st = r->st;
    double limit = s->limit_bytes == UINT64_MAX ? INFINITY : (double)s->limit_bytes - (double)s->others_bytes;
    double v = (double)s->value_bytes;
    double slope = 0, span_s = 0, eta = INFINITY, cpu = -1;
    const char *rule = "";
    bool now = false;
    enum gsm_watch_level sustained_level = GSM_WL_NONE;
    /* A Go heap goal above the limit: the next GC comes too late, the GC sawtooth no longer
     * protects, and what will meet the limit is the raw memory: the rules read that series. */
    bool goal_over = s->go_adjusted && s->go_next_gc_bytes && in->raw && v >= limit;
    const struct gsm_point *series = goal_over ? in->raw : in->pts;
    double cur = goal_over ? (double)s->unreclaimable_bytes : v;
    if (!in->empty) {
        double sl, sp;
        double x = sustained_eta(in, series, in->n, cur, limit, &sl, &sp, &cpu);
        sustained_level = eta_level(r, x, true);
        if (x < eta) {
            eta = x, slope = sl, span_s = sp;
            rule = cpu >= 0 ? "a steady rise at little CPU: paced from outside, not a burst of work"
                         : "a rise that has lasted long enough";
        }
        if (!goal_over && (in->age_s < 0 || in->age_s >= r->o->warmup_s)) {
            x = trend_eta(r, limit, &sl);
            if (x < eta)
                eta = x, slope = sl, span_s = 0, rule = "trend";
        }
        double nl = near_limit_slope(in, limit);
        if (nl > 0) {
            x = gsm_eta_seconds((double)s->unreclaimable_bytes, limit, nl);
            enum gsm_watch_level l = eta_level(r, eta, false);
            if (x < r->o->horizon_s && eta_level(r, x, false) >= (sustained_level > l ? sustained_level : l)) {
                eta = x, slope = nl, span_s = 0, now = true;
                rule = "near the limit and rising";
            }
        }
    }
    double raw_eta = eta, raw_slope = slope;
    st->last_eta_s = eta;
    st->last_slope_per_s = isinf(eta) ? 0 : slope;
    enum gsm_watch_level c = eta_level(r, eta, false);
    if (sustained_level > c)
        c = sustained_level;   /* the trend's shorter forecast may be under an hour, not the horizon */
    enum gsm_watch_level before = st->eta.level;
    if (now && c > st->eta.level)
        st->eta.pending = c, st->eta.pending_ticks = GSM_DETECT_CONFIRM_TICKS - 1;   /* fires now */
    if (!step(r, &st->eta, c))
        return;
    struct gsm_watch_event ev;
    event_init(r, &ev, GSM_WK_ETA, &st->eta, before);
    ev.value = v;
    ev.threshold = limit;
    ev.eta_seconds = isinf(eta) ? NAN : eta;
    eta_message(r, &ev, eta, slope, rule, raw_eta, raw_slope);
    gsm_watch_event_evidence(&ev, "slope_bytes_per_second", slope);
    gsm_watch_event_evidence(&ev, "unreclaimable_bytes", (double)s->unreclaimable_bytes);
    gsm_watch_event_evidence(&ev, "limit_bytes", s->limit_bytes == UINT64_MAX ? -1 : (double)s->limit_bytes);
    gsm_watch_event_evidence(&ev, "others_bytes", (double)s->others_bytes);
    gsm_watch_event_evidence(&ev, "go_adjusted", s->go_adjusted);
    gsm_watch_event_evidence(&ev, "span_seconds", span_s);
    if (cpu >= 0 && !isinf(eta) && span_s > 0)
        gsm_watch_event_evidence(&ev, "cpu_demand_cores", round(cpu * 1000) / 1000);
    gsm_watch_event_evidence(&ev, "usage_bytes", (double)s->usage_bytes);
    if (s->go_adjusted)
        gsm_watch_event_evidence(&ev, "go_heap_goal_bytes", (double)s->go_next_gc_bytes);
    ev.wants_bundle = !ev.resolved && ev.level == GSM_WL_CRITICAL;
    emit(r, &ev);
}

/* Sampled faster than the base interval: is the growth still going on over the last second
 * (a quarter of the interval's rate or more)? A step that is over is not sudden growth any
 * more. True when there is no finer sample to tell. */
static bool still_rising(const struct gsm_point *pts, size_t n, double rate) {
    if (n < 2)
        return true;
    size_t j = n - 1;
    while (j > 0 && pts[n - 1].t_ms - pts[j - 1].t_ms <= 1000)
        j--;
    if (j == n - 1)
        return true;
    double dt_s = (double)(pts[n - 1].t_ms - pts[j].t_ms) / 1000.0;
    return dt_s <= 0 || (pts[n - 1].v - pts[j].v) / dt_s >= 0.25 * rate;
}

/* (b) sudden growth: Z-score of the growth rate against the baseline. */
static void detect_growth(const struct run *r) {
    struct gsm_detect_state *st = r->st;
    const struct gsm_detect_input *in = r->in;
    double z = 0, rate = 0;
    enum gsm_watch_level g = GSM_WL_NONE;
    /* At the base interval only: a target sampled faster would otherwise confirm one step's
     * rate on the next fast sample, and count one burst many times. */
    uint64_t iv = r->o->interval_ms;
    if (st->growth_t_ms && in->s->t_ms < st->growth_t_ms + iv - iv / 8)
        return;
    st->growth_t_ms = in->s->t_ms;
    st->last_z = 0;
    /* Rates between samples at least the base interval apart: a target sampled faster (young,
     * near its limit) would otherwise see a GC's step as a burst. */
    struct gsm_point thin[1024];
    size_t m = 0;
    for (size_t i = in->n; i-- > 0 && m < 1024;)
        if (m == 0 || thin[m - 1].t_ms >= in->pts[i].t_ms + r->o->interval_ms - r->o->interval_ms / 8)
            thin[m++] = in->pts[i];
    for (size_t i = 0; i < m / 2; i++) {
        struct gsm_point x = thin[i];
        thin[i] = thin[m - 1 - i];
        thin[m - 1 - i] = x;
    }
    if (!in->empty && gsm_growth_zscore(thin, m, r->o->baseline_ms, Z_MIN_BASELINE, Z_SD_FLOOR, &z, &rate) &&
        z > r->o->z_threshold && rate > 0 && still_rising(in->pts, in->n, rate))
        g = GSM_WL_WARN;
    if (m >= 3)
        st->last_z = z;
    enum gsm_watch_level before = st->growth.level;
    if (!step(r, &st->growth, g))
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
    if (!step(r, &st->pressure, pl))
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
    if (step(r, &st->limit_hits, hits_rising ? GSM_WL_INFO : GSM_WL_NONE)) {
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

/* Each life of a cgroup's workload: from its lowest usage after a kill (or the first sample) to
 * its peak. */
static void track_life(struct gsm_detect_state *st, const struct gsm_watch_sample *s) {
    if (!st->have_prev || s->usage_bytes < st->life_min_bytes) {
        st->life_min_bytes = s->usage_bytes;
        st->life_start_ms = s->t_ms;
        st->life_peak_bytes = s->usage_bytes;
        st->life_peak_ms = s->t_ms;
    } else if (s->usage_bytes > st->life_peak_bytes) {
        st->life_peak_bytes = s->usage_bytes;
        st->life_peak_ms = s->t_ms;
    }
}

/* (e) crash loops: an OOM kill closes a life; GSM_DETECT_LOOP_KILLS of them within the window
 * is one crash_loop event (until the kills stop for a window). */
static void detect_crash_loop(const struct run *r) {
    struct gsm_detect_state *st = r->st;
    const struct gsm_watch_sample *s = r->in->s;
    const uint64_t window_ms = GSM_DETECT_LOOP_WINDOW_S * 1000ull;
    if (st->n_kills && s->t_ms - st->kills[(st->n_kills - 1) % 16].t_ms > window_ms)
        st->loop_reported = false;
    if (!st->have_prev || r->in->ref.type != GSM_WT_CGROUP || s->oom_kill <= st->prev.oom_kill) {
        track_life(st, s);
        return;
    }
    for (uint64_t k = st->prev.oom_kill; k < s->oom_kill; k++)
        st->kills[st->n_kills++ % 16] = (struct gsm_detect_kill){
            s->t_ms, st->life_peak_bytes, st->life_peak_ms - st->life_start_ms};
    st->life_min_bytes = UINT64_MAX;   /* the next sample starts a new life */
    size_t n = st->n_kills < 16 ? st->n_kills : 16, in_window = 0;
    for (size_t i = 0; i < n; i++)
        in_window += s->t_ms - st->kills[i].t_ms <= window_ms;
    if (in_window < GSM_DETECT_LOOP_KILLS || st->loop_reported)
        return;
    st->loop_reported = true;
    uint64_t first_ms = UINT64_MAX, peak = 0, rise_min = UINT64_MAX, rise_max = 0;
    char peaks[128] = "";
    size_t off = 0;
    for (size_t j = 0; j < n; j++) {
        const struct gsm_detect_kill *k = &st->kills[(st->n_kills - n + j) % 16];
        if (s->t_ms - k->t_ms > window_ms)
            continue;
        first_ms = k->t_ms < first_ms ? k->t_ms : first_ms;
        peak = k->peak_bytes > peak ? k->peak_bytes : peak;
        rise_min = k->rise_ms < rise_min ? k->rise_ms : rise_min;
        rise_max = k->rise_ms > rise_max ? k->rise_ms : rise_max;
        if (off < sizeof peaks - 16)
            off += (size_t)snprintf(peaks + off, sizeof peaks - off, "%s%.0f", off ? ", " : "", (double)k->peak_bytes / 1048576.0);
    }
    double limit = s->limit_bytes == UINT64_MAX ? 0 : (double)s->limit_bytes;
    double want = fmax(limit, (double)peak) * 1.5;
    struct gsm_detector fired = {.level = GSM_WL_CRITICAL};
    struct gsm_watch_event ev;
    event_init(r, &ev, GSM_WK_CRASH_LOOP, &fired, GSM_WL_CRITICAL);
    ev.value = (double)in_window;
    ev.threshold = GSM_DETECT_LOOP_KILLS;
    snprintf(ev.message, sizeof ev.message,
             "crash loop: %zu OOM kills in %.0f s; each life peaked at %s MiB, %.0f-%.0f s after it began "
             "(%.1f MiB/s); the limit (%.0f MiB) is below the start-up peak: give it at least %.0f MiB, or cut "
             "what the process allocates in its first %.0f s",
             in_window, (double)(s->t_ms - first_ms) / 1000.0, peaks, (double)rise_min / 1000.0,
             (double)rise_max / 1000.0, rise_max ? (double)peak / 1048576.0 / ((double)rise_max / 1000.0) : 0.0,
             limit / 1048576.0, want / 1048576.0, (double)rise_max / 1000.0);
    gsm_watch_event_evidence(&ev, "kills", (double)in_window);
    gsm_watch_event_evidence(&ev, "window_seconds", (double)(s->t_ms - first_ms) / 1000.0);
    gsm_watch_event_evidence(&ev, "peak_bytes", (double)peak);
    gsm_watch_event_evidence(&ev, "rise_seconds_min", (double)rise_min / 1000.0);
    gsm_watch_event_evidence(&ev, "rise_seconds_max", (double)rise_max / 1000.0);
    gsm_watch_event_evidence(&ev, "limit_bytes", limit);
    gsm_watch_event_evidence(&ev, "suggested_limit_bytes", want);
    emit(r, &ev);
}

void gsm_detect_run(struct gsm_detect_state *st, const struct gsm_detect_opts *o, const struct gsm_detect_input *in,
                    gsm_detect_emit_fn emit_fn, void *userdata) {
    struct run r = {st, o, in, emit_fn, userdata};
    detect_eta(&r);
    detect_growth(&r);
    detect_pressure(&r);
    detect_counters(&r);
    detect_crash_loop(&r);
    st->prev = *in->s;
    st->have_prev = true;
}
