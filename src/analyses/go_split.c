#include "analyses/go_split.h"

#include <errno.h>
#include <string.h>

static int64_t sub(uint64_t a, uint64_t b) {
    return a >= b ? (int64_t)(a - b) : -(int64_t)(b - a);
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
    g.arena_residual_bytes = sub(g.arena_rss_bytes, g.heap_inuse_bytes + g.stacks_bytes + g.idle_retained_bytes +
                                                        g.released_resident_bytes);
    g.runtime_rss_bytes = rt->rss_bytes;
    g.runtime_metadata_bytes = s->gc_sys_bytes + s->mspan_sys_bytes + s->mcache_sys_bytes + s->other_sys_bytes +
                               s->buck_hash_sys_bytes;
    g.runtime_residual_bytes = sub(g.runtime_rss_bytes, g.runtime_metadata_bytes);
    g.smaps_taken_ms = smaps_taken_ms;
    g.stats_taken_ms = s->taken_ms;
    g.last_gc_ms = s->last_gc_ms;
    g.skew_ms = sub(s->taken_ms, smaps_taken_ms);
    *ret = g;
    return 0;
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
