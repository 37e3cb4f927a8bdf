/* `gsmapper report`'s page: one self-contained HTML file (docs/report.md). The style sheet, the
 * script and the data are inline; a Content-Security-Policy in the page forbids every fetch, so
 * it opens from a local file with no network at all. Built only from documented JSON: explain
 * documents (gsmapper.explain/v1) and a bundle's samples.jsonl / event.json / summary.txt. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* One snapshot, as read by the caller (every member may be NULL, but not all of them). */
struct gsm_report_input {
    struct json_object *explain;   /* gsmapper.explain/v1: a process or a cgroup */
    const char *samples_jsonl;     /* a bundle's samples.jsonl */
    size_t samples_len;
    struct json_object *event;     /* a bundle's event.json */
    const char *summary;           /* a bundle's summary.txt */
    const char *label;             /* where it came from, for people ("PID 1234", a path) */
    struct json_object *const *details;   /* with a cgroup document: process documents of some */
    size_t n_details;                     /* of its processes (explain PID --mappings) */
    size_t details_failed;                /* processes whose own document could not be had */
};

/* Processes of a live --cgroup that get their own `explain PID --mappings` (the largest first). */
#define GSM_REPORT_CGROUP_DETAILS 8

/* Children kept per node by default (the rest fold into one "other" node): with it a process of
 * 20,000 mappings makes a page well under 2 MiB (bench/report.sh). */
#define GSM_REPORT_TOP_DEFAULT 40
#define GSM_REPORT_TOP_MAX 5000

struct gsm_report_opts {
    size_t top;                    /* children kept per node (>= 2) */
    const char *title;             /* NULL: made from the target */
    uint64_t now_ms;               /* when the page was made */
};

/* The page for `after` (and with `before`, the diff before -> after) in a malloc'd buffer.
 * Returns 0; -EINVAL with *why when an input is unusable (no explain document where one is
 * needed, a document of another schema); -ENOMEM. */
int gsm_report_html(const struct gsm_report_input *after, const struct gsm_report_input *before,
                    const struct gsm_report_opts *o, char **ret_buf, size_t *ret_len, const char **why);

/* Pure: the embedded data object only (for tests and the size bench). Same returns. */
int gsm_report_data(const struct gsm_report_input *after, const struct gsm_report_input *before,
                    const struct gsm_report_opts *o, struct json_object **ret, const char **why);

/* The flame graph alone as a standalone SVG with its own click-zoom and search (a script inside
 * the SVG), RSS widths; in a diff coloured by the change. -EINVAL with *why without an explain
 * document. */

/* The heat map's table as CSV (RFC 4180): a header "time_ms,<row>_bytes...,limit_bytes,event",
 * one line per column of the heat map; empty cells where a sample lacks the figure; the event's
 * message on the first line at or after its time. -EINVAL with *why when `in` has no samples. */
int gsm_report_svg(const struct gsm_report_input *after, const struct gsm_report_input *before,
                   const struct gsm_report_opts *o, char **ret_buf, size_t *ret_len, const char **why);

int gsm_report_csv(const struct gsm_report_input *in, char **ret_buf, size_t *ret_len, const char **why);
