/* Robust trend and change detection over a time series of memory values (the watch engine's
 * detectors). Pure functions over arrays: unit-tested without processes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm_point {
    uint64_t t_ms;
    double v;
};

/* Theil–Sen over points[first..n): the median of all pairwise slopes (bytes per second), and the
 * fraction of pairs whose slope is > 0. A leak rises in (almost) every pair; a GC sawtooth or a
 * one-time step does not, so `positive_fraction` separates them where the median alone cannot.
 * At most max_points of the latest points are used (O(n^2) pairs). Returns false when fewer than
 * min_points points or less than min_span_ms are available. */
struct gsm_trend {
    double slope_per_s;
    double positive_fraction;
    /* Of the consecutive changes that are not zero, the fraction that rise. Two low points at
     * the start of a window (a service that just began its work) make many pairs rise but only
     * one step: this is what tells a ramp followed by a plateau from a leak. */
    double step_positive_fraction;
    size_t n_points;
    uint64_t span_ms;
};
bool gsm_theil_sen(const struct gsm_point *points, size_t n, uint64_t window_ms, size_t min_points,
                   uint64_t min_span_ms, struct gsm_trend *ret);

/* The step_positive_fraction of gsm_theil_sen alone, in O(n): a cheap test that rules out most
 * series (flat, falling, jittering) before the O(n^2) pairs. */
double gsm_step_positive_fraction(const struct gsm_point *points, size_t n, uint64_t window_ms);

/* Seconds until v reaches limit at the trend's slope; INFINITY when not rising. */
double gsm_eta_seconds(double current, double limit, double slope_per_s);

/* Welford's online mean/variance (no window: callers keep one per baseline and rebuild it). */
struct gsm_welford {
    uint64_t n;
    double mean, m2;
};
void gsm_welford_add(struct gsm_welford *w, double x);
double gsm_welford_sd(const struct gsm_welford *w);

/* Z-score of the latest growth rate against the growth rates of the baseline window before it
 * (a Welford pass over them). sd is floored at sd_floor so a flat baseline does not turn any
 * wiggle into a huge z. Returns false without enough baseline (min_points rates). */
bool gsm_growth_zscore(const struct gsm_point *points, size_t n, uint64_t baseline_ms, size_t min_points,
                       double sd_floor, double *ret_z, double *ret_rate);
