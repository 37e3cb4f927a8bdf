/* `gsmapper report -o FILE.csv`: the heat map's table (see report_html.h). */
#include "renderers/report_html.h"

#include "renderers/report_series.h"
#include "renderers/report_tree.h"
#include "util/text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A CSV field: quoted when it holds a comma, a quote or a line break (quotes doubled). */
static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_cell(FILE *f, struct json_object *v) {
    fputc(',', f);
    if (v && json_object_is_type(v, json_type_int))
        fprintf(f, "%" PRIu64, json_object_get_uint64(v));
}

static void write_table(FILE *f, struct json_object *heat) {
    struct json_object *t = json_object_object_get(heat, "t"), *rows = json_object_object_get(heat, "rows");
    struct json_object *limit = json_object_object_get(heat, "limit");
    uint64_t event_ms = gsm_rjson_u64(heat, "event_ms");
    const char *event = gsm_rjson_str(heat, "event");
    size_t nr = json_object_array_length(rows), nc = json_object_array_length(t);
    fputs("time_ms", f);
    for (size_t r = 0; r < nr; r++) {
        char name[256];
        snprintf(name, sizeof name, "%s_bytes", gsm_rjson_str(json_object_array_get_idx(rows, r), "n"));
        fputc(',', f);
        csv_field(f, name);
    }
    fputs(",limit_bytes,event\r\n", f);
    bool marked = event == NULL;
    for (size_t c = 0; c < nc; c++) {
        uint64_t tm = json_object_get_uint64(json_object_array_get_idx(t, c));
        fprintf(f, "%" PRIu64, tm);
        for (size_t r = 0; r < nr; r++)
            csv_cell(f, json_object_array_get_idx(json_object_object_get(json_object_array_get_idx(rows, r), "v"), c));
        csv_cell(f, limit ? json_object_array_get_idx(limit, c) : NULL);
        fputc(',', f);
        if (!marked && tm >= event_ms) {
            csv_field(f, event);
            marked = true;
        }
        fputs("\r\n", f);
    }
}

int gsm_report_csv(const struct gsm_report_input *in, char **ret_buf, size_t *ret_len, const char **why) {
    if (!in->samples_jsonl) {
        *why = "a CSV is the heat map's table: it needs a bundle with samples.jsonl";
        return -EINVAL;
    }
    struct json_object *heat = NULL;
    size_t skipped = 0;
    int r = gsm_report_heat_json(in->samples_jsonl, in->samples_len, in->event, &heat, &skipped);
    if (r < 0) {
        *why = "out of memory";
        return r;
    }
    if (!heat) {
        *why = "the bundle's samples.jsonl holds no sample";
        return -EINVAL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f)
        write_table(f, heat);
    json_object_put(heat);
    if (!f || fclose(f) != 0) {
        free(buf);
        *why = "out of memory";
        return -ENOMEM;
    }
    /* names and the event's message come from files: valid UTF-8 whatever they held */
    char *fixed = gsm_utf8_repair(buf, len, ret_len);
    free(buf);
    if (!fixed) {
        *why = "out of memory";
        return -ENOMEM;
    }
    *ret_buf = fixed;
    return 0;
}
