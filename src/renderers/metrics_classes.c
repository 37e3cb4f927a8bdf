/* The memory classes in the exposition (docs/serve.md, "Classes"): per process, per cgroup as
 * the sum over its processes, the Go split; and the series cap. */
#include "renderers/metrics_internal.h"

#include <string.h>

static bool class_present(const struct gsm_proc_classes *c, int k) {
    return c->bytes[k][GSM_CK_RSS] || c->bytes[k][GSM_CK_SWAP];
}

/* The series one process row adds to the per-process families below and in metrics.c. */
static size_t row_series(const struct row *r) {
    size_t n = 4 /* resident */ + 1 /* threads */ + 1 /* eta */ + (r->s.go_adjusted ? 1 : 0);
    if (r->cls) {
        n += 1;   /* age */
        for (int k = 0; k < GSM_CLASS__COUNT; k++)
            n += class_present(r->cls, k) ? GSM_CK__COUNT : 0;
        n += r->cls->have_go ? GSM_GP__COUNT : 0;
    }
    return n;
}

size_t gsm_metrics_cap_series(const struct row *pr, size_t n, size_t max, struct gsm_metrics_series *ret) {
    struct gsm_metrics_series s = {0};
    size_t keep = n;
    for (size_t i = 0; i < n; i++) {
        size_t k = row_series(&pr[i]);
        if (keep == n && max && s.exported + k > max)
            keep = i;   /* this one and every smaller one are left out: a stable cut */
        if (keep == n)
            s.exported += k;
        else {
            s.dropped += k;
            s.dropped_processes++;
        }
    }
    *ret = s;
    return keep;
}

void gsm_metrics_series_families(FILE *out, const struct gsm_metrics_opts *o, const struct gsm_metrics_series *s,
                                 const struct gsm_watch_stats *st) {
    gsm_metrics_family(out, o, "gsmapper_series", "gauge", "Per-process series in this exposition (--max-series caps it)");
    fprintf(out, "gsmapper_series %zu\n", s->exported);
    gsm_metrics_family(out, o, "gsmapper_series_dropped", "gauge",
                       "Per-process series left out by --max-series (whole processes, the smallest by RSS)");
    fprintf(out, "gsmapper_series_dropped %zu\n", s->dropped);
    gsm_metrics_family(out, o, "gsmapper_class_processes", "gauge",
                       "Processes chosen for memory classes (the top N by RSS, chosen stably, and the named ones)");
    fprintf(out, "gsmapper_class_processes %llu\n", (unsigned long long)st->smaps_selected);
}

/* A process's cgroup is the cgroup or below it. */
static bool under(const char *proc_cg, const char *cg) {
    if (!proc_cg || !cg)
        return false;
    size_t n = strlen(cg);
    if (n == 1 && cg[0] == '/')
        return proc_cg[0] == '/';
    return strncmp(proc_cg, cg, n) == 0 && (proc_cg[n] == '\0' || proc_cg[n] == '/');
}

static void process_classes(FILE *out, const struct gsm_metrics_opts *o, const struct row *pr, size_t npr) {
    gsm_metrics_family(out, o, "gsmapper_process_memory_bytes", "gauge",
                       "Memory of the process by class (full smaps; kind rss, pss, swap, uss), for the chosen processes");
    for (size_t i = 0; i < npr; i++) {
        const struct gsm_proc_classes *c = pr[i].cls;
        for (int k = 0; c && k < GSM_CLASS__COUNT; k++) {
            if (!class_present(c, k))
                continue;
            for (int j = 0; j < GSM_CK__COUNT; j++) {
                fputs("gsmapper_process_memory_bytes{", out);
                gsm_metrics_proc_labels(out, pr[i].t);
                fprintf(out, ",class=\"%s\",kind=\"%s\"} %llu\n", gsm_class_name((enum gsm_class)k),
                        gsm_class_kind_name((enum gsm_class_kind)j), (unsigned long long)c->bytes[k][j]);
            }
        }
    }
    gsm_metrics_family(out, o, "gsmapper_process_memory_age_seconds", "gauge",
                       "Age of the process's class figures (the last full smaps read) at this tick");
    for (size_t i = 0; i < npr; i++) {
        const struct gsm_proc_classes *c = pr[i].cls;
        if (!c)
            continue;
        fputs("gsmapper_process_memory_age_seconds{", out);
        gsm_metrics_proc_labels(out, pr[i].t);
        fputs("} ", out);
        gsm_metrics_value(out, pr[i].s.t_ms > c->taken_ms ? (double)(pr[i].s.t_ms - c->taken_ms) / 1000.0 : 0.0);
        fputc('\n', out);
    }
    gsm_metrics_family(out, o, "gsmapper_process_go_memory_bytes", "gauge",
                       "Go processes with reachable statistics: the go-heap and go-runtime classes split by the runtime's figures");
    for (size_t i = 0; i < npr; i++) {
        const struct gsm_proc_classes *c = pr[i].cls;
        for (int k = 0; c && c->have_go && k < GSM_GP__COUNT; k++) {
            fputs("gsmapper_process_go_memory_bytes{", out);
            gsm_metrics_proc_labels(out, pr[i].t);
            fprintf(out, ",part=\"%s\"} %llu\n", gsm_go_part_name((enum gsm_go_part)k),
                    (unsigned long long)c->go_parts[k]);
        }
    }
}

static void cgroup_classes(FILE *out, const struct gsm_metrics_opts *o, const struct row *cg, size_t ncg,
                           const struct gsm_watch_state *all, size_t n_all) {
    gsm_metrics_family(out, o, "gsmapper_cgroup_process_memory_bytes", "gauge",
                       "Memory by class summed over the cgroup's processes that have classes (itself and below)");
    for (size_t i = 0; i < ncg; i++) {
        uint64_t sum[GSM_CLASS__COUNT][GSM_CK__COUNT] = {{0}};
        bool any = false;
        for (size_t j = 0; j < n_all; j++) {
            const struct gsm_watch_state *p = &all[j];
            if (p->ref.type != GSM_WT_PROCESS || !p->classes || !under(p->ref.cgroup, cg[i].t->cgroup))
                continue;
            any = true;
            for (int k = 0; k < GSM_CLASS__COUNT; k++)
                for (int m = 0; m < GSM_CK__COUNT; m++)
                    sum[k][m] += p->classes->bytes[k][m];
        }
        for (int k = 0; any && k < GSM_CLASS__COUNT; k++) {
            if (!sum[k][GSM_CK_RSS] && !sum[k][GSM_CK_SWAP])
                continue;
            for (int m = 0; m < GSM_CK__COUNT; m++) {
                fputs("gsmapper_cgroup_process_memory_bytes{", out);
                gsm_metrics_cg_labels(out, &cg[i]);
                fprintf(out, ",class=\"%s\",kind=\"%s\"} %llu\n", gsm_class_name((enum gsm_class)k),
                        gsm_class_kind_name((enum gsm_class_kind)m), (unsigned long long)sum[k][m]);
            }
        }
    }
    gsm_metrics_family(out, o, "gsmapper_cgroup_class_processes", "gauge",
                       "Processes of the cgroup (itself and below) whose classes are summed, and all of them with a sample");
    for (size_t i = 0; i < ncg; i++) {
        size_t with = 0, total = 0;
        for (size_t j = 0; j < n_all; j++) {
            const struct gsm_watch_state *p = &all[j];
            if (p->ref.type != GSM_WT_PROCESS || !under(p->ref.cgroup, cg[i].t->cgroup))
                continue;
            total++;
            with += p->classes != NULL;
        }
        for (int k = 0; k < 2; k++) {
            fputs("gsmapper_cgroup_class_processes{", out);
            gsm_metrics_cg_labels(out, &cg[i]);
            fprintf(out, ",state=\"%s\"} %zu\n", k ? "sampled" : "classified", k ? total : with);
        }
    }
}

void gsm_metrics_class_families(FILE *out, const struct gsm_metrics_opts *o, const struct row *pr, size_t npr,
                                const struct row *cg, size_t ncg, const struct gsm_watch_state *all, size_t n_all) {
    process_classes(out, o, pr, npr);
    cgroup_classes(out, o, cg, ncg, all, n_all);
}
