/* The ownership tree of `gsmapper report` (docs/report.md), built from the documented JSON of
 * `gsmapper explain` (schema gsmapper.explain/v1), never from the in-memory model, so the report
 * reads a saved file, a bundle's explain.json and a live explain alike.
 *
 * Levels, root to leaf: cgroup -> process "name[pid]" -> class -> mapping (path or anon@ADDR;
 * the mappings of one path in one class are one node) -> Go frames of the heap profile (under
 * go-heap mappings, root-most caller first). A `explain --cgroup` document has no mappings: its
 * processes stop at their classes, and the cgroup's kernel memory and unmapped page cache are
 * nodes beside the processes.
 *
 * Every node holds four figures (RSS, PSS, swap, USS = Private_Clean + Private_Dirty) for the
 * snapshot, and in a diff the same four for the "before" snapshot. Leaves hold values; an inner
 * node's values are the sums of its children, so a node is never narrower than its children. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gsm_rmetric { GSM_RM_RSS, GSM_RM_PSS, GSM_RM_SWAP, GSM_RM_USS, GSM_RM__COUNT };

enum gsm_rnode_kind {
    GSM_RN_CGROUP,
    GSM_RN_PROCESS,
    GSM_RN_CLASS,
    GSM_RN_MAPPING,
    GSM_RN_FRAME,
    GSM_RN_PART,    /* cgroup memory outside processes: kernel parts, unmapped page cache */
    GSM_RN_OTHER,   /* what the size cap folded together */
};

/* Which snapshot a figure belongs to: AFTER is the only one outside a diff. */
enum { GSM_RSNAP_BEFORE = 0, GSM_RSNAP_AFTER = 1 };

struct gsm_rnode {
    char *name;
    enum gsm_rnode_kind kind;
    uint64_t v[2][GSM_RM__COUNT];
    uint64_t leaves[2];            /* mappings (or processes) under this node, per snapshot */
    struct json_object *info;      /* figures for the tooltip (owned), or NULL */
    struct gsm_rnode **kids;
    size_t n_kids, cap_kids;
};

struct gsm_rtree {
    struct gsm_rnode *root;
    bool have_uss;                 /* false when the input had no per-mapping private figures */
    bool have_mappings;            /* the mapping level was in the input */
    bool have_frames;              /* a Go heap profile was in the input */
    size_t folded_nodes;           /* nodes the cap folded into "other" nodes */
};

/* Build the tree of one explain document (gsmapper.explain/v1: a process or a cgroup) as the
 * AFTER snapshot of a fresh tree. Returns 0, -EINVAL (not an explain document: *why says what
 * is wrong), -ENOMEM. */
int gsm_rtree_from_explain(struct json_object *doc, struct gsm_rtree *ret, const char **why);
/* The same for a cgroup document, with process documents (`explain PID --mappings`) of some of
 * its processes: those processes get their classes, mappings and frames from their own document
 * (matched by target.pid), the others stop at class_rss_bytes. */
int gsm_rtree_from_explain_detailed(struct json_object *doc, struct json_object *const *details, size_t n_details,
                                    struct gsm_rtree *ret, const char **why);

/* Merge `before` (built as its own tree) into `after` as the BEFORE figures: nodes are matched
 * by name level by level (the roots always match; a lone process on each side matches whatever
 * its PID); nodes only in `before` are added with zero AFTER figures. `before` is consumed. */
int gsm_rtree_merge_before(struct gsm_rtree *after, struct gsm_rtree *before);

/* The size cap: every node keeps its `top` largest children (by RSS + swap, the larger of the two
 * snapshots), the rest become one "other (K)" node holding their sums. top >= 2. */
void gsm_rtree_cap(struct gsm_rtree *t, size_t top);

/* The tree as compact JSON for the page (docs/report.md, "Embedded data"). NULL on ENOMEM. */
struct json_object *gsm_rtree_to_json(const struct gsm_rtree *t, bool diff);

void gsm_rtree_free(struct gsm_rtree *t);

/* Helpers shared with the rest of the report: a member as uint64 (0 when absent or not a
 * number; negative numbers are 0), as a string (NULL when absent). */
uint64_t gsm_rjson_u64(struct json_object *o, const char *key);
const char *gsm_rjson_str(struct json_object *o, const char *key);
/* The USS of one mapping object: "uss_bytes" when the document has it, else its smaps
 * private_clean_bytes + private_dirty_bytes. *ret_known false when neither is there. */
uint64_t gsm_rjson_mapping_uss(struct json_object *m, bool *ret_known);
