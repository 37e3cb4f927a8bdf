/* The Go part of `gsmapper explain PID`: the runtime's statistics and heap profile over HTTP
 * (with the endpoint checked against the target), the split of the Go classes with them, the
 * opt-in environment, and their sections in the table and JSON. Private to cmd/explain.c. */
#pragma once

#include "analyses/go_split.h"
#include "model/go_env.h"
#include "model/go_heap_profile.h"
#include "model/go_stats.h"
#include "readers/proc_handle.h"
#include "util/root.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

struct explain_go_opts {
    const char *endpoint;      /* --go-endpoint, or NULL: discover the process's own ports */
    bool endpoint_any;         /* --go-endpoint-any: do not check the endpoint belongs to the target */
    bool gc;                   /* --gc: ask for a GC before the heap profile (heap?gc=1) */
    bool no_stats;             /* --no-go-stats */
};

struct explain_go {
    bool have_stats, have_split, have_env, have_heap;
    struct gsm_go_stats stats;
    struct gsm_go_split split;
    struct gsm_go_env env;
    struct gsm_heap_profile heap;
    char why[256];             /* why there are no statistics */
};

/* The statistics (with --gc: the heap profile with its GC first, then the statistics again),
 * right before status and smaps are read. Returns GSM_EXIT_OK (statistics that cannot be had
 * are not fatal: g->why says why), or GSM_EXIT_USAGE after printing the error when
 * --go-endpoint names a port the target does not listen on (or cannot be checked). */
int explain_go_fetch(const struct gsm_root *root, const struct gsm_proc *h, const struct explain_go_opts *o,
                     struct explain_go *g);
/* Without --gc, the heap profile (as of the last GC) from the same server, after smaps. */
void explain_go_fetch_profile(const struct explain_go_opts *o, struct explain_go *g);
void explain_go_free(struct explain_go *g);

/* The "go_runtime" object (with "heap_profile"), or NULL without statistics. */
struct json_object *explain_go_json(const struct explain_go *g);
/* GO RUNTIME and GO HEAP BY CODE PATH sections (and the environment when read). */
void explain_go_print_table(const struct explain_go *g, const struct explain_go_opts *o, FILE *out);
