/* Renderers for `gsmapper explain PID`: a table for people, JSON (schema gsmapper.explain/v1)
 * for programs (folded stacks and pprof come from renderers/pprof_writer). They only format
 * what the analyses computed. */
#pragma once

#include "analyses/totals.h"
#include "model/process.h"

#include <stdio.h>
#include <json-c/json.h>

struct gsm_explain_view {
    const struct gsm_process *proc;
    const struct gsm_totals *totals;
    bool with_mappings;      /* JSON: every mapping with all its smaps fields */
    size_t top_mappings;     /* the N largest mappings by RSS (at most GSM_TOP_MAPPINGS_MAX) */
    uint64_t taken_ms;       /* when the snapshot was read (Unix ms) */
    struct json_object *cgroup_json;     /* the "cgroup" object, NULL to leave it out */
    struct json_object *findings_json;   /* the "findings" array, NULL to leave it out */
    const char *cgroup_unavailable;      /* why there is no cgroup section (JSON: "cgroup": null) */
    struct json_object *go_json;         /* "go_runtime": statistics and split (Go processes) */
    const char *go_unavailable;          /* why "go_runtime" is null */
    struct json_object *env_json;        /* "go_env" (only with --read-env) */
    bool with_health;                    /* "health": health_json (renderers/health_render), or null */
    struct json_object *health_json;
};

/* Build the JSON object (caller puts it). NULL on allocation failure. */
struct json_object *gsm_explain_to_json(const struct gsm_explain_view *v);
/* Pretty-print a JSON value and a newline. */
int gsm_json_print(struct json_object *o, FILE *out);
int gsm_explain_print_json(const struct gsm_explain_view *v, FILE *out);
int gsm_explain_print_table(const struct gsm_explain_view *v, FILE *out);

/* How many of totals->top to show. */
static inline size_t gsm_explain_top_count(const struct gsm_explain_view *v) {
    return v->top_mappings < v->totals->n_top ? v->top_mappings : v->totals->n_top;
}
