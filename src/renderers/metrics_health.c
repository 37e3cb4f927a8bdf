/* gsmapper_health_score and gsmapper_health_part_penalty (docs/health-score.md) for the watched
 * cgroups and the exported processes. */
#include "renderers/metrics_internal.h"

#include <stdio.h>

static void labels(FILE *out, const struct row *r) {
    bool proc = r->t->type == GSM_WT_PROCESS;
    fprintf(out, "target_type=\"%s\",", proc ? "process" : "cgroup");
    if (proc)
        gsm_metrics_proc_labels(out, r->t);
    else
        gsm_metrics_cg_labels(out, r);
}

static void rows(FILE *out, const struct row *rs, size_t n, bool parts) {
    for (size_t i = 0; i < n; i++) {
        const struct gsm_health_brief *h = rs[i].health;
        if (!h || !h->have)
            continue;
        if (!parts) {
            fputs("gsmapper_health_score{", out);
            labels(out, &rs[i]);
            fprintf(out, "} %d\n", h->score);
            continue;
        }
        for (int k = 0; k < GSM_HP__COUNT; k++) {
            if (h->status[k] != GSM_HPS_USED)
                continue;
            fputs("gsmapper_health_part_penalty{", out);
            labels(out, &rs[i]);
            fprintf(out, ",part=\"%s\"} ", gsm_health_part_name((enum gsm_health_part)k));
            gsm_metrics_value(out, h->penalty[k]);
            fputc('\n', out);
        }
    }
}

void gsm_metrics_health_families(FILE *out, const struct gsm_metrics_opts *o, const struct row *pr, size_t npr,
                                 const struct row *cg, size_t ncg) {
    gsm_metrics_family(out, o, "gsmapper_health_score", "gauge",
                       "Health score of the target, 0 (about to be OOM-killed) to 100 (docs/health-score.md)");
    rows(out, cg, ncg, false);
    rows(out, pr, npr, false);
    gsm_metrics_family(out, o, "gsmapper_health_part_penalty", "gauge",
                       "Points each part of the health score takes from 100 (parts with their input only)");
    rows(out, cg, ncg, true);
    rows(out, pr, npr, true);
}
