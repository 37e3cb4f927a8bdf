/* The report page (see report_html.h): the data object, then the template with the style
 * sheet, the script and the data put in. */
#include "renderers/report_html.h"

#include "renderers/json_text.h"
#include "renderers/report_assets.h"
#include "renderers/report_series.h"
#include "renderers/report_tree.h"
#include "util/cleanup.h"
#include "util/text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "name[pid]" or "cgroup /a/b": what an explain document is about. */
static void doc_target(struct json_object *doc, char *buf, size_t size) {
    struct json_object *t = NULL;
    json_object_object_get_ex(doc, "target", &t);
    const char *cg = gsm_rjson_str(t, "cgroup"), *name = gsm_rjson_str(t, "name");
    if (cg && !json_object_object_get_ex(t, "pid", NULL))
        snprintf(buf, size, "cgroup %s", cg);
    else
        snprintf(buf, size, "%s[%" PRIu64 "]", name ? name : gsm_rjson_str(t, "comm") ? gsm_rjson_str(t, "comm") : "?",
                 gsm_rjson_u64(t, "pid"));
}

static void add_note(struct json_object *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_note(struct json_object *notes, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_object_array_add(notes, json_object_new_string(buf));
}

/* The tree of after (merged with before's in a diff), capped, into data["tree"]. */
static int add_tree(struct json_object *data, struct json_object *notes, const struct gsm_report_input *after,
                    const struct gsm_report_input *before, const struct gsm_report_opts *o, const char **why) {
    struct gsm_rtree t = {0}, b = {0};
    int r = gsm_rtree_from_explain_detailed(after->explain, after->details, after->n_details, &t, why);
    if (r < 0)
        return r;
    if (before) {
        if ((r = gsm_rtree_from_explain_detailed(before->explain, before->details, before->n_details, &b, why)) < 0 ||
            (r = gsm_rtree_merge_before(&t, &b)) < 0) {
            gsm_rtree_free(&t);
            gsm_rtree_free(&b);
            if (r == -ENOMEM)
                *why = "out of memory";
            return r;
        }
    }
    gsm_rtree_cap(&t, o->top);
    struct json_object *tj = gsm_rtree_to_json(&t, before != NULL);
    if (!tj) {
        gsm_rtree_free(&t);
        *why = "out of memory";
        return -ENOMEM;
    }
    json_object_object_add(data, "tree", tj);
    json_object_object_add(data, "have_uss", json_object_new_boolean(t.have_uss));
    json_object_object_add(data, "have_mappings", json_object_new_boolean(t.have_mappings));
    if (!t.have_mappings)
        add_note(notes, "The mapping level is not in this input (explain was run without --mappings, or on a "
                        "cgroup): the graph stops at the classes.");
    if (after->n_details || after->details_failed)
        add_note(notes, "Mappings of a cgroup's processes: the %zu largest were explained one by one "
                        "(explain PID --mappings)%s; the others stop at their classes.",
                 after->n_details + after->details_failed,
                 after->details_failed ? ", some were gone or unreadable by then" : "");
    if (!t.have_uss)
        add_note(notes, "USS (Private_Clean + Private_Dirty) is not in this input.");
    if (t.have_frames)
        add_note(notes, "Go frames: the heap profile's largest stacks as explain keeps them; the rest of the profile is "
                        "\"(other stacks)\"; what the profile does not cover is \"(heap not in profile)\" "
                        "(fragmentation, goroutine stacks, idle spans, garbage since the last GC).");
    if (t.folded_nodes)
        add_note(notes, "Size cap: each node keeps its %zu largest children; %zu smaller nodes are folded into "
                        "\"other (N)\" nodes, which hold their exact sums.", o->top, t.folded_nodes);
    gsm_rtree_free(&t);
    return 0;
}

static void add_bundle_parts(struct json_object *data, struct json_object *notes, const struct gsm_report_input *in) {
    if (in->samples_jsonl) {
        struct json_object *heat = NULL;
        size_t skipped = 0;
        if (gsm_report_heat_json(in->samples_jsonl, in->samples_len, in->event, &heat, &skipped) == 0 && heat)
            json_object_object_add(data, "heat", heat);
        else
            add_note(notes, "The bundle's samples.jsonl holds no sample to draw.");
        if (skipped)
            add_note(notes, "%zu lines of samples.jsonl are not gsmapper.sample/v1 objects and were left out.", skipped);
    }
    if (in->summary)
        json_object_object_add(data, "summary", json_object_new_string(in->summary));
}

int gsm_report_data(const struct gsm_report_input *after, const struct gsm_report_input *before,
                    const struct gsm_report_opts *o, struct json_object **ret, const char **why) {
    if (!after->explain && !after->samples_jsonl) {
        *why = "nothing to draw: no explain document and no samples";
        return -EINVAL;
    }
    if (before && (!before->explain || !after->explain)) {
        *why = "a diff needs an explain document on both sides";
        return -EINVAL;
    }
    struct json_object *data = json_object_new_object(), *notes = json_object_new_array();
    if (!data || !notes) {
        json_object_put(data);
        json_object_put(notes);
        *why = "out of memory";
        return -ENOMEM;
    }
    json_object_object_add(data, "schema", json_object_new_string("gsmapper.report-data/v1"));
    json_object_object_add(data, "generated_ms", json_object_new_uint64(o->now_ms));
    json_object_object_add(data, "diff", json_object_new_boolean(before != NULL));
    char target[400] = "";
    if (after->explain) {
        int r = add_tree(data, notes, after, before, o, why);
        if (r < 0) {
            json_object_put(data);
            json_object_put(notes);
            return r;
        }
        doc_target(after->explain, target, sizeof target);
        json_object_object_add(data, "taken_ms", json_object_new_uint64(gsm_rjson_u64(after->explain, "taken_ms")));
        struct json_object *strip = gsm_report_strip_json(after->explain), *f = NULL;
        if (strip)
            json_object_object_add(data, "strip", strip);
        if (json_object_object_get_ex(after->explain, "findings", &f) && json_object_is_type(f, json_type_array))
            json_object_object_add(data, "findings", json_object_get(f));
    } else
        add_note(notes, "This bundle has no explain.json (the recorder could not run explain): only the samples are drawn.");
    add_bundle_parts(data, notes, after);
    if (before) {
        struct json_object *labels = json_object_new_object();
        json_object_object_add(labels, "before", json_object_new_string(before->label ? before->label : "before"));
        json_object_object_add(labels, "after", json_object_new_string(after->label ? after->label : "after"));
        json_object_object_add(data, "labels", labels);
    }
    struct json_object *heat = NULL;
    if (!target[0] && json_object_object_get_ex(data, "heat", &heat))
        snprintf(target, sizeof target, "%s", gsm_rjson_str(heat, "target") ? gsm_rjson_str(heat, "target") : "?");
    char title[512];
    if (o->title)
        snprintf(title, sizeof title, "%s", o->title);
    else
        snprintf(title, sizeof title, "%s of %s", before ? "Memory diff" : "Memory", target);
    json_object_object_add(data, "title", json_object_new_string(title));
    json_object_object_add(data, "source", json_object_new_string(after->label ? after->label : ""));
    add_note(notes, "Figures: RSS is resident memory; PSS divides each resident page among the processes that map it; "
                    "Swap is swapped out; USS is resident memory no other process maps (Private_Clean + Private_Dirty). "
                    "Made by gsmapper " GSM_VERSION " from documented JSON (docs/report.md).");
    json_object_object_add(data, "notes", notes);
    *ret = data;
    return 0;
}

/* ---- the page ---------------------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *s, size_t n) {
    if (b->failed || n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 65536;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void put_html_text(struct buf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': put(b, "&amp;", 5); break;
        case '<': put(b, "&lt;", 4); break;
        case '>': put(b, "&gt;", 4); break;
        case '"': put(b, "&quot;", 6); break;
        default: put(b, s, 1);
        }
    }
}

/* JSON inside <script type="application/json">: '<' only occurs inside strings, where \u003c
 * means the same, so no "</script>" or "<!--" can end or change the element. */
static void put_script_json(struct buf *b, const char *s, size_t n) {
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '<') {
            put(b, s + from, i - from);
            put(b, "\\u003c", 6);
            from = i + 1;
        }
    }
    put(b, s + from, n - from);
}

/* A script or style sheet must not contain its own end tag: the assets are ours, checked here
 * so an edit that breaks the page fails the build's tests rather than a user's browser. */
static bool asset_ok(const char *s, const char *end_tag) {
    return strcasestr(s, end_tag) == NULL;
}

int gsm_report_html(const struct gsm_report_input *after, const struct gsm_report_input *before,
                    const struct gsm_report_opts *o, char **ret_buf, size_t *ret_len, const char **why) {
    struct json_object *data;
    int r = gsm_report_data(after, before, o, &data, why);
    if (r < 0)
        return r;
    if (!asset_ok(gsm_report_asset_report_js, "</script") || !asset_ok(gsm_report_asset_report_css, "</style")) {
        json_object_put(data);
        *why = "the built-in page assets contain their own end tag";
        return -EINVAL;
    }
    /* valid UTF-8 whatever the input documents held (docs/text-safety.md) */
    _cleanup_free_ char *djson = gsm_json_text(data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t dlen = djson ? strlen(djson) : 0;
    const char *t0 = gsm_rjson_str(data, "title");
    _cleanup_free_ char *title = t0 ? gsm_utf8_repair(t0, strlen(t0), NULL) : NULL;
    struct buf b = {0};
    const char *t = gsm_report_asset_report_html, *end = t + gsm_report_asset_report_html_len;
    while (t < end && djson) {
        const char *at = memchr(t, '@', (size_t)(end - t));
        if (!at) {
            put(&b, t, (size_t)(end - t));
            break;
        }
        put(&b, t, (size_t)(at - t));
#define TOKEN(s) (strncmp(at, s, STRLEN(s)) == 0 ? (t = at + STRLEN(s), true) : false)
        if (TOKEN("@TITLE@"))
            put_html_text(&b, title ? title : "gsmapper report");
        else if (TOKEN("@VERSION@"))
            put(&b, GSM_VERSION, strlen(GSM_VERSION));
        else if (TOKEN("@CSS@"))
            put(&b, gsm_report_asset_report_css, gsm_report_asset_report_css_len);
        else if (TOKEN("@JS@"))
            put(&b, gsm_report_asset_report_js, gsm_report_asset_report_js_len);
        else if (TOKEN("@DATA@"))
            put_script_json(&b, djson, dlen);
        else {
            put(&b, "@", 1);
            t = at + 1;
        }
#undef TOKEN
    }
    bool failed = !djson || b.failed;
    json_object_put(data);
    if (failed) {
        free(b.p);
        *why = "out of memory";
        return -ENOMEM;
    }
    *ret_buf = b.p;
    *ret_len = b.len;
    return 0;
}
