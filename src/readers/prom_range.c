/* readers/prom_range.h. */
#include "readers/prom_range.h"
#include "readers/http_client.h"
#include "util/cleanup.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 10000             /* Prometheus refuses more than 11000 points per series */

int gsm_prom_query_text(enum gsm_prom_source src, uint64_t step_s, char *buf, size_t len) {
    const char *series = src == GSM_PROM_CADVISOR ? "container_memory_working_set_bytes{container!=\"\",container!=\"POD\"}"
                                                  : "gsmapper_cgroup_working_set_bytes";
    int n = snprintf(buf, len, "max_over_time(%s[%llus])", series, (unsigned long long)step_s);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A label's value; "" when absent or not a string (a hostile server may send null or 5). */
static const char *label(struct json_object *metric, const char *k) {
    struct json_object *v;
    return json_object_object_get_ex(metric, k, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : "";
}

/* Latest timestamp accepted (seconds; year 2286): ts * 1000 stays far below 2^64. */
#define MAX_TS_S 1e10
/* Values at or above 2^64 bytes do not fit a size (and are not memory). */
#define TWO64 18446744073709551616.0

/* One [ts, "value"] point. Returns 1 and fills the row, 0 for a point without a usable value
 * (NaN, +-Inf, negative, 2^64 or more: what a PromQL expression gives for an absent or broken
 * series, dropped as the series' gaps are), or -EINVAL when the point is not of that shape. */
static int point_row(struct json_object *p, uint64_t step_s, struct gsm_hist_row *row) {
    if (!json_object_is_type(p, json_type_array) || json_object_array_length(p) != 2)
        return -EINVAL;
    struct json_object *jt = json_object_array_get_idx(p, 0), *jv = json_object_array_get_idx(p, 1);
    if (!(json_object_is_type(jt, json_type_double) || json_object_is_type(jt, json_type_int)) ||
        !json_object_is_type(jv, json_type_string))
        return -EINVAL;
    double ts = json_object_get_double(jt);
    const char *vs = json_object_get_string(jv);
    char *e;
    double v = strtod(vs, &e);
    if (e == vs || *e)
        return -EINVAL;   /* Prometheus prints every sample value with strconv.FormatFloat */
    if (!isfinite(v) || v < 0 || v >= TWO64 || !(ts >= (double)step_s && ts <= MAX_TS_S))
        return 0;
    /* the row covers the step ending at ts (max_over_time looks back) */
    *row = (struct gsm_hist_row){.t_ms = (uint64_t)(ts * 1000) - step_s * 1000,
                                 .res_s = (uint32_t)(step_s >= 3600 ? 3600 : 60),
                                 .n = 1,
                                 .limit_bytes = UINT64_MAX};
    row->s[GSM_HS_WS] = (struct gsm_hist_stat){(uint64_t)v, (uint64_t)v, (uint64_t)v};
    return 1;
}

static int series_target(struct json_object *s, enum gsm_prom_source src, uint64_t step_s, struct gsm_hist_target *t) {
    struct json_object *metric, *values;
    if (!json_object_object_get_ex(s, "metric", &metric) || !json_object_is_type(metric, json_type_object) ||
        !json_object_object_get_ex(s, "values", &values) || !json_object_is_type(values, json_type_array))
        return -EINVAL;
    char *key = NULL;
    int r = src == GSM_PROM_CADVISOR ? asprintf(&key, "container:%s/%s/%s", label(metric, "namespace"),
                                                label(metric, "pod"), label(metric, "container"))
                                     : asprintf(&key, "cgroup:%s", label(metric, "cgroup"));
    if (r < 0)
        return -ENOMEM;
    *t = (struct gsm_hist_target){.key = key, .type = strdup(src == GSM_PROM_CADVISOR ? "container" : "cgroup")};
    t->name = strdup(strchr(key, ':') + 1);
    size_t n = json_object_array_length(values);
    t->rows = calloc(n ? n : 1, sizeof *t->rows);
    if (!t->type || !t->name || !t->rows)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        r = point_row(json_object_array_get_idx(values, i), step_s, &t->rows[t->n_rows]);
        if (r < 0)
            return r;
        t->n_rows += (size_t)r;
    }
    return 0;
}

/* The server's "error" text, on one line (control bytes as '?'): it is the server's to choose. */
static void server_error(struct json_object *root, char *out, size_t len) {
    struct json_object *e;
    out[0] = 0;
    if (!root || !json_object_object_get_ex(root, "error", &e) || !json_object_is_type(e, json_type_string))
        return;
    snprintf(out, len, ": %s", json_object_get_string(e));
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

int gsm_prom_parse_range(const char *body, size_t len, enum gsm_prom_source src, uint64_t step_s,
                         struct gsm_hist_target **ret, size_t *ret_n, char *err, size_t err_len) {
    if (len > INT32_MAX) {
        snprintf(err, err_len, "query_range response of %zu bytes: too large", len);
        return -EFBIG;
    }
    struct json_tokener *tok = json_tokener_new();
    if (!tok) {
        snprintf(err, err_len, "query_range response: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    struct json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (root && end < len && (body[end] == ' ' || body[end] == '\t' || body[end] == '\r' || body[end] == '\n'))
        end++;
    struct json_object *status, *data, *result;
    if (!root || end < len || !json_object_object_get_ex(root, "status", &status) ||
        !json_object_is_type(status, json_type_string) || strcmp(json_object_get_string(status), "success") != 0 ||
        !json_object_object_get_ex(root, "data", &data) || !json_object_object_get_ex(data, "result", &result) ||
        !json_object_is_type(result, json_type_array)) {
        char e[200];
        server_error(root, e, sizeof e);
        snprintf(err, err_len, "not a successful query_range response%s", e);
        json_object_put(root);
        return -EPROTO;
    }
    size_t n = json_object_array_length(result);
    struct gsm_hist_target *v = calloc(n ? n : 1, sizeof *v);
    int r = v ? 0 : -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        r = series_target(json_object_array_get_idx(result, i), src, step_s, &v[k]);
        k++;
    }
    json_object_put(root);
    if (r < 0) {
        for (size_t i = 0; i < k; i++)
            gsm_hist_target_free(&v[i]);
        free(v);
        if (r == -ENOMEM)
            snprintf(err, err_len, "query_range response: %s", strerror(ENOMEM));
        else
            snprintf(err, err_len, "malformed series in the query_range response");
        return r;
    }
    *ret = v;
    *ret_n = k;
    return 0;
}

/* Percent-encoding of a query parameter (RFC 3986 unreserved kept). */
static void url_encode(const char *s, char *out, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
            out[o++] = (char)c;
        else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
}

int gsm_prom_range_load(const char *base_url, enum gsm_prom_source src, uint64_t end_ms, uint64_t range_ms,
                        bool allow_remote, struct gsm_hist_target **ret, size_t *ret_n, char *err, size_t err_len) {
    uint64_t step_s = range_ms / 1000 / MAX_POINTS;
    step_s = step_s < 60 ? 60 : (step_s + 59) / 60 * 60;   /* whole minutes */
    char q[256], qe[768], url[2048];
    int r = gsm_prom_query_text(src, step_s, q, sizeof q);
    if (r < 0)
        return r;
    url_encode(q, qe, sizeof qe);
    size_t bl = strlen(base_url);
    while (bl > 0 && base_url[bl - 1] == '/')
        bl--;
    snprintf(url, sizeof url, "%.*s/api/v1/query_range?query=%s&start=%.3f&end=%.3f&step=%llu", (int)bl, base_url,
             qe, (double)(end_ms - range_ms) / 1000.0, (double)end_ms / 1000.0, (unsigned long long)step_s);
    struct gsm_http_opts o = {.total_timeout_ms = 30000, .max_body_bytes = (size_t)256 << 20,
                              .allow_non_loopback = allow_remote, .accept_gzip = true};
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    char e[256] = "";
    if ((r = gsm_http_get(url, &o, &body, &len, e, sizeof e)) < 0) {
        if (e[0])
            snprintf(err, err_len, "%s", e);
        else
            snprintf(err, err_len, "%.*s: %s", (int)bl, base_url, strerror(-r));
        return r;
    }
    return gsm_prom_parse_range(body, len, src, step_s, ret, ret_n, err, err_len);
}
