/* The watch engine's plain types: a target's identity as renderers see it, one sample, an
 * event, the engine's cost counters. Shared by the pure detectors (analyses/detect), the engine
 * (engine/watch), the renderers (event_render, metrics) and the recorder. docs/watch.md. */
#pragma once

#include "model/health.h"
#include "model/mapping.h"

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
    uint64_t shmem_bytes;            /* process targets: RssShmem (status); 0 for a cgroup */
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
    GSM_WK_FAILCNT, GSM_WK_TARGET_GONE, GSM_WK_CRASH_LOOP, GSM_WK_KERNEL,
    GSM_WK_HEALTH,                   /* the health score moved to another band (docs/health-score.md) */
    GSM_WK_PROTECT,                  /* --protect: an oom_score_adj set, or the write refused */
    GSM_WK__COUNT
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
    bool have_health;                /* the target's health score at this tick */
    int health_score;
};
void gsm_watch_event_evidence(struct gsm_watch_event *ev, const char *key, double v);

/* Why a read failed. A target that went away (ENOENT, ESRCH: the process exited, its PID was
 * recycled, the cgroup was removed) is not an error: it is counted in `gone`. */
enum gsm_watch_err_reason {
    GSM_WE_PERMISSION,   /* EACCES, EPERM */
    GSM_WE_PARSE,        /* EBADMSG, EOVERFLOW, EFBIG: malformed or over-long */
    GSM_WE_MEMORY,       /* ENOMEM */
    GSM_WE_TIMEOUT,      /* ETIMEDOUT, ECONNREFUSED...: an endpoint did not answer */
    GSM_WE_IO,           /* anything else */
    GSM_WE__COUNT
};
/* "permission", "parse", "memory", "timeout", "io" */
const char *gsm_watch_err_reason_name(enum gsm_watch_err_reason r);
/* The reason for a negative errno; false for a target that is gone (ENOENT, ESRCH). */
bool gsm_watch_err_reason_of(int r, enum gsm_watch_err_reason *ret);

/* Tier costs for --stats and the exporter's self-metrics. errors = the sum of by_reason. */
struct gsm_watch_tier_stats {
    uint64_t reads, ns, errors;
    uint64_t by_reason[GSM_WE__COUNT];
    uint64_t gone;                   /* reads that found the target gone (not errors) */
};
struct gsm_watch_stats {
    struct gsm_watch_tier_stats status, cgroup, rollup, go_http, detect, notify, smaps;
    uint64_t ticks, events;
    uint64_t smaps_selected;         /* processes chosen for classes (top N, named, named cgroups' members) */
    uint64_t protect_set, protect_refused;   /* --protect: oom_score_adj writes done, refused */
};

/* Memory by class of one process, from a full smaps read (analyses/classify, analyses/totals):
 * only these sums are kept per target, never the mappings. */
enum gsm_class_kind { GSM_CK_RSS, GSM_CK_PSS, GSM_CK_SWAP, GSM_CK_USS, GSM_CK__COUNT };
/* "rss", "pss", "swap", "uss" */
const char *gsm_class_kind_name(enum gsm_class_kind k);

/* The Go split (analyses/go_split) of the go-heap and go-runtime classes, with the runtime's own
 * statistics polled by the engine. */
enum gsm_go_part {
    GSM_GP_HEAP_INUSE, GSM_GP_STACKS, GSM_GP_IDLE_RETAINED, GSM_GP_RELEASED_RESIDENT, GSM_GP_RUNTIME_METADATA,
    GSM_GP__COUNT
};
/* "heap_inuse", "stacks", "idle_retained", "released_resident", "runtime_metadata" */
const char *gsm_go_part_name(enum gsm_go_part p);

struct gsm_proc_classes {
    uint64_t bytes[GSM_CLASS__COUNT][GSM_CK__COUNT];
    uint64_t taken_ms;               /* wall clock of the read (ms since the epoch) */
    bool have_go;                    /* go_parts hold the Go split of this read */
    uint64_t go_parts[GSM_GP__COUNT];
};

/* A target's latest state as the exporter shows it: this tick's sample and the detectors'
 * numbers (eta_s INFINITY when not rising). */
struct gsm_watch_state {
    struct gsm_target_ref ref;
    struct gsm_watch_sample s;
    double eta_s, z;
    enum gsm_watch_level eta_level, growth_level, pressure_level;
    /* Process targets: chosen for classes (top N with hysteresis, named, a named cgroup's
     * member), and the classes of the last full smaps read (NULL before the first). */
    bool selected;
    const struct gsm_proc_classes *classes;
    struct gsm_health_brief health;  /* this tick's score (have false before the first) */
};
