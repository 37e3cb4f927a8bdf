/* The findings engine (analyses/findings.c): for each rule an input that fires it at the right
 * severity and one that does not, the sort order, and the rule table's consistency with
 * docs/findings.md. Inputs are built directly in C. Also the host parsers
 * (readers/host.c) on buffers, hostile ones too, and on a temporary tree. */
#include "test.h"
#include "analyses/findings.h"
#include "readers/elf_go.h"
#include "readers/host.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/root.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define S(lit) lit, sizeof(lit) - 1

/* ---- A healthy baseline that fires nothing; each test bends one thing ------------------ */

struct fx {
    struct gsm_cgroup_memory cg;
    struct gsm_cg_effective eff;
    struct gsm_cg_breakdown bd;
    struct gsm_host_info host;
    struct gsm_process proc;
    struct gsm_totals totals;
    struct gsm_findings_input in;
    char own_path[64], parent_path[64];
};

static void bd_set(struct gsm_cg_breakdown *bd, enum gsm_cg_part part, uint64_t bytes) {
    bd->parts[part].have = true;
    bd->parts[part].bytes = bytes;
}

/* Recompute the breakdown's derived numbers the way cgroup_breakdown() does. */
static void bd_finish(struct gsm_cg_breakdown *bd) {
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

/* v2 cgroup "/app": usage 400 MiB of a 1 GiB memory.max (its own), anon 300 MiB, file 60 MiB,
 * slab 20 MiB, sock 1 MiB; no events; host with 2 GiB swap, THP madvise, max_map_count 65530;
 * a process with 10 threads and 100 mappings, no huge pages. */
static void fx_init(struct fx *x) {
    memset(x, 0, sizeof *x);
    snprintf(x->own_path, sizeof x->own_path, "/app");
    snprintf(x->parent_path, sizeof x->parent_path, "/parent.slice");

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
    x->totals.all.anon_bytes = 300 * MiB;
    x->totals.all.anon_huge_bytes = 0;
    x->totals.all.n_mappings = 100;

    x->in = (struct gsm_findings_input){
        .proc = &x->proc, .totals = &x->totals, .cg = &x->cg, .eff = &x->eff,
        .bd = &x->bd, .host = &x->host, .n_processes = 3,
    };
}

/* The v1 flavour of the baseline: failcnt 0, oom_control without kills, no events file. */
static void fx_v1(struct fx *x) {
    x->cg.version = GSM_CGROUP_V1;
    x->cg.events = (struct gsm_cg_events){0};
    x->cg.high = (struct gsm_cg_limit){0};
    x->cg.swap_max = (struct gsm_cg_limit){0};
    x->cg.failcnt = (struct gsm_cg_value){true, 0};
    x->cg.oom_control = (struct gsm_cg_oom_control){.have = true, .have_oom_kill = true};
    x->cg.stat.version = GSM_CGROUP_V1;
    x->bd.version = GSM_CGROUP_V1;
}

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
static int sev_of(const struct fx *x, const char *id) {
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

/* ---- Baseline ------------------------------------------------------------------------ */

TEST(findings_baseline_quiet) {
    struct fx x;
    fx_init(&x);
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 0);
    CHECK_EQ_U64(fs.n, 0);
    gsm_findings_free(&fs);

    fx_v1(&x);
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 0);
    CHECK_EQ_U64(fs.n, 0);
    gsm_findings_free(&fs);

    /* Nothing known: every rule skips. */
    struct gsm_findings_input none = {0};
    CHECK(gsm_findings_evaluate(&none, &fs) == 0);
    CHECK_EQ_U64(fs.n, 0);
    gsm_findings_free(&fs);
    CHECK(gsm_findings_evaluate(NULL, &fs) == -EINVAL);
}

/* ---- One test per rule --------------------------------------------------------------- */

TEST(findings_near_limit) {
    struct fx x;
    fx_init(&x);
    /* unreclaimable = usage - file - slab_reclaimable: 900 MiB of 1 GiB = 87.9% */
    x.bd.usage_bytes = 970 * MiB;
    bd_set(&x.bd, GSM_CG_PART_ANON, 880 * MiB);
    bd_finish(&x.bd);
    CHECK_EQ_U64(x.bd.unreclaimable_bytes, 900 * MiB);
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-NEAR-LIMIT");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "usage_bytes") == (double)(970 * MiB));
    CHECK(evidence(f, "unreclaimable_bytes") == (double)(900 * MiB));
    CHECK(evidence(f, "limit_bytes") == (double)GiB);
    CHECK(evidence(f, "ratio") > 0.87 && evidence(f, "ratio") < 0.88);
    CHECK(evidence(f, "binding_level") == 0);
    CHECK(evidence(f, "processes") == 3);
    CHECK(strstr(f->message, "87%"));
    CHECK(strstr(f->advice, "memory.max of /app"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    /* 980 MiB of 1 GiB = 95.7%: critical */
    bd_set(&x.bd, GSM_CG_PART_ANON, 960 * MiB);
    x.bd.usage_bytes = 1050 * MiB;
    bd_finish(&x.bd);
    CHECK(sev_of(&x, "GSM-NEAR-LIMIT") == GSM_SEV_CRITICAL);

    /* 840 MiB of 1 GiB = 82%: nothing, even though usage (910 MiB) is above 85% */
    bd_set(&x.bd, GSM_CG_PART_ANON, 820 * MiB);
    x.bd.usage_bytes = 910 * MiB;
    bd_finish(&x.bd);
    CHECK(sev_of(&x, "GSM-NEAR-LIMIT") == -1);

    /* No limit, no breakdown: skip */
    bd_set(&x.bd, GSM_CG_PART_ANON, 960 * MiB);
    x.bd.usage_bytes = 1050 * MiB;
    bd_finish(&x.bd);
    x.in.bd = NULL;
    CHECK(sev_of(&x, "GSM-NEAR-LIMIT") == -1);
    x.in.bd = &x.bd;
    x.eff.max = (struct gsm_cg_binding){.bytes = UINT64_MAX};
    CHECK(sev_of(&x, "GSM-NEAR-LIMIT") == -1);
}

TEST(findings_near_limit_names_the_ancestor) {
    struct fx x;
    fx_init(&x);
    /* No limit of its own; the parent's 380 MiB binds: 330 MiB unreclaimable is 86.8% of it */
    x.cg.max = (struct gsm_cg_limit){true, true, UINT64_MAX};
    x.eff.max = (struct gsm_cg_binding){.limited = true, .bytes = 380 * MiB, .level = 1, .path = x.parent_path};
    struct gsm_findings fs;
    int n = gsm_findings_evaluate(&x.in, &fs);
    CHECK(n == 2);
    const struct gsm_finding *f = find_id(&fs, "GSM-NEAR-LIMIT");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(strstr(f->message, "set by /parent.slice"));
    CHECK(strstr(f->advice, "memory.max of /parent.slice"));
    CHECK(strstr(f->advice, "siblings"));
    CHECK(evidence(f, "binding_level") == 1);
    f = find_id(&fs, "GSM-ANCESTOR-LIMIT");
    CHECK(f && f->severity == GSM_SEV_INFO);
    CHECK(strstr(f->message, "own (none)"));
    CHECK(fs.items[0].severity == GSM_SEV_WARN);
    gsm_findings_free(&fs);
}

TEST(findings_ancestor_limit) {
    struct fx x;
    fx_init(&x);
    x.eff.max = (struct gsm_cg_binding){.limited = true, .bytes = 768 * MiB, .level = 1, .path = x.parent_path};
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-ANCESTOR-LIMIT");
    CHECK(f && f->severity == GSM_SEV_INFO);
    CHECK(strstr(f->message, "/parent.slice"));
    CHECK(strstr(f->message, "768 MiB"));
    CHECK(strstr(f->message, "1.00 GiB"));
    CHECK(evidence(f, "limit_bytes") == (double)(768 * MiB));
    CHECK(evidence(f, "own_limit_bytes") == (double)GiB);
    CHECK(evidence(f, "binding_level") == 1);
    CHECK(strstr(f->advice, "memory.max of /parent.slice"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    /* Own limit binds: nothing */
    fx_init(&x);
    CHECK(sev_of(&x, "GSM-ANCESTOR-LIMIT") == -1);

    /* v1: the kernel's hierarchical limit matches no visible level and we have none: an
     * ancestor above the visible tree binds */
    fx_init(&x);
    fx_v1(&x);
    x.cg.max = (struct gsm_cg_limit){true, true, UINT64_MAX};
    x.eff.max = (struct gsm_cg_binding){.limited = true, .bytes = 2 * GiB, .level = 0, .path = NULL};
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    f = find_id(&fs, "GSM-ANCESTOR-LIMIT");
    CHECK(f && f->severity == GSM_SEV_INFO);
    CHECK(strstr(f->message, "outside the visible tree"));
    CHECK(strstr(f->advice, "memory.limit_in_bytes"));
    CHECK(evidence(f, "own_limit_bytes") == -1);
    gsm_findings_free(&fs);
    /* ... but when our own limit equals it, ours binds */
    x.cg.max = (struct gsm_cg_limit){true, false, 2 * GiB};
    CHECK(sev_of(&x, "GSM-ANCESTOR-LIMIT") == -1);
}

TEST(findings_oom_kills) {
    struct fx x;
    fx_init(&x);
    x.cg.events.count[GSM_CG_EV_OOM] = 4;
    x.cg.events.count[GSM_CG_EV_OOM_KILL] = 3;
    x.cg.peak_bytes = (struct gsm_cg_value){true, GiB};
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-OOM-KILLS");
    CHECK(f && f->severity == GSM_SEV_CRITICAL);
    CHECK(evidence(f, "oom_kills") == 3);
    CHECK(evidence(f, "oom_events") == 4);
    CHECK(evidence(f, "peak_bytes") == (double)GiB);
    CHECK(strstr(f->message, "3 processes in this cgroup or below"));
    CHECK(strstr(f->message, "memory.events"));
    CHECK(strstr(f->advice, "memory.peak"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    x.cg.events.count[GSM_CG_EV_OOM_KILL] = 0;
    CHECK(sev_of(&x, "GSM-OOM-KILLS") == -1);

    /* v1: memory.oom_control oom_kill */
    fx_init(&x);
    fx_v1(&x);
    x.cg.oom_control.oom_kill = 1;
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    f = find_id(&fs, "GSM-OOM-KILLS");
    CHECK(f && f->severity == GSM_SEV_CRITICAL);
    CHECK(strstr(f->message, "1 process in"));
    CHECK(strstr(f->message, "oom_control"));
    CHECK(evidence(f, "under_oom") == 0);
    gsm_findings_free(&fs);
    /* A kernel before 4.13 has no oom_kill line: nothing to say */
    x.cg.oom_control.have_oom_kill = false;
    CHECK(sev_of(&x, "GSM-OOM-KILLS") == -1);
}

TEST(findings_limit_hits) {
    struct fx x;
    fx_init(&x);
    x.cg.events.count[GSM_CG_EV_MAX] = 12;
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-LIMIT-HITS");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "max_events") == 12);
    CHECK(evidence(f, "limit_bytes") == (double)GiB);
    CHECK(strstr(f->message, "12 times"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);
    x.cg.events.count[GSM_CG_EV_MAX] = 0;
    CHECK(sev_of(&x, "GSM-LIMIT-HITS") == -1);

    fx_init(&x);
    fx_v1(&x);
    x.cg.failcnt.value = 1;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    f = find_id(&fs, "GSM-LIMIT-HITS");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "failcnt") == 1);
    CHECK(strstr(f->message, "memory.failcnt"));
    gsm_findings_free(&fs);
    x.cg.failcnt.value = 0;
    CHECK(sev_of(&x, "GSM-LIMIT-HITS") == -1);
}

TEST(findings_high_throttle) {
    struct fx x;
    fx_init(&x);
    x.cg.events.count[GSM_CG_EV_HIGH] = 7;
    x.eff.high = (struct gsm_cg_binding){.limited = true, .bytes = 800 * MiB, .level = 0, .path = x.own_path};
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-HIGH-THROTTLE");
    CHECK(f && f->severity == GSM_SEV_INFO);
    CHECK(evidence(f, "high_events") == 7);
    CHECK(evidence(f, "high_limit_bytes") == (double)(800 * MiB));
    CHECK(strstr(f->advice, "memory.high of /app"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);
    x.cg.events.count[GSM_CG_EV_HIGH] = 0;
    CHECK(sev_of(&x, "GSM-HIGH-THROTTLE") == -1);
    /* v1 has no memory.events */
    fx_v1(&x);
    CHECK(sev_of(&x, "GSM-HIGH-THROTTLE") == -1);
}

TEST(findings_page_cache) {
    struct fx x;
    fx_init(&x);
    x.bd.usage_bytes = 800 * MiB;
    bd_set(&x.bd, GSM_CG_PART_FILE_ACTIVE, 100 * MiB);
    bd_set(&x.bd, GSM_CG_PART_FILE_INACTIVE, 350 * MiB);
    bd_finish(&x.bd);
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-PAGE-CACHE");
    CHECK(f && f->severity == GSM_SEV_INFO);
    CHECK(evidence(f, "file_bytes") == (double)(450 * MiB));
    CHECK(evidence(f, "working_set_bytes") == (double)(450 * MiB));
    CHECK(evidence(f, "ratio") > 0.56 && evidence(f, "ratio") < 0.57);
    CHECK(strstr(f->message, "56%"));
    CHECK(strstr(f->advice, "kubelet"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    /* 390 of 800 MiB: 48.75%, nothing */
    bd_set(&x.bd, GSM_CG_PART_FILE_INACTIVE, 290 * MiB);
    bd_finish(&x.bd);
    CHECK(sev_of(&x, "GSM-PAGE-CACHE") == -1);
    /* usage 0: nothing (no division by zero) */
    x.bd.usage_bytes = 0;
    CHECK(sev_of(&x, "GSM-PAGE-CACHE") == -1);
}

TEST(findings_kernel_memory) {
    struct fx x;
    fx_init(&x);
    /* sock 120 MiB of 400 MiB usage: 30% */
    bd_set(&x.bd, GSM_CG_PART_SOCK, 120 * MiB);
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    CHECK_EQ_U64(count_id(&fs, "GSM-KERNEL-MEMORY"), 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-KERNEL-MEMORY");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "sock_bytes") == (double)(120 * MiB));
    CHECK(strstr(f->advice, "ss -tmp"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    /* slab 300 MiB of 8 GiB usage: under 25% but over 256 MiB */
    fx_init(&x);
    x.bd.usage_bytes = 8 * GiB;
    bd_set(&x.bd, GSM_CG_PART_SLAB_RECLAIMABLE, 100 * MiB);
    bd_set(&x.bd, GSM_CG_PART_SLAB_UNRECLAIMABLE, 200 * MiB);
    bd_finish(&x.bd);
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    f = find_id(&fs, "GSM-KERNEL-MEMORY");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "slab_bytes") == (double)(300 * MiB));
    CHECK(evidence(f, "slab_unreclaimable_bytes") == (double)(200 * MiB));
    CHECK(strstr(f->advice, "slabtop"));
    gsm_findings_free(&fs);

    /* Both over: two findings, same id */
    bd_set(&x.bd, GSM_CG_PART_SOCK, 3 * GiB);
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 2);
    CHECK_EQ_U64(count_id(&fs, "GSM-KERNEL-MEMORY"), 2);
    gsm_findings_free(&fs);

    /* 24% sock and 250 MiB slab: nothing */
    fx_init(&x);
    x.bd.usage_bytes = 1000 * MiB;
    bd_set(&x.bd, GSM_CG_PART_SOCK, 240 * MiB);
    bd_set(&x.bd, GSM_CG_PART_SLAB_UNRECLAIMABLE, 240 * MiB);
    bd_set(&x.bd, GSM_CG_PART_SLAB_RECLAIMABLE, 0);
    bd_finish(&x.bd);
    CHECK(sev_of(&x, "GSM-KERNEL-MEMORY") == -1);

    /* v1: no split, kmem stands in */
    fx_init(&x);
    fx_v1(&x);
    x.bd.parts[GSM_CG_PART_SOCK].have = false;
    x.bd.parts[GSM_CG_PART_SLAB_RECLAIMABLE].have = false;
    x.bd.parts[GSM_CG_PART_SLAB_UNRECLAIMABLE].have = false;
    bd_set(&x.bd, GSM_CG_PART_KERNEL_OTHER, 150 * MiB);
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    f = find_id(&fs, "GSM-KERNEL-MEMORY");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "kmem_bytes") == (double)(150 * MiB));
    gsm_findings_free(&fs);
}

TEST(findings_swap_in_use) {
    struct fx x;
    fx_init(&x);
    x.bd.swap_bytes = (struct gsm_cg_value){true, 64 * MiB};
    x.cg.stat.have_v2[GSM_CG2_PGMAJFAULT] = true;
    x.cg.stat.v2[GSM_CG2_PGMAJFAULT] = 1234;
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-SWAP-IN-USE");
    CHECK(f && f->severity == GSM_SEV_INFO);
    CHECK(evidence(f, "swap_bytes") == (double)(64 * MiB));
    CHECK(evidence(f, "major_faults") == 1234);
    CHECK(strstr(f->advice, "memory.swap.max"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);
    x.bd.swap_bytes.value = 0;
    CHECK(sev_of(&x, "GSM-SWAP-IN-USE") == -1);
    x.bd.swap_bytes = (struct gsm_cg_value){false, 0};
    CHECK(sev_of(&x, "GSM-SWAP-IN-USE") == -1);
}

TEST(findings_no_swap_tight_limit) {
    struct fx x;
    fx_init(&x);
    /* Host without swap, usage 900 MiB of 1 GiB (88%); file keeps unreclaimable < 85% */
    x.host.swap_total_bytes = 0;
    x.host.swap_free_bytes = 0;
    x.bd.usage_bytes = 900 * MiB;
    bd_set(&x.bd, GSM_CG_PART_FILE_INACTIVE, 400 * MiB);
    bd_finish(&x.bd);
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-NO-SWAP");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "usage_bytes") == (double)(900 * MiB));
    CHECK(evidence(f, "host_swap_total_bytes") == 0);
    CHECK(strstr(f->message, "host SwapTotal is 0"));
    CHECK(find_id(&fs, "GSM-NEAR-LIMIT") == NULL);
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    /* Host swap present but memory.swap.max 0 */
    x.host.swap_total_bytes = 2 * GiB;
    x.cg.swap_max = (struct gsm_cg_limit){true, false, 0};
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    f = find_id(&fs, "GSM-NO-SWAP");
    CHECK(f && strstr(f->message, "memory.swap.max is 0"));
    CHECK(evidence(f, "swap_max_bytes") == 0);
    gsm_findings_free(&fs);

    /* Swap available: nothing */
    x.cg.swap_max = (struct gsm_cg_limit){true, true, UINT64_MAX};
    CHECK(sev_of(&x, "GSM-NO-SWAP") == -1);

    /* No swap but room (400 of 1024 MiB): nothing */
    fx_init(&x);
    x.host.swap_total_bytes = 0;
    CHECK(sev_of(&x, "GSM-NO-SWAP") == -1);

    /* v1: memsw limit equal to the memory limit */
    fx_init(&x);
    fx_v1(&x);
    x.bd.usage_bytes = 900 * MiB;
    bd_set(&x.bd, GSM_CG_PART_FILE_INACTIVE, 400 * MiB);
    bd_finish(&x.bd);
    x.cg.memsw_limit = (struct gsm_cg_limit){true, false, GiB};
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 1);
    f = find_id(&fs, "GSM-NO-SWAP");
    CHECK(f && strstr(f->message, "memsw"));
    gsm_findings_free(&fs);
}

TEST(findings_thp_bloat) {
    struct fx x;
    fx_init(&x);
    snprintf(x.host.thp_enabled, sizeof x.host.thp_enabled, "always");
    x.totals.all.anon_bytes = 400 * MiB;
    x.totals.all.anon_huge_bytes = 200 * MiB;
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-THP-BLOAT");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "anon_huge_bytes") == (double)(200 * MiB));
    CHECK(evidence(f, "ratio") == 0.5);
    CHECK(evidence(f, "max_ptes_none_pages") == 511);
    CHECK(evidence(f, "huge_page_bytes") == (double)(2 * MiB));
    CHECK(strstr(f->message, "511 of 512"));
    CHECK(strstr(f->advice, "madvise"));
    CHECK(!strstr(f->advice, "GODEBUG"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    /* A Go process gets the Go knob */
    struct gsm_go_info go = {0};
    x.proc.go = &go;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    f = find_id(&fs, "GSM-THP-BLOAT");
    CHECK(f && strstr(f->advice, "GODEBUG=disablethp=1"));
    gsm_findings_free(&fs);

    /* madvise mode: the program asked for them */
    snprintf(x.host.thp_enabled, sizeof x.host.thp_enabled, "madvise");
    CHECK(sev_of(&x, "GSM-THP-BLOAT") == -1);
    /* always, but 20%: nothing */
    snprintf(x.host.thp_enabled, sizeof x.host.thp_enabled, "always");
    x.totals.all.anon_huge_bytes = 80 * MiB;
    CHECK(sev_of(&x, "GSM-THP-BLOAT") == -1);
    /* no smaps totals: skip */
    x.totals.all.anon_huge_bytes = 200 * MiB;
    x.in.totals = NULL;
    CHECK(sev_of(&x, "GSM-THP-BLOAT") == -1);
}

TEST(findings_many_threads) {
    struct fx x;
    fx_init(&x);
    x.proc.status.threads = 1000;
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-MANY-THREADS");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "threads") == 1000);
    CHECK(strstr(f->message, "1000 threads"));
    CHECK(strstr(f->advice, "/proc/4242/task"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);
    x.proc.status.threads = 999;
    CHECK(sev_of(&x, "GSM-MANY-THREADS") == -1);
    x.proc.status.threads = 5000;
    x.in.proc = NULL;
    CHECK(sev_of(&x, "GSM-MANY-THREADS") == -1);
}

TEST(findings_many_mappings) {
    struct fx x;
    fx_init(&x);
    x.proc.n_maps = 40000;   /* 61% of 65530 */
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-MANY-MAPPINGS");
    CHECK(f && f->severity == GSM_SEV_WARN);
    CHECK(evidence(f, "mappings") == 40000);
    CHECK(evidence(f, "max_map_count") == 65530);
    CHECK(strstr(f->advice, "vm.max_map_count=262144"));
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    x.proc.n_maps = 60000;   /* 91.6% */
    CHECK(sev_of(&x, "GSM-MANY-MAPPINGS") == GSM_SEV_CRITICAL);
    x.proc.n_maps = 32764;   /* just under half */
    CHECK(sev_of(&x, "GSM-MANY-MAPPINGS") == -1);
    /* No smaps in the process, totals carry the count */
    x.proc.have_smaps = false;
    x.totals.all.n_mappings = 33000;
    CHECK(sev_of(&x, "GSM-MANY-MAPPINGS") == GSM_SEV_WARN);
    /* max_map_count unknown: skip */
    x.host.have_max_map_count = false;
    CHECK(sev_of(&x, "GSM-MANY-MAPPINGS") == -1);
}

TEST(findings_no_limit) {
    struct fx x;
    fx_init(&x);
    x.cg.max = (struct gsm_cg_limit){true, true, UINT64_MAX};
    x.eff.max = (struct gsm_cg_binding){.limited = false, .bytes = UINT64_MAX};
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    const struct gsm_finding *f = find_id(&fs, "GSM-NO-LIMIT");
    CHECK(f && f->severity == GSM_SEV_INFO);
    CHECK(strstr(f->message, "whole path"));
    CHECK(strstr(f->message, "16.0 GiB"));
    CHECK(evidence(f, "node_memory_bytes") == (double)(16 * GiB));
    CHECK(evidence(f, "levels_checked") == 2);
    CHECK(well_formed(&fs));
    gsm_findings_free(&fs);

    x.eff.complete = false;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    f = find_id(&fs, "GSM-NO-LIMIT");
    CHECK(f && strstr(f->message, "visible path"));
    CHECK(!strstr(f->message, "node's"));
    CHECK(strstr(f->advice, "a limit above it may exist"));
    gsm_findings_free(&fs);

    fx_init(&x);
    CHECK(sev_of(&x, "GSM-NO-LIMIT") == -1);
    x.in.eff = NULL;
    CHECK(sev_of(&x, "GSM-NO-LIMIT") == -1);
}

/* ---- Engine -------------------------------------------------------------------------- */

TEST(findings_sorted_critical_first) {
    struct fx x;
    fx_init(&x);
    /* info (page cache), warn (threads, limit hits), critical (OOM kills, mappings) */
    x.bd.usage_bytes = 800 * MiB;
    bd_set(&x.bd, GSM_CG_PART_FILE_INACTIVE, 500 * MiB);
    bd_finish(&x.bd);
    x.proc.status.threads = 2000;
    x.cg.events.count[GSM_CG_EV_MAX] = 5;
    x.cg.events.count[GSM_CG_EV_OOM_KILL] = 1;
    x.proc.n_maps = 65000;
    x.cg.events.count[GSM_CG_EV_HIGH] = 2;
    struct gsm_findings fs;
    int n = gsm_findings_evaluate(&x.in, &fs);
    CHECK(n == 6);
    CHECK_EQ_U64(fs.n, 6);
    for (size_t i = 1; i < fs.n; i++)
        CHECK(fs.items[i - 1].severity >= fs.items[i].severity);
    /* Equal severities keep the table's order */
    CHECK_STREQ(fs.items[0].id, "GSM-OOM-KILLS");
    CHECK_STREQ(fs.items[1].id, "GSM-MANY-MAPPINGS");
    CHECK_STREQ(fs.items[2].id, "GSM-LIMIT-HITS");
    CHECK_STREQ(fs.items[3].id, "GSM-MANY-THREADS");
    CHECK_STREQ(fs.items[4].id, "GSM-HIGH-THROTTLE");
    CHECK_STREQ(fs.items[5].id, "GSM-PAGE-CACHE");
    CHECK(well_formed(&fs));
    CHECK(gsm_findings_reach(&fs, GSM_SEV_CRITICAL));
    gsm_findings_free(&fs);
    CHECK(fs.items == NULL && fs.n == 0);

    /* --fail-on: warn is reached by a warn, critical is not */
    fx_init(&x);
    x.proc.status.threads = 2000;
    CHECK(gsm_findings_evaluate(&x.in, &fs) == 1);
    CHECK(gsm_findings_reach(&fs, GSM_SEV_WARN));
    CHECK(gsm_findings_reach(&fs, GSM_SEV_INFO));
    CHECK(!gsm_findings_reach(&fs, GSM_SEV_CRITICAL));
    gsm_findings_free(&fs);
}

TEST(findings_message_stays_one_line) {
    struct fx x;
    fx_init(&x);
    char evil[300];
    memset(evil, 'a', sizeof evil - 1);
    evil[0] = '/';
    evil[10] = '\n';
    evil[20] = '\033';
    evil[sizeof evil - 1] = '\0';
    x.eff.max = (struct gsm_cg_binding){.limited = true, .bytes = 256 * MiB, .level = 3, .path = evil};
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 2);   /* ancestor + near limit */
    CHECK(find_id(&fs, "GSM-NEAR-LIMIT") && find_id(&fs, "GSM-ANCESTOR-LIMIT"));
    CHECK(well_formed(&fs));
    for (size_t i = 0; i < fs.n; i++) {
        CHECK(!strchr(fs.items[i].message, '\033'));
        CHECK(strlen(fs.items[i].message) < sizeof fs.items[i].message);
    }
    gsm_findings_free(&fs);
}

/* Numbers at the top of the range (a hostile fixture) neither overflow nor trip UBSan. */
TEST(findings_huge_numbers) {
    struct fx x;
    fx_init(&x);
    x.bd.usage_bytes = UINT64_MAX;
    bd_set(&x.bd, GSM_CG_PART_ANON, UINT64_MAX - 10);
    bd_set(&x.bd, GSM_CG_PART_FILE_ACTIVE, 0);
    bd_set(&x.bd, GSM_CG_PART_FILE_INACTIVE, 0);
    bd_set(&x.bd, GSM_CG_PART_SLAB_RECLAIMABLE, 0);
    bd_set(&x.bd, GSM_CG_PART_SLAB_UNRECLAIMABLE, 0);
    bd_set(&x.bd, GSM_CG_PART_SOCK, 0);
    bd_finish(&x.bd);
    x.eff.max.bytes = 1;
    x.host.max_map_count = UINT64_MAX;
    x.proc.n_maps = UINT64_MAX;   /* ratio 1.0: critical */
    x.proc.status.threads = UINT64_MAX;
    x.cg.events.count[GSM_CG_EV_OOM_KILL] = UINT64_MAX;
    struct gsm_findings fs;
    CHECK(gsm_findings_evaluate(&x.in, &fs) >= 4);
    CHECK(well_formed(&fs));
    const struct gsm_finding *f = find_id(&fs, "GSM-NEAR-LIMIT");
    CHECK(f && f->severity == GSM_SEV_CRITICAL);
    f = find_id(&fs, "GSM-MANY-MAPPINGS");
    CHECK(f && f->severity == GSM_SEV_CRITICAL);
    gsm_findings_free(&fs);
}

TEST(findings_severity_names) {
    enum gsm_severity s;
    CHECK_STREQ(gsm_severity_name(GSM_SEV_INFO), "info");
    CHECK_STREQ(gsm_severity_name(GSM_SEV_WARN), "warn");
    CHECK_STREQ(gsm_severity_name(GSM_SEV_CRITICAL), "critical");
    CHECK(gsm_severity_parse("info", &s) == 0 && s == GSM_SEV_INFO);
    CHECK(gsm_severity_parse("warn", &s) == 0 && s == GSM_SEV_WARN);
    CHECK(gsm_severity_parse("warning", &s) == 0 && s == GSM_SEV_WARN);
    CHECK(gsm_severity_parse("critical", &s) == 0 && s == GSM_SEV_CRITICAL);
    s = GSM_SEV_INFO;
    CHECK(gsm_severity_parse("CRIT", &s) == -EINVAL && s == GSM_SEV_INFO);
    CHECK(gsm_severity_parse("", &s) == -EINVAL);
    CHECK(gsm_severity_parse(NULL, &s) == -EINVAL);
}

/* The rule table: unique GSM- ids, sane ranges, and every id documented in docs/findings.md
 * (and every GSM- id there is in the table). */
TEST(findings_rule_table_matches_docs) {
    const struct gsm_rule_info *r, *q;
    size_t n = 0;
    for (size_t i = 0; (r = gsm_findings_rule(i)); i++, n++) {
        CHECK(strncmp(r->id, "GSM-", 4) == 0);
        CHECK(r->min_severity <= r->max_severity);
        CHECK(r->summary && r->summary[0]);
        for (size_t j = 0; j < i; j++) {
            q = gsm_findings_rule(j);
            CHECK(strcmp(q->id, r->id) != 0);
        }
    }
    CHECK(n == 22);

    char path[4096];
    snprintf(path, sizeof path, "%s/../docs/findings.md", gsm_test_dir());
    _cleanup_free_ char *doc = NULL;
    size_t len;
    if (gsm_read_file_at(AT_FDCWD, path, GSM_SMALL_FILE_MAX, &doc, &len) < 0)
        SKIP("docs/findings.md not found next to tests/");
    for (size_t i = 0; (r = gsm_findings_rule(i)); i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "`%s`", r->id);
        CHECK(strstr(doc, needle));
    }
    for (const char *p = doc; (p = strstr(p, "`GSM-")); p++) {
        const char *e = strchr(p + 1, '`');
        CHECK(e);
        bool known = false;
        for (size_t i = 0; (r = gsm_findings_rule(i)); i++)
            if (strlen(r->id) == (size_t)(e - p - 1) && memcmp(r->id, p + 1, (size_t)(e - p - 1)) == 0)
                known = true;
        CHECK(known);
    }
}

/* ---- Host parsers -------------------------------------------------------------------- */

TEST(findings_host_thp_enabled) {
    char mode[16];
    CHECK(gsm_parse_thp_enabled(S("always [madvise] never\n"), mode, sizeof mode) == 0);
    CHECK_STREQ(mode, "madvise");
    CHECK(gsm_parse_thp_enabled(S("[always] madvise never\n"), mode, sizeof mode) == 0);
    CHECK_STREQ(mode, "always");
    CHECK(gsm_parse_thp_enabled(S("always madvise [never]"), mode, sizeof mode) == 0);
    CHECK_STREQ(mode, "never");
    /* Hostile */
    CHECK(gsm_parse_thp_enabled(S(""), mode, sizeof mode) == -EINVAL);
    CHECK(gsm_parse_thp_enabled(S("always madvise never\n"), mode, sizeof mode) == -EINVAL);
    CHECK(gsm_parse_thp_enabled(S("[always madvise never\n"), mode, sizeof mode) == -EINVAL);
    CHECK(gsm_parse_thp_enabled(S("[]"), mode, sizeof mode) == -EINVAL);
    CHECK(gsm_parse_thp_enabled(S("[ALWAYS]"), mode, sizeof mode) == -EINVAL);
    CHECK(gsm_parse_thp_enabled(S("[always\n]"), mode, sizeof mode) == -EINVAL);
    CHECK(gsm_parse_thp_enabled(S("[averyveryverylongmode]"), mode, sizeof mode) == -EINVAL);
    CHECK(gsm_parse_thp_enabled(S("\x01\xff[\x80]"), mode, sizeof mode) == -EINVAL);
    /* Exactly fits: 15 letters + NUL */
    CHECK(gsm_parse_thp_enabled(S("[abcdefghijklmno]"), mode, sizeof mode) == 0);
    CHECK_STREQ(mode, "abcdefghijklmno");
    /* The buffer length is honoured: the ']' lies past len */
    CHECK(gsm_parse_thp_enabled("[always]", 7, mode, sizeof mode) == -EINVAL);
}

TEST(findings_host_meminfo) {
    const char buf[] =
        "MemTotal:       16318480 kB\n"
        "MemFree:         1234567 kB\n"
        "SwapCached:            0 kB\n"
        "SwapTotal:       2097148 kB\n"
        "SwapFree:        2097000 kB\n"
        "HugePages_Total:       0\n"
        "Hugepagesize:       2048 kB\n";
    struct gsm_meminfo mi;
    CHECK(gsm_parse_meminfo(buf, sizeof buf - 1, &mi) == 0);
    CHECK(mi.have_mem_total && mi.have_swap_total && mi.have_swap_free);
    CHECK_EQ_U64(mi.mem_total_bytes, UINT64_C(16318480) * 1024);
    CHECK_EQ_U64(mi.swap_total_bytes, UINT64_C(2097148) * 1024);
    CHECK_EQ_U64(mi.swap_free_bytes, UINT64_C(2097000) * 1024);

    /* No swap configured: zeros are values, not absence */
    CHECK(gsm_parse_meminfo(S("MemTotal: 1024 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB"), &mi) == 0);
    CHECK(mi.have_swap_total && mi.swap_total_bytes == 0);

    /* Hostile: 25-digit numbers, a value that overflows when scaled, missing unit, junk */
    CHECK(gsm_parse_meminfo(S("MemTotal: 1234567890123456789012345 kB\n"
                              "SwapTotal: 18014398509481984 kB\n"
                              "SwapFree: 12\n"
                              "Garbage\n"
                              ":::\n"
                              "SwapFree: 7 kB junk\n"
                              "SwapFree: 3 kB\n"),
                            &mi) == 0);
    CHECK(!mi.have_mem_total);
    CHECK(!mi.have_swap_total);
    CHECK(mi.have_swap_free && mi.swap_free_bytes == 3 * 1024);
    CHECK(gsm_parse_meminfo(S(""), &mi) == -EINVAL);
    CHECK(gsm_parse_meminfo(S("\n\n\n"), &mi) == -EINVAL);
    CHECK(gsm_parse_meminfo(S("garbage\x01\xff no colon"), &mi) == -EINVAL);
    CHECK(gsm_parse_meminfo(S("MemTotal: -5 kB\n"), &mi) == -EINVAL);
    /* A key as a prefix of another is not it */
    CHECK(gsm_parse_meminfo(S("MemTotalX: 5 kB\nMemTot: 5 kB\n"), &mi) == -EINVAL);
}

TEST(findings_host_u64) {
    uint64_t v;
    CHECK(gsm_parse_host_u64(S("511\n"), &v) == 0 && v == 511);
    CHECK(gsm_parse_host_u64(S("65530"), &v) == 0 && v == 65530);
    CHECK(gsm_parse_host_u64(S(""), &v) == -EINVAL);
    CHECK(gsm_parse_host_u64(S("\n"), &v) == -EINVAL);
    CHECK(gsm_parse_host_u64(S("12abc\n"), &v) == -EINVAL);
    CHECK(gsm_parse_host_u64(S("-1\n"), &v) == -EINVAL);
    CHECK(gsm_parse_host_u64(S("1234567890123456789012345\n"), &v) == -ERANGE);
}

static int write_at(const char *dir, const char *rel, const char *content) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return gsm_write_file_atomic(path, content, strlen(content));
}

static void rm_tree(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

TEST(findings_host_read_tree) {
    char dir[] = "/tmp/gsm-host-XXXXXX";
    CHECK(mkdtemp(dir));
    char p[4200];
    const char *dirs[] = {"proc", "proc/sys", "proc/sys/vm", "sys", "sys/kernel", "sys/kernel/mm",
                          "sys/kernel/mm/transparent_hugepage", "sys/kernel/mm/transparent_hugepage/khugepaged"};

    /* An empty root: everything absent, not an error */
    struct gsm_root root;
    CHECK(gsm_root_open(dir, &root) == 0);
    struct gsm_host_info h;
    memset(&h, 0xff, sizeof h);
    CHECK(gsm_host_info_read(&root, &h) == 0);
    CHECK(!h.have_thp && !h.have_max_ptes_none && !h.have_swap && !h.have_mem_total && !h.have_max_map_count);
    CHECK(h.page_size >= 4096);

    bool ok = true;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, dirs[i]);
        ok = ok && mkdir(p, 0755) == 0;
    }
    ok = ok && write_at(dir, "proc/meminfo", "MemTotal: 8000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n") == 0;
    ok = ok && write_at(dir, "proc/sys/vm/max_map_count", "65530\n") == 0;
    ok = ok && write_at(dir, "sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n") == 0;
    ok = ok && write_at(dir, "sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none", "511\n") == 0;
    if (!ok) {
        gsm_root_close(&root);
        rm_tree(dir);
        CHECK(ok);
    }
    int r = gsm_host_info_read(&root, &h);
    gsm_root_close(&root);
    rm_tree(dir);
    CHECK(r == 0);
    CHECK(h.have_thp);
    CHECK_STREQ(h.thp_enabled, "always");
    CHECK(h.have_max_ptes_none && h.khugepaged_max_ptes_none == 511);
    CHECK(h.have_swap && h.swap_total_bytes == 0 && h.swap_free_bytes == 0);
    CHECK(h.have_mem_total && h.mem_total_bytes == 8000 * 1024);
    CHECK(h.have_max_map_count && h.max_map_count == 65530);
}

TEST(findings_host_read_garbage_tree) {
    char dir[] = "/tmp/gsm-host-XXXXXX";
    CHECK(mkdtemp(dir));
    char p[4200];
    const char *dirs[] = {"proc", "proc/sys", "proc/sys/vm", "sys", "sys/kernel", "sys/kernel/mm",
                          "sys/kernel/mm/transparent_hugepage", "sys/kernel/mm/transparent_hugepage/khugepaged"};
    bool ok = true;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, dirs[i]);
        ok = ok && mkdir(p, 0755) == 0;
    }
    ok = ok && write_at(dir, "proc/meminfo", "") == 0;
    ok = ok && write_at(dir, "proc/sys/vm/max_map_count", "1234567890123456789012345\n") == 0;
    ok = ok && write_at(dir, "sys/kernel/mm/transparent_hugepage/enabled", "garbage\n") == 0;
    ok = ok && write_at(dir, "sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none", "x\n") == 0;
    struct gsm_root root;
    int r = ok ? gsm_root_open(dir, &root) : -1;
    struct gsm_host_info h = {0};
    if (r == 0) {
        r = gsm_host_info_read(&root, &h);
        gsm_root_close(&root);
    }
    rm_tree(dir);
    CHECK(ok);
    CHECK(r == 0);
    CHECK(!h.have_thp && !h.have_max_ptes_none && !h.have_swap && !h.have_mem_total && !h.have_max_map_count);
}

/* This machine's own files parse (whatever they hold). */
TEST(findings_host_read_live) {
    struct gsm_root root;
    CHECK(gsm_root_open(NULL, &root) == 0);
    struct gsm_host_info h;
    int r = gsm_host_info_read(&root, &h);
    gsm_root_close(&root);
    CHECK(r == 0);
    if (!h.have_mem_total)
        SKIP("no /proc/meminfo here");
    CHECK(h.mem_total_bytes > 0);
    CHECK(h.have_swap);
    CHECK(h.have_max_map_count && h.max_map_count > 0);
    if (h.have_thp)
        CHECK(strcmp(h.thp_enabled, "always") == 0 || strcmp(h.thp_enabled, "madvise") == 0 ||
              strcmp(h.thp_enabled, "never") == 0);
}
