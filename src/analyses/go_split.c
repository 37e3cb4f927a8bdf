#include "analyses/go_split.h"

#include <errno.h>
#include <string.h>

static int64_t sub(uint64_t a, uint64_t b) {
    return a >= b ? (int64_t)(a - b) : -(int64_t)(b - a);
}

static uint64_t tolerance(uint64_t expected) {
    uint64_t t = (uint64_t)((double)expected * GSM_GO_SPLIT_TOLERANCE_RATIO);
    return t > GSM_GO_SPLIT_TOLERANCE_MIN_BYTES ? t : GSM_GO_SPLIT_TOLERANCE_MIN_BYTES;
}

static enum gsm_go_split_cause arena_cause(const struct gsm_go_split *g, const struct gsm_go_stats *s) {
    uint64_t off = g->arena_residual_bytes < 0 ? (uint64_t)-g->arena_residual_bytes : (uint64_t)g->arena_residual_bytes;
    if (off <= g->arena_tolerance_bytes)
        return GSM_GO_SPLIT_CLOSES;
    if (g->skew_ms >= GSM_GO_SPLIT_SKEW_MS || g->skew_ms <= -GSM_GO_SPLIT_SKEW_MS)
        return GSM_GO_SPLIT_SKEW;
    if (g->arena_residual_bytes < 0)
        return GSM_GO_SPLIT_UNTOUCHED;
    return off <= s->gc_sys_bytes + g->arena_tolerance_bytes ? GSM_GO_SPLIT_GC_METADATA : GSM_GO_SPLIT_NOT_RUNTIME;
}

int gsm_go_split_compute(const struct gsm_totals *t, const struct gsm_go_stats *s, uint64_t smaps_taken_ms,
                         struct gsm_go_split *ret) {
    if (!gsm_go_stats_has(s, GSM_GO_HEAP_INUSE) || !gsm_go_stats_has(s, GSM_GO_HEAP_IDLE) ||
        !gsm_go_stats_has(s, GSM_GO_HEAP_RELEASED) || !gsm_go_stats_has(s, GSM_GO_STACK_INUSE))
        return -ENODATA;
    struct gsm_go_split g = {0};
    const struct gsm_class_totals *heap = &t->cls[GSM_CLASS_GO_HEAP], *rt = &t->cls[GSM_CLASS_GO_RUNTIME];
    g.arena_rss_bytes = heap->rss_bytes;
    g.heap_inuse_bytes = s->heap_inuse_bytes;
    g.stacks_bytes = s->stack_inuse_bytes;
    g.idle_retained_bytes = s->heap_idle_bytes > s->heap_released_bytes ? s->heap_idle_bytes - s->heap_released_bytes : 0;
    g.released_resident_bytes = heap->lazyfree_bytes;
    g.arena_expected_bytes = g.heap_inuse_bytes + g.stacks_bytes + g.idle_retained_bytes + g.released_resident_bytes;
    g.arena_residual_bytes = sub(g.arena_rss_bytes, g.arena_expected_bytes);
    g.arena_tolerance_bytes = tolerance(g.arena_expected_bytes);
    g.smaps_taken_ms = smaps_taken_ms;
    g.stats_taken_ms = s->taken_ms;
    g.last_gc_ms = s->last_gc_ms;
    g.skew_ms = sub(s->taken_ms, smaps_taken_ms);
    g.arena_cause = arena_cause(&g, s);

    g.runtime_rss_bytes = rt->rss_bytes;
    g.runtime_inuse_bytes = s->mspan_inuse_bytes + s->mcache_inuse_bytes;
    g.runtime_reserved_bytes = s->gc_sys_bytes + s->mspan_sys_bytes + s->mcache_sys_bytes + s->other_sys_bytes +
                               s->buck_hash_sys_bytes;
    uint64_t rt_tol = tolerance(g.runtime_reserved_bytes);
    if (g.runtime_rss_bytes > g.runtime_reserved_bytes + rt_tol) {
        g.runtime_above_reserved_bytes = g.runtime_rss_bytes - g.runtime_reserved_bytes;
        g.runtime_cause = GSM_GO_SPLIT_NOT_RUNTIME;
    }
    *ret = g;
    return 0;
}

const char *gsm_go_split_cause_name(enum gsm_go_split_cause c) {
    switch (c) {
    case GSM_GO_SPLIT_CLOSES: return "closes";
    case GSM_GO_SPLIT_SKEW: return "skew";
    case GSM_GO_SPLIT_UNTOUCHED: return "untouched";
    case GSM_GO_SPLIT_GC_METADATA: return "gc-metadata";
    case GSM_GO_SPLIT_NOT_RUNTIME: return "not-runtime";
    }
    return "?";
}

const char *gsm_go_split_cause_text(enum gsm_go_split_cause c) {
    switch (c) {
    case GSM_GO_SPLIT_CLOSES: return "closes within max(2%, 1 MiB)";
    case GSM_GO_SPLIT_SKEW:
        return "the statistics and smaps were read 1 s or more apart: the heap moved in between";
    case GSM_GO_SPLIT_UNTOUCHED:
        return "RSS below the runtime's figures: pages it counts in use or idle (fresh spans, goroutine stacks, "
               "idle spans never reused) were never touched, so the kernel has no page for them";
    case GSM_GO_SPLIT_GC_METADATA:
        return "RSS above, by no more than GCSys: GC work buffers and pointer bitmaps (counted in GCSys) live in "
               "the arena";
    case GSM_GO_SPLIT_NOT_RUNTIME:
        return "RSS above what the runtime accounts for: anonymous memory in the class the runtime did not map "
               "(cgo or a library mapping in the same range)";
    }
    return "?";
}

uint64_t gsm_go_nonheap_overhead_bytes(const struct gsm_totals *t, const struct gsm_go_stats *s) {
    /* GOMEMLIMIT counts what the runtime maps (Sys - HeapReleased), so its own metadata and the
     * stacks are inside it; the rest of the process is not and must fit beside it. */
    uint64_t outside = 0;
    for (int c = 0; c < GSM_CLASS__COUNT; c++)
        if (c != GSM_CLASS_GO_HEAP && c != GSM_CLASS_GO_RUNTIME)
            outside += t->cls[c].rss_bytes;
    uint64_t runtime_inside = s->stack_inuse_bytes + s->gc_sys_bytes + s->mspan_sys_bytes + s->mcache_sys_bytes +
                              s->other_sys_bytes + s->buck_hash_sys_bytes;
    return outside + runtime_inside;
}
