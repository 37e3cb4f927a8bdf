/* The one HTTP client of gsmapper (explain, watch, serve and the flight recorder share it):
 * GET over libcurl (loaded on first use, readers/curl_dl.h) from endpoints that belong to the
 * processes we inspect, so treated as hostile: a connect and a total timeout, a body-size cap
 * (enforced on the decoded bytes), no redirects, no proxies, http/https only, and loopback
 * addresses only unless explicitly allowed (checked on the URL and again on the address curl
 * actually connects to). Nothing here logs anything but gsm_debug(). */
#pragma once

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

/* opts (may be NULL) with every zero member replaced by its default. */
struct gsm_http_opts gsm_http_opts_or_defaults(const struct gsm_http_opts *opts);

/* Is the URL http(s) with a loopback host (127.0.0.0/8, [::1], [::ffff:127.x.y.z], localhost)?
 * Returns 1 yes, 0 no, -EINVAL when it is not an http(s) URL curl can parse, -ENOSYS without
 * libcurl. */
int gsm_http_url_is_loopback(const char *url);

/* The port of an http(s) URL (its scheme's default when none is written). Returns 0 or -EINVAL. */
int gsm_http_url_port(const char *url, uint16_t *ret_port);

/* GET url. On success (HTTP 200) *ret_body is a malloc'd NUL-terminated copy of the body and
 * *ret_len its length. Errors: -ETIMEDOUT (connect or total timeout), -EFBIG (body over the
 * cap), -ECONNREFUSED, -EPERM (non-loopback refused), -EPROTO (HTTP status other than 200, which
 * includes 3xx: redirects are not followed; or a broken response), -EINVAL (bad URL or scheme),
 * -ENOMEM. errbuf (may be NULL) receives a one-line reason. */
int gsm_http_get(const char *url, const struct gsm_http_opts *opts, char **ret_body, size_t *ret_len,
                 char *errbuf, size_t errlen);

/* The same with one extra request header line (e.g. "Accept: text/plain"; NULL for none). */
int gsm_http_get_with(const char *url, const struct gsm_http_opts *opts, const char *header, char **ret_body,
                      size_t *ret_len, char *errbuf, size_t errlen);
