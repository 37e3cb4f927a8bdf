/* Split the Go classes with the process's own runtime statistics (PRODUCT.md, "Facts about
 * Go's layout"): the arena (go-heap) holds the heap's spans and the goroutine stacks, so
 *
 *   arena RSS ~= HeapInuse + StackInuse + (HeapIdle - HeapReleased) [+ LazyFree]
 *
 * where HeapIdle - HeapReleased is idle memory the runtime keeps, and pages the runtime released
 * with MADV_FREE (GODEBUG=madvdontneed=0) stay resident as LazyFree until the kernel needs them.
 * The runtime's off-heap metadata (GCSys, MSpanSys, MCacheSys, OtherSys, BuckHashSys) lives in
 * the go-runtime regions. What the statistics do not explain is shown as a residual, signed. */
#pragma once

#include "analyses/totals.h"
#include "model/go_stats.h"

struct gsm_go_split {
    uint64_t arena_rss_bytes;           /* go-heap class RSS (smaps) */
    uint64_t heap_inuse_bytes;          /* HeapInuse */
    uint64_t stacks_bytes;              /* StackInuse: goroutine stacks */
    uint64_t idle_retained_bytes;       /* HeapIdle - HeapReleased */
    uint64_t released_resident_bytes;   /* LazyFree in the arena (smaps) */
    int64_t arena_residual_bytes;       /* arena RSS - the four above */

    uint64_t runtime_rss_bytes;         /* go-runtime class RSS (smaps) */
    uint64_t runtime_metadata_bytes;    /* GCSys + MSpanSys + MCacheSys + OtherSys + BuckHashSys */
    int64_t runtime_residual_bytes;     /* runtime RSS - metadata (negative: not all resident) */

    uint64_t smaps_taken_ms, stats_taken_ms, last_gc_ms;
    int64_t skew_ms;                    /* stats_taken - smaps_taken */
};

/* Needs HeapInuse, HeapIdle, HeapReleased and StackInuse; -ENODATA otherwise. */
int gsm_go_split_compute(const struct gsm_totals *t, const struct gsm_go_stats *s, uint64_t smaps_taken_ms,
                         struct gsm_go_split *ret);

/* Non-heap overhead a GOMEMLIMIT must leave room for: stacks, runtime metadata and every
 * non-Go class of the process (native heap, thread stacks, binary, libraries, mapped files...). */
uint64_t gsm_go_nonheap_overhead_bytes(const struct gsm_totals *t, const struct gsm_go_stats *s);
