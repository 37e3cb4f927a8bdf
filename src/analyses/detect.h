/* The watch detectors: pure functions from a target's series of samples to events, with
 * hysteresis (one event when a condition starts, one when it resolves). No I/O: the engine
 * (engine/) reads and hands the series in; tests/unit/test_detect.c feeds recorded series.
 *
 *   eta       time to the limit from the Theil–Sen trend of a short and a long window
 *   growth    Z-score of the growth rate against its baseline (sudden change)
 *   pressure  v2 PSI averages
 *   counters  the kernel's own counters: oom_kill, oom (one event per increment), and limit
 *             hits (max, high, failcnt: a condition while they keep rising) */
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
/* ETA levels: info under an hour, warn under the horizon, critical under a minute. */
#define GSM_DETECT_ETA_INFO_S 3600.0
#define GSM_DETECT_ETA_CRITICAL_S 60.0

struct gsm_detector {
    enum gsm_watch_level level;      /* firing level, NONE when quiet */
    enum gsm_watch_level pending;    /* candidate level being confirmed */
    unsigned pending_ticks, clear_ticks;
};

/* Hysteresis: feeds this tick's candidate level; true when the firing level changed (an event
 * is due: d->level is the new level, NONE for a resolve). */
bool gsm_detector_step(struct gsm_detector *d, enum gsm_watch_level candidate);

struct gsm_detect_opts {
    uint64_t window_ms, short_window_ms, baseline_ms;
    double horizon_s, z_threshold;
    double warmup_s;                 /* no ETA while the target is younger than this */
};

/* Per target, kept by the caller between ticks. */
struct gsm_detect_state {
    struct gsm_detector eta, growth, pressure, limit_hits;
    struct gsm_watch_sample prev;
    bool have_prev;
    double last_eta_s, last_z;       /* the latest numbers (INFINITY / 0 when none) */
    double last_slope_per_s;
};
void gsm_detect_state_init(struct gsm_detect_state *st);

struct gsm_detect_input {
    const struct gsm_point *pts;     /* the target's value_bytes series, oldest first, this tick last */
    size_t n;
    const struct gsm_watch_sample *s;   /* this tick's sample (pts[n-1] is its value) */
    double age_s;                    /* since the target started; < 0 unknown */
    struct gsm_target_ref ref;       /* copied into events */
    const struct gsm_watch_target *target;
};

typedef void (*gsm_detect_emit_fn)(struct gsm_watch_event *ev, void *userdata);

/* One tick for one target: every detector, events to emit (in order: eta, growth, pressure,
 * limit hits, oom_kill, oom). Updates st (prev becomes *in->s). */
void gsm_detect_run(struct gsm_detect_state *st, const struct gsm_detect_opts *o, const struct gsm_detect_input *in,
                    gsm_detect_emit_fn emit, void *userdata);
