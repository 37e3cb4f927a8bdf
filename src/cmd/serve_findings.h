/* The findings `serve` exports as gsmapper_finding_active: the cgroup-level rules of
 * analyses/findings for every watched cgroup, and the Go rules (GOMEMLIMIT, GOGC, GC thrash...)
 * for every Go process whose runtime statistics the watch engine holds. */
#pragma once

#include "engine/watch.h"
#include "renderers/metrics.h"
#include "util/root.h"

#include <stdio.h>
#include <sys/types.h>

struct serve_findings {
    struct gsm_metrics_finding *r;
    size_t n, cap;
    uint64_t evaluated[3];   /* rule evaluations so far, by enum gsm_rule_category (a positive control) */
    /* Which process targets are Go (from .go.buildinfo), by PID and start time, so an
     * executable is inspected once per process rather than every evaluation. */
    struct serve_go_known {
        pid_t pid;
        uint64_t starttime;
        bool go;
    } *known;
    size_t n_known;
};

/* Re-evaluates everything (the previous rows are replaced). The cgroup rules use what the engine
 * read this tick (memory, breakdown, effective limits: gsm_watch_target_cgroup_memory and co.),
 * nothing is read again. The Go processes evaluated are those whose runtime statistics the
 * engine holds and, with read_env, every Go process target (in a pod the runtime's loopback
 * endpoint is out of reach, but the environment is not). Their classes are the classes tier's
 * (engine/smaps_tier.c keeps a Go process's totals, and chooses those processes whatever their
 * rank): nothing reads smaps here. At most SERVE_GO_FINDINGS_MAX; a process's cgroup is the
 * engine's snapshot of the target's.
 * GOMEMLIMIT comes from the runtime's statistics when the endpoint exports it
 * (go_gc_gomemlimit_bytes), else from the environment with read_env (serve --read-env: the four
 * Go keys only), else it is unknown and GSM-GO-MEMLIMIT stays silent. */
#define SERVE_GO_FINDINGS_MAX 64
void serve_findings_evaluate(const struct gsm_root *root, struct gsm_watch *w, bool read_env,
                             struct serve_findings *out);
void serve_findings_free(struct serve_findings *f);
