/* Prometheus exposition of the watch engine's latest state (docs/serve.md): text format 0.0.4,
 * or OpenMetrics 1.0.0. Every family has HELP and TYPE; label values are escaped. */
#pragma once

#include "analyses/watch.h"

#include <stdbool.h>
#include <stdio.h>

struct gsm_metrics_opts {
    bool openmetrics;
    size_t top_processes;      /* processes exported: the top N by RSS plus explicit targets */
    double last_render_seconds;
};

int gsm_metrics_render(const struct gsm_watch *w, const struct gsm_metrics_opts *o, FILE *out);
