/* Fetching a Go process's runtime statistics over HTTP (readers/http_client.h) from one of its
 * debug endpoints, parsed by readers/go_stats_parse.h. */
#pragma once

#include "model/go_stats.h"
#include "readers/http_client.h"
#include "util/root.h"

#include <stddef.h>
#include <sys/types.h>

/* The statistics sources, in the order they are tried. */
enum {
    GSM_GO_SOURCE_ANY = -1,
    GSM_GO_SOURCE_PPROF,        /* /debug/pprof/heap?debug=1 */
    GSM_GO_SOURCE_EXPVAR,       /* /debug/vars */
    GSM_GO_SOURCE_PROMETHEUS,   /* /metrics */
};

/* The base URL ("http://127.0.0.1:6060") of an endpoint given as the base or any of its usual
 * paths: /debug/pprof/heap, /debug/pprof/, /debug/pprof, /debug/vars, /metrics (a query such as
 * ?debug=1 and trailing slashes are dropped), so that paths are never doubled. *ret_only: the one
 * source the URL names, or GSM_GO_SOURCE_ANY. Returns 0, or -EINVAL (no scheme, or base too
 * small). */
int gsm_go_endpoint_base(const char *url, char *base, size_t size, int *ret_only);

/* Fetch the statistics from base_url ("http://127.0.0.1:6060", trailing '/' optional): tries
 * the pprof heap block, then expvar, then Prometheus, within one total timeout. A base_url that
 * names an endpoint (".../debug/vars", ".../metrics", ".../debug/pprof/heap") is the only one
 * tried (gsm_go_endpoint_base). Fills ret (source, endpoint, taken_ms) on success. Returns -ETIMEDOUT, -EFBIG,
 * -ECONNREFUSED, -EPROTO (bad HTTP status or nothing parsable), -EPERM (non-loopback refused),
 * -EINVAL (bad URL). opts may be NULL. */
int gsm_go_stats_fetch(const char *base_url, const struct gsm_http_opts *opts, struct gsm_go_stats *ret,
                       char *errbuf, size_t errlen);

/* Discover and fetch: tries each of the process's own loopback listening ports
 * (readers/go_discover.h) until one answers, all within opts' total timeout, and each port
 * within at most 1 s of it. Refuses with -EXDEV when the target lives in another network
 * namespace. -ENOENT: no listening port. */
int gsm_go_stats_fetch_pid(const struct gsm_root *root, pid_t pid, const struct gsm_http_opts *opts,
                           struct gsm_go_stats *ret, char *errbuf, size_t errlen);
/* The same through an open process handle (readers/proc_handle.h). */
struct gsm_proc;
int gsm_go_stats_fetch_proc(const struct gsm_root *root, const struct gsm_proc *h, const struct gsm_http_opts *opts,
                            struct gsm_go_stats *ret, char *errbuf, size_t errlen);
