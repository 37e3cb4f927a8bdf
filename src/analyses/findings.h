/* Findings: numbers turned into statements a person can act on.
 *
 * One table of rules (findings.c, `rules[]`), each with a stable id ("GSM-NEAR-LIMIT"), the
 * severities it can produce, a one-line description, and a function over the inputs below.
 * A rule whose inputs are absent (NULL, have == false) produces nothing. Each finding carries
 * the numbers it used (evidence; the key names the unit: usage_bytes, ratio, threads) and
 * advice that names the file or setting to change. docs/findings.md lists the rules. */
#pragma once

#include "analyses/cgroup_analysis.h"
#include "analyses/totals.h"
#include "model/process.h"
#include "model/cgroup.h"
#include "model/host.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm_go_stats;
struct gsm_go_split;
struct gsm_go_env;
struct gsm_heap_profile;

struct gsm_findings_input {
    const struct gsm_process *proc;        /* NULL for a cgroup-only explain */
    const struct gsm_totals *totals;       /* NULL when smaps was not read */
    const struct gsm_cgroup_memory *cg;    /* NULL when no memory cgroup */
    const struct gsm_cg_effective *eff;    /* NULL when unknown */
    const struct gsm_cg_breakdown *bd;     /* NULL when unknown */
    const struct gsm_host_info *host;      /* NULL when unknown */
    size_t n_processes;                    /* processes in the cgroup, 0 if unknown */
    /* Go processes (issue 4): any may be NULL. */
    const struct gsm_go_stats *go_stats;   /* the runtime's own statistics, when reachable */
    const struct gsm_go_split *go_split;   /* go-heap / go-runtime split with those statistics */
    const struct gsm_go_env *go_env;       /* GOMEMLIMIT, GOGC ... (only with --read-env) */
    const struct gsm_heap_profile *go_heap; /* the heap profile's in-use bytes by stack (level 3) */
};

/* Ordered: a higher value is more severe (sorting and --fail-on compare them). */
enum gsm_severity {
    GSM_SEV_INFO,
    GSM_SEV_WARN,
    GSM_SEV_CRITICAL,
};

/* What a rule looks at: a cgroup's files, one process's mappings and status, or a Go process's
 * runtime (serve evaluates the cgroup rules per watched cgroup and the Go rules per Go process). */
enum gsm_rule_category {
    GSM_RULE_CGROUP,
    GSM_RULE_PROCESS,
    GSM_RULE_GO,
};
const char *gsm_rule_category_name(enum gsm_rule_category c);   /* "cgroup", "process", "go" */

#define GSM_FINDING_MAX_EVIDENCE 8

struct gsm_evidence {
    const char *key;                       /* static string naming the unit: "usage_bytes" */
    double value;
};

struct gsm_finding {
    const char *id;                        /* static: "GSM-NEAR-LIMIT" */
    enum gsm_rule_category category;       /* the rule's */
    enum gsm_severity severity;
    char message[256];                     /* one line, no trailing period */
    struct gsm_evidence evidence[GSM_FINDING_MAX_EVIDENCE];
    size_t n_evidence;
    char advice[512];                      /* what to change: a file or setting and a value */
};

struct gsm_findings {
    struct gsm_finding *items;
    size_t n, cap;
};

/* Run every rule. *ret is sorted by severity, critical first; equal severities keep the rule
 * table's order. Returns the number of findings (>= 0) or -ENOMEM; *ret is written only on
 * success and is freed with gsm_findings_free(). */
int gsm_findings_evaluate(const struct gsm_findings_input *in, struct gsm_findings *ret);
void gsm_findings_free(struct gsm_findings *f);

/* True when any finding is at least `level` severe (for --fail-on). */
bool gsm_findings_reach(const struct gsm_findings *f, enum gsm_severity level);

const char *gsm_severity_name(enum gsm_severity s);   /* "info", "warn", "critical" */
/* "info", "warn" (or "warning"), "critical". Returns 0 or -EINVAL. */
int gsm_severity_parse(const char *s, enum gsm_severity *ret);

/* The rule table for --help and docs: one entry per rule, in evaluation order. */
struct gsm_rule_info {
    const char *id;
    enum gsm_severity min_severity, max_severity;
    const char *summary;                   /* one line: the condition */
    enum gsm_rule_category category;
};

/* The i-th rule of the table (static storage), NULL past the end:
 *   for (size_t i = 0; (r = gsm_findings_rule(i)); i++) ... */
const struct gsm_rule_info *gsm_findings_rule(size_t i);
