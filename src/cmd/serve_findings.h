/* The findings `serve` exports as gsmapper_finding_active: the cgroup-level rules of
 * analyses/findings for every watched cgroup, and the Go rules (GOMEMLIMIT, GOGC, GC thrash...)
 * for every Go process whose runtime statistics the watch engine holds. */
#pragma once

#include "analyses/watch.h"
#include "util/root.h"

#include <stdio.h>
#include <sys/types.h>

struct serve_finding_row {
    char id[40];
    char severity[12];
    char cgroup[512];
    char pod_uid[64];     /* "" when not a Kubernetes pod */
    pid_t pid;            /* 0 for a cgroup-level finding */
};

struct serve_findings {
    struct serve_finding_row *r;
    size_t n, cap;
    /* Which process targets are Go (from .go.buildinfo), by PID and start time, so an
     * executable is inspected once per process rather than every evaluation. */
    struct serve_go_known {
        pid_t pid;
        uint64_t starttime;
        bool go;
    } *known;
    size_t n_known;
};

/* Re-evaluates everything (the previous rows are replaced). The Go processes evaluated are those
 * whose runtime statistics the engine holds and, with read_env, every Go process target (in a
 * pod the runtime's loopback endpoint is out of reach, but the environment is not). Each is read
 * in full (smaps, classes, its cgroup) at most once per call; at most SERVE_GO_FINDINGS_MAX.
 * GOMEMLIMIT comes from the runtime's statistics when the endpoint exports it
 * (go_gc_gomemlimit_bytes), else from the environment with read_env (serve --read-env: the four
 * Go keys only), else it is unknown and GSM-GO-MEMLIMIT stays silent. */
#define SERVE_GO_FINDINGS_MAX 64
void serve_findings_evaluate(const struct gsm_root *root, struct gsm_watch *w, bool read_env,
                             struct serve_findings *out);
/* The gsmapper_finding_active family (HELP, TYPE and one sample per row). */
void serve_findings_render(const struct serve_findings *f, FILE *out);
void serve_findings_free(struct serve_findings *f);
