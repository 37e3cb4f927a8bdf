#include "test.h"
#include "analyses/trend.h"

#include <math.h>

static void series(struct gsm_point *p, size_t n, double (*f)(size_t)) {
    for (size_t i = 0; i < n; i++) {
        p[i].t_ms = 1000000 + i * 2000;
        p[i].v = f(i);
    }
}
static double leak(size_t i) { return 100e6 + 4e6 * (double)i; }            /* 2 MB/s */
static double flat(size_t i) { (void)i; return 100e6; }
static double step(size_t i) { return i < 40 ? 100e6 : 300e6; }
static double saw(size_t i) { return 100e6 + (double)(i % 8) * 20e6; }     /* rises 7 ticks, drops */

TEST(theil_sen_leak) {
    struct gsm_point p[60];
    series(p, 60, leak);
    struct gsm_trend t;
    CHECK(gsm_theil_sen(p, 60, 120000, 5, 8000, &t));
    CHECK(fabs(t.slope_per_s - 2e6) < 1);
    CHECK(t.positive_fraction > 0.999);
    CHECK(fabs(gsm_eta_seconds(p[59].v, 512e6, t.slope_per_s) - (512e6 - p[59].v) / 2e6) < 1e-6);
}

TEST(theil_sen_flat_and_step) {
    struct gsm_point p[60];
    struct gsm_trend t;
    series(p, 60, flat);
    CHECK(gsm_theil_sen(p, 60, 120000, 5, 8000, &t));
    CHECK(t.slope_per_s == 0 && t.positive_fraction == 0);
    CHECK(isinf(gsm_eta_seconds(100e6, 512e6, t.slope_per_s)));
    /* A one-time step: many pairs cross it, but the majority of pairs do not rise. */
    series(p, 60, step);
    CHECK(gsm_theil_sen(p, 60, 120000, 5, 8000, &t));
    CHECK(t.positive_fraction < 0.75);
}

TEST(theil_sen_sawtooth_not_consistent) {
    struct gsm_point p[60];
    series(p, 60, saw);
    struct gsm_trend t;
    CHECK(gsm_theil_sen(p, 60, 120000, 5, 8000, &t));
    CHECK(t.positive_fraction < 0.75);
}

TEST(theil_sen_needs_points_and_span) {
    struct gsm_point p[60];
    series(p, 60, leak);
    struct gsm_trend t;
    CHECK(!gsm_theil_sen(p, 3, 120000, 5, 8000, &t));
    CHECK(!gsm_theil_sen(p, 0, 120000, 5, 8000, &t));
    CHECK(!gsm_theil_sen(p, 60, 6000, 2, 8000, &t));   /* window shorter than the min span */
    /* the window limits the points used */
    CHECK(gsm_theil_sen(p, 60, 20000, 5, 8000, &t));
    CHECK_EQ_U64(t.n_points, 11);
}

TEST(zscore_sudden_growth) {
    struct gsm_point p[100];
    series(p, 100, flat);
    for (size_t i = 0; i < 100; i++)
        p[i].v += (double)((i * 7919) % 5) * 1e5;          /* small noise */
    double z, rate;
    CHECK(gsm_growth_zscore(p, 100, 180000, 20, 256 * 1024, &z, &rate));
    CHECK(fabs(z) < 3.5);
    p[99].v = p[98].v + 64e6;                               /* 32 MB/s at once */
    CHECK(gsm_growth_zscore(p, 100, 180000, 20, 256 * 1024, &z, &rate));
    CHECK(z > 3.5);
    CHECK(fabs(rate - 32e6) < 1);
    CHECK(!gsm_growth_zscore(p, 10, 180000, 20, 256 * 1024, &z, &rate));   /* short baseline */
}

TEST(zscore_steady_leak_goes_quiet) {
    /* PRODUCT.md: once a steady leak is the baseline, z ~ 0 — why the ETA detector exists. */
    struct gsm_point p[100];
    series(p, 100, leak);
    double z, rate;
    CHECK(gsm_growth_zscore(p, 100, 180000, 20, 256 * 1024, &z, &rate));
    CHECK(fabs(z) < 1);
}

TEST(welford_matches_two_pass) {
    struct gsm_welford w = {0};
    double xs[] = {2, 4, 4, 4, 5, 5, 7, 9};
    for (size_t i = 0; i < 8; i++)
        gsm_welford_add(&w, xs[i]);
    CHECK(fabs(w.mean - 5) < 1e-12);
    CHECK(fabs(gsm_welford_sd(&w) - sqrt(32.0 / 7)) < 1e-12);
}

static double ramp_then_plateau(size_t i) {
    /* two points before the work starts, then a plateau that jitters */
    static const double jitter[] = {0, 3e6, -2e6, 5e6, -4e6, 1e6, -1e6, 6e6};
    return i < 2 ? 3e6 : 230e6 + jitter[i % 8];
}

TEST(theil_sen_step_fraction_tells_ramp_from_leak) {
    struct gsm_point p[14];
    struct gsm_trend t;
    series(p, 14, ramp_then_plateau);
    CHECK(gsm_theil_sen(p, 14, 120000, 5, 8000, &t));
    CHECK(t.step_positive_fraction < 0.8);
    series(p, 14, leak);
    CHECK(gsm_theil_sen(p, 14, 120000, 5, 8000, &t));
    CHECK(t.step_positive_fraction == 1.0);
}

TEST(step_fraction_matches_theil_sen) {
    struct gsm_point p[40];
    struct gsm_trend t;
    series(p, 40, saw);
    CHECK(gsm_theil_sen(p, 40, 120000, 5, 8000, &t));
    CHECK(fabs(gsm_step_positive_fraction(p, 40, 120000) - t.step_positive_fraction) < 1e-12);
    series(p, 40, leak);
    CHECK(gsm_step_positive_fraction(p, 40, 120000) == 1.0);
    series(p, 40, flat);
    CHECK(gsm_step_positive_fraction(p, 40, 120000) == 0);
}
