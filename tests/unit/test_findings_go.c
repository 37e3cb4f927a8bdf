/* The Go findings (analyses/findings.c, GSM-GO-*) and the go-heap / go-runtime split
 * (analyses/go_split.c). For each rule: an input that fires it at the right severity with the
 * evidence it should carry, one just on the other side of its threshold that does not, and one
 * without the Go input (not a Go process, no statistics) that does not. Inputs are built in C
 * like tests/unit/test_findings.c (its small helpers are copied here as static functions).
 *
 * The fixture (fxg_init) is a Go process in a v2 cgroup "/app" with a 1 GiB memory.max:
 *   classes (RSS)  go-heap 200 MiB, go-runtime 20 MiB, thread-stack 1 MiB, native-heap 30 MiB,
 *                  binary 15 MiB, shared-lib 5 MiB                      (all: 271 MiB)
 *   statistics     HeapInuse 150 MiB, HeapIdle 40 MiB, HeapReleased 20 MiB, StackInuse 8 MiB,
 *                  GCSys 6 MiB, MSpanSys 2 MiB, MCacheSys 16 KiB, OtherSys 3 MiB,
 *                  BuckHashSys 1 MiB, Sys 250 MiB, HeapAlloc 120 MiB, GC CPU 1%;
 *                  no GOMEMLIMIT, no pauses, no goroutine count
 *   cgroup         the breakdown of test_findings.c with the kernel's flags: unreclaimable
 *                  kernel memory = slab_unreclaimable 10 MiB + sock 1 MiB = 11 MiB
 *   environment    not read (go_env NULL)
 * It fires nothing. The recommended GOMEMLIMIT for it, by hand:
 *   overhead = outside the runtime (1 + 30 + 15 + 5 MiB = 51 MiB)
 *            + stacks and metadata inside it (8 + 6 + 2 + 3 + 1 MiB + 16 KiB = 20 MiB + 16 KiB)
 *            + kernel (11 MiB)                                   = 82 MiB + 16 KiB = 85999616
 *   margin   = (uint64_t)(1073741824 * 0.10)                                         = 107374182
 *   rec      = 1073741824 - 85999616 - 107374182 = 880368026 -> whole MiB: 839 MiB = 879755264 */
#include "test.h"
#include "analyses/findings.h"
#include "analyses/go_split.h"
#include "model/go_heap_profile.h"
#include "model/go_stats.h"
#include "readers/elf_go.h"
#include "readers/proc_environ.h"

#include <errno.h>
#include <stdlib.h>

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define MS (UINT64_C(1000) * 1000)   /* one millisecond in ns */

#define FX_OVERHEAD UINT64_C(85999616)
#define FX_MARGIN UINT64_C(107374182)
#define FX_REC (UINT64_C(839) * MiB)

#define ID_MEMLIMIT "GSM-GO-MEMLIMIT"
#define ID_RSS "GSM-GO-RSS-OVER-HEAP"
#define ID_LAZYFREE "GSM-GO-LAZYFREE"
#define ID_THRASH "GSM-GO-GC-THRASH"
#define ID_PAUSE "GSM-GO-GC-PAUSE"
#define ID_GOROUTINES "GSM-GO-GOROUTINES"
#define ID_GOGC "GSM-GO-GOGC"

/* ---- Fixture ----------------------------------------------------------------------------- */

struct fxg {
    struct gsm_cgroup_memory cg;
    struct gsm_cg_effective eff;
    struct gsm_cg_breakdown bd;
    struct gsm_host_info host;
    struct gsm_process proc;
    struct gsm_go_info go;
    struct gsm_totals totals;
    struct gsm_go_stats stats;
    struct gsm_go_split split;
    struct gsm_go_env env;
    struct gsm_findings_input in;
    char own_path[64];
};

static void bd_set(struct gsm_cg_breakdown *bd, enum gsm_cg_part part, uint64_t bytes) {
    bd->parts[part].have = true;
    bd->parts[part].bytes = bytes;
}

/* Derived numbers and the reclaimable / kernel flags the way cgroup_breakdown() sets them. */
static void bd_finish(struct gsm_cg_breakdown *bd) {
    bd->parts[GSM_CG_PART_FILE_ACTIVE].reclaimable = true;
    bd->parts[GSM_CG_PART_FILE_INACTIVE].reclaimable = true;
    bd->parts[GSM_CG_PART_SLAB_RECLAIMABLE].reclaimable = true;
    for (int k = GSM_CG_PART_SLAB_RECLAIMABLE; k <= GSM_CG_PART_KERNEL_OTHER; k++)
        bd->parts[k].kernel = true;
    uint64_t named = 0;
    for (int k = 0; k < GSM_CG_PART_OTHER; k++)
        named += bd->parts[k].bytes;
    bd->parts[GSM_CG_PART_OTHER].have = true;
    bd->parts[GSM_CG_PART_OTHER].bytes = named < bd->usage_bytes ? bd->usage_bytes - named : 0;
    uint64_t recl = bd->parts[GSM_CG_PART_FILE_ACTIVE].bytes + bd->parts[GSM_CG_PART_FILE_INACTIVE].bytes +
                    bd->parts[GSM_CG_PART_SLAB_RECLAIMABLE].bytes;
    bd->reclaimable_bytes = recl > bd->usage_bytes ? bd->usage_bytes : recl;
    bd->unreclaimable_bytes = bd->usage_bytes - bd->reclaimable_bytes;
    uint64_t inact = bd->parts[GSM_CG_PART_FILE_INACTIVE].bytes;
    bd->working_set_bytes = inact < bd->usage_bytes ? bd->usage_bytes - inact : 0;
    bd->anon_swappable_bytes = bd->parts[GSM_CG_PART_ANON].bytes + bd->parts[GSM_CG_PART_SHMEM].bytes;
}

static void cls_rss(struct fxg *x, enum gsm_class c, uint64_t bytes) {
    x->totals.all.rss_bytes -= x->totals.cls[c].rss_bytes;
    x->totals.cls[c].rss_bytes = bytes;
    x->totals.all.rss_bytes += bytes;
}

static void stat_set(struct gsm_go_stats *s, enum gsm_go_field f) {
    s->have |= UINT64_C(1) << f;
}
static void stat_clear(struct gsm_go_stats *s, enum gsm_go_field f) {
    s->have &= ~(UINT64_C(1) << f);
}

/* Read the environment: present, with only the given GOMEMLIMIT / GOGC (NULL: absent). */
static void env_set(struct fxg *x, const char *gomemlimit, const char *gogc) {
    memset(&x->env, 0, sizeof x->env);
    if (gomemlimit) {
        x->env.gomemlimit.present = true;
        snprintf(x->env.gomemlimit.value, sizeof x->env.gomemlimit.value, "%s", gomemlimit);
    }
    if (gogc) {
        x->env.gogc.present = true;
        snprintf(x->env.gogc.value, sizeof x->env.gogc.value, "%s", gogc);
    }
    x->in.go_env = &x->env;
}

static void fxg_init(struct fxg *x) {
    memset(x, 0, sizeof *x);
    snprintf(x->own_path, sizeof x->own_path, "/app");

    struct gsm_cgroup_memory *cg = &x->cg;
    cg->version = GSM_CGROUP_V2;
    cg->usage_bytes = (struct gsm_cg_value){true, 400 * MiB};
    cg->max = (struct gsm_cg_limit){true, false, 1 * GiB};
    cg->high = (struct gsm_cg_limit){true, true, UINT64_MAX};
    cg->swap_max = (struct gsm_cg_limit){true, true, UINT64_MAX};
    cg->swap_usage_bytes = (struct gsm_cg_value){true, 0};
    cg->events.have = true;
    for (int e = 0; e < GSM_CG_EV__COUNT; e++)
        cg->events.have_key[e] = true;
    cg->stat.have = true;
    cg->stat.version = GSM_CGROUP_V2;

    x->eff.max = (struct gsm_cg_binding){.limited = true, .bytes = 1 * GiB, .level = 0, .path = x->own_path};
    x->eff.high = (struct gsm_cg_binding){.limited = false, .bytes = UINT64_MAX};
    x->eff.n_levels = 2;
    x->eff.complete = true;

    struct gsm_cg_breakdown *bd = &x->bd;
    bd->version = GSM_CGROUP_V2;
    bd->usage_bytes = 400 * MiB;
    bd_set(bd, GSM_CG_PART_ANON, 300 * MiB);
    bd_set(bd, GSM_CG_PART_FILE_ACTIVE, 40 * MiB);
    bd_set(bd, GSM_CG_PART_FILE_INACTIVE, 20 * MiB);
    bd_set(bd, GSM_CG_PART_SLAB_RECLAIMABLE, 10 * MiB);
    bd_set(bd, GSM_CG_PART_SLAB_UNRECLAIMABLE, 10 * MiB);
    bd_set(bd, GSM_CG_PART_SOCK, 1 * MiB);
    bd->swap_bytes = (struct gsm_cg_value){true, 0};
    bd_finish(bd);

    struct gsm_host_info *h = &x->host;
    h->have_thp = true;
    snprintf(h->thp_enabled, sizeof h->thp_enabled, "madvise");
    h->have_max_ptes_none = true;
    h->khugepaged_max_ptes_none = 511;
    h->have_swap = true;
    h->swap_total_bytes = 2 * GiB;
    h->swap_free_bytes = 2 * GiB;
    h->have_mem_total = true;
    h->mem_total_bytes = 16 * GiB;
    h->have_max_map_count = true;
    h->max_map_count = 65530;
    h->page_size = 4096;

    x->proc.pid = 4242;
    x->proc.have_status = true;
    x->proc.status.threads = 10;
    x->proc.have_smaps = true;
    x->proc.n_maps = 100;
    x->proc.go = &x->go;   /* zeroed: a Go process is one with go != NULL */
    x->totals.all.anon_bytes = 300 * MiB;
    x->totals.all.n_mappings = 100;
    cls_rss(x, GSM_CLASS_GO_HEAP, 200 * MiB);
    cls_rss(x, GSM_CLASS_GO_RUNTIME, 20 * MiB);
    cls_rss(x, GSM_CLASS_THREAD_STACK, 1 * MiB);
    cls_rss(x, GSM_CLASS_NATIVE_HEAP, 30 * MiB);
    cls_rss(x, GSM_CLASS_BINARY, 15 * MiB);
    cls_rss(x, GSM_CLASS_SHARED_LIB, 5 * MiB);

    struct gsm_go_stats *s = &x->stats;
    s->heap_inuse_bytes = 150 * MiB;
    s->heap_idle_bytes = 40 * MiB;
    s->heap_released_bytes = 20 * MiB;
    s->stack_inuse_bytes = 8 * MiB;
    s->gc_sys_bytes = 6 * MiB;
    s->mspan_sys_bytes = 2 * MiB;
    s->mcache_sys_bytes = 16384;
    s->other_sys_bytes = 3 * MiB;
    s->buck_hash_sys_bytes = 1 * MiB;
    s->sys_bytes = 250 * MiB;
    s->heap_alloc_bytes = 120 * MiB;
    s->gc_cpu_fraction = 0.01;
    s->num_gc = 500;
    s->taken_ms = 1700000000500;
    s->last_gc_ms = 1700000000000;
    enum gsm_go_field fields[] = {GSM_GO_HEAP_INUSE, GSM_GO_HEAP_IDLE, GSM_GO_HEAP_RELEASED, GSM_GO_STACK_INUSE,
                                  GSM_GO_GC_SYS, GSM_GO_MSPAN_SYS, GSM_GO_MCACHE_SYS, GSM_GO_OTHER_SYS,
                                  GSM_GO_BUCK_HASH_SYS, GSM_GO_SYS, GSM_GO_HEAP_ALLOC, GSM_GO_GC_CPU_FRACTION,
                                  GSM_GO_NUM_GC, GSM_GO_LAST_GC};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        stat_set(s, fields[i]);
    snprintf(s->source, sizeof s->source, "expvar");

    x->in = (struct gsm_findings_input){
        .proc = &x->proc, .totals = &x->totals, .cg = &x->cg, .eff = &x->eff,
        .bd = &x->bd, .host = &x->host, .n_processes = 1, .go_stats = &x->stats,
    };
}

/* ---- Helpers (copied from test_findings.c) -------------------------------------------------- */

static const struct gsm_finding *find_id(const struct gsm_findings *f, const char *id) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->items[i].id, id) == 0)
            return &f->items[i];
    return NULL;
}

static size_t count_id(const struct gsm_findings *f, const char *id) {
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += strcmp(f->items[i].id, id) == 0;
    return n;
}

/* The value of evidence `key`, or -1 when absent. */
static double evidence(const struct gsm_finding *f, const char *key) {
    for (size_t i = 0; i < f->n_evidence; i++)
        if (strcmp(f->evidence[i].key, key) == 0)
            return f->evidence[i].value;
    return -1;
}

/* Evaluate and report how `id` came out: -1 absent, else its severity. Frees the list. */
static int sev_of(const struct fxg *x, const char *id) {
    struct gsm_findings fs;
    if (gsm_findings_evaluate(&x->in, &fs) < 0)
        return -2;
    const struct gsm_finding *f = find_id(&fs, id);
    int s = f ? (int)f->severity : -1;
    gsm_findings_free(&fs);
    return s;
}

/* Every finding well-formed: id from the table, severity within its range, a one-line
 * message and advice, evidence keys non-empty. */
static bool well_formed(const struct gsm_findings *fs) {
    for (size_t i = 0; i < fs->n; i++) {
        const struct gsm_finding *f = &fs->items[i];
        const struct gsm_rule_info *r = NULL;
        for (size_t k = 0; (r = gsm_findings_rule(k)); k++)
            if (strcmp(r->id, f->id) == 0)
                break;
        if (!r || f->severity < r->min_severity || f->severity > r->max_severity)
            return false;
        if (!f->message[0] || !f->advice[0] || strchr(f->message, '\n') || strchr(f->advice, '\n'))
            return false;
        if (f->n_evidence == 0 || f->n_evidence > GSM_FINDING_MAX_EVIDENCE)
            return false;
        for (size_t e = 0; e < f->n_evidence; e++)
            if (!f->evidence[e].key || !f->evidence[e].key[0])
                return false;
    }
    return true;
}

/* Evaluate, and keep a copy of `id`'s finding (exactly one expected) in *ret. */
static bool eval_one(const struct fxg *x, const char *id, struct gsm_finding *ret) {
    struct gsm_findings fs;
    if (gsm_findings_evaluate(&x->in, &fs) < 0)
        return false;
    const struct gsm_finding *f = find_id(&fs, id);
    bool ok = f && count_id(&fs, id) == 1 && well_formed(&fs);
    if (ok)
        *ret = *f;
    gsm_findings_free(&fs);
    return ok;
}

/* ---- Baseline ----------------------------------------------------------------------------- */

TEST(findings_go_baseline_quiet) {
    struct fxg x;
    fxg_init(&x);
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 0);
    CHECK_EQ_U64(fs.n, 0);
    gsm_findings_free(&fs);
    /* the table lists the seven Go rules */
    const char *ids[] = {ID_MEMLIMIT, ID_RSS, ID_LAZYFREE, ID_THRASH, ID_PAUSE, ID_GOROUTINES, ID_GOGC};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const struct gsm_rule_info *r = NULL;
        for (size_t k = 0; (r = gsm_findings_rule(k)); k++)
            if (strcmp(r->id, ids[i]) == 0)
                break;
        CHECK(r != NULL);
    }
}

/* ---- GSM-GO-MEMLIMIT ------------------------------------------------------------------------ */

TEST(findings_go_memlimit_unset_env) {
    struct fxg x;
    fxg_init(&x);
    env_set(&x, NULL, NULL);   /* environ read, no GOMEMLIMIT in it */
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(strstr(f.message, "GOMEMLIMIT is unset"));
    CHECK(evidence(&f, "gomemlimit_bytes") == -1);
    CHECK(evidence(&f, "limit_bytes") == (double)GiB);
    CHECK(evidence(&f, "nonheap_overhead_bytes") == (double)FX_OVERHEAD);
    CHECK(evidence(&f, "margin_bytes") == (double)FX_MARGIN);
    CHECK(evidence(&f, "recommended_gomemlimit_bytes") == (double)FX_REC);
    CHECK(strstr(f.advice, "GOMEMLIMIT=839MiB"));
    /* the recommendation is limit - overhead - margin rounded down to a MiB */
    CHECK(FX_REC <= GiB - FX_OVERHEAD - FX_MARGIN && GiB - FX_OVERHEAD - FX_MARGIN - FX_REC < MiB);
}

TEST(findings_go_memlimit_off_and_empty_are_unset) {
    struct fxg x;
    fxg_init(&x);
    env_set(&x, "off", NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_WARN);
    env_set(&x, "", NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_WARN);
    /* a value the runtime would refuse ("1GB") is not a limit either */
    env_set(&x, "1GB", NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_WARN);
}

TEST(findings_go_memlimit_prometheus_int64max_is_unset) {
    struct fxg x;
    fxg_init(&x);
    stat_set(&x.stats, GSM_GO_GOMEMLIMIT);
    x.stats.gomemlimit_bytes = (uint64_t)INT64_MAX;   /* math.MaxInt64: no limit */
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(strstr(f.message, "unset"));
    CHECK(evidence(&f, "gomemlimit_bytes") == -1);
    /* one below is a (huge) limit: at or above the cgroup's, critical */
    x.stats.gomemlimit_bytes = (uint64_t)INT64_MAX - 1;
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_CRITICAL);
}

TEST(findings_go_memlimit_at_or_above_limit_critical) {
    struct fxg x;
    fxg_init(&x);
    env_set(&x, "1GiB", NULL);
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(f.severity == GSM_SEV_CRITICAL);
    CHECK(evidence(&f, "gomemlimit_bytes") == (double)GiB);
    CHECK(evidence(&f, "limit_bytes") == (double)GiB);
    CHECK(evidence(&f, "recommended_gomemlimit_bytes") == (double)FX_REC);
    CHECK(strstr(f.advice, "GOMEMLIMIT=839MiB"));
    env_set(&x, "2GiB", NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_CRITICAL);
    /* one byte under the limit: only too close (warn) */
    env_set(&x, "1073741823", NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_WARN);
    /* the runtime's own metric, no environment */
    x.in.go_env = NULL;
    stat_set(&x.stats, GSM_GO_GOMEMLIMIT);
    x.stats.gomemlimit_bytes = GiB;
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_CRITICAL);
}

TEST(findings_go_memlimit_between_rec_and_limit_warn) {
    struct fxg x;
    fxg_init(&x);
    char v[32];
    snprintf(v, sizeof v, "%llu", (unsigned long long)(FX_REC + 1));
    env_set(&x, v, NULL);
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(strstr(f.message, "leaves too little room"));
    CHECK(evidence(&f, "gomemlimit_bytes") == (double)(FX_REC + 1));
    CHECK(evidence(&f, "nonheap_overhead_bytes") == (double)FX_OVERHEAD);
    CHECK(evidence(&f, "recommended_gomemlimit_bytes") == (double)FX_REC);
    /* exactly the recommendation, or below: nothing */
    env_set(&x, "839MiB", NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    env_set(&x, "500MiB", NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    /* same through the statistics */
    x.in.go_env = NULL;
    stat_set(&x.stats, GSM_GO_GOMEMLIMIT);
    x.stats.gomemlimit_bytes = 900 * MiB;
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_WARN);
    x.stats.gomemlimit_bytes = FX_REC;
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
}

TEST(findings_go_memlimit_unknown_or_not_go) {
    struct fxg x;
    fxg_init(&x);
    /* no environment, statistics without the GOMEMLIMIT bit: unknown, nothing */
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    x.in.go_stats = NULL;
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    /* the bit clear but a value there: still unknown */
    x.in.go_stats = &x.stats;
    x.stats.gomemlimit_bytes = (uint64_t)INT64_MAX;
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    /* known unset, but not a Go process */
    env_set(&x, NULL, NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_WARN);
    x.proc.go = NULL;
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    x.proc.go = &x.go;
    x.in.proc = NULL;
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
}

TEST(findings_go_memlimit_needs_limit_and_room) {
    struct fxg x;
    fxg_init(&x);
    env_set(&x, NULL, NULL);
    CHECK(sev_of(&x, ID_MEMLIMIT) == GSM_SEV_WARN);
    /* no binding limit */
    x.eff.max = (struct gsm_cg_binding){.limited = false, .bytes = UINT64_MAX};
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    x.eff.max = (struct gsm_cg_binding){.limited = true, .bytes = GiB, .path = x.own_path};
    x.in.eff = NULL;
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    x.in.eff = &x.eff;
    /* no smaps totals */
    x.in.totals = NULL;
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    x.in.totals = &x.totals;
    /* overhead + margin fill the limit: no sensible recommendation, nothing. Overhead is
     * 85999616; margin 107374182; at 966367634 (limit - margin) nothing is left. */
    cls_rss(&x, GSM_CLASS_NATIVE_HEAP, 30 * MiB + (GiB - FX_MARGIN - FX_OVERHEAD));
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    /* 1 byte of room: rounds down to 0 MiB, still nothing */
    cls_rss(&x, GSM_CLASS_NATIVE_HEAP, 30 * MiB + (GiB - FX_MARGIN - FX_OVERHEAD) - 1);
    CHECK(sev_of(&x, ID_MEMLIMIT) == -1);
    /* 1.5 MiB of room: rounds down to 1 MiB, a finding again */
    cls_rss(&x, GSM_CLASS_NATIVE_HEAP, 30 * MiB + (GiB - FX_MARGIN - FX_OVERHEAD) - (MiB + MiB / 2));
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(evidence(&f, "recommended_gomemlimit_bytes") == (double)MiB);
    CHECK(strstr(f.advice, "GOMEMLIMIT=1MiB"));
}

TEST(findings_go_memlimit_overhead_sources) {
    struct fxg x;
    fxg_init(&x);
    env_set(&x, NULL, NULL);
    struct gsm_finding f;
    /* without StackInuse: every class but go-heap (go-runtime 20 + thread-stack 1 + native 30 +
     * binary 15 + lib 5 = 71 MiB) + kernel 11 MiB = 82 MiB; rec is still 839 MiB */
    stat_clear(&x.stats, GSM_GO_STACK_INUSE);
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(evidence(&f, "nonheap_overhead_bytes") == (double)(82 * MiB));
    CHECK(evidence(&f, "recommended_gomemlimit_bytes") == (double)FX_REC);
    /* no statistics at all: the same */
    x.in.go_stats = NULL;
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(evidence(&f, "nonheap_overhead_bytes") == (double)(82 * MiB));
    /* with statistics but no breakdown: kernel memory not counted: 85999616 - 11 MiB =
     * 74465280; 1073741824 - 74465280 - 107374182 = 891902362 -> 850 MiB */
    x.in.go_stats = &x.stats;
    stat_set(&x.stats, GSM_GO_STACK_INUSE);
    x.in.bd = NULL;
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(evidence(&f, "nonheap_overhead_bytes") == (double)(FX_OVERHEAD - 11 * MiB));
    CHECK(evidence(&f, "recommended_gomemlimit_bytes") == (double)(850 * MiB));
    CHECK(strstr(f.advice, "GOMEMLIMIT=850MiB"));
    /* reclaimable kernel memory (slab_reclaimable) is not overhead: more of it changes nothing */
    x.in.bd = &x.bd;
    x.bd.parts[GSM_CG_PART_SLAB_RECLAIMABLE].bytes += 100 * MiB;
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(evidence(&f, "nonheap_overhead_bytes") == (double)FX_OVERHEAD);
    /* unreclaimable kernel memory is: page tables +5 MiB */
    bd_set(&x.bd, GSM_CG_PART_PAGETABLES, 5 * MiB);
    CHECK(eval_one(&x, ID_MEMLIMIT, &f));
    CHECK(evidence(&f, "nonheap_overhead_bytes") == (double)(FX_OVERHEAD + 5 * MiB));
    CHECK(evidence(&f, "recommended_gomemlimit_bytes") == (double)(834 * MiB));
    /* gsm_go_nonheap_overhead_bytes itself: 51 MiB outside + 20 MiB + 16 KiB inside */
    CHECK_EQ_U64(gsm_go_nonheap_overhead_bytes(&x.totals, &x.stats), 71 * MiB + 16384);
}

/* ---- GSM-GO-RSS-OVER-HEAP --------------------------------------------------------------------- */

/* Split: HeapInuse 100 MiB, stacks 5, idle 10, LazyFree 0, runtime 20 MiB; all RSS `rss`. */
static void rss_setup(struct fxg *x, uint64_t heap, uint64_t rss) {
    x->split = (struct gsm_go_split){.heap_inuse_bytes = heap, .stacks_bytes = 5 * MiB,
                                     .idle_retained_bytes = 10 * MiB, .runtime_rss_bytes = 20 * MiB};
    x->in.go_split = &x->split;
    x->totals.all.rss_bytes = rss;
}

TEST(findings_go_rss_over_heap_fires) {
    struct fxg x;
    fxg_init(&x);
    cls_rss(&x, GSM_CLASS_NATIVE_HEAP, 120 * MiB);
    rss_setup(&x, 100 * MiB, 300 * MiB);
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_RSS, &f));
    CHECK(f.severity == GSM_SEV_INFO);
    CHECK(evidence(&f, "rss_bytes") == (double)(300 * MiB));
    CHECK(evidence(&f, "heap_inuse_bytes") == (double)(100 * MiB));
    CHECK(evidence(&f, "largest_other_bytes") == (double)(120 * MiB));
    CHECK(strstr(f.message, "3.0x"));
    CHECK(strstr(f.message, "native heap"));
    CHECK(strstr(f.advice, "cgo"));
    /* goroutine stacks the largest part */
    x.split.stacks_bytes = 150 * MiB;
    CHECK(eval_one(&x, ID_RSS, &f));
    CHECK(evidence(&f, "largest_other_bytes") == (double)(150 * MiB));
    CHECK(strstr(f.message, "goroutine stacks"));
    CHECK(strstr(f.advice, "goroutine leak"));
}

TEST(findings_go_rss_over_heap_thresholds) {
    struct fxg x;
    fxg_init(&x);
    /* 2x: exactly twice fires, a byte less does not (100 MiB + 64 MiB is met either way) */
    rss_setup(&x, 100 * MiB, 200 * MiB);
    CHECK(sev_of(&x, ID_RSS) == GSM_SEV_INFO);
    x.totals.all.rss_bytes = 200 * MiB - 1;
    CHECK(sev_of(&x, ID_RSS) == -1);
    /* +64 MiB: a small heap at 7x still needs 64 MiB more */
    rss_setup(&x, 10 * MiB, 74 * MiB);
    CHECK(sev_of(&x, ID_RSS) == GSM_SEV_INFO);
    x.totals.all.rss_bytes = 74 * MiB - 1;
    CHECK(sev_of(&x, ID_RSS) == -1);
    /* an empty heap: no division by zero, fires from 64 MiB */
    rss_setup(&x, 0, 64 * MiB);
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_RSS, &f));
    CHECK(evidence(&f, "heap_inuse_bytes") == 0);
}

TEST(findings_go_rss_over_heap_needs_go_split) {
    struct fxg x;
    fxg_init(&x);
    rss_setup(&x, 100 * MiB, 300 * MiB);
    CHECK(sev_of(&x, ID_RSS) == GSM_SEV_INFO);
    x.in.go_split = NULL;
    CHECK(sev_of(&x, ID_RSS) == -1);
    x.in.go_split = &x.split;
    x.proc.go = NULL;
    CHECK(sev_of(&x, ID_RSS) == -1);
    x.proc.go = &x.go;
    x.in.totals = NULL;
    CHECK(sev_of(&x, ID_RSS) == -1);
}

/* ---- GSM-GO-LAZYFREE ------------------------------------------------------------------------ */

TEST(findings_go_lazyfree_bytes_threshold) {
    struct fxg x;
    fxg_init(&x);
    cls_rss(&x, GSM_CLASS_GO_HEAP, 1 * GiB);   /* 64 MiB is 6.25% of it: the byte rule */
    x.totals.cls[GSM_CLASS_GO_HEAP].lazyfree_bytes = 64 * MiB;
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_LAZYFREE, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "lazyfree_bytes") == (double)(64 * MiB));
    CHECK(evidence(&f, "arena_rss_bytes") == (double)GiB);
    CHECK(strstr(f.message, "LazyFree"));
    CHECK(strstr(f.advice, "madvdontneed"));
    x.totals.cls[GSM_CLASS_GO_HEAP].lazyfree_bytes = 64 * MiB - 4096;
    CHECK(sev_of(&x, ID_LAZYFREE) == -1);
}

TEST(findings_go_lazyfree_ratio_threshold) {
    struct fxg x;
    fxg_init(&x);
    cls_rss(&x, GSM_CLASS_GO_HEAP, 100 * MiB);   /* 25% of the arena, under 64 MiB */
    x.totals.cls[GSM_CLASS_GO_HEAP].lazyfree_bytes = 25 * MiB;
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_LAZYFREE, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "lazyfree_bytes") == (double)(25 * MiB));
    CHECK(evidence(&f, "arena_rss_bytes") == (double)(100 * MiB));
    x.totals.cls[GSM_CLASS_GO_HEAP].lazyfree_bytes = 25 * MiB - 4096;
    CHECK(sev_of(&x, ID_LAZYFREE) == -1);
}

TEST(findings_go_lazyfree_needs_go) {
    struct fxg x;
    fxg_init(&x);
    x.totals.cls[GSM_CLASS_GO_HEAP].lazyfree_bytes = 100 * MiB;
    CHECK(sev_of(&x, ID_LAZYFREE) == GSM_SEV_WARN);
    x.proc.go = NULL;
    CHECK(sev_of(&x, ID_LAZYFREE) == -1);
    x.proc.go = &x.go;
    x.in.totals = NULL;
    CHECK(sev_of(&x, ID_LAZYFREE) == -1);
    /* an empty arena: nothing (and no division by zero) */
    x.in.totals = &x.totals;
    cls_rss(&x, GSM_CLASS_GO_HEAP, 0);
    x.totals.cls[GSM_CLASS_GO_HEAP].lazyfree_bytes = 0;
    CHECK(sev_of(&x, ID_LAZYFREE) == -1);
}

/* ---- GSM-GO-GC-THRASH ----------------------------------------------------------------------- */

/* GC at 25% CPU; runtime maps Sys 950 - HeapReleased 50 = 900 MiB = 90% of GOMEMLIMIT 1000 MiB. */
static void thrash_setup(struct fxg *x) {
    x->stats.gc_cpu_fraction = 0.25;
    x->stats.sys_bytes = 950 * MiB;
    x->stats.heap_released_bytes = 50 * MiB;
    env_set(x, "1000MiB", NULL);
}

TEST(findings_go_gc_thrash_fires) {
    struct fxg x;
    fxg_init(&x);
    thrash_setup(&x);
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_THRASH, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "gc_cpu_fraction") == 0.25);
    CHECK(evidence(&f, "runtime_mapped_bytes") == (double)(900 * MiB));
    CHECK(evidence(&f, "gomemlimit_bytes") == (double)(1000 * MiB));
    CHECK(strstr(f.message, "25%"));
    CHECK(strstr(f.message, "90%"));
    /* the limit from the runtime's metric works the same */
    x.in.go_env = NULL;
    stat_set(&x.stats, GSM_GO_GOMEMLIMIT);
    x.stats.gomemlimit_bytes = 1000 * MiB;
    CHECK(sev_of(&x, ID_THRASH) == GSM_SEV_WARN);
}

TEST(findings_go_gc_thrash_thresholds) {
    struct fxg x;
    fxg_init(&x);
    thrash_setup(&x);
    CHECK(sev_of(&x, ID_THRASH) == GSM_SEV_WARN);
    /* one byte under 90% of GOMEMLIMIT */
    x.stats.heap_released_bytes = 50 * MiB + 1;
    CHECK(sev_of(&x, ID_THRASH) == -1);
    x.stats.heap_released_bytes = 50 * MiB;
    /* GC CPU just under 25% */
    x.stats.gc_cpu_fraction = 0.2499;
    CHECK(sev_of(&x, ID_THRASH) == -1);
    x.stats.gc_cpu_fraction = 0.9;
    CHECK(sev_of(&x, ID_THRASH) == GSM_SEV_WARN);
    /* released above Sys: mapped 0, nothing */
    x.stats.heap_released_bytes = 2 * GiB;
    CHECK(sev_of(&x, ID_THRASH) == -1);
}

TEST(findings_go_gc_thrash_needs_limit_and_stats) {
    struct fxg x;
    fxg_init(&x);
    thrash_setup(&x);
    CHECK(sev_of(&x, ID_THRASH) == GSM_SEV_WARN);
    /* GOMEMLIMIT unset, off or unknown */
    env_set(&x, NULL, NULL);
    CHECK(sev_of(&x, ID_THRASH) == -1);
    env_set(&x, "off", NULL);
    CHECK(sev_of(&x, ID_THRASH) == -1);
    x.in.go_env = NULL;
    CHECK(sev_of(&x, ID_THRASH) == -1);
    /* no GC CPU fraction */
    env_set(&x, "1000MiB", NULL);
    stat_clear(&x.stats, GSM_GO_GC_CPU_FRACTION);
    CHECK(sev_of(&x, ID_THRASH) == -1);
    stat_set(&x.stats, GSM_GO_GC_CPU_FRACTION);
    /* no statistics, not Go */
    x.in.go_stats = NULL;
    CHECK(sev_of(&x, ID_THRASH) == -1);
    x.in.go_stats = &x.stats;
    x.proc.go = NULL;
    CHECK(sev_of(&x, ID_THRASH) == -1);
}

/* ---- GSM-GO-GC-PAUSE -------------------------------------------------------------------------- */

/* n pauses in the ring, the first `big` of them (newest first) of big_ns, the rest 1 ms. */
static void pauses(struct gsm_go_stats *s, size_t n, size_t count, size_t big, uint64_t big_ns) {
    stat_set(s, GSM_GO_PAUSE_RECENT);
    memset(s->pause_ns_recent, 0, sizeof s->pause_ns_recent);
    for (size_t i = 0; i < n; i++)
        s->pause_ns_recent[i] = i < big ? big_ns : 1 * MS;
    s->pause_recent_count = count;
}

TEST(findings_go_gc_pause_p99_index) {
    struct fxg x;
    fxg_init(&x);
    /* n = 101: index (101*99+99)/100 - 1 = 99 of the sorted ring; 99 x 1 ms then 2 x 20 ms:
     * v[99] = 20 ms, fires */
    pauses(&x.stats, 101, 101, 2, 20 * MS);
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_PAUSE, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "pause_p99_ns") == (double)(20 * MS));
    CHECK(strstr(f.message, "20.0 ms"));
    CHECK(strstr(f.message, "101 recent GCs"));
    /* n = 101, one of 20 ms: v[99] = 1 ms, nothing */
    pauses(&x.stats, 101, 101, 1, 20 * MS);
    CHECK(sev_of(&x, ID_PAUSE) == -1);
    /* n = 100: index (100*99+99)/100 - 1 = 98; one of 20 ms: v[98] = 1 ms, nothing */
    pauses(&x.stats, 100, 100, 1, 20 * MS);
    CHECK(sev_of(&x, ID_PAUSE) == -1);
    /* two of 20 ms: v[98] = 20 ms, fires */
    pauses(&x.stats, 100, 100, 2, 20 * MS);
    CHECK(sev_of(&x, ID_PAUSE) == GSM_SEV_WARN);
    /* n = 1: index 0 */
    pauses(&x.stats, 1, 1, 1, 11 * MS);
    CHECK(sev_of(&x, ID_PAUSE) == GSM_SEV_WARN);
    /* the big ones last in the ring (oldest): order does not matter */
    pauses(&x.stats, 100, 100, 0, 0);
    x.stats.pause_ns_recent[98] = 30 * MS;
    x.stats.pause_ns_recent[99] = 30 * MS;
    CHECK(eval_one(&x, ID_PAUSE, &f));
    CHECK(evidence(&f, "pause_p99_ns") == (double)(30 * MS));
}

TEST(findings_go_gc_pause_threshold) {
    struct fxg x;
    fxg_init(&x);
    /* "over 10 ms": exactly 10 ms is not over */
    pauses(&x.stats, 100, 100, 100, 10 * MS);
    CHECK(sev_of(&x, ID_PAUSE) == -1);
    pauses(&x.stats, 100, 100, 100, 10 * MS + 1);
    CHECK(sev_of(&x, ID_PAUSE) == GSM_SEV_WARN);
}

TEST(findings_go_gc_pause_full_ring) {
    struct fxg x;
    fxg_init(&x);
    /* a count above the ring is clipped to 256: index (256*99+99)/100 - 1 = 253, so the 3
     * largest of 256 decide */
    pauses(&x.stats, GSM_GO_PAUSE_RING, 300, 3, 50 * MS);
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_PAUSE, &f));
    CHECK(evidence(&f, "pause_p99_ns") == (double)(50 * MS));
    pauses(&x.stats, GSM_GO_PAUSE_RING, 300, 2, 50 * MS);
    CHECK(sev_of(&x, ID_PAUSE) == -1);
}

TEST(findings_go_gc_pause_prometheus_max) {
    struct fxg x;
    fxg_init(&x);
    /* no ring, only go_gc_duration_seconds{quantile="1"}: the upper bound is used */
    stat_set(&x.stats, GSM_GO_PAUSE_MAX_RECENT);
    x.stats.pause_max_recent_ns = 15 * MS;
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_PAUSE, &f));
    CHECK(evidence(&f, "pause_p99_ns") == (double)(15 * MS));
    x.stats.pause_max_recent_ns = 10 * MS;
    CHECK(sev_of(&x, ID_PAUSE) == -1);
    /* a ring bit with an empty ring falls back to the max too */
    x.stats.pause_max_recent_ns = 15 * MS;
    stat_set(&x.stats, GSM_GO_PAUSE_RECENT);
    x.stats.pause_recent_count = 0;
    CHECK(sev_of(&x, ID_PAUSE) == GSM_SEV_WARN);
    /* a ring present wins over the max */
    pauses(&x.stats, 100, 100, 0, 0);
    CHECK(sev_of(&x, ID_PAUSE) == -1);
}

TEST(findings_go_gc_pause_needs_stats) {
    struct fxg x;
    fxg_init(&x);
    /* the baseline has neither the ring nor the max */
    CHECK(sev_of(&x, ID_PAUSE) == -1);
    /* ring data without its bit is ignored */
    pauses(&x.stats, 100, 100, 100, 50 * MS);
    CHECK(sev_of(&x, ID_PAUSE) == GSM_SEV_WARN);
    stat_clear(&x.stats, GSM_GO_PAUSE_RECENT);
    CHECK(sev_of(&x, ID_PAUSE) == -1);
    stat_set(&x.stats, GSM_GO_PAUSE_RECENT);
    x.in.go_stats = NULL;
    CHECK(sev_of(&x, ID_PAUSE) == -1);
    x.in.go_stats = &x.stats;
    x.proc.go = NULL;
    CHECK(sev_of(&x, ID_PAUSE) == -1);
}

/* ---- GSM-GO-GOROUTINES ------------------------------------------------------------------------ */

TEST(findings_go_goroutines) {
    struct fxg x;
    fxg_init(&x);
    stat_set(&x.stats, GSM_GO_GOROUTINES);
    x.stats.goroutines = 10000;
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_GOROUTINES, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "goroutines") == 10000);
    CHECK(evidence(&f, "stack_inuse_bytes") == (double)(8 * MiB));
    CHECK(strstr(f.message, "10000 goroutines"));
    x.stats.goroutines = 9999;
    CHECK(sev_of(&x, ID_GOROUTINES) == -1);
    /* the count without its bit (expvar has none), no stats, not Go */
    x.stats.goroutines = 50000;
    CHECK(sev_of(&x, ID_GOROUTINES) == GSM_SEV_WARN);
    stat_clear(&x.stats, GSM_GO_GOROUTINES);
    CHECK(sev_of(&x, ID_GOROUTINES) == -1);
    stat_set(&x.stats, GSM_GO_GOROUTINES);
    x.in.go_stats = NULL;
    CHECK(sev_of(&x, ID_GOROUTINES) == -1);
    x.in.go_stats = &x.stats;
    x.proc.go = NULL;
    CHECK(sev_of(&x, ID_GOROUTINES) == -1);
}

/* ---- GSM-GO-GOGC ------------------------------------------------------------------------------ */
/* The room is the recommended GOMEMLIMIT, 839 MiB; suggested GOGC = floor((room / HeapAlloc - 1)
 * * 100 / 10) * 10, at least 10, at most 1000. */

TEST(findings_go_gogc_warn_goal_overshoots) {
    struct fxg x;
    fxg_init(&x);
    /* 500 MiB live: (839/500 - 1) * 100 = 67.8 -> 60 < GOGC 100 (default) */
    x.stats.heap_alloc_bytes = 500 * MiB;
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_GOGC, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "gogc") == 100);
    CHECK(evidence(&f, "suggested_gogc") == 60);
    CHECK(evidence(&f, "heap_alloc_bytes") == (double)(500 * MiB));
    CHECK(evidence(&f, "room_bytes") == (double)FX_REC);
    CHECK(strstr(f.message, "GOGC=100"));
    CHECK(strstr(f.advice, "GOGC=60"));
    CHECK(strstr(f.advice, "GOMEMLIMIT=839MiB"));
    /* GOGC=200 from the environment (GOMEMLIMIT known unset) */
    env_set(&x, NULL, "200");
    CHECK(eval_one(&x, ID_GOGC, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "gogc") == 200);
    CHECK(evidence(&f, "suggested_gogc") == 60);
}

TEST(findings_go_gogc_warn_boundary) {
    struct fxg x;
    fxg_init(&x);
    /* live = room / 2 = 439877632: goal live * 2 == room exactly: fit 100 -> 100, not < 100,
     * and 100 < 150: nothing even with a busy GC */
    x.stats.heap_alloc_bytes = FX_REC / 2;
    x.stats.gc_cpu_fraction = 0.5;
    CHECK(sev_of(&x, ID_GOGC) == -1);
    /* one byte more: the goal overshoots by 2 bytes, fit just under 100 -> 90: warn */
    x.stats.heap_alloc_bytes = FX_REC / 2 + 1;
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_GOGC, &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "suggested_gogc") == 90);
}

TEST(findings_go_gogc_info_cpu_for_headroom) {
    struct fxg x;
    fxg_init(&x);
    /* 100 MiB live, GC at 5%: (839/100 - 1) * 100 = 739 -> 730 >= 150 */
    x.stats.heap_alloc_bytes = 100 * MiB;
    x.stats.gc_cpu_fraction = 0.05;
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_GOGC, &f));
    CHECK(f.severity == GSM_SEV_INFO);
    CHECK(evidence(&f, "gogc") == 100);
    CHECK(evidence(&f, "suggested_gogc") == 730);
    CHECK(evidence(&f, "room_bytes") == (double)FX_REC);
    CHECK(strstr(f.message, "GOGC=730"));
    /* GC CPU just under 5%: nothing */
    x.stats.gc_cpu_fraction = 0.0499;
    CHECK(sev_of(&x, ID_GOGC) == -1);
    /* a tiny heap: capped at 1000 */
    x.stats.gc_cpu_fraction = 0.05;
    x.stats.heap_alloc_bytes = 1 * MiB;
    CHECK(eval_one(&x, ID_GOGC, &f));
    CHECK(evidence(&f, "suggested_gogc") == 1000);
}

TEST(findings_go_gogc_info_boundary) {
    struct fxg x;
    fxg_init(&x);
    x.stats.gc_cpu_fraction = 0.05;
    /* room / live just above 2.5 (live = floor(879755264 / 2.5) = 351902105): fit 150.0000004
     * -> 150 = 1.5 x 100: info */
    x.stats.heap_alloc_bytes = 351902105;
    struct gsm_finding f;
    CHECK(eval_one(&x, ID_GOGC, &f));
    CHECK(f.severity == GSM_SEV_INFO);
    CHECK(evidence(&f, "suggested_gogc") == 150);
    /* one byte more: fit 149.9999997 -> 140 < 150: nothing */
    x.stats.heap_alloc_bytes = 351902106;
    CHECK(sev_of(&x, ID_GOGC) == -1);
}

TEST(findings_go_gogc_not_with_gomemlimit) {
    struct fxg x;
    fxg_init(&x);
    x.stats.heap_alloc_bytes = 500 * MiB;   /* the warn case */
    CHECK(sev_of(&x, ID_GOGC) == GSM_SEV_WARN);
    env_set(&x, "400MiB", NULL);
    CHECK(sev_of(&x, ID_GOGC) == -1);
    x.in.go_env = NULL;
    stat_set(&x.stats, GSM_GO_GOMEMLIMIT);
    x.stats.gomemlimit_bytes = 400 * MiB;
    CHECK(sev_of(&x, ID_GOGC) == -1);
    /* the info case too */
    x.stats.heap_alloc_bytes = 100 * MiB;
    x.stats.gc_cpu_fraction = 0.2;
    CHECK(sev_of(&x, ID_GOGC) == -1);
    /* GOMEMLIMIT=off is no limit: the rule speaks again */
    stat_clear(&x.stats, GSM_GO_GOMEMLIMIT);
    env_set(&x, "off", NULL);
    CHECK(sev_of(&x, ID_GOGC) == GSM_SEV_INFO);
}

TEST(findings_go_gogc_missing_inputs) {
    struct fxg x;
    fxg_init(&x);
    x.stats.heap_alloc_bytes = 500 * MiB;
    CHECK(sev_of(&x, ID_GOGC) == GSM_SEV_WARN);
    /* GOGC=off, or malformed (the runtime then uses 100, but the rule stays silent) */
    env_set(&x, NULL, "off");
    CHECK(sev_of(&x, ID_GOGC) == -1);
    env_set(&x, NULL, "abc");
    CHECK(sev_of(&x, ID_GOGC) == -1);
    x.in.go_env = NULL;
    /* HeapAlloc or the GC fraction missing, HeapAlloc 0 */
    stat_clear(&x.stats, GSM_GO_HEAP_ALLOC);
    CHECK(sev_of(&x, ID_GOGC) == -1);
    stat_set(&x.stats, GSM_GO_HEAP_ALLOC);
    stat_clear(&x.stats, GSM_GO_GC_CPU_FRACTION);
    CHECK(sev_of(&x, ID_GOGC) == -1);
    stat_set(&x.stats, GSM_GO_GC_CPU_FRACTION);
    x.stats.heap_alloc_bytes = 0;
    CHECK(sev_of(&x, ID_GOGC) == -1);
    x.stats.heap_alloc_bytes = 500 * MiB;
    /* no limit, no statistics, not Go */
    x.in.eff = NULL;
    CHECK(sev_of(&x, ID_GOGC) == -1);
    x.in.eff = &x.eff;
    x.in.go_stats = NULL;
    CHECK(sev_of(&x, ID_GOGC) == -1);
    x.in.go_stats = &x.stats;
    x.proc.go = NULL;
    CHECK(sev_of(&x, ID_GOGC) == -1);
}

/* Regression (rule_go_gogc once compared the suggestion, rounded DOWN to a multiple of 10, with
 * the current GOGC instead of the heap goal with the room, so a GOGC that is not a multiple of
 * 10 could warn although its goal fits). Here GOGC=105, live 409 MiB: goal = 409 * 2.05 = 838.45 MiB, under the
 * 839 MiB room; fit = (839/409 - 1) * 100 = 105.13 -> suggestion 100 < 105 -> a false warn
 * (whose message states the goal 838 MiB exceeds 839 MiB). Expected: no GOGC finding (the goal
 * fits, and 100 < 1.5 x 105 so no info). */
TEST(findings_go_gogc_bug_non_multiple_of_ten_false_warn) {
    struct fxg x;
    fxg_init(&x);
    env_set(&x, NULL, "105");
    x.stats.heap_alloc_bytes = 409 * MiB;
    CHECK((double)(409 * MiB) * 2.05 <= (double)FX_REC);   /* the goal fits */
    CHECK(sev_of(&x, ID_GOGC) == -1);
}

/* ---- gsm_go_split_compute --------------------------------------------------------------------- */

TEST(findings_go_split_nodata) {
    struct fxg x;
    fxg_init(&x);
    struct gsm_go_split g;
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000000, &g) == 0);
    enum gsm_go_field need[] = {GSM_GO_HEAP_INUSE, GSM_GO_HEAP_IDLE, GSM_GO_HEAP_RELEASED, GSM_GO_STACK_INUSE};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        struct gsm_go_stats s = x.stats;
        stat_clear(&s, need[i]);
        memset(&g, 0xa5, sizeof g);
        CHECK(gsm_go_split_compute(&x.totals, &s, 1700000000000, &g) == -ENODATA);
        CHECK(g.arena_rss_bytes == UINT64_C(0xa5a5a5a5a5a5a5a5));   /* untouched */
    }
    struct gsm_go_stats none = {0};
    CHECK(gsm_go_split_compute(&x.totals, &none, 0, &g) == -ENODATA);
    /* the metadata fields are optional */
    struct gsm_go_stats s = x.stats;
    stat_clear(&s, GSM_GO_GC_SYS);
    stat_clear(&s, GSM_GO_OTHER_SYS);
    CHECK(gsm_go_split_compute(&x.totals, &s, 0, &g) == 0);
}

TEST(findings_go_split_adds_up) {
    struct fxg x;
    fxg_init(&x);
    /* arena 200 MiB with 10 MiB LazyFree; HeapInuse 150, StackInuse 8, idle 40 - released 20
     * = 20 retained: 150 + 8 + 20 + 10 = 188 MiB, residual +12 MiB */
    x.totals.cls[GSM_CLASS_GO_HEAP].lazyfree_bytes = 10 * MiB;
    struct gsm_go_split g;
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000001000, &g) == 0);
    CHECK_EQ_U64(g.arena_rss_bytes, 200 * MiB);
    CHECK_EQ_U64(g.heap_inuse_bytes, 150 * MiB);
    CHECK_EQ_U64(g.stacks_bytes, 8 * MiB);
    CHECK_EQ_U64(g.idle_retained_bytes, 20 * MiB);
    CHECK_EQ_U64(g.released_resident_bytes, 10 * MiB);
    CHECK(g.arena_residual_bytes == (int64_t)(12 * MiB));
    CHECK((int64_t)(g.heap_inuse_bytes + g.stacks_bytes + g.idle_retained_bytes + g.released_resident_bytes) +
              g.arena_residual_bytes == (int64_t)g.arena_rss_bytes);
    /* runtime: 20 MiB RSS; metadata GCSys 6 + MSpanSys 2 + MCacheSys 16 KiB + OtherSys 3 +
     * BuckHashSys 1 = 12 MiB + 16 KiB (StackInuse is in the arena, not here) */
    CHECK_EQ_U64(g.runtime_rss_bytes, 20 * MiB);
    CHECK_EQ_U64(g.runtime_reserved_bytes, 12 * MiB + 16384);
    /* RSS beyond the reserved metadata (+ 1 MiB tolerance) is what the statistics cannot explain */
    CHECK_EQ_U64(g.runtime_above_reserved_bytes, 8 * MiB - 16384);
    CHECK(g.runtime_cause == GSM_GO_SPLIT_NOT_RUNTIME);
    /* arena: expected 188 MiB, tolerance 2% of it; +12 MiB is more than GCSys (6 MiB) + 3.76 MiB */
    CHECK_EQ_U64(g.arena_expected_bytes, 188 * MiB);
    CHECK_EQ_U64(g.arena_tolerance_bytes, (uint64_t)((double)(188 * MiB) * 0.02));
    CHECK(g.arena_cause == GSM_GO_SPLIT_NOT_RUNTIME);
    /* timing: statistics 500 ms before smaps */
    CHECK_EQ_U64(g.smaps_taken_ms, 1700000001000);
    CHECK_EQ_U64(g.stats_taken_ms, 1700000000500);
    CHECK_EQ_U64(g.last_gc_ms, 1700000000000);
    CHECK(g.skew_ms == -500);
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000000, &g) == 0);
    CHECK(g.skew_ms == 500);
}

TEST(findings_go_split_negative_residuals) {
    struct fxg x;
    fxg_init(&x);
    /* arena 100 MiB resident but the runtime claims 150 + 8 + 20 = 178 MiB: residual -78 MiB */
    cls_rss(&x, GSM_CLASS_GO_HEAP, 100 * MiB);
    /* runtime class 4 MiB resident, metadata 12 MiB + 16 KiB: -(8 MiB + 16 KiB) */
    cls_rss(&x, GSM_CLASS_GO_RUNTIME, 4 * MiB);
    struct gsm_go_split g;
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000500, &g) == 0);
    CHECK(g.arena_residual_bytes == -(int64_t)(78 * MiB));
    CHECK((int64_t)(g.heap_inuse_bytes + g.stacks_bytes + g.idle_retained_bytes + g.released_resident_bytes) +
              g.arena_residual_bytes == (int64_t)g.arena_rss_bytes);
    /* 4 MiB resident of 12 MiB + 16 KiB reserved: expected, not a residual */
    CHECK_EQ_U64(g.runtime_above_reserved_bytes, 0);
    CHECK(g.runtime_cause == GSM_GO_SPLIT_CLOSES);
    CHECK(g.arena_cause == GSM_GO_SPLIT_UNTOUCHED);
    CHECK(g.skew_ms == 0);
    /* HeapReleased above HeapIdle (the numbers are not one snapshot): retained floors at 0 */
    x.stats.heap_released_bytes = 60 * MiB;
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 0, &g) == 0);
    CHECK_EQ_U64(g.idle_retained_bytes, 0);
    CHECK(g.arena_residual_bytes == -(int64_t)(58 * MiB));
    /* an empty arena: the whole claim is negative */
    cls_rss(&x, GSM_CLASS_GO_HEAP, 0);
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 0, &g) == 0);
    CHECK(g.arena_residual_bytes == -(int64_t)(158 * MiB));
}

TEST(findings_go_split_causes) {
    struct fxg x;
    fxg_init(&x);
    struct gsm_go_split g;
    /* expected 150 + 8 + 20 = 178 MiB, tolerance 3.56 MiB; GCSys 6 MiB */
    cls_rss(&x, GSM_CLASS_GO_HEAP, 178 * MiB + 3 * MiB);            /* +3 MiB: closes */
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000500, &g) == 0);
    CHECK(g.arena_cause == GSM_GO_SPLIT_CLOSES);
    CHECK(strstr(gsm_go_split_cause_text(g.arena_cause), "2%"));
    cls_rss(&x, GSM_CLASS_GO_HEAP, 178 * MiB + 9 * MiB);            /* +9 <= 6 + 3.56: GC metadata */
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000500, &g) == 0);
    CHECK(g.arena_cause == GSM_GO_SPLIT_GC_METADATA);
    CHECK_STREQ(gsm_go_split_cause_name(g.arena_cause), "gc-metadata");
    cls_rss(&x, GSM_CLASS_GO_HEAP, 178 * MiB + 10 * MiB);           /* +10 > 9.56: not the runtime's */
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000500, &g) == 0);
    CHECK(g.arena_cause == GSM_GO_SPLIT_NOT_RUNTIME);
    /* read 1 s apart: the skew is named first */
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000001500, &g) == 0);
    CHECK(g.skew_ms == -1000 && g.arena_cause == GSM_GO_SPLIT_SKEW);
    /* a small heap: the 1 MiB floor */
    cls_rss(&x, GSM_CLASS_GO_HEAP, 178 * MiB - MiB);
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000500, &g) == 0);
    CHECK(g.arena_cause == GSM_GO_SPLIT_CLOSES);
    x.stats.heap_inuse_bytes = 10 * MiB;
    x.stats.heap_idle_bytes = x.stats.heap_released_bytes = 0;
    x.stats.stack_inuse_bytes = 0;
    cls_rss(&x, GSM_CLASS_GO_HEAP, 11 * MiB);
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000500, &g) == 0);
    CHECK_EQ_U64(g.arena_tolerance_bytes, MiB);
    CHECK(g.arena_cause == GSM_GO_SPLIT_CLOSES);
    cls_rss(&x, GSM_CLASS_GO_HEAP, 11 * MiB + 1);
    CHECK(gsm_go_split_compute(&x.totals, &x.stats, 1700000000500, &g) == 0);
    CHECK(g.arena_cause == GSM_GO_SPLIT_GC_METADATA);
}

/* ---- GSM-GO-SYNC-POOL and GSM-GO-TOP-SITE (level 3: the decoded heap profile) ---------------- */
/* Four stacks, leaf (allocation) first, in-use bytes by hand:
 *   A  runtime.mallocgc < runtime.makeslice < main.newPoolBuf pool.go:41 < sync.(*Pool).Get < main.fill < main.main   3 MiB
 *   B  runtime.mallocgc < main.newOther other.go:9 < sync.(*Pool).Get < main.main                                  1 MiB
 *   C  runtime.mallocgc < main.cache cache.go:20 < main.a < main.main                                          2.5 MiB
 *   D  runtime.mallocgc < main.cache cache.go:20 < main.b < main.main                                          2.5 MiB
 * total 9 MiB; under sync.(*Pool).Get: A + B = 4 MiB (44%, warn), the New holding the most is
 * main.newPoolBuf (3 MiB); the site holding the most is main.cache:20 (C + D = 5 MiB), although
 * its largest single stack (2.5 MiB) is smaller than A's 3 MiB: sites are summed over stacks. */
#define F(fn, file, line) {fn, file, line, 0}
static const struct gsm_heap_frame hp_a[] = {F("runtime.mallocgc", "runtime/malloc.go", 1), F("runtime.makeslice", "runtime/slice.go", 2),
                                             F("main.newPoolBuf", "/src/app/pool.go", 41), F("sync.(*Pool).Get", "sync/pool.go", 148),
                                             F("main.fill", "/src/app/pool.go", 50), F("main.main", "/src/app/main.go", 10)};
static const struct gsm_heap_frame hp_b[] = {F("runtime.mallocgc", "runtime/malloc.go", 1), F("main.newOther", "/src/app/other.go", 9),
                                             F("sync.(*Pool).Get", "sync/pool.go", 148), F("main.main", "/src/app/main.go", 11)};
static const struct gsm_heap_frame hp_c[] = {F("runtime.mallocgc", "runtime/malloc.go", 1), F("main.cache", "/src/app/cache.go", 20),
                                             F("main.a", "/src/app/cache.go", 30), F("main.main", "/src/app/main.go", 12)};
static const struct gsm_heap_frame hp_d[] = {F("runtime.mallocgc", "runtime/malloc.go", 1), F("main.cache", "/src/app/cache.go", 20),
                                             F("main.b", "/src/app/cache.go", 40), F("main.main", "/src/app/main.go", 13)};
#undef F

static void heap_fixture(struct gsm_heap_profile *hp, struct gsm_heap_stack st[4]) {
    st[0] = (struct gsm_heap_stack){.inuse_bytes = 3 * MiB, .inuse_objects = 48, .frames = hp_a, .n_frames = 6};
    st[1] = (struct gsm_heap_stack){.inuse_bytes = 1 * MiB, .inuse_objects = 16, .frames = hp_b, .n_frames = 4};
    st[2] = (struct gsm_heap_stack){.inuse_bytes = 5 * MiB / 2, .inuse_objects = 10, .frames = hp_c, .n_frames = 4};
    st[3] = (struct gsm_heap_stack){.inuse_bytes = 5 * MiB / 2, .inuse_objects = 10, .frames = hp_d, .n_frames = 4};
    *hp = (struct gsm_heap_profile){.stacks = st, .n_stacks = 4, .inuse_bytes_total = 9 * MiB,
                                    .inuse_space_index = 1, .inuse_objects_index = 0};
}

TEST(findings_go_sync_pool_share) {
    struct fxg x;
    fxg_init(&x);
    struct gsm_heap_profile hp;
    struct gsm_heap_stack st[4];
    heap_fixture(&hp, st);
    x.in.go_heap = &hp;
    struct gsm_finding f;
    CHECK(eval_one(&x, "GSM-GO-SYNC-POOL", &f));
    CHECK(f.severity == GSM_SEV_WARN);
    CHECK(evidence(&f, "pool_inuse_bytes") == (double)(4 * MiB));
    CHECK(evidence(&f, "pool_inuse_objects") == 64);
    CHECK(evidence(&f, "profile_inuse_bytes") == (double)(9 * MiB));
    CHECK(evidence(&f, "ratio") == 4.0 / 9.0);
    CHECK(evidence(&f, "top_new_inuse_bytes") == (double)(3 * MiB));
    CHECK(strstr(f.message, "44% of the in-use Go heap"));
    CHECK(strstr(f.message, "main.newPoolBuf (pool.go:41)"));
    CHECK(strstr(f.message, "as of the last GC"));
    /* 2 MiB of 18 under the pool (11%): info; 1 MiB of 10 (10%): info; 1 MiB of 10.5 (9.5%): none */
    st[0].inuse_bytes = 1 * MiB;
    st[2].inuse_bytes = 7 * MiB;
    st[3].inuse_bytes = 9 * MiB;
    CHECK(sev_of(&x, "GSM-GO-SYNC-POOL") == GSM_SEV_INFO);
    st[1].inuse_bytes = 0;
    st[2].inuse_bytes = 4 * MiB;
    st[3].inuse_bytes = 5 * MiB;
    CHECK(sev_of(&x, "GSM-GO-SYNC-POOL") == GSM_SEV_INFO);
    st[3].inuse_bytes = 5 * MiB + MiB / 2;
    CHECK(sev_of(&x, "GSM-GO-SYNC-POOL") == -1);
    /* no profile, or not Go: nothing */
    heap_fixture(&hp, st);
    x.in.go_heap = NULL;
    CHECK(sev_of(&x, "GSM-GO-SYNC-POOL") == -1);
    x.in.go_heap = &hp;
    x.proc.go = NULL;
    CHECK(sev_of(&x, "GSM-GO-SYNC-POOL") == -1);
}

TEST(findings_go_top_site_sums_stacks) {
    struct fxg x;
    fxg_init(&x);
    struct gsm_heap_profile hp;
    struct gsm_heap_stack st[4];
    heap_fixture(&hp, st);
    x.in.go_heap = &hp;
    struct gsm_finding f;
    CHECK(eval_one(&x, "GSM-GO-TOP-SITE", &f));
    CHECK(f.severity == GSM_SEV_INFO);
    CHECK(evidence(&f, "site_inuse_bytes") == (double)(5 * MiB));
    CHECK(evidence(&f, "site_inuse_objects") == 20);
    CHECK(evidence(&f, "ratio") == 5.0 / 9.0);
    CHECK(strstr(f.message, "main.cache (cache.go:20) holds 5.00 MiB, 55% of the in-use Go heap"));
    CHECK(strstr(f.advice, "-list 'main.cache'"));
    /* one line apart is another site: then A (3 MiB) holds the most */
    static const struct gsm_heap_frame other_line[] = {{"runtime.mallocgc", "runtime/malloc.go", 1, 0},
                                                       {"main.cache", "/src/app/cache.go", 21, 0}};
    st[3].frames = other_line;
    st[3].n_frames = 2;
    CHECK(eval_one(&x, "GSM-GO-TOP-SITE", &f));
    CHECK(evidence(&f, "site_inuse_bytes") == (double)(3 * MiB));
    CHECK(strstr(f.message, "main.newPoolBuf (pool.go:41)"));
    /* a profile with nothing in use says nothing */
    for (int i = 0; i < 4; i++)
        st[i].inuse_bytes = 0;
    CHECK(sev_of(&x, "GSM-GO-TOP-SITE") == -1);
}
