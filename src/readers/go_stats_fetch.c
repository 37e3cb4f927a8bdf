/* The statistics fetcher: which paths to try, in which order, within one time budget. */
#include "readers/go_stats_fetch.h"
#include "readers/go_discover.h"
#include "readers/proc_handle.h"
#include "readers/go_stats_parse.h"
#include "util/cleanup.h"
#include "util/errbuf.h"
#include "util/log.h"

#include <string.h>
#include <time.h>

static uint64_t now_ms(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the three sources in order ---- */

typedef int (*parse_fn)(const char *, size_t, struct gsm_go_stats *, char *, size_t);
static const struct source {
    const char *path;
    const char *accept;
    parse_fn parse;
} sources[] = {
    {"/debug/pprof/heap?debug=1", "Accept: text/plain", gsm_go_parse_pprof_memstats},
    {"/debug/vars", "Accept: application/json", gsm_go_parse_expvar},
    /* 0.0.4 text, not OpenMetrics or protobuf */
    {"/metrics", "Accept: text/plain;version=0.0.4", gsm_go_parse_prometheus},
};

static bool ends_with(const char *s, size_t n, const char *suffix) {
    size_t l = strlen(suffix);
    return n >= l && memcmp(s + n - l, suffix, l) == 0;
}

int gsm_go_endpoint_base(const char *url, char *base, size_t size, int *ret_only) {
    const char *scheme_end = strstr(url, "://");
    size_t n = strcspn(url, "?#");                 /* the query and fragment go */
    if (!scheme_end || (size_t)(scheme_end - url) + 3 >= n || n + 1 > size)
        return -EINVAL;
    const char *slash = memchr(scheme_end + 3, '/', n - (size_t)(scheme_end + 3 - url));
    size_t path_at = slash ? (size_t)(slash - url) : n;   /* base[path_at..n) is the path */
    memcpy(base, url, n);
    base[n] = '\0';
    static const struct { const char *suffix; int source; } paths[] = {
        {"/debug/pprof/heap", GSM_GO_SOURCE_PPROF}, {"/debug/vars", GSM_GO_SOURCE_EXPVAR},
        {"/metrics", GSM_GO_SOURCE_PROMETHEUS}, {"/debug/pprof", GSM_GO_SOURCE_ANY},
    };
    int only = GSM_GO_SOURCE_ANY;
    while (n > path_at && base[n - 1] == '/')
        n--;
    for (size_t i = 0; i < ELEMENTSOF(paths); i++)
        if (n - path_at >= strlen(paths[i].suffix) && ends_with(base, n, paths[i].suffix)) {
            only = paths[i].source;
            n -= strlen(paths[i].suffix);
            break;
        }
    while (n > path_at && base[n - 1] == '/')
        n--;
    base[n] = '\0';
    *ret_only = only;
    return 0;
}

int gsm_go_stats_fetch(const char *base_url, const struct gsm_http_opts *opts, struct gsm_go_stats *ret,
                       char *errbuf, size_t errlen) {
    struct gsm_http_opts o = gsm_http_opts_or_defaults(opts);
    char base[256];
    int only;
    if (strlen(base_url) > 200 || gsm_go_endpoint_base(base_url, base, sizeof base, &only) < 0) {
        gsm_seterr(errbuf, errlen, "bad endpoint URL");
        return -EINVAL;
    }
    /* An URL that names one endpoint is used alone; otherwise it is the base of all three. */
    size_t first = only == GSM_GO_SOURCE_ANY ? 0 : (size_t)only;
    size_t last = only == GSM_GO_SOURCE_ANY ? ELEMENTSOF(sources) : first + 1;

    uint64_t start = now_ms(CLOCK_MONOTONIC);
    int first_err = 0;
    char first_msg[512] = "";
    for (size_t i = first; i < last; i++) {
        uint64_t spent = now_ms(CLOCK_MONOTONIC) - start;
        if (spent >= o.total_timeout_ms) {
            if (!first_err) {
                first_err = -ETIMEDOUT;
                snprintf(first_msg, sizeof first_msg, "%s: timed out", base);
            }
            break;
        }
        struct gsm_http_opts oi = o;
        oi.total_timeout_ms = o.total_timeout_ms - (uint32_t)spent;
        if (oi.connect_timeout_ms > oi.total_timeout_ms)
            oi.connect_timeout_ms = oi.total_timeout_ms;
        char url[256], msg[512] = "";
        snprintf(url, sizeof url, "%s%s", base, sources[i].path);
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        int r = gsm_http_get_with(url, &oi, sources[i].accept, &body, &len, msg, sizeof msg);
        if (r == 0) {
            struct gsm_go_stats s;
            char perr[160] = "";
            r = sources[i].parse(body, len, &s, perr, sizeof perr);
            if (r == 0) {
                snprintf(s.endpoint, sizeof s.endpoint, "%s", url);
                s.taken_ms = now_ms(CLOCK_REALTIME);
                *ret = s;
                return 0;
            }
            snprintf(msg, sizeof msg, "%s: unparsable: %s", url, perr);
            r = -EPROTO;
        }
        gsm_debug("go stats: %s", msg);
        /* A 404 is the normal "not this source": report it only if nothing better turns up. */
        bool is_404 = r == -EPROTO && strstr(msg, ": HTTP 404");
        if (!first_err || (first_err == -EPROTO && strstr(first_msg, ": HTTP 404") && !is_404)) {
            first_err = r;
            snprintf(first_msg, sizeof first_msg, "%s", msg);
        }
        /* Nobody there, refused, or out of time: the other paths will not do better. */
        if (r == -ETIMEDOUT || r == -ECONNREFUSED || r == -EPERM || r == -EINVAL || r == -ENOMEM)
            break;
    }
    gsm_seterr(errbuf, errlen, "%s", first_msg);
    return first_err ? first_err : -EPROTO;
}

int gsm_go_stats_fetch_pid(const struct gsm_root *root, pid_t pid, const struct gsm_http_opts *opts,
                           struct gsm_go_stats *ret, char *errbuf, size_t errlen) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0) {
        gsm_seterr(errbuf, errlen, "discovering the ports of %d: %s", (int)pid, strerror(-r));
        return r;
    }
    return gsm_go_stats_fetch_proc(root, &h, opts, ret, errbuf, errlen);
}

int gsm_go_stats_fetch_proc(const struct gsm_root *root, const struct gsm_proc *h, const struct gsm_http_opts *opts,
                            struct gsm_go_stats *ret, char *errbuf, size_t errlen) {
    const pid_t pid = h->pid;
    struct gsm_go_ports ports;
    int r = gsm_go_discover_proc(root, h, &ports);
    if (r < 0) {
        gsm_seterr(errbuf, errlen, "discovering the ports of %d: %s", (int)pid, strerror(-r));
        return r;
    }
    if (ports.same_netns == 0) {
        gsm_seterr(errbuf, errlen, "process %d is in another network namespace; its loopback is not ours", (int)pid);
        return -EXDEV;
    }
    if (ports.n == 0) {
        gsm_seterr(errbuf, errlen, "process %d listens on no loopback TCP port", (int)pid);
        return -ENOENT;
    }
    struct gsm_http_opts o = opts ? *opts : (struct gsm_http_opts){0};
    uint32_t total = o.total_timeout_ms ? o.total_timeout_ms : GSM_HTTP_TOTAL_TIMEOUT_MS_DEFAULT;
    uint64_t start = now_ms(CLOCK_MONOTONIC);
    int first_err = 0;
    for (size_t i = 0; i < ports.n; i++) {
        uint64_t spent = now_ms(CLOCK_MONOTONIC) - start;
        if (spent >= total) {
            if (!first_err)
                first_err = -ETIMEDOUT;
            break;
        }
        /* A silent non-HTTP port must not eat the whole budget: at most 1 s each. */
        uint32_t left = total - (uint32_t)spent;
        o.total_timeout_ms = left < 1000 ? left : 1000;
        char url[96], msg[256] = "";
        snprintf(url, sizeof url, "http://%s:%u", ports.ep[i].host, (unsigned)ports.ep[i].port);
        r = gsm_go_stats_fetch(url, &o, ret, msg, sizeof msg);
        if (r == 0)
            return 0;
        gsm_debug("go stats: port %u: %s", (unsigned)ports.ep[i].port, msg);
        if (!first_err || (first_err == -ECONNREFUSED && r != -ECONNREFUSED)) {
            first_err = r;
            gsm_seterr(errbuf, errlen, "%s", msg);
        }
    }
    return first_err ? first_err : -EPROTO;
}
