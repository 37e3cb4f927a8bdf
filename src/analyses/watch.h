/* The watch engine: targets (processes, cgroups) sampled every tick from O(1) sources, a ring
 * of samples per target (the flight recorder's memory), and the detectors that turn the series
 * into events with hysteresis. The command (cmd/watch.c) renders the events, runs --exec and
 * writes bundles; the engine itself only reads and decides. docs/watch.md is the contract. */
#pragma once

#include "analyses/cgroup_analysis.h"
#include "model/cgroup.h"
#include "model/go_stats.h"
#include "util/root.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum gsm_watch_target_type { GSM_WT_PROCESS, GSM_WT_CGROUP };

struct gsm_watch_sample {
    uint64_t t_ms;
    /* memory the kernel cannot reclaim (cgroup: usage - file LRU - reclaimable slab; process:
     * RssAnon + RssShmem + VmSwap); with Go statistics, the heap part is replaced by the heap
     * goal set at the last GC (NextGC), so the GC sawtooth does not look like growth */
    uint64_t unreclaimable_bytes;
    uint64_t value_bytes;            /* what the trend detectors see (Go-adjusted when possible) */
    bool go_adjusted;
    uint64_t usage_bytes;            /* cgroup usage, or process RSS */
    uint64_t anon_bytes, file_bytes, working_set_bytes, swap_bytes;
    uint64_t limit_bytes;            /* effective limit that applies (UINT64_MAX: none) */
    uint64_t others_bytes;           /* process targets: the rest of its cgroup's unreclaimable */
    uint64_t threads;
    uint64_t oom_kill, oom, max_events, high_events, failcnt;
    double psi_some_avg10, psi_full_avg10;
    bool have_psi;
    uint64_t pss_bytes;              /* from smaps_rollup, when this tick read it (else 0) */
    uint64_t go_next_gc_bytes;       /* 0 when no Go statistics */
};

enum gsm_watch_level { GSM_WL_NONE, GSM_WL_INFO, GSM_WL_WARN, GSM_WL_CRITICAL };

enum gsm_watch_kind {
    GSM_WK_ETA, GSM_WK_GROWTH, GSM_WK_PRESSURE, GSM_WK_OOM_KILL, GSM_WK_OOM, GSM_WK_MAX, GSM_WK_HIGH,
    GSM_WK_FAILCNT, GSM_WK_TARGET_GONE, GSM_WK__COUNT
};
const char *gsm_watch_kind_name(enum gsm_watch_kind k);
const char *gsm_watch_level_name(enum gsm_watch_level l);

struct gsm_watch_target;

struct gsm_watch_event {
    uint64_t time_ms;
    enum gsm_watch_level level;
    enum gsm_watch_kind kind;
    bool resolved;
    double value, threshold;
    double eta_seconds;              /* NAN when not an ETA event */
    char message[256];
    /* evidence: named numbers */
    struct {
        const char *key;
        double value;
    } evidence[8];
    size_t n_evidence;
    const struct gsm_watch_target *target;
    bool wants_bundle;               /* critical or an OOM kill */
};

struct gsm_watch_opts {
    uint64_t interval_ms, window_ms, short_window_ms, baseline_ms, ring_ms;
    double horizon_s, z_threshold;
    uint64_t rollup_budget_us;       /* kernel time per tick for smaps_rollup */
    bool go_stats;                   /* poll Go runtime statistics when reachable */
    double warmup_s;                 /* no ETA for a process (a cgroup's oldest) younger than this */
};
void gsm_watch_opts_default(struct gsm_watch_opts *o);

/* Tier costs for --stats. */
struct gsm_watch_tier_stats {
    uint64_t reads, ns, errors;
};
struct gsm_watch_stats {
    struct gsm_watch_tier_stats status, cgroup, rollup, go_http, detect;
    uint64_t ticks, events;
};

struct gsm_watch;
typedef void (*gsm_watch_event_fn)(const struct gsm_watch_event *ev, void *userdata);
typedef void (*gsm_watch_sample_fn)(const struct gsm_watch_target *t, const struct gsm_watch_sample *s, void *userdata);

int gsm_watch_new(const struct gsm_root *root, const struct gsm_watch_opts *o, struct gsm_watch **ret);
void gsm_watch_free(struct gsm_watch *w);
int gsm_watch_add_pid(struct gsm_watch *w, pid_t pid);
int gsm_watch_add_cgroup(struct gsm_watch *w, const char *path);
void gsm_watch_set_all(struct gsm_watch *w, bool all);
/* One tick: refresh targets (every 10 ticks), sample, detect; events and samples go to the
 * callbacks. */
int gsm_watch_tick(struct gsm_watch *w, uint64_t now_ms, gsm_watch_event_fn on_event, gsm_watch_sample_fn on_sample,
                   void *userdata);
const struct gsm_watch_stats *gsm_watch_get_stats(const struct gsm_watch *w);
size_t gsm_watch_n_targets(const struct gsm_watch *w);

/* Target accessors (for renderers and the recorder). */
enum gsm_watch_target_type gsm_watch_target_type(const struct gsm_watch_target *t);
pid_t gsm_watch_target_pid(const struct gsm_watch_target *t);
uint64_t gsm_watch_target_starttime(const struct gsm_watch_target *t);
const char *gsm_watch_target_name(const struct gsm_watch_target *t);
const char *gsm_watch_target_cgroup(const struct gsm_watch_target *t);     /* NULL when unknown */
const struct gsm_cgroup_location *gsm_watch_target_cgroup_loc(const struct gsm_watch_target *t);
/* Parsed from the cgroup path on each call (all empty without a cgroup): not kept per target. */
void gsm_watch_target_identity(const struct gsm_watch_target *t, struct gsm_container_identity *ret);
const char *gsm_watch_target_go_endpoint(const struct gsm_watch_target *t);  /* NULL when none */
/* The Go processes whose runtime statistics the engine holds for a target (a process target:
 * itself; a cgroup: its Go members). i < gsm_watch_target_n_go(); NULL when the last poll of
 * member i failed. */
size_t gsm_watch_target_n_go(const struct gsm_watch_target *t);
const struct gsm_go_stats *gsm_watch_target_go_stats(const struct gsm_watch_target *t, size_t i, pid_t *ret_pid);
/* Iteration and the latest state, for the exporter. */
const struct gsm_watch_target *gsm_watch_target_at(const struct gsm_watch *w, size_t i);
/* This tick's sample and the detectors' numbers (ETA INFINITY when not rising). */
bool gsm_watch_target_current(const struct gsm_watch_target *t, struct gsm_watch_sample *ret, double *ret_eta_s,
                              double *ret_z);
enum gsm_watch_level gsm_watch_target_condition(const struct gsm_watch_target *t, enum gsm_watch_kind k);
bool gsm_watch_target_is_explicit(const struct gsm_watch_target *t);

/* The ring, oldest first. Entries keep the sizes (in KiB precision), limit and threads; event
 * counters, PSI and the Go goal are per tick only. */
size_t gsm_watch_target_ring_len(const struct gsm_watch_target *t);
bool gsm_watch_target_ring_get(const struct gsm_watch_target *t, size_t i, struct gsm_watch_sample *ret);
