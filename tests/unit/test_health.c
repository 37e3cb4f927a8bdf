/* analyses/health: each part moves the score the right way, the bounds hold, missing inputs
 * cost nothing and are said, the bands do not flap, the window counts only its own increase. */
#include "test.h"

#include "analyses/health.h"

#include <math.h>

#define MIB (1024ULL * 1024ULL)

/* A healthy target with every input present: 20 % used, not rising, no pressure, no hits,
 * no kills, a Go runtime with little GC work. */
static struct gsm_health_input healthy(void) {
    return (struct gsm_health_input){
        .have_usage = true, .used_bytes = 100 * MIB, .limit_bytes = 500 * MIB, .have_eta = true, .eta_s = INFINITY,
        .have_psi = true, .have_hits = true, .have_kills = true, .go = GSM_HGO_YES, .have_gc_cpu = true,
        .gc_cpu_fraction = 0.01, .have_goal = true, .at_goal_bytes = 150 * MIB,
    };
}

static int score(const struct gsm_health_input *in) {
    struct gsm_health h;
    gsm_health_compute(in, &h);
    return h.score;
}

TEST(health_all_good_is_100) {
    struct gsm_health_input in = healthy();
    struct gsm_health h;
    gsm_health_compute(&in, &h);
    CHECK(h.have);
    CHECK_EQ_U64(h.score, 100);
    CHECK(h.band == GSM_HB_GOOD);
    CHECK_EQ_U64(h.n_missing, 0);
    for (int i = 0; i < GSM_HP__COUNT; i++)
        CHECK(h.parts[i].status == GSM_HPS_USED && h.parts[i].penalty == 0);
}

TEST(health_headroom_moves_score_down) {
    struct gsm_health_input in = healthy();
    int prev = score(&in);
    for (uint64_t used = 300; used <= 520; used += 20) {   /* 40 % free .. over the limit */
        in.used_bytes = used * MIB;
        int s = score(&in);
        CHECK(s <= prev);
        prev = s;
    }
    CHECK_EQ_U64(prev, 100 - (int)GSM_HEALTH_W_HEADROOM);
    in.used_bytes = 350 * MIB;   /* exactly 30 % free: no penalty yet */
    CHECK_EQ_U64(score(&in), 100);
    in.used_bytes = 475 * MIB;   /* 5 % free: the whole weight */
    CHECK_EQ_U64(score(&in), 50);
}

TEST(health_trend_moves_score_down) {
    struct gsm_health_input in = healthy();
    const double etas[] = {INFINITY, 200000, 86400, 36000, 3600, 900, 300, 60, 1};
    int prev = 101;
    for (size_t i = 0; i < sizeof etas / sizeof etas[0]; i++) {
        in.eta_s = etas[i];
        int s = score(&in);
        CHECK(s <= prev);
        prev = s;
    }
    CHECK_EQ_U64(prev, 60);
    in.eta_s = 3600;   /* log(24) / log(288) of 40 points: 22 */
    CHECK_EQ_U64(score(&in), 78);
}

TEST(health_pressure_hits_kills_gc_move_score_down) {
    struct gsm_health_input in = healthy();
    in.psi_some_avg10 = 10;
    CHECK(score(&in) < 100);
    in.psi_full_avg10 = 10;   /* full counts double */
    CHECK_EQ_U64(score(&in), 100 - 15);
    in.psi_some_avg10 = 90, in.psi_full_avg10 = 50;
    CHECK_EQ_U64(score(&in), 70);

    in = healthy();
    int prev = 100;
    for (uint64_t h = 1; h <= 10000; h *= 10) {
        in.hits = h;
        int s = score(&in);
        CHECK(s < prev || s == 80);
        prev = s;
    }
    CHECK_EQ_U64(prev, 80);

    in = healthy();
    in.kills = 1;
    CHECK_EQ_U64(score(&in), 70);
    in.kills = 2;
    CHECK_EQ_U64(score(&in), 60);
    in.kills = 50;
    CHECK_EQ_U64(score(&in), 60);

    in = healthy();
    in.gc_cpu_fraction = 0.15;   /* half way from 5 % to 25 % */
    CHECK_EQ_U64(score(&in), 90);
    in.gc_cpu_fraction = 0.01;
    in.at_goal_bytes = 500 * MIB;   /* the heap goal is at the limit: the next GC comes too late */
    CHECK_EQ_U64(score(&in), 80);
    in.at_goal_bytes = 450 * MIB;   /* 90 %: half */
    CHECK_EQ_U64(score(&in), 90);
}

TEST(health_bounds_every_part_worst_is_zero) {
    struct gsm_health_input in = healthy();
    in.used_bytes = 10000 * MIB;
    in.eta_s = 0;
    in.psi_some_avg10 = 100, in.psi_full_avg10 = 100;
    in.hits = UINT64_MAX / 2;
    in.kills = UINT64_MAX;
    in.gc_cpu_fraction = 1;
    in.at_goal_bytes = UINT64_MAX;
    struct gsm_health h;
    gsm_health_compute(&in, &h);
    CHECK_EQ_U64(h.score, 0);
    CHECK(h.band == GSM_HB_CRITICAL);
    for (int i = 0; i < GSM_HP__COUNT; i++)
        CHECK(h.parts[i].badness == 1.0 && h.parts[i].penalty == h.parts[i].max_penalty);
    in.eta_s = NAN;   /* an ETA that is not a number is no penalty, not a crash */
    in.gc_cpu_fraction = NAN;
    gsm_health_compute(&in, &h);
    CHECK(h.score >= 0 && h.score <= 100);
}

TEST(health_missing_inputs_cost_nothing_and_are_said) {
    struct gsm_health_input in = {.limit_bytes = UINT64_MAX, .go = GSM_HGO_UNKNOWN,
                                  .eta_missing = "one-shot read"};
    struct gsm_health h;
    gsm_health_compute(&in, &h);
    CHECK(!h.have);   /* nothing measured: no score claimed */
    CHECK_EQ_U64(h.score, 100);
    CHECK_EQ_U64(h.n_missing, GSM_HP__COUNT);
    for (int i = 0; i < GSM_HP__COUNT; i++)
        CHECK(h.parts[i].status == GSM_HPS_MISSING && h.parts[i].note[0]);
    CHECK_STREQ(h.parts[GSM_HP_TREND].note, "one-shot read");
    in.have_usage = true;   /* usage without a limit: still missing, and why */
    in.used_bytes = 5 * MIB;
    in.go = GSM_HGO_NO;
    gsm_health_compute(&in, &h);
    CHECK(h.parts[GSM_HP_HEADROOM].status == GSM_HPS_MISSING);
    CHECK(strstr(h.parts[GSM_HP_HEADROOM].note, "no memory limit") != NULL);
    CHECK(h.parts[GSM_HP_GO_GC].status == GSM_HPS_NOT_APPLICABLE);
    CHECK_EQ_U64(h.n_missing, GSM_HP__COUNT - 1);
    CHECK(!h.have);
    in.have_kills = true;   /* one part measured: a score */
    gsm_health_compute(&in, &h);
    CHECK(h.have);
    CHECK_STREQ(gsm_health_part_name(GSM_HP_LIMIT_HITS), "limit_hits");
    CHECK_STREQ(gsm_health_band_name(GSM_HB_POOR), "poor");
}

TEST(health_bands_hysteresis_no_flapping) {
    CHECK(gsm_health_band_of(80) == GSM_HB_GOOD);
    CHECK(gsm_health_band_of(79) == GSM_HB_FAIR);
    CHECK(gsm_health_band_of(49) == GSM_HB_POOR);
    CHECK(gsm_health_band_of(24) == GSM_HB_CRITICAL);
    /* a score oscillating around 80 changes the band once, not at every crossing */
    enum gsm_health_band b = GSM_HB_GOOD;
    const int series[] = {82, 79, 81, 78, 83, 79, 84, 80};
    unsigned changes = 0;
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
        enum gsm_health_band n = gsm_health_band_step(b, series[i]);
        changes += n != b;
        b = n;
    }
    CHECK_EQ_U64(changes, 1);
    CHECK(b == GSM_HB_FAIR);
    CHECK(gsm_health_band_step(b, 85) == GSM_HB_GOOD);   /* 5 points inside: back */
    CHECK(gsm_health_band_step(GSM_HB_GOOD, 10) == GSM_HB_CRITICAL);   /* worse: at once */
    CHECK(gsm_health_band_step(GSM_HB_CRITICAL, 52) == GSM_HB_POOR);   /* better: only as far as inside */
    CHECK(gsm_health_band_step(GSM_HB_CRITICAL, 56) == GSM_HB_FAIR);
}

TEST(health_band_recovers_only_after_a_hold) {
    /* a forecast that comes and goes (scenario heap-2: trend penalty 40 on, off every few
     * seconds) is one event while it lasts, and good again only after 30 s without it */
    struct gsm_health_band_state st = {0};
    unsigned changes = 0;
    uint64_t t = 1000000;
    for (int i = 0; i < 80; i++, t += 2000)
        changes += gsm_health_band_update(&st, i % 3 == 0 ? 100 : 60, t);
    CHECK_EQ_U64(changes, 1);
    CHECK(st.band == GSM_HB_FAIR);
    for (int i = 0; i < 15; i++, t += 2000)   /* 28 s good: not yet */
        CHECK(!gsm_health_band_update(&st, 100, t));
    CHECK(st.band == GSM_HB_FAIR);
    CHECK(gsm_health_band_update(&st, 100, t));   /* 30 s */
    CHECK(st.band == GSM_HB_GOOD);
    /* worse at once; a recovery goes only as far as the worst score of its hold */
    CHECK(gsm_health_band_update(&st, 10, t += 2000));
    CHECK(st.band == GSM_HB_CRITICAL);
    CHECK(!gsm_health_band_update(&st, 95, t += 2000));
    CHECK(!gsm_health_band_update(&st, 60, t += 20000));
    CHECK(gsm_health_band_update(&st, 95, t += 10000));
    CHECK(st.band == GSM_HB_FAIR);
}

TEST(health_window_counts_only_the_window) {
    struct gsm_health_window w = {0};
    uint64_t h, k;
    uint64_t t0 = 1000000;
    gsm_health_window_step(&w, t0, 100, 3, &h, &k);   /* old counts are not this window's */
    CHECK_EQ_U64(h, 0);
    CHECK_EQ_U64(k, 0);
    gsm_health_window_step(&w, t0 + 120000, 150, 4, &h, &k);
    CHECK_EQ_U64(h, 50);
    CHECK_EQ_U64(k, 1);
    for (uint64_t t = t0 + 180000; t <= t0 + 1800000; t += 60000)   /* 30 min later, nothing new */
        gsm_health_window_step(&w, t, 150, 4, &h, &k);
    CHECK_EQ_U64(h, 0);
    CHECK_EQ_U64(k, 0);
    gsm_health_window_step(&w, t0 + 1900000, 10, 0, &h, &k);   /* the counters went back: a new cgroup */
    CHECK_EQ_U64(h, 0);
    CHECK_EQ_U64(k, 0);
    gsm_health_window_step(&w, t0 + 1901000, 11, 1, &h, &k);
    CHECK_EQ_U64(h, 1);
    CHECK_EQ_U64(k, 1);
}

TEST(health_input_from_sample) {
    struct gsm_watch_sample s = {.unreclaimable_bytes = 400 * MIB, .others_bytes = 50 * MIB,
                                 .limit_bytes = 500 * MIB, .value_bytes = 460 * MIB, .go_adjusted = true,
                                 .have_psi = true, .psi_some_avg10 = 5};
    struct gsm_health_input in;
    gsm_health_input_from_sample(&s, INFINITY, true, 3, 0, GSM_HGO_YES, 0.02, &in);
    CHECK_EQ_U64(in.used_bytes, 450 * MIB);
    CHECK_EQ_U64(in.at_goal_bytes, 510 * MIB);
    struct gsm_health h;
    gsm_health_compute(&in, &h);
    CHECK(h.parts[GSM_HP_HEADROOM].status == GSM_HPS_USED);
    CHECK(h.parts[GSM_HP_GO_GC].penalty == GSM_HEALTH_W_GO_GC);   /* the goal is over the limit */
    CHECK(h.score < 60);
    gsm_health_input_from_sample(&s, NAN, false, 0, 0, GSM_HGO_NO, -1, &in);
    gsm_health_compute(&in, &h);
    CHECK(h.parts[GSM_HP_TREND].status == GSM_HPS_MISSING);
    CHECK(h.parts[GSM_HP_OOM_KILLS].status == GSM_HPS_MISSING);
    CHECK(h.parts[GSM_HP_GO_GC].status == GSM_HPS_NOT_APPLICABLE);
}
