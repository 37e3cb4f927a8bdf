#include "renderers/metrics.h"
#include "analyses/cgroup_analysis.h"
#include "renderers/metrics_internal.h"
#include "util/text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Label values: valid UTF-8, with backslash, double quote and newline escaped (util/text.h). */
static void esc(FILE *out, const char *s) {
    gsm_text_write_label_value(out, s);
}

static void value(FILE *out, double v) {
    if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", out);
    else if (isnan(v))
        fputs("NaN", out);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(out, "%.0f", v);
    else
        fprintf(out, "%.6g", v);
}

/* HELP and TYPE of a family. In OpenMetrics a counter's family name has no _total suffix. */
static void family(FILE *out, const struct gsm_metrics_opts *o, const char *name, const char *type, const char *help) {
    size_t len = strlen(name);
    int n = (int)len;
    if (o->openmetrics && strcmp(type, "counter") == 0 && len > 6 && strcmp(name + len - 6, "_total") == 0)
        n -= 6;
    fprintf(out, "# HELP %.*s %s\n# TYPE %.*s %s\n", n, name, help, n, name, type);
}

static void cg_label_set(FILE *out, const struct gsm_target_ref *t, const struct gsm_container_identity *id) {
    fputs("cgroup=\"", out);
    esc(out, t->cgroup);
    fputs("\",pod_uid=\"", out);
    esc(out, id->pod_uid);
    fputs("\",container_id=\"", out);
    esc(out, id->container_id);
    fputs("\",qos_class=\"", out);
    esc(out, id->qos != GSM_QOS_NONE ? gsm_k8s_qos_name(id->qos) : "");
    fputc('"', out);
}

static void proc_label_set(FILE *out, const struct gsm_target_ref *t) {
    fprintf(out, "pid=\"%d\",name=\"", (int)t->pid);
    esc(out, t->name);
    fputs("\",cgroup=\"", out);
    esc(out, t->cgroup ? t->cgroup : "");
    fputc('"', out);
}

static int by_rss_desc(const void *a, const void *b) {
    const struct row *x = a, *y = b;
    return x->s.usage_bytes < y->s.usage_bytes ? 1 : x->s.usage_bytes > y->s.usage_bytes ? -1 : 0;
}

static void findings_family(FILE *out, const struct gsm_metrics_opts *o, const struct gsm_metrics_input *in) {
    if (in->findings_evaluated) {
        static const char *const cats[3] = {"cgroup", "process", "go"};
        family(out, o, "gsmapper_findings_evaluations_total", "counter",
               "Rule evaluations for serve's findings: per watched cgroup, per Go process");
        for (int k = 0; k < 3; k++)
            fprintf(out, "gsmapper_findings_evaluations_total{category=\"%s\"} %llu\n", cats[k],
                    (unsigned long long)in->findings_evaluated[k]);
    }
    family(out, o, "gsmapper_finding_active", "gauge",
           "1 while a finding holds for a watched cgroup or a Go process in one (docs/findings.md)");
    for (size_t i = 0; i < in->n_findings; i++) {
        const struct gsm_metrics_finding *r = &in->findings[i];
        fprintf(out, "gsmapper_finding_active{id=\"%s\",severity=\"%s\",category=\"%s\",cgroup=\"", r->id,
                r->severity, r->category);
        esc(out, r->cgroup);
        fputc('"', out);
        if (r->pod_uid[0]) {
            fputs(",pod_uid=\"", out);
            esc(out, r->pod_uid);
            fputc('"', out);
        }
        if (r->pid)
            fprintf(out, ",pid=\"%d\"", (int)r->pid);
        fputs("} 1\n", out);
    }
}

/* gsmapper's own families: version, targets, ticks, tier costs, errors, series, render time. */
static void self_families(FILE *out, const struct gsm_metrics_opts *o, const struct gsm_metrics_input *in, size_t ncg,
                          const struct gsm_metrics_series *series) {
    const struct gsm_watch_stats *st = in->stats;
    family(out, o, "gsmapper_build_info", "gauge", "gsmapper version (always 1)");
    fprintf(out, "gsmapper_build_info{version=\"%s\"} 1\n", GSM_VERSION);
    family(out, o, "gsmapper_targets", "gauge", "Targets being watched");
    fprintf(out, "gsmapper_targets{type=\"process\"} %zu\ngsmapper_targets{type=\"cgroup\"} %zu\n", in->n_watched - ncg, ncg);
    family(out, o, "gsmapper_ticks_total", "counter", "Sampling ticks");
    fprintf(out, "gsmapper_ticks_total %llu\n", (unsigned long long)st->ticks);
    family(out, o, "gsmapper_events_total", "counter", "Watch events emitted");
    fprintf(out, "gsmapper_events_total %llu\n", (unsigned long long)st->events);
    family(out, o, "gsmapper_protect_changes_total", "counter",
           "--protect: oom_score_adj writes done (set) and refused (refused: permission)");
    fprintf(out, "gsmapper_protect_changes_total{result=\"set\"} %llu\ngsmapper_protect_changes_total{result=\"refused\"} %llu\n",
            (unsigned long long)st->protect_set, (unsigned long long)st->protect_refused);
    const struct {
        const char *name;
        const struct gsm_watch_tier_stats *t;
    } tiers[] = {{"status", &st->status}, {"cgroup", &st->cgroup}, {"smaps_rollup", &st->rollup},
                 {"go_http", &st->go_http}, {"detectors", &st->detect}, {"smaps", &st->smaps}, {"notify", &st->notify}};
    const size_t n_tiers = sizeof tiers / sizeof tiers[0];
    family(out, o, "gsmapper_tier_seconds_total", "counter", "Time spent reading and analysing, per sampling tier");
    for (size_t i = 0; i < n_tiers; i++) {
        fprintf(out, "gsmapper_tier_seconds_total{tier=\"%s\"} ", tiers[i].name);
        value(out, (double)tiers[i].t->ns / 1e9);
        fputc('\n', out);
    }
    family(out, o, "gsmapper_tier_reads_total", "counter", "Reads per sampling tier");
    for (size_t i = 0; i < n_tiers; i++)
        fprintf(out, "gsmapper_tier_reads_total{tier=\"%s\"} %llu\n", tiers[i].name, (unsigned long long)tiers[i].t->reads);
    family(out, o, "gsmapper_errors_total", "counter",
           "Failed reads per tier and reason (permission, parse, memory, timeout, io); a target that went away is not one");
    for (size_t i = 0; i < n_tiers; i++)
        for (int k = 0; k < GSM_WE__COUNT; k++)
            fprintf(out, "gsmapper_errors_total{tier=\"%s\",reason=\"%s\"} %llu\n", tiers[i].name,
                    gsm_watch_err_reason_name((enum gsm_watch_err_reason)k), (unsigned long long)tiers[i].t->by_reason[k]);
    family(out, o, "gsmapper_targets_gone_total", "counter",
           "Reads that found their target gone (the process exited or its PID was reused, the cgroup removed)");
    for (size_t i = 0; i < n_tiers; i++)
        fprintf(out, "gsmapper_targets_gone_total{tier=\"%s\"} %llu\n", tiers[i].name, (unsigned long long)tiers[i].t->gone);
    gsm_metrics_series_families(out, o, series, st);
    family(out, o, "gsmapper_cgroup_memory_reads_total", "counter",
           "Reads of a cgroup's memory files by gsmapper (each watched cgroup once per tick)");
    fprintf(out, "gsmapper_cgroup_memory_reads_total %llu\n", (unsigned long long)in->cgroup_memory_reads);
    family(out, o, "gsmapper_scrape_duration_seconds", "gauge", "Time the last metrics render took");
    fputs("gsmapper_scrape_duration_seconds ", out);
    value(out, o->last_render_seconds);
    fputc('\n', out);
}

/* Per watched cgroup: usage, limit, working set, breakdown, kernel counters, PSI, forecast. */
static void cgroup_families(FILE *out, const struct gsm_metrics_opts *o, const struct row *cg, size_t ncg) {
#define CG_GAUGE(name, help, expr)                                                                      \
    do {                                                                                                \
        family(out, o, name, "gauge", help);                                                            \
        for (size_t i = 0; i < ncg; i++) {                                                              \
            const struct row *r = &cg[i];                                                               \
            (void)r;                                                                                    \
            fputs(name "{", out);                                                                       \
            cg_label_set(out, r->t, &r->id);                                                                    \
            fputs("} ", out);                                                                           \
            value(out, (expr));                                                                         \
            fputc('\n', out);                                                                           \
        }                                                                                               \
    } while (0)
    CG_GAUGE("gsmapper_cgroup_usage_bytes", "Memory usage of the cgroup (memory.current / usage_in_bytes)",
             (double)r->s.usage_bytes);
    family(out, o, "gsmapper_cgroup_limit_bytes", "gauge", "Effective (binding) memory limit of the cgroup");
    for (size_t i = 0; i < ncg; i++) {
        if (cg[i].s.limit_bytes == UINT64_MAX)
            continue;
        fputs("gsmapper_cgroup_limit_bytes{", out);
        cg_label_set(out, cg[i].t, &cg[i].id);
        fprintf(out, "} %llu\n", (unsigned long long)cg[i].s.limit_bytes);
    }
    CG_GAUGE("gsmapper_cgroup_working_set_bytes", "Usage minus inactive file pages (what kubelet evicts on)",
             (double)r->s.working_set_bytes);
    CG_GAUGE("gsmapper_cgroup_unreclaimable_bytes", "Memory the kernel cannot reclaim without swap",
             (double)r->s.unreclaimable_bytes);
    family(out, o, "gsmapper_cgroup_memory_bytes", "gauge", "Breakdown of the cgroup's memory");
    for (size_t i = 0; i < ncg; i++) {
        const char *parts[] = {"anon", "file", "swap"};
        double v[] = {(double)cg[i].s.anon_bytes, (double)cg[i].s.file_bytes, (double)cg[i].s.swap_bytes};
        for (int k = 0; k < 3; k++) {
            fputs("gsmapper_cgroup_memory_bytes{", out);
            cg_label_set(out, cg[i].t, &cg[i].id);
            fprintf(out, ",part=\"%s\"} ", parts[k]);
            value(out, v[k]);
            fputc('\n', out);
        }
    }
#define CG_COUNTER(name, help, expr)                                                                    \
    do {                                                                                                \
        family(out, o, name, "counter", help);                                                          \
        for (size_t i = 0; i < ncg; i++) {                                                              \
            const struct row *r = &cg[i];                                                               \
            fputs(name "{", out);                                                                       \
            cg_label_set(out, r->t, &r->id);                                                                    \
            fputs("} ", out);                                                                           \
            value(out, (expr));                                                                         \
            fputc('\n', out);                                                                           \
        }                                                                                               \
    } while (0)
    CG_COUNTER("gsmapper_cgroup_oom_kills_total", "OOM kills in the cgroup (memory.events oom_kill; v1 oom_control)",
               (double)r->s.oom_kill);
    CG_COUNTER("gsmapper_cgroup_limit_hits_total", "Times usage hit the limit (v2 memory.events max; v1 failcnt)",
               (double)(r->s.max_events + r->s.failcnt));
    family(out, o, "gsmapper_cgroup_pressure_avg10_ratio", "gauge", "PSI memory pressure, 10 s average (v2)");
    for (size_t i = 0; i < ncg; i++) {
        if (!cg[i].s.have_psi)
            continue;
        for (int k = 0; k < 2; k++) {
            fputs("gsmapper_cgroup_pressure_avg10_ratio{", out);
            cg_label_set(out, cg[i].t, &cg[i].id);
            fprintf(out, ",kind=\"%s\"} ", k ? "full" : "some");
            value(out, (k ? cg[i].s.psi_full_avg10 : cg[i].s.psi_some_avg10) / 100.0);
            fputc('\n', out);
        }
    }
    CG_GAUGE("gsmapper_cgroup_oom_eta_seconds", "Forecast time until the cgroup reaches its limit (+Inf: not rising)",
             r->eta);
    CG_GAUGE("gsmapper_cgroup_growth_zscore", "Z-score of the growth rate against the baseline", r->z);
#undef CG_GAUGE
#undef CG_COUNTER
}

/* One series per watch condition that fires (ETA, growth, pressure), cgroups and processes. */
static void condition_family(FILE *out, const struct gsm_metrics_opts *o, const struct gsm_metrics_input *in) {
    family(out, o, "gsmapper_condition_active", "gauge", "1 while a watch condition fires");
    for (size_t i = 0; i < in->n_targets; i++) {
        const struct gsm_watch_state *ts = &in->targets[i];
        const enum gsm_watch_kind kinds[] = {GSM_WK_ETA, GSM_WK_GROWTH, GSM_WK_PRESSURE};
        const enum gsm_watch_level levels[] = {ts->eta_level, ts->growth_level, ts->pressure_level};
        for (int k = 0; k < 3; k++) {
            if (levels[k] == GSM_WL_NONE)
                continue;
            bool proc = ts->ref.type == GSM_WT_PROCESS;
            fprintf(out, "gsmapper_condition_active{target_type=\"%s\",cgroup=\"", proc ? "process" : "cgroup");
            esc(out, ts->ref.cgroup ? ts->ref.cgroup : "");
            fprintf(out, "\",pid=\"%d\",kind=\"%s\",level=\"%s\"} 1\n", proc ? (int)ts->ref.pid : 0,
                    gsm_watch_kind_name(kinds[k]), gsm_watch_level_name(levels[k]));
        }
    }
}

/* Per exported process: resident memory by kind, threads, forecast, Go heap goal. */
static void process_families(FILE *out, const struct gsm_metrics_opts *o, const struct row *pr, size_t npr) {
    family(out, o, "gsmapper_process_resident_bytes", "gauge",
           "Resident memory of the process by kind (status: RssAnon, RssFile, RssShmem, VmSwap)");
    for (size_t i = 0; i < npr; i++) {
        const char *kinds[] = {"anon", "file", "shmem", "swap"};
        double v[] = {(double)pr[i].s.anon_bytes, (double)pr[i].s.file_bytes, (double)pr[i].s.shmem_bytes,
                      (double)pr[i].s.swap_bytes};
        for (int k = 0; k < 4; k++) {
            fputs("gsmapper_process_resident_bytes{", out);
            proc_label_set(out, pr[i].t);
            fprintf(out, ",kind=\"%s\"} ", kinds[k]);
            value(out, v[k]);
            fputc('\n', out);
        }
    }
    family(out, o, "gsmapper_process_threads", "gauge", "Threads of the process");
    for (size_t i = 0; i < npr; i++) {
        fputs("gsmapper_process_threads{", out);
        proc_label_set(out, pr[i].t);
        fprintf(out, "} %llu\n", (unsigned long long)pr[i].s.threads);
    }
    family(out, o, "gsmapper_process_oom_eta_seconds", "gauge", "Forecast time until the process's growth meets its limit");
    for (size_t i = 0; i < npr; i++) {
        fputs("gsmapper_process_oom_eta_seconds{", out);
        proc_label_set(out, pr[i].t);
        fputs("} ", out);
        value(out, pr[i].eta);
        fputc('\n', out);
    }
    family(out, o, "gsmapper_process_go_heap_goal_bytes", "gauge", "Go heap goal of the last GC (NextGC), when reachable");
    for (size_t i = 0; i < npr; i++) {
        if (!pr[i].s.go_adjusted)
            continue;
        fputs("gsmapper_process_go_heap_goal_bytes{", out);
        proc_label_set(out, pr[i].t);
        fprintf(out, "} %llu\n", (unsigned long long)pr[i].s.go_next_gc_bytes);
    }
}

int gsm_metrics_render(const struct gsm_metrics_input *in, const struct gsm_metrics_opts *o, FILE *out) {
    size_t n = in->n_targets;
    /* Rows for the cgroups and for the processes that may be exported (with the engine's
     * choice, only the chosen and the named: serve --all watches ~600 processes and exports ~50,
     * and a row is ~0.9 KiB), counted first. */
    size_t ncg = 0, npr = 0;
    for (size_t i = 0; i < n; i++) {
        const struct gsm_watch_state *ts = &in->targets[i];
        if (ts->ref.type == GSM_WT_CGROUP)
            ncg++;
        else if (!o->engine_selects || ts->selected || ts->ref.explicit_target)
            npr++;
    }
    struct row *cg = calloc(ncg ? ncg : 1, sizeof *cg), *pr = calloc(npr ? npr : 1, sizeof *pr);
    if (!cg || !pr) {
        free(cg);
        free(pr);
        return -ENOMEM;
    }
    ncg = npr = 0;
    for (size_t i = 0; i < n; i++) {
        const struct gsm_watch_state *ts = &in->targets[i];
        bool proc = ts->ref.type != GSM_WT_CGROUP;
        if (proc && o->engine_selects && !ts->selected && !ts->ref.explicit_target)
            continue;
        struct row r = {.t = &ts->ref, .s = ts->s, .eta = ts->eta_s, .z = ts->z, .selected = ts->selected,
                        .cls = ts->classes, .health = &ts->health};
        if (!proc) {
            if (ts->ref.cgroup)
                gsm_container_identity_parse(ts->ref.cgroup, &r.id);
            cg[ncg++] = r;
        } else
            pr[npr++] = r;
    }
    /* Processes: the top N by RSS (chosen stably by the engine), plus the explicit targets, and
     * at most max_series series of them (bounded cardinality). */
    qsort(pr, npr, sizeof *pr, by_rss_desc);
    size_t keep = 0;
    for (size_t i = 0; i < npr; i++)
        if ((o->engine_selects ? pr[i].selected : i < o->top_processes) || pr[i].t->explicit_target)
            pr[keep++] = pr[i];
    struct gsm_metrics_series series = {0};
    npr = gsm_metrics_cap_series(pr, keep, o->max_series, &series);

    self_families(out, o, in, ncg, &series);

    cgroup_families(out, o, cg, ncg);

    condition_family(out, o, in);

    process_families(out, o, pr, npr);
    gsm_metrics_class_families(out, o, pr, npr, cg, ncg, in->targets, n);
    findings_family(out, o, in);
    gsm_metrics_health_families(out, o, pr, npr, cg, ncg);
    if (o->openmetrics)
        fputs("# EOF\n", out);
    free(cg);
    free(pr);
    return ferror(out) ? -EIO : 0;
}

/* For metrics_classes.c (renderers/metrics_internal.h). */
void gsm_metrics_value(FILE *out, double v) {
    value(out, v);
}
void gsm_metrics_family(FILE *out, const struct gsm_metrics_opts *o, const char *name, const char *type, const char *help) {
    family(out, o, name, type, help);
}
void gsm_metrics_cg_labels(FILE *out, const struct row *r) {
    cg_label_set(out, r->t, &r->id);
}
void gsm_metrics_proc_labels(FILE *out, const struct gsm_target_ref *t) {
    proc_label_set(out, t);
}

/* "# HELP name ..." or "# TYPE name ...": the name's length, else 0. */
static size_t meta_name_len(const char *line, size_t len, const char *kind) {
    if (len < 7 || memcmp(line, kind, 7) != 0)
        return 0;
    const char *name = line + 7, *end = memchr(name, ' ', len - 7);
    return end ? (size_t)(end - name) : 0;
}

/* Is `line` the TYPE line of a counter named (name, n) that ends in _total? */
static bool counter_total_type(const char *line, size_t len, const char *name, size_t n) {
    static const char counter[] = " counter";
    return n > 6 && memcmp(name + n - 6, "_total", 6) == 0 && meta_name_len(line, len, "# TYPE ") == n &&
           memcmp(line + 7, name, n) == 0 && len == 7 + n + sizeof counter - 1 &&
           memcmp(line + 7 + n, counter, sizeof counter - 1) == 0;
}

size_t gsm_metrics_text_to_openmetrics(const char *text, size_t len, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        const char *line = text + i, *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) : len - i, next = i + ll + (nl ? 1 : 0);
        size_t n = meta_name_len(line, ll, "# HELP ");
        if (n && next < len) {   /* the TYPE line follows its HELP line */
            const char *tl = text + next, *tnl = memchr(tl, '\n', len - next);
            size_t tll = tnl ? (size_t)(tnl - tl) : len - next;
            if (counter_total_type(tl, tll, line + 7, n)) {
                /* both lines, the name 6 bytes shorter in each */
                memcpy(out + o, line, 7 + n - 6);
                o += 7 + n - 6;
                memcpy(out + o, line + 7 + n, next - (i + 7 + n));
                o += next - (i + 7 + n);
                size_t tnext = next + tll + (tnl ? 1 : 0);
                memcpy(out + o, tl, 7 + n - 6);
                o += 7 + n - 6;
                memcpy(out + o, tl + 7 + n, tnext - (next + 7 + n));
                o += tnext - (next + 7 + n);
                i = tnext;
                continue;
            }
        }
        memcpy(out + o, line, next - i);
        o += next - i;
        i = next;
    }
    memcpy(out + o, "# EOF\n", GSM_METRICS_OM_EXTRA);
    return o + GSM_METRICS_OM_EXTRA;
}
