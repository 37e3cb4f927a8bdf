/* A Go process's own runtime statistics (runtime.MemStats and friends), as fetched over HTTP
 * from one of its debug endpoints (readers/go_stats_fetch.h, parsed by readers/go_stats_parse.h). Field names follow runtime.MemStats in
 * snake_case with units. A field is meaningful only when its presence bit is set: sources
 * differ (the pprof heap block has no PauseTotalNs; expvar has no goroutine count; Prometheus
 * has no PauseNs ring but has go_goroutines and, on newer client_golang, go_gc_gomemlimit_bytes). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One bit per optional field of struct gsm_go_stats (see gsm_go_stats_has()). */
enum gsm_go_field {
    GSM_GO_HEAP_ALLOC,
    GSM_GO_HEAP_SYS,
    GSM_GO_HEAP_IDLE,
    GSM_GO_HEAP_INUSE,
    GSM_GO_HEAP_RELEASED,
    GSM_GO_HEAP_OBJECTS,
    GSM_GO_STACK_INUSE,
    GSM_GO_STACK_SYS,
    GSM_GO_MSPAN_INUSE,
    GSM_GO_MSPAN_SYS,
    GSM_GO_MCACHE_INUSE,
    GSM_GO_MCACHE_SYS,
    GSM_GO_BUCK_HASH_SYS,
    GSM_GO_GC_SYS,
    GSM_GO_OTHER_SYS,
    GSM_GO_NEXT_GC,
    GSM_GO_LAST_GC,
    GSM_GO_PAUSE_TOTAL,
    GSM_GO_NUM_GC,
    GSM_GO_GC_CPU_FRACTION,
    GSM_GO_SYS,
    GSM_GO_PAUSE_RECENT,      /* pause_ns_recent[] / pause_recent_count */
    GSM_GO_PAUSE_MAX_RECENT,  /* pause_max_recent_ns */
    GSM_GO_GOROUTINES,
    GSM_GO_GOMEMLIMIT,
    GSM_GO_MAX_RSS,
    GSM_GO_FIELD_COUNT
};

#define GSM_GO_PAUSE_RING 256   /* runtime.MemStats.PauseNs is a [256]uint64 circular buffer */

struct gsm_go_stats {
    uint64_t have;                  /* bit (1 << enum gsm_go_field) per field present */

    uint64_t heap_alloc_bytes;      /* HeapAlloc: live + not yet swept objects */
    uint64_t heap_sys_bytes;        /* HeapSys: heap address space obtained from the OS */
    uint64_t heap_idle_bytes;       /* HeapIdle: spans with no objects */
    uint64_t heap_inuse_bytes;      /* HeapInuse: spans with at least one object */
    uint64_t heap_released_bytes;   /* HeapReleased: idle and returned to the OS (madvise) */
    uint64_t heap_objects;
    uint64_t stack_inuse_bytes;     /* StackInuse: goroutine stack spans (in the heap arena) */
    uint64_t stack_sys_bytes;
    uint64_t mspan_inuse_bytes, mspan_sys_bytes;
    uint64_t mcache_inuse_bytes, mcache_sys_bytes;
    uint64_t buck_hash_sys_bytes;   /* profiling bucket hash table */
    uint64_t gc_sys_bytes;          /* GC metadata */
    uint64_t other_sys_bytes;       /* other off-heap runtime allocations */
    uint64_t next_gc_bytes;         /* heap goal of the next cycle */
    uint64_t last_gc_ms;            /* end of the last GC, Unix ms (0 = never) */
    uint64_t pause_total_ns;
    uint64_t num_gc;
    double gc_cpu_fraction;         /* share of CPU used by the GC since start, 0..1 */
    uint64_t sys_bytes;             /* Sys: all memory obtained from the OS by the runtime */
    uint64_t max_rss_bytes;         /* getrusage Maxrss (pprof block only) */

    /* The most recent GC pauses, newest first, at most GSM_GO_PAUSE_RING. */
    uint64_t pause_ns_recent[GSM_GO_PAUSE_RING];
    size_t pause_recent_count;
    uint64_t pause_max_recent_ns;   /* Prometheus go_gc_duration_seconds{quantile="1"} */

    uint64_t goroutines;
    uint64_t gomemlimit_bytes;      /* INT64_MAX (math.MaxInt64) means no limit, as in Go */

    char source[24];                /* "pprof-heap-debug1" | "expvar" | "prometheus" */
    char endpoint[256];             /* the URL the numbers came from */
    uint64_t taken_ms;              /* Unix ms when the response was complete */
};

static inline bool gsm_go_stats_has(const struct gsm_go_stats *s, enum gsm_go_field f) {
    return (s->have >> f) & 1;
}
static inline void gsm_go_stats_set(struct gsm_go_stats *s, enum gsm_go_field f) {
    s->have |= (uint64_t)1 << f;
}

/* The q-quantile (0 < q <= 1) of the recent GC pauses in ns, nearest rank. Falls back to the
 * maximum recent pause (Prometheus quantile="1") when there is no ring, which is an upper bound.
 * Returns 0 or -ENODATA. */
static inline int gsm_go_stats_pause_quantile_ns(const struct gsm_go_stats *s, double q, uint64_t *ret_ns) {
    size_t n = s->pause_recent_count < GSM_GO_PAUSE_RING ? s->pause_recent_count : GSM_GO_PAUSE_RING;
    if (!gsm_go_stats_has(s, GSM_GO_PAUSE_RECENT) || n == 0) {
        if (!gsm_go_stats_has(s, GSM_GO_PAUSE_MAX_RECENT))
            return -ENODATA;
        *ret_ns = s->pause_max_recent_ns;
        return 0;
    }
    uint64_t v[GSM_GO_PAUSE_RING];
    for (size_t i = 0; i < n; i++) {          /* insertion sort: n <= 256 */
        uint64_t x = s->pause_ns_recent[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    if (!(q > 0))
        q = 0;
    if (q > 1)
        q = 1;
    size_t rank = (size_t)(q * (double)n + 0.999999999); /* ceil(q*n), 1-based */
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    *ret_ns = v[rank - 1];
    return 0;
}
