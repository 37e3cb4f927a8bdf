/* Prometheus exposition of the watch engine's latest state (docs/serve.md): text format 0.0.4,
 * or OpenMetrics 1.0.0. Every family has HELP and TYPE; label values are escaped. */
#pragma once

#include "model/watch_types.h"

#include <sys/types.h>

#include <stdbool.h>
#include <stdio.h>

struct gsm_metrics_opts {
    bool openmetrics;
    size_t top_processes;      /* processes exported: the top N by RSS plus explicit targets */
    /* The engine chose the processes (gsm_watch_state.selected, stable): export those instead
     * of the top N by this tick's RSS. */
    bool engine_selects;
    size_t max_series;         /* per-process series at most (0: no cap); the rest are dropped whole processes */
    double last_render_seconds;
};

/* One row of the gsmapper_finding_active family. */
struct gsm_metrics_finding {
    char id[40];
    char severity[12];
    char category[12];    /* "cgroup", "process", "go" */
    char cgroup[512];
    char pod_uid[64];     /* "" when not a Kubernetes pod */
    pid_t pid;            /* 0 for a cgroup-level finding */
};

/* What the exporter shows: the engine's state of every target this tick (engine/watch.h
 * gsm_watch_target_state), its cost counters, and the findings. */
struct gsm_metrics_input {
    const struct gsm_watch_state *targets;   /* targets with a sample */
    size_t n_targets;
    size_t n_watched;                        /* all targets, with or without a sample yet */
    const struct gsm_watch_stats *stats;
    uint64_t cgroup_memory_reads;            /* every memory cgroup read of the process */
    const struct gsm_metrics_finding *findings;
    size_t n_findings;
    const uint64_t *findings_evaluated;      /* [3]: evaluations per category (cgroup, process, go) */
};

int gsm_metrics_render(const struct gsm_metrics_input *in, const struct gsm_metrics_opts *o, FILE *out);
/* The OpenMetrics exposition from the text one that gsm_metrics_render wrote (o->openmetrics
 * false): the two differ only in a counter family's name in HELP and TYPE (no _total suffix in
 * OpenMetrics) and the closing "# EOF". serve keeps only the text and converts at each
 * OpenMetrics scrape. out holds at least len + GSM_METRICS_OM_EXTRA bytes; returns the length
 * written. */
#define GSM_METRICS_OM_EXTRA 6
size_t gsm_metrics_text_to_openmetrics(const char *text, size_t len, char *out);
