/* The watch engine's plain types: a target's identity as renderers see it, one sample, an
 * event, the engine's cost counters. Shared by the pure detectors (analyses/detect), the engine
 * (engine/watch), the renderers (event_render, metrics) and the recorder. docs/watch.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum gsm_watch_target_type { GSM_WT_PROCESS, GSM_WT_CGROUP };

/* What names a target in output. The strings belong to the engine's target and live as long as
 * it does (until the tick that finds it gone has returned). */
struct gsm_target_ref {
    enum gsm_watch_target_type type;
    pid_t pid;                       /* 0 for a cgroup */
    uint64_t starttime;              /* process start, clock ticks since boot (0 for a cgroup) */
    const char *name;                /* comm, or the cgroup path */
    const char *cgroup;              /* NULL when unknown */
    bool explicit_target;            /* named on the command line */
};

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
    bool limit_is_node;              /* no cgroup limit: limit_bytes is the node's MemTotal */
    uint64_t others_bytes;           /* process targets: the rest of its cgroup's unreclaimable */
    uint64_t threads;
    uint64_t oom_kill, oom, max_events, high_events, failcnt;
    uint64_t members;                /* cgroup targets: processes in it (cgroup.procs), when read */
    double psi_some_avg10, psi_full_avg10;
    bool have_psi;
    uint64_t pss_bytes;              /* from smaps_rollup, when this tick read it (else 0) */
    uint64_t go_next_gc_bytes;       /* 0 when no Go statistics */
    uint64_t age_ms;                 /* since the process (a cgroup's oldest member) started; 0 unknown */
};

enum gsm_watch_level { GSM_WL_NONE, GSM_WL_INFO, GSM_WL_WARN, GSM_WL_CRITICAL };

enum gsm_watch_kind {
    GSM_WK_ETA, GSM_WK_GROWTH, GSM_WK_PRESSURE, GSM_WK_OOM_KILL, GSM_WK_OOM, GSM_WK_MAX, GSM_WK_HIGH,
    GSM_WK_FAILCNT, GSM_WK_TARGET_GONE, GSM_WK_CRASH_LOOP, GSM_WK_KERNEL, GSM_WK__COUNT
};
const char *gsm_watch_kind_name(enum gsm_watch_kind k);
const char *gsm_watch_level_name(enum gsm_watch_level l);

struct gsm_watch_target;             /* the engine's (engine/watch.h); opaque here */

#define GSM_WATCH_MAX_EVIDENCE 10

struct gsm_watch_event {
    uint64_t time_ms;
    enum gsm_watch_level level;
    enum gsm_watch_kind kind;
    bool resolved;
    double value, threshold;
    double eta_seconds;              /* NAN when not an ETA event */
    char message[320];
    /* evidence: named numbers (static key strings) */
    struct {
        const char *key;
        double value;
    } evidence[GSM_WATCH_MAX_EVIDENCE];
    size_t n_evidence;
    struct gsm_target_ref ref;       /* who, for output */
    const struct gsm_watch_target *target;   /* the engine's target (ring, for bundles); may be NULL */
    bool wants_bundle;               /* critical or an OOM kill */
};
void gsm_watch_event_evidence(struct gsm_watch_event *ev, const char *key, double v);

/* Tier costs for --stats and the exporter's self-metrics. */
struct gsm_watch_tier_stats {
    uint64_t reads, ns, errors;
};
struct gsm_watch_stats {
    struct gsm_watch_tier_stats status, cgroup, rollup, go_http, detect, notify;
    uint64_t ticks, events;
};

/* A target's latest state as the exporter shows it: this tick's sample and the detectors'
 * numbers (eta_s INFINITY when not rising). */
struct gsm_watch_state {
    struct gsm_target_ref ref;
    struct gsm_watch_sample s;
    double eta_s, z;
    enum gsm_watch_level eta_level, growth_level, pressure_level;
};
