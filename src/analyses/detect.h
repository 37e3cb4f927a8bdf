/* The watch detectors: pure functions from a target's series of samples to events, with
 * hysteresis (one event when a condition starts, one when it resolves). No I/O: the engine
 * (engine/) reads and hands the series in; tests/unit/test_detect.c feeds recorded series.
 *
 *   eta       time to the limit, three rules (the most urgent wins):
 *             - sustained rise: over any recent span D (2 s .. 256 s) whose values rise
 *               consistently (Theil–Sen on an even grid of times, not of samples: a target is
 *               sampled fast while it grows, slowly while flat, late under load; most pairs and
 *               steps rising, more than noise, each half of D carrying a fifth of the
 *               rise and each quarter of the memory's rise a twentieth or more: the rise has
 *               lasted D), the
 *               time to the limit at that slope is at most k(D) x D, k = 1.2 for rises of up to
 *               6 s, growing to GSM_DETECT_ETA_SPAN_FACTOR at 10 s and beyond (and D at least
 *               GSM_DETECT_MIN_SPAN_S: a shorter rise is a start-up transient, a service loading
 *               its working set; faster deaths are the near-limit rule's; from 2 s with
 *               k = 1.5, growing to 3 at 5 s, when the target asked for under half a CPU
 *               meanwhile: a quiet rise is a rate, not a burst of work): a
 *               rise is believed in proportion to how long it has lasted, so a target is judged
 *               from its first samples (no warm-up) and a leak that starts with the process is
 *               seen after a quarter of its way to the limit;
 *             - horizon: the trend of a 20 s and a 120 s window (on the same grid; each half
 *               of the window carrying a fifth of its rise: going on, not a ramp that ended)
 *               reaches the limit within the horizon (targets older than warmup_s: a service's ramp to its working size is
 *               not read as a leak by this one);
 *             - near the limit: usage >= 85 % of the limit, more than half of it memory the
 *               kernel cannot reclaim, and that still rising: fires at once (no confirmation)
 *   growth    Z-score of the growth rate against its baseline (sudden change)
 *   pressure  v2 PSI averages
 *   counters  the kernel's own counters: oom_kill, oom (one event per increment), and limit
 *             hits (max, high, failcnt: a condition while they keep rising)
 *   crash loop  GSM_DETECT_LOOP_KILLS OOM kills of one cgroup within GSM_DETECT_LOOP_WINDOW_S:
 *             one event per loop with the kills, the peak each life reached and how fast */
#define GSM_DETECT_LOOP_KILLS 3
#define GSM_DETECT_LOOP_WINDOW_S 600
#pragma once

#include "analyses/trend.h"
#include "model/watch_types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A condition must hold this many ticks before it fires, and be gone this many before it is
 * resolved: one condition gives one event (and one "resolved"), not one per tick. */
#define GSM_DETECT_CONFIRM_TICKS 2
#define GSM_DETECT_CLEAR_TICKS 3
/* ... and gone for this long too (and 3 base intervals): a target sampled at 4 Hz would
 * otherwise resolve after 0.75 s, and a forecast that changes hands between its rules (a rise
 * that has lasted, the trend, near the limit) would resolve and fire again a second later. */
#define GSM_DETECT_CLEAR_MIN_MS 5000
/* ETA levels: info under an hour, warn under the horizon (or a sustained rise's forecast, whatever
 * the horizon), critical under a minute. */
#define GSM_DETECT_ETA_SPAN_FACTOR 3.0
#define GSM_DETECT_MIN_SPAN_S 5
/* Rises of 2 s up to GSM_DETECT_MIN_SPAN_S count when the target asked for less than this many
 * CPUs meanwhile (ran + waited runnable, all threads): memory that climbs while the process
 * mostly sleeps is paced by something outside it (requests, timers) and goes on; a start-up
 * loading its working set or a spike is a CPU-bound burst of work that ends. Measured
 * 2026-12-06: Go leaks at 8 and 32 MiB/s used 0.01 and 0.09 CPU, the scenario's start-up step and
 * spike a whole CPU while they allocated. Such quiet rises are believed GSM_DETECT_QUIET_SPAN_FACTOR
 * times their length at 2 s, GSM_DETECT_ETA_SPAN_FACTOR times from 5 s (a louder rise: from 10 s). */
#define GSM_DETECT_QUIET_MIN_SPAN_S 2
#define GSM_DETECT_QUIET_CPU 0.5
#define GSM_DETECT_QUIET_SPAN_FACTOR 1.5
#define GSM_DETECT_NEAR_LIMIT 0.85
#define GSM_DETECT_ETA_INFO_S 3600.0
#define GSM_DETECT_ETA_CRITICAL_S 60.0

struct gsm_detector {
    enum gsm_watch_level level;      /* firing level, NONE when quiet */
    enum gsm_watch_level pending;    /* candidate level being confirmed */
    unsigned pending_ticks, clear_ticks;
    uint64_t below_since_ms;         /* when the candidate first fell below the level */
};

/* Hysteresis: feeds this tick's candidate level; true when the firing level changed (an event
 * is due: d->level is the new level, NONE for a resolve). */
bool gsm_detector_step(struct gsm_detector *d, enum gsm_watch_level candidate);
/* The same at time t_ms: a lower level (or the resolve) also waits until the candidate has been
 * below the level for hold_ms. */
bool gsm_detector_step_at(struct gsm_detector *d, enum gsm_watch_level candidate, uint64_t t_ms, uint64_t hold_ms);

struct gsm_detect_opts {
    uint64_t window_ms, short_window_ms, baseline_ms;
    double horizon_s, z_threshold;
    double warmup_s;                 /* the horizon rule waits this long after the target starts */
    uint64_t interval_ms;            /* the base sampling interval: the growth rates are taken at it */
};

/* Per target, kept by the caller between ticks. */
struct gsm_detect_state {
    struct gsm_detector eta, growth, pressure, limit_hits;
    struct gsm_watch_sample prev;
    bool have_prev;
    double last_eta_s, last_z;       /* the latest numbers (INFINITY / 0 when none) */
    double last_slope_per_s;
    uint64_t growth_t_ms;            /* when the growth detector last ran (at the base interval) */
    /* crash loops: the current life (since the last OOM kill or the first sample) and the kills */
    uint64_t life_start_ms, life_min_bytes, life_peak_bytes, life_peak_ms;
    struct gsm_detect_kill {
        uint64_t t_ms, peak_bytes, rise_ms;
    } kills[16];
    size_t n_kills;                  /* kept: the last 16 */
    bool loop_reported;              /* one crash_loop event per loop */
};
void gsm_detect_state_init(struct gsm_detect_state *st);

struct gsm_detect_input {
    const struct gsm_point *pts;     /* the target's value_bytes series, oldest first, this tick last */
    const struct gsm_point *raw;     /* the same times, unreclaimable_bytes (not Go-adjusted); may be NULL */
    size_t n;
    /* The CPU the target asked for (cumulative seconds of run + runnable wait over its threads),
     * oldest first; measured only while it is sampled fast; NULL/0 when unknown. */
    const struct gsm_point *cpu;
    size_t n_cpu;
    /* When the value last changed its basis (a Go target's statistics lost or regained: the value
     * jumps between the heap goal and the raw memory); 0 never. No quiet rise spans it. */
    uint64_t basis_ms;
    const struct gsm_watch_sample *s;   /* this tick's sample (pts[n-1] is its value) */
    double age_s;                    /* since the target started; < 0 unknown */
    bool empty;                      /* a cgroup without processes: nothing can grow, nothing fires */
    struct gsm_target_ref ref;       /* copied into events */
    const struct gsm_watch_target *target;
};

typedef void (*gsm_detect_emit_fn)(struct gsm_watch_event *ev, void *userdata);

/* One tick for one target: every detector, events to emit (in order: eta, growth, pressure,
 * limit hits, oom_kill, oom). Updates st (prev becomes *in->s). */
void gsm_detect_run(struct gsm_detect_state *st, const struct gsm_detect_opts *o, const struct gsm_detect_input *in,
                    gsm_detect_emit_fn emit, void *userdata);
