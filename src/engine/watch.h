/* The watch engine: targets (processes, cgroups) sampled every tick from O(1) sources, a ring
 * of samples per target (the flight recorder's memory), and the detectors that turn the series
 * into events with hysteresis (analyses/detect). The command (cmd/watch.c) renders the events,
 * runs --exec and writes bundles; the engine reads and decides. Split: engine.c (lifecycle, tick,
 * accessors), targets.c (which targets), sample.c (the per-tick reads), go_poll.c (Go runtime
 * statistics); engine_internal.h between them. docs/watch.md is the contract. */
#pragma once

#include "analyses/cgroup_analysis.h"
#include "analyses/detect.h"
#include "analyses/totals.h"
#include "model/go_stats.h"
#include "model/watch_types.h"
#include "model/cgroup.h"
#include "util/root.h"

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* --protect NAME=ADJ: processes whose comm is NAME (exactly) get oom_score_adj ADJ. */
struct gsm_protect_rule {
    char comm[16];
    int adj;                         /* -1000 .. 1000 */
};
/* Parses NAME=ADJ; on error *err holds one line naming what was wrong (-EINVAL). */
int gsm_protect_rule_parse(const char *arg, struct gsm_protect_rule *ret, char *err, size_t err_len);

struct gsm_watch_opts {
    uint64_t interval_ms, window_ms, short_window_ms, baseline_ms, ring_ms;
    double horizon_s, z_threshold;
    uint64_t rollup_budget_us;       /* kernel time per tick for smaps_rollup */
    bool go_stats;                   /* poll Go runtime statistics when reachable */
    double warmup_s;                 /* the horizon rule waits this long after a target starts */
    /* A target younger than young_s, or within reach of its limit (half of it used), or whose
     * forecast is pending or firing, is sampled every fast_interval_ms (O(1) sources); the
     * others every interval_ms. fast_interval_ms = interval_ms: one rate. */
    uint64_t fast_interval_ms;
    double young_s;
    bool notify;                     /* the kernel's notifications (v1 eventfd, v2 PSI/events) */
    /* Memory classes (engine/smaps_tier.c): full smaps of the chosen processes (the top N by RSS,
     * chosen stably, the named ones and the named cgroups' members) within a kernel-time budget
     * per tick. Off unless classes is set (serve sets it). */
    bool classes;
    uint64_t smaps_budget_us;        /* time per tick for full smaps reads */
    size_t top_processes;            /* N */
    bool classes_all_go;             /* every Go process has classes, not only those with statistics */
    /* --protect: set each tick (at most one /proc scan a second), once per process (PID and
     * start time); each change or refusal is an event of kind "protect". The array is the
     * caller's and must outlive the engine. */
    const struct gsm_protect_rule *protect;
    size_t n_protect;
};
void gsm_watch_opts_default(struct gsm_watch_opts *o);

struct gsm_watch;
typedef void (*gsm_watch_event_fn)(const struct gsm_watch_event *ev, void *userdata);
typedef void (*gsm_watch_sample_fn)(const struct gsm_watch_target *t, const struct gsm_watch_sample *s, void *userdata);

int gsm_watch_new(const struct gsm_root *root, const struct gsm_watch_opts *o, struct gsm_watch **ret);
void gsm_watch_free(struct gsm_watch *w);
int gsm_watch_add_pid(struct gsm_watch *w, pid_t pid);
int gsm_watch_add_cgroup(struct gsm_watch *w, const char *path);
void gsm_watch_set_all(struct gsm_watch *w, bool all);
/* One tick: refresh targets (--all: every 5 intervals), sample the targets that are due (or
 * that a kernel notification woke), detect; events and samples go to the callbacks. */
int gsm_watch_tick(struct gsm_watch *w, uint64_t now_ms, gsm_watch_event_fn on_event, gsm_watch_sample_fn on_sample,
                   void *userdata);
const struct gsm_watch_stats *gsm_watch_get_stats(const struct gsm_watch *w);
/* When the next target is due (the clock of gsm_watch_tick's now_ms). */
uint64_t gsm_watch_next_due_ms(const struct gsm_watch *w);
/* Waits up to timeout_ms for a kernel notification on a watched cgroup (usage thresholds at
 * 85 % and 95 % of its limit, OOM, critical pressure on v1; PSI trigger and memory.events on
 * v2); the targets woken are sampled by the next gsm_watch_tick. Returns how many fired (0 on
 * timeout), -EINTR when a signal came. Without notifications, sleeps. */
int gsm_watch_wait(struct gsm_watch *w, int timeout_ms);
size_t gsm_watch_n_targets(const struct gsm_watch *w);
uint64_t gsm_watch_interval_ms(const struct gsm_watch *w);

/* The tick loop (engine/run.c) that watch and serve run: gsm_watch_tick, then wait
 * (gsm_watch_wait, so kernel notifications wake it), until *stop is set (by a signal handler),
 * after_tick returns false, duration_ms passed, or (until_empty) no target is left. */
struct gsm_watch_run_opts {
    gsm_watch_event_fn on_event;
    gsm_watch_sample_fn on_sample;
    void *userdata;                  /* for the three callbacks */
    /* After each tick; scheduled is false for a tick a notification caused between two of the
     * schedule's (fixed_rate only). Returns false to stop. NULL: carry on. */
    bool (*after_tick)(struct gsm_watch *w, bool scheduled, void *userdata);
    const volatile sig_atomic_t *stop;
    /* false (watch): tick at once, then whenever the next target is due (waiting at most an
     * interval). true (serve): the caller has ticked; then a tick every interval on the
     * monotonic clock, and one for each notification in between. */
    bool fixed_rate;
    uint64_t duration_ms;            /* 0: no end */
    bool until_empty;
};
void gsm_watch_run(struct gsm_watch *w, const struct gsm_watch_run_opts *o);

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

/* What the engine read this tick, for the exporter and serve's findings (so they read nothing
 * twice). Valid until the next gsm_watch_tick(). */
void gsm_watch_target_ref(const struct gsm_watch_target *t, struct gsm_target_ref *ret);
/* This tick's sample, the detectors' numbers and conditions; false before the first sample. */
bool gsm_watch_target_state(const struct gsm_watch_target *t, struct gsm_watch_state *ret);
/* The target's memory cgroup as read this tick (a process target: its cgroup), its breakdown,
 * and the effective limits the engine holds (re-read every few ticks). NULL when not read. */
const struct gsm_cgroup_memory *gsm_watch_target_cgroup_memory(const struct gsm_watch_target *t);
const struct gsm_cg_breakdown *gsm_watch_target_cgroup_breakdown(const struct gsm_watch_target *t);
const struct gsm_cg_effective *gsm_watch_target_limits(const struct gsm_watch_target *t);
/* Is a process target's executable Go: 1 yes, 0 no, -1 not looked at yet. */
int gsm_watch_target_is_go(const struct gsm_watch_target *t);
/* A Go process target's per-class totals of the classes tier's last full smaps read and when
 * it was taken (ms since the epoch); NULL before the first read, when not chosen for classes,
 * or not Go. Valid until the next gsm_watch_tick(). */
const struct gsm_totals *gsm_watch_target_go_totals(const struct gsm_watch_target *t, uint64_t *ret_taken_ms);
