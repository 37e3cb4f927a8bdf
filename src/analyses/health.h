/* The health score of a target (0-100): 100 minus the penalties of six parts, each a documented
 * curve of one input (docs/health-score.md has the weights, curves and worked examples). Pure:
 * the caller gathers the inputs (explain from one read of the cgroup; watch and serve from the
 * engine's sample, forecast and a window of counters). A missing input costs nothing and is
 * named in the part's note; the number of missing parts is part of the result.
 *
 *   part        weight  bad = 0 at ...               bad = 1 at ...
 *   headroom      50    >= 30 % of the limit free     <= 5 % free
 *   trend         40    not rising, ETA >= 24 h       ETA <= 5 min   (log scale between)
 *   pressure      30    PSI 0                         max(some, 2 x full) avg10 >= 40 %
 *   limit_hits    20    no hit                        >= 1000 hits   (log scale)
 *   oom_kills     40    no kill                       2 kills (1 kill: 0.75)
 *   go_gc         20    GC CPU <= 5 % and memory at   GC CPU >= 25 % or memory at the heap
 *                       the heap goal <= 80 % of      goal >= the limit (the worse of the two)
 *                       the limit
 */
#pragma once

#include "analyses/cgroup_analysis.h"
#include "model/cgroup.h"
#include "model/go_stats.h"
#include "model/health.h"
#include "model/watch_types.h"

#include <stdbool.h>
#include <stdint.h>

#define GSM_HEALTH_W_HEADROOM 50.0
#define GSM_HEALTH_W_TREND 40.0
#define GSM_HEALTH_W_PRESSURE 30.0
#define GSM_HEALTH_W_LIMIT_HITS 20.0
#define GSM_HEALTH_W_OOM_KILLS 40.0
#define GSM_HEALTH_W_GO_GC 20.0
/* Band lower bounds: good >= 80, fair >= 50, poor >= 25, critical below. */
#define GSM_HEALTH_GOOD 80
#define GSM_HEALTH_FAIR 50
#define GSM_HEALTH_POOR 25
/* A band is left for a better one only when the score is this far inside it (no flapping). */
#define GSM_HEALTH_HYSTERESIS 5
/* watch / serve: limit hits and OOM kills are counted over this window. */
#define GSM_HEALTH_WINDOW_S 600

enum gsm_health_go { GSM_HGO_NO, GSM_HGO_UNKNOWN, GSM_HGO_YES };

struct gsm_health_input {
    bool have_usage;
    uint64_t used_bytes;             /* unreclaimable memory (a process: with the rest of its cgroup's) */
    uint64_t limit_bytes;            /* effective limit; UINT64_MAX: none known */
    bool limit_is_node;              /* no cgroup limit: limit_bytes is the node's memory */
    bool limit_unknown;              /* a limit file was malformed */
    bool have_eta;
    double eta_s;                    /* INFINITY when not rising */
    const char *eta_missing;         /* why there is no ETA (static string), when !have_eta */
    bool have_psi;
    double psi_some_avg10, psi_full_avg10;   /* percent */
    bool have_hits, have_kills;
    uint64_t hits, kills;
    bool lifetime_counts;            /* hits and kills are since the cgroup was created (explain) */
    enum gsm_health_go go;
    bool have_gc_cpu;
    double gc_cpu_fraction;          /* 0..1, since the process started */
    bool have_goal;
    uint64_t at_goal_bytes;          /* memory when the heap reaches its goal (same scope as used_bytes) */
};

/* The score and its parts. */
void gsm_health_compute(const struct gsm_health_input *in, struct gsm_health *ret);
/* The band of a score, without hysteresis. */
enum gsm_health_band gsm_health_band_of(int score);
/* The band after this score, from the band so far: a worse band at once, a better one only
 * when the score is GSM_HEALTH_HYSTERESIS points inside it. */
enum gsm_health_band gsm_health_band_step(enum gsm_health_band prev, int score);

/* ... and a better band must hold this long before it is taken (a worse one still at once). The
 * trend part follows the forecast, which comes and goes with a leak's GC steps: without the
 * hold a leaking cgroup's health went good -> fair -> good 30 times in 160 s (scenario heap-2,
 * 384 MiB, 2026-12-06), each an event. */
#define GSM_HEALTH_RECOVER_MS 30000
struct gsm_health_band_state {
    enum gsm_health_band band;       /* the band as reported */
    bool recovering;                 /* a better band has been seen since recover_since_ms */
    enum gsm_health_band recover_to; /* the worst of the better bands seen since then */
    uint64_t recover_since_ms;
};
/* One score at t_ms: true when st->band changed. */
bool gsm_health_band_update(struct gsm_health_band_state *st, int score, uint64_t t_ms);

/* Inputs from one read of a cgroup (explain): used = the breakdown's unreclaimable memory, the
 * effective hard limit, PSI, and lifetime counters (m NULL: no memory cgroup, all missing). go
 * (may be NULL) gives the GC part; is_go says whether a Go runtime runs there at all (false: not
 * applicable; true without go: missing). No trend: eta_missing says so. */
void gsm_health_input_from_cgroup(const struct gsm_cgroup_memory *m, const struct gsm_cg_effective *eff,
                                  const struct gsm_cg_breakdown *bd, bool is_go, const struct gsm_go_stats *go,
                                  struct gsm_health_input *ret);

/* watch / serve: the counters of the last GSM_HEALTH_WINDOW_S, from checkpoints taken at most
 * once a minute (a counter that went back, a new cgroup, restarts the window). */
struct gsm_health_window {
    struct {
        uint64_t t_ms, hits, kills;
    } cp[GSM_HEALTH_WINDOW_S / 60 + 2];
    size_t n;
};
/* Adds this tick's counters; *ret_hits / *ret_kills: the increase over the window. */
void gsm_health_window_step(struct gsm_health_window *w, uint64_t t_ms, uint64_t hits, uint64_t kills,
                            uint64_t *ret_hits, uint64_t *ret_kills);

/* Inputs from the engine's sample and forecast. have_counters: the target's cgroup was read
 * this tick (window_* are its counters' increase). go: GSM_HGO_YES with gc_cpu (< 0 unknown)
 * when the target's Go statistics were read. */
void gsm_health_input_from_sample(const struct gsm_watch_sample *s, double eta_s, bool have_counters,
                                  uint64_t window_hits, uint64_t window_kills, enum gsm_health_go go, double gc_cpu,
                                  struct gsm_health_input *ret);
