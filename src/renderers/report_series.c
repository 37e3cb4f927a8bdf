/* The report's heat map and address-space strip (see report_series.h). */
#include "renderers/report_series.h"

#include "renderers/report_tree.h"
#include "util/cleanup.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- heat map ---------------------------------------------------------------------------- */

/* The figures of a sample that split or measure its target's memory, in the order the rows
 * show them (docs/watch.md, Samples). A sample's "classes" object, when a sample has one, gives
 * rows of its own before these. */
static const char *const heat_fields[] = {
    "anon_bytes", "file_bytes", "swap_bytes", "others_bytes", "go_heap_goal_bytes", "pss_bytes",
    "unreclaimable_bytes", "working_set_bytes", "usage_bytes",
};

/* "pid:1234:99" or "cgroup:/a/b": which target a sample or an event is about. */
static void target_key(struct json_object *obj, char *buf, size_t size) {
    struct json_object *t;
    buf[0] = 0;
    if (!json_object_object_get_ex(obj, "target", &t) || !json_object_is_type(t, json_type_object))
        return;
    const char *type = gsm_rjson_str(t, "type");
    if (type && strcmp(type, "process") == 0)
        snprintf(buf, size, "pid:%" PRIu64 ":%" PRIu64, gsm_rjson_u64(t, "pid"), gsm_rjson_u64(t, "start_time_ticks"));
    else
        snprintf(buf, size, "cgroup:%s", gsm_rjson_str(t, "cgroup") ? gsm_rjson_str(t, "cgroup") : "");
}

static void target_label(struct json_object *obj, char *buf, size_t size) {
    struct json_object *t = NULL;
    json_object_object_get_ex(obj, "target", &t);
    const char *type = gsm_rjson_str(t, "type");
    if (type && strcmp(type, "process") == 0)
        snprintf(buf, size, "%s[%" PRIu64 "]", gsm_rjson_str(t, "name") ? gsm_rjson_str(t, "name") : "?",
                 gsm_rjson_u64(t, "pid"));
    else
        snprintf(buf, size, "cgroup %s", gsm_rjson_str(t, "cgroup") ? gsm_rjson_str(t, "cgroup") : "?");
}

static bool is_number(struct json_object *v) {
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
}

/* A row's value in sample s, NULL when absent. class_row: from the sample's "classes". */
static struct json_object *cell(struct json_object *s, const char *key, bool class_row) {
    struct json_object *v = NULL, *c;
    if (class_row) {
        if (json_object_object_get_ex(s, "classes", &c) && json_object_is_type(c, json_type_object))
            json_object_object_get_ex(c, key, &v);
    } else
        json_object_object_get_ex(s, key, &v);
    return is_number(v) ? v : NULL;
}

static int cmp_time(const void *a, const void *b) {
    uint64_t x = gsm_rjson_u64(*(struct json_object *const *)a, "time_ms");
    uint64_t y = gsm_rjson_u64(*(struct json_object *const *)b, "time_ms");
    return x < y ? -1 : x > y;
}

/* The values of one row over the columns: samples [cols[c], cols[c+1]) averaged, null where no
 * sample of the bucket has the figure. */
static struct json_object *row_values(struct json_object **samples, const size_t *cols, size_t n_cols,
                                      const char *key, bool class_row, bool *ret_any) {
    struct json_object *a = json_object_new_array_ext((int)n_cols);
    for (size_t c = 0; a && c < n_cols; c++) {
        long double sum = 0;
        size_t n = 0;
        for (size_t i = cols[c]; i < cols[c + 1]; i++) {
            struct json_object *v = cell(samples[i], key, class_row);
            if (v) {
                sum += json_object_get_double(v);
                n++;
            }
        }
        json_object_array_add(a, n ? json_object_new_uint64((uint64_t)llroundl(sum / n)) : NULL);
        if (n)
            *ret_any = true;
    }
    return a;
}

static void add_row(struct json_object *rows, const char *name, struct json_object *vals) {
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "n", json_object_new_string(name));
    json_object_object_add(r, "v", vals);
    json_object_array_add(rows, r);
}

/* The rows, the columns' times, the limit and the event, from the chosen target's samples
 * (sorted by time). */
static struct json_object *heat_object(struct json_object **samples, size_t n, struct json_object *event) {
    size_t n_cols = n < GSM_REPORT_HEAT_COLUMNS_MAX ? n : GSM_REPORT_HEAT_COLUMNS_MAX;
    _cleanup_free_ size_t *cols = malloc((n_cols + 1) * sizeof *cols);
    struct json_object *o = json_object_new_object(), *rows = json_object_new_array(), *t = json_object_new_array();
    if (!cols || !o || !rows || !t) {
        json_object_put(o);
        json_object_put(rows);
        json_object_put(t);
        return NULL;
    }
    for (size_t c = 0; c <= n_cols; c++)
        cols[c] = c * n / n_cols;
    for (size_t c = 0; c < n_cols; c++)
        json_object_array_add(t, json_object_new_uint64(gsm_rjson_u64(samples[cols[c]], "time_ms")));
    /* class rows: every key any sample's "classes" holds, in first-seen order */
    struct json_object *seen = json_object_new_object();
    for (size_t i = 0; seen && i < n; i++) {
        struct json_object *c;
        if (!json_object_object_get_ex(samples[i], "classes", &c) || !json_object_is_type(c, json_type_object))
            continue;
        json_object_object_foreach(c, key, val) {
            (void)val;
            if (json_object_object_get_ex(seen, key, NULL))
                continue;
            json_object_object_add(seen, key, NULL);
            bool any = false;
            struct json_object *v = row_values(samples, cols, n_cols, key, true, &any);
            if (any)
                add_row(rows, key, v);
            else
                json_object_put(v);
        }
    }
    json_object_put(seen);
    for (size_t f = 0; f < ELEMENTSOF(heat_fields); f++) {
        bool any = false;
        struct json_object *v = row_values(samples, cols, n_cols, heat_fields[f], false, &any);
        char name[40];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(heat_fields[f]) - STRLEN("_bytes")), heat_fields[f]);
        if (any)
            add_row(rows, name, v);
        else
            json_object_put(v);
    }
    bool any_limit = false;
    struct json_object *limit = row_values(samples, cols, n_cols, "limit_bytes", false, &any_limit);
    json_object_object_add(o, "t", t);
    json_object_object_add(o, "rows", rows);
    json_object_object_add(o, "limit", any_limit ? limit : NULL);
    if (!any_limit)
        json_object_put(limit);
    char label[300];
    target_label(samples[0], label, sizeof label);
    json_object_object_add(o, "target", json_object_new_string(label));
    json_object_object_add(o, "samples", json_object_new_uint64(n));
    if (event) {
        json_object_object_add(o, "event_ms", json_object_new_uint64(gsm_rjson_u64(event, "time_ms")));
        char msg[600];
        snprintf(msg, sizeof msg, "%s %s: %s", gsm_rjson_str(event, "level") ? gsm_rjson_str(event, "level") : "",
                 gsm_rjson_str(event, "kind") ? gsm_rjson_str(event, "kind") : "",
                 gsm_rjson_str(event, "message") ? gsm_rjson_str(event, "message") : "");
        json_object_object_add(o, "event", json_object_new_string(msg));
    }
    return o;
}

/* Parse the JSON lines into an array of sample objects (schema gsmapper.sample/v1). */
static int parse_samples(const char *jsonl, size_t len, struct json_object **ret, size_t *ret_skipped) {
    struct json_object *all = json_object_new_array();
    if (!all)
        return -ENOMEM;
    size_t skipped = 0;
    const char *p = jsonl, *end = jsonl + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (l > 0 && !(l == 1 && p[0] == '\r')) {
            struct json_tokener *tok = json_tokener_new();
            struct json_object *o = tok ? json_tokener_parse_ex(tok, p, (int)l) : NULL;
            bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
                      json_object_is_type(o, json_type_object) && gsm_rjson_str(o, "schema") &&
                      strcmp(gsm_rjson_str(o, "schema"), "gsmapper.sample/v1") == 0;
            json_tokener_free(tok);
            if (ok)
                json_object_array_add(all, o);
            else {
                json_object_put(o);
                skipped++;
            }
        }
        p += l + 1;
    }
    *ret = all;
    *ret_skipped = skipped;
    return 0;
}

int gsm_report_heat_json(const char *jsonl, size_t len, struct json_object *event, struct json_object **ret,
                         size_t *ret_skipped) {
    struct json_object *all;
    int r = parse_samples(jsonl, len, &all, ret_skipped);
    if (r < 0)
        return r;
    size_t n = json_object_array_length(all);
    _cleanup_free_ struct json_object **pick = calloc(n ? n : 1, sizeof *pick);
    if (!pick) {
        json_object_put(all);
        return -ENOMEM;
    }
    /* the target: the event's, else the one with the most samples */
    char want[320] = "", key[320], best[320] = "";
    size_t best_n = 0;
    if (event)
        target_key(event, want, sizeof want);
    for (size_t i = 0; i < n && !want[0]; i++) {
        target_key(json_object_array_get_idx(all, i), key, sizeof key);
        size_t c = 0;
        for (size_t j = 0; j < n; j++) {
            char k2[320];
            target_key(json_object_array_get_idx(all, j), k2, sizeof k2);
            c += strcmp(key, k2) == 0;
        }
        if (c > best_n) {
            best_n = c;
            snprintf(best, sizeof best, "%s", key);
        }
        if (best_n * 2 > n)
            break;   /* a majority: no other target can have more */
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        target_key(json_object_array_get_idx(all, i), key, sizeof key);
        if (strcmp(key, want[0] ? want : best) == 0)
            pick[k++] = json_object_array_get_idx(all, i);
    }
    if (k == 0 && want[0])   /* the event's target has no samples here: take them all */
        for (size_t i = 0; i < n; i++)
            pick[k++] = json_object_array_get_idx(all, i);
    *ret = NULL;
    if (k > 0) {
        qsort(pick, k, sizeof *pick, cmp_time);
        *ret = heat_object(pick, k, event);
        if (!*ret) {
            json_object_put(all);
            return -ENOMEM;
        }
    }
    json_object_put(all);
    return 0;
}

/* ---- address-space strip ----------------------------------------------------------------- */

static int class_index(struct json_object *classes, const char *name) {
    size_t n = json_object_array_length(classes);
    for (size_t i = 0; i < n; i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(classes, i)), name) == 0)
            return (int)i;
    json_object_array_add(classes, json_object_new_string(name));
    return (int)n;
}

static uint64_t hex_u64(const char *s) {
    return s ? strtoull(s, NULL, 16) : 0;
}

/* One segment: [start, end, size_bytes, class index, rss_bytes, mappings, name]. Mappings
 * [i, j) of the (address-ordered) array; the class is the one holding most of the size. */
static struct json_object *segment(struct json_object *maps, size_t i, size_t j, struct json_object *classes) {
    uint64_t size = 0, rss = 0, best = 0;
    const char *cls = "unclassified";
    for (size_t x = i; x < j; x++) {
        struct json_object *m = json_object_array_get_idx(maps, x), *sm = NULL;
        json_object_object_get_ex(m, "smaps", &sm);
        uint64_t s = hex_u64(gsm_rjson_str(m, "end")) - hex_u64(gsm_rjson_str(m, "start"));
        size += s;
        rss += gsm_rjson_u64(sm ? sm : m, "rss_bytes");
        if (s >= best && gsm_rjson_str(m, "class")) {
            best = s;
            cls = gsm_rjson_str(m, "class");
        }
    }
    struct json_object *first = json_object_array_get_idx(maps, i), *last = json_object_array_get_idx(maps, j - 1);
    const char *path = gsm_rjson_str(first, "path");
    char name[300];
    if (j - i > 1)
        snprintf(name, sizeof name, "%zu mappings from %s", j - i, path && path[0] ? path : "anon");
    else
        snprintf(name, sizeof name, "%s", path && path[0] ? path : "[anon]");
    struct json_object *a = json_object_new_array_ext(7);
    json_object_array_add(a, json_object_new_string(gsm_rjson_str(first, "start") ? gsm_rjson_str(first, "start") : "0"));
    json_object_array_add(a, json_object_new_string(gsm_rjson_str(last, "end") ? gsm_rjson_str(last, "end") : "0"));
    json_object_array_add(a, json_object_new_uint64(size));
    json_object_array_add(a, json_object_new_int(class_index(classes, cls)));
    json_object_array_add(a, json_object_new_uint64(rss));
    json_object_array_add(a, json_object_new_uint64(j - i));
    json_object_array_add(a, json_object_new_string(name));
    return a;
}

struct json_object *gsm_report_strip_json(struct json_object *explain) {
    struct json_object *maps;
    if (!json_object_object_get_ex(explain, "mappings", &maps) || !json_object_is_type(maps, json_type_array) ||
        json_object_array_length(maps) == 0)
        return NULL;
    size_t n = json_object_array_length(maps);
    size_t group = (n + GSM_REPORT_STRIP_SEGMENTS_MAX - 1) / GSM_REPORT_STRIP_SEGMENTS_MAX;
    struct json_object *o = json_object_new_object(), *classes = json_object_new_array(), *segs = json_object_new_array();
    if (!o || !classes || !segs) {
        json_object_put(o);
        json_object_put(classes);
        json_object_put(segs);
        return NULL;
    }
    for (size_t i = 0; i < n; i += group)
        json_object_array_add(segs, segment(maps, i, i + group < n ? i + group : n, classes));
    json_object_object_add(o, "classes", classes);
    json_object_object_add(o, "segs", segs);
    json_object_object_add(o, "mappings", json_object_new_uint64(n));
    json_object_object_add(o, "grouped", json_object_new_uint64(group));
    return o;
}
