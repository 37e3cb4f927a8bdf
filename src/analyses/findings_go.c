/* The Go rules of the findings table (analyses/findings.c holds the table): GOMEMLIMIT, RSS
 * over the heap, LazyFree, GC thrash and pauses, goroutines, GOGC, and the heap profile's
 * sync.Pool share and top allocation site. */
#include "analyses/findings_internal.h"
#include "analyses/go_heap_paths.h"
#include "analyses/go_split.h"
#include "model/go_build.h"
#include "model/go_env.h"
#include "util/cleanup.h"

#include <errno.h>

/* Go rules. GOMEMLIMIT is a soft limit on what the runtime maps; the rest of the process and
 * the cgroup's kernel memory must fit beside it, plus a margin for the time the GC needs to
 * react: 10% of the limit (the runtime itself can overshoot by a few percent). */
#define GO_LIMIT_MARGIN_RATIO 0.10
/* RSS well above the heap: at least twice HeapInuse and 64 MiB more. */
#define GO_RSS_OVER_HEAP_RATIO 2.0
#define GO_RSS_OVER_HEAP_BYTES (UINT64_C(64) << 20)
/* LazyFree pages (MADV_FREE, GODEBUG=madvdontneed=0) worth mentioning. */
#define GO_LAZYFREE_BYTES (UINT64_C(64) << 20)
#define GO_LAZYFREE_RATIO 0.25
/* GC thrashing: the GC takes a quarter of the CPU while the heap sits at >= 90% of GOMEMLIMIT. */
#define GO_GC_CPU_THRASH 0.25
#define GO_HEAP_NEAR_GOMEMLIMIT 0.90
/* A GC pause p99 above 10 ms hurts latency-sensitive services (the threshold). */
#define GO_PAUSE_P99_NS (UINT64_C(10) * 1000 * 1000)
/* 10,000 goroutines: about 20-80 MiB of stacks; often a leak in a one-shot view. */
#define GO_MANY_GOROUTINES 10000
#define GO_POOL_SHARE_INFO 0.10   /* sync.Pool New share of the in-use heap profile */
#define GO_POOL_SHARE_WARN 0.30
/* GOGC suggestions only when the GC costs at least 5% CPU (else the default is fine). */
#define GO_GC_CPU_NOTABLE 0.05


/* ---- Go rules ------------------------------------------------------------------------ */

/* GOMEMLIMIT as configured: from the environment (--read-env) or the runtime's own metric.
 * Returns 1 set (bytes in *ret), 0 known unset, -1 unknown. */
static int go_memlimit(const struct gsm_findings_input *in, uint64_t *ret) {
    if (in->go_env && in->go_env->gomemlimit.present) {
        uint64_t v;
        if (gsm_parse_gomemlimit(in->go_env->gomemlimit.value, &v) == 0 && v < (uint64_t)INT64_MAX) {
            *ret = v;
            return 1;
        }
        return 0;   /* "off" or unparsable (the runtime then ignores it too) */
    }
    if (in->go_stats && gsm_go_stats_has(in->go_stats, GSM_GO_GOMEMLIMIT)) {
        if (in->go_stats->gomemlimit_bytes >= (uint64_t)INT64_MAX)
            return 0;
        *ret = in->go_stats->gomemlimit_bytes;
        return 1;
    }
    if (in->go_env)
        return 0;   /* the environment was read and has no GOMEMLIMIT */
    return -1;
}

static bool is_go(const struct gsm_findings_input *in) {
    return in->proc && in->proc->go;
}

/* What a GOMEMLIMIT under the binding cgroup limit should be: limit - non-heap overhead -
 * margin. Returns false when the inputs are missing or nothing sensible is left. */
static bool go_recommended_limit(const struct gsm_findings_input *in, uint64_t *ret_limit, uint64_t *ret_overhead,
                                 uint64_t *ret_rec) {
    if (!in->eff || !in->eff->max.limited || !in->totals)
        return false;
    uint64_t limit = in->eff->max.bytes, overhead;
    if (in->go_stats && gsm_go_stats_has(in->go_stats, GSM_GO_STACK_INUSE))
        overhead = gsm_go_nonheap_overhead_bytes(in->totals, in->go_stats);
    else {
        overhead = 0;
        for (int c = 0; c < GSM_CLASS__COUNT; c++)
            if (c != GSM_CLASS_GO_HEAP)
                overhead += in->totals->cls[c].rss_bytes;
    }
    /* The cgroup's kernel memory (slab, sockets, page tables) is charged too. */
    if (in->bd)
        for (int p = 0; p < GSM_CG_PART__COUNT; p++)
            if (in->bd->parts[p].kernel && !in->bd->parts[p].reclaimable)
                overhead += in->bd->parts[p].bytes;
    uint64_t margin = (uint64_t)((double)limit * GO_LIMIT_MARGIN_RATIO);
    if (overhead + margin >= limit)
        return false;
    uint64_t rec = (limit - overhead - margin) & ~((UINT64_C(1) << 20) - 1);   /* whole MiB */
    *ret_limit = limit;
    *ret_overhead = overhead;
    *ret_rec = rec;
    return rec > 0;
}

int gsm_rule_go_memlimit(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                            struct gsm_findings *out) {
    if (!is_go(in))
        return 0;
    uint64_t gml = 0, limit, overhead, rec;
    int state = go_memlimit(in, &gml);
    if (!go_recommended_limit(in, &limit, &overhead, &rec))
        return 0;
    struct gsm_finding *f;
    if (state == 0) {
        if (!(f = emit(out, r->id, GSM_SEV_WARN)))
            return -ENOMEM;
        set_text(f->message, sizeof f->message,
                 "GOMEMLIMIT is unset under a %s cgroup limit: the Go heap grows to GOGC's goal without regard "
                 "to the limit", SZ(limit));
    } else if (state == 1 && gml >= limit) {
        if (!(f = emit(out, r->id, GSM_SEV_CRITICAL)))
            return -ENOMEM;
        set_text(f->message, sizeof f->message,
                 "GOMEMLIMIT %s is at or above the %s cgroup limit: the OOM killer acts before the Go GC does",
                 SZ(gml), SZ(limit));
        ev(f, "gomemlimit_bytes", (double)gml);
    } else if (state == 1 && gml > rec) {
        if (!(f = emit(out, r->id, GSM_SEV_WARN)))
            return -ENOMEM;
        set_text(f->message, sizeof f->message,
                 "GOMEMLIMIT %s leaves too little room under the %s limit for %s of memory outside the Go heap",
                 SZ(gml), SZ(limit), SZ(overhead));
        ev(f, "gomemlimit_bytes", (double)gml);
    } else
        return 0;
    ev(f, "limit_bytes", (double)limit);
    ev(f, "nonheap_overhead_bytes", (double)overhead);
    ev(f, "margin_bytes", (double)(uint64_t)((double)limit * GO_LIMIT_MARGIN_RATIO));
    ev(f, "recommended_gomemlimit_bytes", (double)rec);
    set_text(f->advice, sizeof f->advice,
             "Set GOMEMLIMIT=%lluMiB: limit %s - non-heap overhead %s (goroutine stacks, runtime metadata, native "
             "memory, binary, libraries, mapped files, kernel memory) - margin 10%% = %s. The GC then works harder "
             "near the limit instead of the kernel killing the process",
             (unsigned long long)(rec >> 20), SZ(limit), SZ(overhead), SZ(rec));
    return 0;
}

int gsm_rule_go_rss_over_heap(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                                 struct gsm_findings *out) {
    if (!is_go(in) || !in->totals || !in->go_split)
        return 0;
    const struct gsm_go_split *g = in->go_split;
    uint64_t rss = in->totals->all.rss_bytes, heap = g->heap_inuse_bytes;
    if ((double)rss < GO_RSS_OVER_HEAP_RATIO * (double)heap || rss < heap + GO_RSS_OVER_HEAP_BYTES)
        return 0;
    /* Which part explains most of the gap? */
    struct { const char *name; uint64_t bytes; const char *advice; } parts[] = {
        {"goroutine stacks", g->stacks_bytes, "look for a goroutine leak (/debug/pprof/goroutine?debug=1)"},
        {"idle heap the runtime keeps", g->idle_retained_bytes,
         "it is returned to the OS in the background (scavenger); GOMEMLIMIT makes it return sooner"},
        {"released but still resident (LazyFree)", g->released_resident_bytes,
         "GODEBUG=madvdontneed=1 (the default since Go 1.16) returns it at once"},
        {"Go runtime metadata", g->runtime_rss_bytes, "GC metadata grows with the heap's peak, not its current size"},
        {"native heap (cgo/libc malloc)", in->totals->cls[GSM_CLASS_NATIVE_HEAP].rss_bytes,
         "memory allocated in C through cgo is invisible to the Go GC: check the C side"},
        {"thread stacks", in->totals->cls[GSM_CLASS_THREAD_STACK].rss_bytes, "threads blocked in cgo/syscalls"},
        {"the binary and libraries", in->totals->cls[GSM_CLASS_BINARY].rss_bytes + in->totals->cls[GSM_CLASS_SHARED_LIB].rss_bytes,
         "text and data of the executable: large but shared and reclaimable"},
        {"mapped files", in->totals->cls[GSM_CLASS_FILE_MAPPED].rss_bytes, "page cache of mmap'd files: reclaimable"},
        {"shared memory", in->totals->cls[GSM_CLASS_SHMEM].rss_bytes, "memfd/tmpfs pages: freed only when unmapped and deleted"},
        {"other anonymous memory", in->totals->cls[GSM_CLASS_ANON_OTHER].rss_bytes, "mmap outside the Go runtime"},
    };
    size_t best = 0;
    for (size_t i = 1; i < ELEMENTSOF(parts); i++)
        if (parts[i].bytes > parts[best].bytes)
            best = i;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_INFO);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "RSS %s is %.1fx the Go heap in use (%s); the largest part of the rest "
             "is %s: %s", SZ(rss), heap ? (double)rss / (double)heap : 0.0, SZ(heap), parts[best].name,
             SZ(parts[best].bytes));
    ev(f, "rss_bytes", (double)rss);
    ev(f, "heap_inuse_bytes", (double)heap);
    ev(f, "largest_other_bytes", (double)parts[best].bytes);
    set_text(f->advice, sizeof f->advice, "%s", parts[best].advice);
    return 0;
}

int gsm_rule_go_lazyfree(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                            struct gsm_findings *out) {
    if (!is_go(in) || !in->totals)
        return 0;
    const struct gsm_class_totals *h = &in->totals->cls[GSM_CLASS_GO_HEAP];
    if (h->lazyfree_bytes < GO_LAZYFREE_BYTES && ratio_of(h->lazyfree_bytes, h->rss_bytes) < GO_LAZYFREE_RATIO)
        return 0;
    if (h->lazyfree_bytes == 0)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "%s of the Go heap's RSS is LazyFree: released with MADV_FREE, counted "
             "in RSS and in the cgroup until the kernel needs the memory", SZ(h->lazyfree_bytes));
    ev(f, "lazyfree_bytes", (double)h->lazyfree_bytes);
    ev(f, "arena_rss_bytes", (double)h->rss_bytes);
    set_text(f->advice, sizeof f->advice, "Unset GODEBUG=madvdontneed=0 (Go's default since 1.16 is madvdontneed=1, "
             "which returns pages at once), so RSS and working-set alerts see the real heap");
    return 0;
}

int gsm_rule_go_gc_thrash(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                             struct gsm_findings *out) {
    if (!is_go(in) || !in->go_stats || !gsm_go_stats_has(in->go_stats, GSM_GO_GC_CPU_FRACTION))
        return 0;
    const struct gsm_go_stats *s = in->go_stats;
    uint64_t gml;
    if (s->gc_cpu_fraction < GO_GC_CPU_THRASH || go_memlimit(in, &gml) != 1)
        return 0;
    uint64_t mapped = s->sys_bytes > s->heap_released_bytes ? s->sys_bytes - s->heap_released_bytes : 0;
    if (ratio_of(mapped, gml) < GO_HEAP_NEAR_GOMEMLIMIT)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "GC thrashing: the GC uses %u%% of the CPU while the runtime's memory "
             "%s sits at %u%% of GOMEMLIMIT %s", pct(s->gc_cpu_fraction), SZ(mapped), pct(ratio_of(mapped, gml)), SZ(gml));
    ev(f, "gc_cpu_fraction", s->gc_cpu_fraction);
    ev(f, "runtime_mapped_bytes", (double)mapped);
    ev(f, "gomemlimit_bytes", (double)gml);
    set_text(f->advice, sizeof f->advice, "The live heap has outgrown GOMEMLIMIT: raise it (and the cgroup limit with "
             "it), or find what the live heap holds (go tool pprof -sample_index=inuse_space /debug/pprof/heap)");
    return 0;
}

int gsm_rule_go_gc_pause(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                            struct gsm_findings *out) {
    if (!is_go(in) || !in->go_stats)
        return 0;
    const struct gsm_go_stats *s = in->go_stats;
    uint64_t p99 = 0;
    if (gsm_go_stats_has(s, GSM_GO_PAUSE_RECENT) && s->pause_recent_count > 0) {
        uint64_t v[GSM_GO_PAUSE_RING];
        size_t n = s->pause_recent_count < GSM_GO_PAUSE_RING ? s->pause_recent_count : GSM_GO_PAUSE_RING;
        memcpy(v, s->pause_ns_recent, n * sizeof *v);
        for (size_t i = 1; i < n; i++)   /* n <= 256: insertion sort */
            for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
                uint64_t t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
        p99 = v[(n * 99 + 99) / 100 - 1];
    } else if (gsm_go_stats_has(s, GSM_GO_PAUSE_MAX_RECENT))
        p99 = s->pause_max_recent_ns;   /* go_gc_duration_seconds max: an upper bound of p99 */
    else
        return 0;
    if (p99 <= GO_PAUSE_P99_NS)
        return 0;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "GC stop-the-world pause p99 is %.1f ms (over %llu recent GCs)",
             (double)p99 / 1e6,
             (unsigned long long)(s->pause_recent_count < GSM_GO_PAUSE_RING ? s->pause_recent_count : GSM_GO_PAUSE_RING));
    ev(f, "pause_p99_ns", (double)p99);
    set_text(f->advice, sizeof f->advice, "Long pauses usually come from huge pointer-rich heaps, many goroutines "
             "(stack scanning) or CPU starvation (GOMAXPROCS above the CPU limit: set it to the cgroup's CPU quota)");
    return 0;
}

int gsm_rule_go_goroutines(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                              struct gsm_findings *out) {
    if (!is_go(in) || !in->go_stats || !gsm_go_stats_has(in->go_stats, GSM_GO_GOROUTINES) ||
        in->go_stats->goroutines < GO_MANY_GOROUTINES)
        return 0;
    const struct gsm_go_stats *s = in->go_stats;
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_WARN);
    if (!f)
        return -ENOMEM;
    set_text(f->message, sizeof f->message, "%llu goroutines (stacks in use %s)", (unsigned long long)s->goroutines,
             SZ(s->stack_inuse_bytes));
    ev(f, "goroutines", (double)s->goroutines);
    ev(f, "stack_inuse_bytes", (double)s->stack_inuse_bytes);
    set_text(f->advice, sizeof f->advice, "If the count grows over time it is a leak: group them by stack with "
             "/debug/pprof/goroutine?debug=1 and look for the largest group blocked on a channel or a lock; "
             "`gsmapper watch` tracks the growth");
    return 0;
}

int gsm_rule_go_gogc(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                        struct gsm_findings *out) {
    if (!is_go(in) || !in->go_stats)
        return 0;
    const struct gsm_go_stats *s = in->go_stats;
    if (!gsm_go_stats_has(s, GSM_GO_HEAP_ALLOC) || !gsm_go_stats_has(s, GSM_GO_GC_CPU_FRACTION) || s->heap_alloc_bytes == 0)
        return 0;
    uint64_t limit, overhead, rec, gml;
    if (!go_recommended_limit(in, &limit, &overhead, &rec) || go_memlimit(in, &gml) == 1)
        return 0;   /* with GOMEMLIMIT set, GOGC matters less: the limit rule covers it */
    int32_t gogc = 100;
    if (in->go_env && in->go_env->gogc.present && gsm_parse_gogc(in->go_env->gogc.value, &gogc) < 0)
        return 0;
    if (gogc < 0)
        return 0;   /* GOGC=off */
    /* The heap goal is live * (1 + GOGC/100); HeapAlloc approximates live after a GC. Pick the
     * GOGC whose goal fits the recommended room. */
    double live = (double)s->heap_alloc_bytes;
    double fit = ((double)rec / live - 1.0) * 100.0;
    if (fit < 10)
        fit = 10;
    int32_t suggest = fit > 1000 ? 1000 : (int32_t)(fit / 10) * 10;
    enum gsm_severity sev;
    if (live * (1 + gogc / 100.0) > (double)rec)
        sev = GSM_SEV_WARN;      /* today's goal overshoots the room under the limit */
    else if (suggest >= gogc * 3 / 2 && s->gc_cpu_fraction >= GO_GC_CPU_NOTABLE)
        sev = GSM_SEV_INFO;      /* room to trade memory for CPU */
    else
        return 0;
    struct gsm_finding *f = emit(out, r->id, sev);
    if (!f)
        return -ENOMEM;
    if (sev == GSM_SEV_WARN)
        set_text(f->message, sizeof f->message, "with GOGC=%d the heap goal (%s) exceeds the %s left under the limit",
                 (int)gogc, SZ((uint64_t)(live * (1 + gogc / 100.0))), SZ(rec));
    else
        set_text(f->message, sizeof f->message, "the GC uses %u%% CPU while the heap goal stays far below the limit: "
                 "GOGC=%d would fit", pct(s->gc_cpu_fraction), (int)suggest);
    ev(f, "gogc", gogc);
    ev(f, "suggested_gogc", suggest);
    ev(f, "heap_alloc_bytes", live);
    ev(f, "room_bytes", (double)rec);
    set_text(f->advice, sizeof f->advice, "GOGC=%d: heap goal = live heap %s x (1 + %d/100) = %s, within %s (limit - "
             "overhead - 10%%); better still, set GOMEMLIMIT=%lluMiB and keep GOGC", (int)suggest, SZ((uint64_t)live),
             (int)suggest, SZ((uint64_t)(live * (1 + suggest / 100.0))), SZ(rec), (unsigned long long)(rec >> 20));
    return 0;
}

/* "main.newBuf (main.go:41)" */
static void site_str(const struct gsm_go_heap_site *s, char *buf, size_t size) {
    const char *file = s->file ? strrchr(s->file, '/') : NULL;
    snprintf(buf, size, "%s (%s:%lld)", s->function ? s->function : "?", file ? file + 1 : s->file ? s->file : "?",
             (long long)s->line);
}

static const char *heap_as_of(const struct gsm_heap_profile *hp) {
    return hp->as_of.forced_gc ? "after a forced GC" : "as of the last GC";
}

int gsm_rule_go_sync_pool(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                             struct gsm_findings *out) {
    struct gsm_go_heap_paths hp;
    if (!is_go(in) || !in->go_heap || gsm_go_heap_paths_compute(in->go_heap, &hp) < 0)
        return 0;
    double share = ratio_of(hp.pool_bytes, hp.total_bytes);
    if (share < GO_POOL_SHARE_INFO)
        return 0;
    struct gsm_finding *f = emit(out, r->id, share >= GO_POOL_SHARE_WARN ? GSM_SEV_WARN : GSM_SEV_INFO);
    if (!f)
        return -ENOMEM;
    char site[320];
    site_str(&hp.pool_new, site, sizeof site);
    set_text(f->message, sizeof f->message, "%u%% of the in-use Go heap (%s of %s, %s) was allocated by sync.Pool New "
             "functions, most by %s (%s)", pct(share), SZ(hp.pool_bytes), SZ(hp.total_bytes), heap_as_of(in->go_heap),
             site, SZ(hp.pool_new.inuse_bytes));
    ev(f, "pool_inuse_bytes", (double)hp.pool_bytes);
    ev(f, "pool_inuse_objects", (double)hp.pool_objects);
    ev(f, "profile_inuse_bytes", (double)hp.total_bytes);
    ev(f, "ratio", share);
    ev(f, "top_new_inuse_bytes", (double)hp.pool_new.inuse_bytes);
    set_text(f->advice, sizeof f->advice, "Objects taken with Get and never Put back, or pooled buffers that grew "
             "large, stay alive: Put objects back when done, drop buffers above a size cap instead of Put, and check "
             "with `go tool pprof -sample_index=inuse_space -focus='sync\\.\\(\\*Pool\\)\\.Get' "
             "http://HOST/debug/pprof/heap`");
    return 0;
}

int gsm_rule_go_top_site(const struct gsm_findings_input *in, const struct gsm_rule_info *r,
                            struct gsm_findings *out) {
    struct gsm_go_heap_paths hp;
    if (!is_go(in) || !in->go_heap || gsm_go_heap_paths_compute(in->go_heap, &hp) < 0)
        return 0;
    double share = ratio_of(hp.top.inuse_bytes, hp.total_bytes);
    struct gsm_finding *f = emit(out, r->id, GSM_SEV_INFO);
    if (!f)
        return -ENOMEM;
    char site[320];
    site_str(&hp.top, site, sizeof site);
    set_text(f->message, sizeof f->message, "%s holds %s, %u%% of the in-use Go heap (%s)", site,
             SZ(hp.top.inuse_bytes), pct(share), heap_as_of(in->go_heap));
    ev(f, "site_inuse_bytes", (double)hp.top.inuse_bytes);
    ev(f, "site_inuse_objects", (double)hp.top.inuse_objects);
    ev(f, "profile_inuse_bytes", (double)hp.total_bytes);
    ev(f, "ratio", share);
    set_text(f->advice, sizeof f->advice, "What keeps these objects reachable decides whether they are needed: "
             "`go tool pprof -sample_index=inuse_space -list '%s' http://HOST/debug/pprof/heap` shows the line; "
             "a cache or map that only grows is the usual cause", hp.top.function ? hp.top.function : "?");
    return 0;
}
