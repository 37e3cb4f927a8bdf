/* gsmapper advise --prometheus: a Prometheus server's range query of peak working sets, as
 * model/history targets (one per series; rows of one step each, the series' value as the
 * working-set maximum, no events). Over the shared HTTP client (readers/http_client.h). */
#pragma once

#include "model/history.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gsm_prom_source {
    GSM_PROM_GSMAPPER,   /* gsmapper_cgroup_working_set_bytes (serve's own series), key cgroup:<cgroup> */
    GSM_PROM_CADVISOR,   /* container_memory_working_set_bytes, key container:<namespace>/<pod>/<container> */
};

/* The PromQL sent: max_over_time(<series>[<step>s]) so each step holds the peak within it. */
int gsm_prom_query_text(enum gsm_prom_source src, uint64_t step_s, char *buf, size_t len);
/* Parse a /api/v1/query_range response body into targets (pure). */
int gsm_prom_parse_range(const char *body, size_t len, enum gsm_prom_source src, uint64_t step_s,
                         struct gsm_hist_target **ret, size_t *ret_n, char *err, size_t err_len);
/* GET base_url/api/v1/query_range for [end - range, end] and parse it. */
int gsm_prom_range_load(const char *base_url, enum gsm_prom_source src, uint64_t end_ms, uint64_t range_ms,
                        bool allow_remote, struct gsm_hist_target **ret, size_t *ret_n, char *err, size_t err_len);
