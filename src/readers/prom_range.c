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

static const char *label(struct json_object *metric, const char *k) {
    struct json_object *v;
    return json_object_object_get_ex(metric, k, &v) ? json_object_get_string(v) : "";
}

static int series_target(struct json_object *s, enum gsm_prom_source src, uint64_t step_s, struct gsm_hist_target *t) {
    struct json_object *metric, *values;
    if (!json_object_object_get_ex(s, "metric", &metric) || !json_object_object_get_ex(s, "values", &values) ||
        !json_object_is_type(values, json_type_array))
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
        struct json_object *p = json_object_array_get_idx(values, i);
        if (!json_object_is_type(p, json_type_array) || json_object_array_length(p) != 2)
            return -EINVAL;
        double ts = json_object_get_double(json_object_array_get_idx(p, 0));
        double v = strtod(json_object_get_string(json_object_array_get_idx(p, 1)), NULL);
        if (!isfinite(v) || v < 0 || !(ts > 0))
            continue;
        struct gsm_hist_row *row = &t->rows[t->n_rows++];
        /* the row covers the step ending at ts (max_over_time looks back) */
        row->t_ms = (uint64_t)(ts * 1000) - step_s * 1000;
        row->res_s = (uint32_t)(step_s >= 3600 ? 3600 : 60);
        row->n = 1;
        row->s[GSM_HS_WS] = (struct gsm_hist_stat){(uint64_t)v, (uint64_t)v, (uint64_t)v};
        row->limit_bytes = UINT64_MAX;
    }
    return 0;
}

int gsm_prom_parse_range(const char *body, size_t len, enum gsm_prom_source src, uint64_t step_s,
                         struct gsm_hist_target **ret, size_t *ret_n, char *err, size_t err_len) {
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return -ENOMEM;
    struct json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    struct json_object *status, *data, *result;
    if (!root || !json_object_object_get_ex(root, "status", &status) ||
        strcmp(json_object_get_string(status), "success") != 0 || !json_object_object_get_ex(root, "data", &data) ||
        !json_object_object_get_ex(data, "result", &result) || !json_object_is_type(result, json_type_array)) {
        struct json_object *e;
        snprintf(err, err_len, "not a successful query_range response%s%s",
                 root && json_object_object_get_ex(root, "error", &e) ? ": " : "",
                 root && json_object_object_get_ex(root, "error", &e) ? json_object_get_string(e) : "");
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
