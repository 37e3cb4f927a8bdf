/* Between metrics.c and metrics_classes.c: the rows and the exposition helpers. */
#pragma once

#include "analyses/cgroup_analysis.h"
#include "renderers/metrics.h"

struct row {
    const struct gsm_target_ref *t;
    struct gsm_watch_sample s;
    double eta, z;
    struct gsm_container_identity id;        /* cgroup rows: parsed once per render */
    bool selected;                           /* process rows: the engine's choice */
    const struct gsm_proc_classes *cls;      /* process rows: NULL without classes */
    const struct gsm_health_brief *health;   /* the target's score (metrics_health.c) */
};

struct gsm_metrics_series {
    size_t exported, dropped;                /* per-process series */
    size_t dropped_processes;
};

void gsm_metrics_value(FILE *out, double v);
void gsm_metrics_family(FILE *out, const struct gsm_metrics_opts *o, const char *name, const char *type,
                        const char *help);
void gsm_metrics_cg_labels(FILE *out, const struct row *r);
void gsm_metrics_proc_labels(FILE *out, const struct gsm_target_ref *t);

/* Keeps the longest prefix of pr[0, n) (largest first) whose per-process series fit in max
 * (0: all); returns its length and counts in *ret. */
size_t gsm_metrics_cap_series(const struct row *pr, size_t n, size_t max, struct gsm_metrics_series *ret);
void gsm_metrics_series_families(FILE *out, const struct gsm_metrics_opts *o, const struct gsm_metrics_series *s,
                                 const struct gsm_watch_stats *st);
/* gsmapper_process_memory_bytes, _age_seconds, gsmapper_process_go_memory_bytes for the exported
 * processes; gsmapper_cgroup_process_memory_bytes over every process with classes. */
void gsm_metrics_class_families(FILE *out, const struct gsm_metrics_opts *o, const struct row *pr, size_t npr,
                                const struct row *cg, size_t ncg, const struct gsm_watch_state *all, size_t n_all);
/* gsmapper_health_score and gsmapper_health_part_penalty{part} (metrics_health.c). */
void gsm_metrics_health_families(FILE *out, const struct gsm_metrics_opts *o, const struct row *pr, size_t npr,
                                 const struct row *cg, size_t ncg);
