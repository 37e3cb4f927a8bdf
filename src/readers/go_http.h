/* A Go process's runtime statistics over HTTP, from the process's own debug endpoints:
 *
 *   /debug/pprof/heap?debug=1   net/http/pprof; the "# runtime.MemStats" block at the end
 *   /debug/vars                 expvar; the "memstats" object (json.Marshal of runtime.MemStats)
 *   /metrics                    Prometheus text (client_golang's go_memstats_* / go_gc_* metrics)
 *
 * The endpoint belongs to the process we inspect, so it is treated as hostile: libcurl with a
 * connect and a total timeout, a body-size cap (enforced on the decoded bytes), no redirects,
 * no proxies, http/https only, and loopback addresses only unless explicitly allowed (checked on
 * the URL and again on the address curl actually connects to). Parsers are pure functions over
 * (buf, len) buffers that need not be NUL-terminated; they return 0 or -EBADMSG with a message.
 * Nothing here logs anything but gsm_debug(). */
#pragma once

#include "model/go_stats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GSM_HTTP_CONNECT_TIMEOUT_MS_DEFAULT 1000u
#define GSM_HTTP_TOTAL_TIMEOUT_MS_DEFAULT 3000u
/* A debug=1 heap profile of a big service is a few MiB of text; 16 MiB leaves room. */
#define GSM_HTTP_MAX_BODY_DEFAULT ((size_t)16 << 20)

/* Zero members take the defaults above, so `struct gsm_http_opts o = {0}` (or NULL) is sane. */
struct gsm_http_opts {
    uint32_t connect_timeout_ms;
    uint32_t total_timeout_ms;     /* for one request; gsm_go_stats_fetch() shares it across tries */
    size_t max_body_bytes;         /* decoded body bytes; more aborts the transfer with -EFBIG */
    bool allow_non_loopback;       /* allow hosts outside 127.0.0.0/8 and ::1 */
    bool accept_gzip;              /* send Accept-Encoding: gzip and decode (the cap still applies) */
};

/* Is the URL http(s) with a loopback host (127.0.0.0/8, [::1], [::ffff:127.x.y.z], localhost)?
 * Returns 1 yes, 0 no, -EINVAL when it is not an http(s) URL curl can parse. */
int gsm_http_url_is_loopback(const char *url);

/* GET url. On success (HTTP 200) *ret_body is a malloc'd NUL-terminated copy of the body and
 * *ret_len its length. Errors: -ETIMEDOUT (connect or total timeout), -EFBIG (body over the
 * cap), -ECONNREFUSED, -EPERM (non-loopback refused), -EPROTO (HTTP status other than 200, which
 * includes 3xx: redirects are not followed; or a broken response), -EINVAL (bad URL or scheme),
 * -ENOMEM. errbuf (may be NULL) receives a one-line reason. */
int gsm_http_get(const char *url, const struct gsm_http_opts *opts, char **ret_body, size_t *ret_len,
                 char *errbuf, size_t errlen);

/* The "# runtime.MemStats" block of /debug/pprof/heap?debug=1 (runtime/pprof writeHeapInternal):
 *   # runtime.MemStats
 *   # HeapAlloc = 123
 *   # Stack = 1146880 / 1146880
 *   # PauseNs = [41583 0 0 ...]        (the 256-entry ring)
 *   # GCCPUFraction = 1.2e-05
 * Needs at least the heap and stack lines; no PauseTotalNs in this format (it is computed from
 * the ring when NumGC <= 256). */
int gsm_go_parse_pprof_memstats(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen);

/* expvar /debug/vars: {"cmdline": [...], "memstats": {"Alloc": 1, ..., "PauseNs": [...]}} */
int gsm_go_parse_expvar(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen);

/* Prometheus text exposition format 0.0.4: go_memstats_*, go_gc_duration_seconds{quantile="1"},
 * _sum and _count, go_goroutines, go_gc_gomemlimit_bytes. A malformed line fails the whole body,
 * as it fails a Prometheus scrape. NaN values (e.g. a quantile before the first GC) are absent. */
int gsm_go_parse_prometheus(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen);

/* Fetch the statistics from base_url ("http://127.0.0.1:6060", trailing '/' optional): tries
 * the pprof heap block, then expvar, then Prometheus, within one total timeout. A base_url that
 * already names an endpoint (".../debug/vars", ".../metrics", ".../debug/pprof/heap?debug=1")
 * is used as is. Fills ret (source, endpoint, taken_ms) on success. Returns -ETIMEDOUT, -EFBIG,
 * -ECONNREFUSED, -EPROTO (bad HTTP status or nothing parsable), -EPERM (non-loopback refused),
 * -EINVAL (bad URL). opts may be NULL. */
int gsm_go_stats_fetch(const char *base_url, const struct gsm_http_opts *opts, struct gsm_go_stats *ret,
                       char *errbuf, size_t errlen);
