/* Split the Go classes with the process's own runtime statistics (PRODUCT.md, "Facts about
 * Go's layout"), comparing resident with resident and reserved with reserved.
 *
 * go-heap: the arena holds the heap's spans and the goroutine stacks, so
 *
 *   arena RSS ~= HeapInuse + StackInuse + (HeapIdle - HeapReleased) [+ LazyFree]
 *
 * where HeapIdle - HeapReleased is idle memory the runtime keeps, and pages the runtime released
 * with MADV_FREE (GODEBUG=madvdontneed=0) stay resident as LazyFree until the kernel needs them.
 * The difference is a signed residual; it closes within max(2%, 1 MiB), and a larger one is
 * given the cause the numbers point to (gsm_go_split_cause_text).
 *
 * go-runtime: the runtime's off-heap metadata. The *Sys figures (GCSys, MSpanSys, MCacheSys,
 * OtherSys, BuckHashSys) are address space the runtime reserved and touches as it needs it
 * (the profiling bucket table, the heap bitmap of the whole arena), not resident memory, so they
 * are not subtracted from an RSS: the class RSS is expected between what is surely in use
 * (MSpanInuse + MCacheInuse) and what is reserved; only RSS above the reserved figure is
 * memory the statistics do not explain. */
#pragma once

#include "analyses/totals.h"
#include "model/go_stats.h"

#include <stdbool.h>

enum gsm_go_split_cause {
    GSM_GO_SPLIT_CLOSES,        /* |residual| <= tolerance */
    GSM_GO_SPLIT_SKEW,          /* statistics and smaps read >= 1 s apart: the heap moved in between */
    GSM_GO_SPLIT_UNTOUCHED,     /* RSS below: pages the runtime counts (fresh spans, stack tops) never touched */
    GSM_GO_SPLIT_GC_METADATA,   /* RSS above by <= GCSys: GC work buffers and pointer bitmaps live in the arena */
    GSM_GO_SPLIT_NOT_RUNTIME,   /* RSS above by more: memory the runtime does not account for */
};

/* Residuals within max(2% of the runtime's figure, 1 MiB) close (PRODUCT.md). */
#define GSM_GO_SPLIT_TOLERANCE_RATIO 0.02
#define GSM_GO_SPLIT_TOLERANCE_MIN_BYTES ((uint64_t)1 << 20)
#define GSM_GO_SPLIT_SKEW_MS 1000

struct gsm_go_split {
    uint64_t arena_rss_bytes;           /* go-heap class RSS (smaps) */
    uint64_t heap_inuse_bytes;          /* HeapInuse */
    uint64_t stacks_bytes;              /* StackInuse: goroutine stacks */
    uint64_t idle_retained_bytes;       /* HeapIdle - HeapReleased */
    uint64_t released_resident_bytes;   /* LazyFree in the arena (smaps) */
    uint64_t arena_expected_bytes;      /* the four above */
    int64_t arena_residual_bytes;       /* arena RSS - expected */
    uint64_t arena_tolerance_bytes;     /* max(2% of expected, 1 MiB) */
    enum gsm_go_split_cause arena_cause;

    uint64_t runtime_rss_bytes;         /* go-runtime class RSS (smaps): resident */
    uint64_t runtime_inuse_bytes;       /* MSpanInuse + MCacheInuse: surely touched */
    uint64_t runtime_reserved_bytes;    /* GCSys + MSpanSys + MCacheSys + OtherSys + BuckHashSys: reserved */
    uint64_t runtime_above_reserved_bytes; /* RSS - reserved beyond the tolerance, else 0 */
    enum gsm_go_split_cause runtime_cause;  /* CLOSES or NOT_RUNTIME */

    uint64_t smaps_taken_ms, stats_taken_ms, last_gc_ms;
    int64_t skew_ms;                    /* stats_taken - smaps_taken */
};

/* Needs HeapInuse, HeapIdle, HeapReleased and StackInuse; -ENODATA otherwise. */
int gsm_go_split_compute(const struct gsm_totals *t, const struct gsm_go_stats *s, uint64_t smaps_taken_ms,
                         struct gsm_go_split *ret);

/* One line naming the cause: "closes within max(2%, 1 MiB)", "statistics and smaps were read
 * N ms apart" ... */
const char *gsm_go_split_cause_text(enum gsm_go_split_cause c);
/* "closes" | "skew" | "untouched" | "gc-metadata" | "not-runtime" */
const char *gsm_go_split_cause_name(enum gsm_go_split_cause c);

/* Non-heap overhead a GOMEMLIMIT must leave room for: stacks, runtime metadata and every
 * non-Go class of the process (native heap, thread stacks, binary, libraries, mapped files...). */
uint64_t gsm_go_nonheap_overhead_bytes(const struct gsm_totals *t, const struct gsm_go_stats *s);
