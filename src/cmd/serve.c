/* gsmapper serve: a Prometheus exporter (libmicrohttpd) with the watch engine inside.
 * The engine runs in this thread at its tick and renders the metrics text once per tick into a
 * fresh buffer; the HTTP server's thread hands out the latest buffer under a mutex, so a scrape
 * never waits for sampling and sampling never waits for a scrape. docs/serve.md is the contract. */
#include "analyses/cgroup_analysis.h"
#include "analyses/findings.h"
#include "engine/watch.h"
#include "readers/cgroup.h"
#include "readers/host.h"
#include "cmd/commands.h"
#include "cmd/history_cli.h"
#include "cmd/serve_findings.h"
#include "cmd/watch_bundles.h"
#include "cmd/watch_targets.h"
#include "renderers/event_render.h"
#include "renderers/json_text.h"
#include "renderers/metrics.h"
#include "util/cleanup.h"
#include "util/exitcode.h"
#include "util/gzip.h"
#include "readers/curl_dl.h"
#include "util/log.h"
#include "util/memtrim.h"
#include "util/parse.h"
#include "util/root.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include "util/mhd_dl.h"
#include "util/sandbox.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "Usage: gsmapper serve [--listen ADDR] [PID...] [--cgroup PATH...] [--all] [OPTIONS]\n"
    "\n"
    "A Prometheus exporter: GET /metrics (text format 0.0.4, or OpenMetrics when the Accept\n"
    "header asks; gzip-compressed when Accept-Encoding allows), /healthz, and / with links.\n"
    "The watch engine runs inside (without PIDs or --cgroup it watches --all: every cgroup\n"
    "with a memory limit and every process); watch events go to stdout as JSON lines.\n"
    "docs/serve.md lists the metrics.\n"
    "\n"
    "Options:\n"
    "      --listen ADDR      HOST:PORT to listen on (default 127.0.0.1:9731; [::1]:PORT for IPv6)\n"
    "      --top N            export the N largest processes by RSS (default 50; chosen stably) and\n"
    "                         all named ones, with their memory classes (full smaps, on a budget)\n"
    "      --max-series N     per-process series at most (default 10000; 0: no cap)\n"
    "      --smaps-budget-ms MS  time per tick for full smaps reads (default 20)\n"
    "      --cgroup PATH      watch a memory cgroup (repeatable)\n"
    "      --all              every cgroup with a memory limit, and every process but kernel\n"
    "                         threads (the default)\n"
    "      --interval SECONDS tick (default 2)\n"
    "      --no-go-stats      do not read Go runtime statistics over HTTP\n"
    "      --read-env         read GOMEMLIMIT, GOGC, GODEBUG and GOMAXPROCS (only these) from the\n"
    "                         environment of Go processes, for the GSM-GO-* findings\n"
    "      --quiet            do not print watch events\n"
    "      --emit-samples     print every sample too (schema gsmapper.sample/v1), as watch does\n"
    GSM_RECORDER_USAGE
    GSM_HISTORY_USAGE
    GSM_PROTECT_USAGE
    "      --root DIR         read /proc and /sys under DIR\n"
    "      --no-sandbox       do not restrict this process (no_new_privs, Landlock, seccomp;\n"
    "                         docs/sandbox.md); also GSMAPPER_SANDBOX=off\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit codes: 0 stopped by SIGINT/SIGTERM; 1 cannot listen or runtime failure; 2 usage;\n"
    "3 a named target does not exist.\n";

/* Connection limits: total, per client address, and an idle timeout (seconds). The total is
 * high enough that slow clients from many addresses cannot occupy every slot (libmicrohttpd has
 * no deadline for finishing the headers; bench/serve.sh); each connection's buffer is capped at
 * 16 KiB, so 1,024 of them cost at most 16 MiB. */
#define MAX_CONNECTIONS 1024
#define MAX_PER_IP 16
#define CONNECTION_TIMEOUT_S 10

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* The latest rendering, swapped in whole under the lock: one libmicrohttpd response made of
 * the text once per tick and queued for every text scrape (libmicrohttpd counts its users: the
 * text is freed when the last connection sending it is done), so a scrape copies nothing.
 * Only the text format is kept: an OpenMetrics scrape gets it converted
 * (gsm_metrics_text_to_openmetrics), which saves holding a second copy (~0.3 MB at 570
 * processes).
 * A scrape that accepts gzip (Prometheus sends "Accept-Encoding: gzip") gets the same body
 * compressed, made by the first such scrape of the tick and kept until the next tick, one per
 * format: compressing once per tick at most, and only in ticks somebody asks for it. Measured
 * on the 1.6 MB text of 500 named processes: 65 KB in 4.5 ms at level 1 (level 6: 46 KB in
 * 18 ms), which is what the HTTP thread then copies into the socket per scrape
 * instead of 1.6 MB (bench/RESULTS.md, session 6). */
struct exposition {
    pthread_mutex_t lock;
    struct MHD_Response *text_resp;   /* owns text */
    const char *text;
    size_t text_len;
    struct MHD_Response *gz[2];       /* [openmetrics]: this tick's compressed body, or NULL */
    bool ready;
};

#define GZIP_LEVEL 1       /* zlib's fastest: 4.5 ms for 1.6 MB, 24x smaller */
#define GZIP_MEM_LEVEL 5   /* deflate state 144 KiB instead of 256 KiB, and no worse here (memLevel 8:
                            * 67 KB in 6.2 ms) */
#define VARY "Vary", "Accept-Encoding"

static const char index_html[] =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>gsmapper</title></head><body>"
    "<h1>gsmapper exporter</h1><ul><li><a href=\"/metrics\">/metrics</a></li>"
    "<li><a href=\"/healthz\">/healthz</a></li></ul></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const void *body, size_t len,
                             enum MHD_ResponseMemoryMode mode) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free((void *)body);   /* not the response's: there is none */
        return MHD_NO;
    }
    if (type)
        MHD_add_response_header(r, "Content-Type", type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static bool wants_openmetrics(struct MHD_Connection *c) {
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    return accept && strstr(accept, "application/openmetrics-text");
}

static const char text_type[] = "text/plain; version=0.0.4; charset=utf-8";
static const char om_type[] = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/* This tick's compressed body in the format asked for, made now if it is the first such
 * scrape of the tick; NULL when it cannot be made (the scrape is then answered uncompressed).
 * Called with ex->lock held: the tick's text stays while it is read, and a second scrape
 * asking meanwhile waits for this one's result instead of compressing too. */
static struct MHD_Response *gzipped(struct exposition *ex, bool om) {
    if (ex->gz[om])
        return ex->gz[om];
    _cleanup_free_ char *conv = NULL;
    const char *src = ex->text;
    size_t len = ex->text_len;
    if (om) {
        if (!(conv = malloc(ex->text_len + GSM_METRICS_OM_EXTRA)))
            return NULL;
        len = gsm_metrics_text_to_openmetrics(ex->text, ex->text_len, conv);
        src = conv;
    }
    void *gz;
    size_t gl;
    int r = gsm_gzip(src, len, GZIP_LEVEL, GZIP_MEM_LEVEL, &gz, &gl);
    if (r < 0) {
        gsm_debug("serve: cannot compress the exposition: %s", strerror(-r));
        return NULL;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(gl, gz, free);
    if (!resp) {
        free(gz);
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", om ? om_type : text_type);
    MHD_add_response_header(resp, "Content-Encoding", "gzip");
    MHD_add_response_header(resp, VARY);
    return ex->gz[om] = resp;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_size, void **con_cls) {
    (void)version;
    (void)upload_data;
    struct exposition *ex = cls;
    /* First call per request: headers only. A body is drained (libmicrohttpd queues no response
     * while one is arriving) and refused with 400 on the final call. */
    static char seen, had_body;
    if (!*con_cls) {
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        *con_cls = &had_body;
        return MHD_YES;
    }
    if (*con_cls == &had_body) {
        static const char msg[] = "no request bodies here\n";
        return reply(c, MHD_HTTP_BAD_REQUEST, "text/plain", msg, sizeof msg - 1, MHD_RESPMEM_PERSISTENT);
    }
    bool known = strcmp(url, "/metrics") == 0 || strcmp(url, "/healthz") == 0 || strcmp(url, "/") == 0;
    if (!known) {
        static const char msg[] = "not found\n";
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", msg, sizeof msg - 1, MHD_RESPMEM_PERSISTENT);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "method not allowed\n";
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", msg, sizeof msg - 1, MHD_RESPMEM_PERSISTENT);
    }
    if (strcmp(url, "/") == 0)
        return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", index_html, sizeof index_html - 1,
                     MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/healthz") == 0)
        return reply(c, MHD_HTTP_OK, "text/plain", "ok\n", 3, MHD_RESPMEM_PERSISTENT);

    bool om = wants_openmetrics(c);
    bool gz = gsm_accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
    pthread_mutex_lock(&ex->lock);
    if (!ex->ready) {
        pthread_mutex_unlock(&ex->lock);
        static const char msg[] = "first sample not taken yet\n";
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", msg, sizeof msg - 1, MHD_RESPMEM_PERSISTENT);
    }
    /* Queued, or copied (converted) into the response, while the lock is held: the next tick
     * may free the buffer. */
    struct MHD_Response *shared = gz ? gzipped(ex, om) : NULL;
    if (!shared && !om)
        shared = ex->text_resp;
    if (shared) {
        enum MHD_Result r = MHD_queue_response(c, MHD_HTTP_OK, shared);
        pthread_mutex_unlock(&ex->lock);
        return r;
    }
    char *body = malloc(ex->text_len + GSM_METRICS_OM_EXTRA);
    size_t len = body ? gsm_metrics_text_to_openmetrics(ex->text, ex->text_len, body) : 0;
    pthread_mutex_unlock(&ex->lock);
    if (!body)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", om_type);
    MHD_add_response_header(r, VARY);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len) {
    char host[128];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || strlen(s) >= sizeof host)
        return -EINVAL;
    const char *p = colon + 1;
    uint64_t port;
    if (gsm_parse_u64(&p, &port) < 0 || *p || port == 0 || port > 65535)
        return -EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        size_t hl = strlen(host);
        if (hl < 3 || host[hl - 1] != ']')
            return -EINVAL;
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return -EINVAL;
        *len = sizeof *a;
        return AF_INET6;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &a->sin_addr) != 1)
        return -EINVAL;
    *len = sizeof *a;
    return AF_INET;
}

struct serve_events {
    bool print;                    /* not --quiet */
    bool emit_samples;             /* --emit-samples */
    struct gsm_recorder *rec;      /* --dump-dir, else NULL */
    const struct gsm_root *root;
    struct gsm_history_cli *hist;  /* --history */
    /* What the loop needs after each tick (after_tick) */
    bool read_env;
    struct exposition *ex;
    uint64_t top, max_series;
    double last_render_s;
    struct serve_findings fr;
    uint64_t ticks;
    bool released_after_curl;
};

static void on_event(const struct gsm_watch_event *ev, void *userdata) {
    const struct serve_events *se = userdata;
    gsm_history_cli_event(se->hist, ev);
    struct json_object *o = gsm_event_to_json(ev, NULL);
    if (se->print)
        gsm_json_line(o, stdout);
    if (ev->wants_bundle && se->rec) {   /* written by a writer process (as watch's); reaped each tick */
        char *json = gsm_json_text(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (json)
            gsm_watch_start_bundle(se->rec, se->root, ev, json, gsm_watch_bundle_event_json(ev, ""));
        free(json);
    }
    fflush(stdout);
    json_object_put(o);
}

/* A bundle is written: a second event says where. */
static void on_bundle(struct json_object *bo, const char *path, void *userdata) {
    const struct serve_events *se = userdata;
    (void)path;
    if (se->print) {
        gsm_json_line(bo, stdout);
        fflush(stdout);
    }
}

static void on_sample(const struct gsm_watch_target *t, const struct gsm_watch_sample *s, void *userdata) {
    const struct serve_events *se = userdata;
    gsm_history_cli_sample(se->hist, t, s);
    if (!se->emit_samples)
        return;
    struct gsm_target_ref ref;
    gsm_watch_target_ref(t, &ref);
    struct json_object *o = gsm_sample_to_json(&ref, s);
    gsm_json_line(o, stdout);
    fflush(stdout);
    json_object_put(o);
}

/* Findings are re-evaluated every FINDINGS_EVERY ticks (cmd/serve_findings): they read the
 * host's settings and, with --read-env, each Go process's environment; the classes they use
 * (the classes tier's) change every 10 s at most. */
#define FINDINGS_EVERY 15

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Renders the engine's state of this tick (and the findings) in both formats and swaps them in. */
static void render_into(struct gsm_watch *w, struct serve_events *se) {
    struct exposition *ex = se->ex;
    const struct serve_findings *fr = &se->fr;
    char *text = NULL;
    size_t tl = 0;
    double t0 = mono_s();
    size_t n = gsm_watch_n_targets(w), k = 0;
    struct gsm_watch_state *states = calloc(n ? n : 1, sizeof *states);
    if (!states)
        return;
    for (size_t i = 0; i < n; i++)
        if (gsm_watch_target_state(gsm_watch_target_at(w, i), &states[k]))
            k++;
    struct gsm_metrics_input in = {
        .targets = states, .n_targets = k, .n_watched = n, .stats = gsm_watch_get_stats(w),
        .cgroup_memory_reads = gsm_cgroup_memory_reads(), .findings = fr->r, .n_findings = fr->n,
        .findings_evaluated = fr->evaluated,
    };
    struct gsm_metrics_opts mo = {.openmetrics = false, .top_processes = se->top, .engine_selects = true,
                                  .max_series = se->max_series, .last_render_seconds = se->last_render_s};
    int r = -ENOMEM;
    FILE *f = open_memstream(&text, &tl);
    if (f) {
        r = gsm_metrics_render(&in, &mo, f);
        fclose(f);
    }
    free(states);
    se->last_render_s = mono_s() - t0;
    struct MHD_Response *resp = r == 0 && text ? MHD_create_response_from_buffer_with_free_callback(tl, text, free) : NULL;
    if (!resp) {
        free(text);
        return;
    }
    MHD_add_response_header(resp, "Content-Type", text_type);
    MHD_add_response_header(resp, VARY);
    pthread_mutex_lock(&ex->lock);
    struct MHD_Response *old[3] = {ex->text_resp, ex->gz[0], ex->gz[1]};
    ex->text_resp = resp;
    ex->text = text;
    ex->text_len = tl;
    ex->gz[0] = ex->gz[1] = NULL;   /* made again from this text when asked */
    ex->ready = true;
    pthread_mutex_unlock(&ex->lock);
    for (size_t i = 0; i < 3; i++)
        if (old[i])
            MHD_destroy_response(old[i]);   /* freed now, or when the last scrape sending it is done */
    gsm_malloc_trim();
}

/* After the libraries are loaded and initialised, give their start-up-only pages back
 * (util/memtrim.h has the measurements). */
static void release_startup_pages(const char *when) {
    size_t n = 0;
    int r = gsm_release_file_pages(&n);
    if (r < 0)
        gsm_debug("serve: %s: cannot release library pages: %s", when, strerror(-r));
    else
        gsm_debug("serve: %s: released the start-up pages of %zu library mappings", when, n);
}

/* serve's long options without a short form. */
enum {
    OPT_LISTEN = 256, OPT_TOP, OPT_CGROUP, OPT_ALL, OPT_INTERVAL, OPT_NO_GO, OPT_READ_ENV, OPT_QUIET, OPT_ROOT, OPT_EMIT,
    OPT_MAX_SERIES, OPT_SMAPS_BUDGET, OPT_NO_SANDBOX,
};

/* --top, --max-series, --smaps-budget-ms and --interval: 0, or -EINVAL after the one-line error. */
static int parse_number_opt(int c, const char *optarg_, uint64_t *top, uint64_t *max_series, struct gsm_watch_opts *wo) {
    switch (c) {
        case OPT_TOP: {
            const char *p = optarg_;
            if (gsm_parse_u64(&p, top) < 0 || *p || *top > 100000) {
                gsm_error("serve: --top wants a number up to 100000, not '%s'", optarg_);
                return -EINVAL;
            }
            return 0;
        }
        case OPT_MAX_SERIES: {
            const char *p = optarg_;
            if (gsm_parse_u64(&p, max_series) < 0 || *p || *max_series > 10000000) {
                gsm_error("serve: --max-series wants a number up to 10000000, not '%s'", optarg_);
                return -EINVAL;
            }
            return 0;
        }
        case OPT_SMAPS_BUDGET: {
            double v;
            if (gsm_parse_seconds_arg(optarg_, 0, 10000, &v) < 0) {
                gsm_error("serve: --smaps-budget-ms wants milliseconds from 0 to 10000, not '%s'", optarg_);
                return -EINVAL;
            }
            wo->smaps_budget_us = (uint64_t)(v * 1000);
            return 0;
        }
        case OPT_INTERVAL: {
            double v;
            if (gsm_parse_seconds_arg(optarg_, 0.1, 3600, &v) < 0) {
                gsm_error("serve: --interval wants seconds from 0.1 to 3600, not '%s'", optarg_);
                return -EINVAL;
            }
            wo->interval_ms = (uint64_t)(v * 1000);
            return 0;
        }
    }
    return -EINVAL;
}

/* libmicrohttpd loaded and --listen parsed; an exit code after the one-line error. */
static int prepare_listen(const char *listen_addr, struct sockaddr_storage *ss, int *ret_family) {
    char why[256];
    if (!gsm_mhd_load(why, sizeof why)) {
        gsm_error("serve: %s", why);
        return GSM_EXIT_FAILURE;
    }
    /* At once, so the pages loading touched are gone before the first tick's allocations peak
     * (VmHWM); again once the server runs. */
    release_startup_pages("libmicrohttpd loaded");
    socklen_t sl;
    int family = parse_listen(listen_addr, ss, &sl);
    if (family < 0) {
        gsm_error("serve: --listen wants HOST:PORT (127.0.0.1:9731, [::1]:9731), not '%s'", listen_addr);
        return GSM_EXIT_USAGE;
    }
    *ret_family = family;
    return GSM_EXIT_OK;
}

/* The HTTP server on the parsed address, with the limits against slow and greedy clients; NULL
 * after the one-line error. */
static struct MHD_Daemon *start_http(int family, struct sockaddr_storage *ss, const char *listen_addr,
                                     struct exposition *ex) {
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
                         NULL, NULL, handle, ex, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                         (unsigned)MAX_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024), MHD_OPTION_END);
    if (!d) {
        gsm_error("serve: cannot listen on %s (in use, or not permitted)", listen_addr);
        return NULL;
    }
    gsm_debug("listening on %s", listen_addr);
    release_startup_pages("listening");
    return d;
}

/* The first sample, findings and rendering, before listening, so the first scrape has data. */
static void first_tick(struct gsm_watch *w, struct serve_events *se) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    gsm_watch_tick(w, (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000, on_event, on_sample, se);
    serve_findings_evaluate(se->root, w, se->read_env, &se->fr);
    render_into(w, se);
}

/* After each of the loop's scheduled ticks (engine/run.c): findings every FINDINGS_EVERY ticks,
 * the rendering; the library pages given back once libcurl is loaded. Notification ticks in
 * between only sample. */
static bool after_tick(struct gsm_watch *w, bool scheduled, void *userdata) {
    struct serve_events *se = userdata;
    gsm_watch_reap_bundles(se->rec, 0, on_bundle, se);
    if (!scheduled)
        return true;
    if (!se->released_after_curl && gsm_curl_is_loaded()) {
        release_startup_pages("libcurl loaded");
        se->released_after_curl = true;
    }
    if (++se->ticks % FINDINGS_EVERY == 0)
        serve_findings_evaluate(se->root, w, se->read_env, &se->fr);
    render_into(w, se);
    return true;
}

int cmd_serve(int argc, char **argv) {
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN}, {"top", required_argument, NULL, OPT_TOP},
        {"cgroup", required_argument, NULL, OPT_CGROUP}, {"all", no_argument, NULL, OPT_ALL},
        {"interval", required_argument, NULL, OPT_INTERVAL}, {"no-go-stats", no_argument, NULL, OPT_NO_GO},
        {"read-env", no_argument, NULL, OPT_READ_ENV},
        {"quiet", no_argument, NULL, OPT_QUIET}, {"root", required_argument, NULL, OPT_ROOT},
        {"emit-samples", no_argument, NULL, OPT_EMIT}, {"max-series", required_argument, NULL, OPT_MAX_SERIES},
        {"smaps-budget-ms", required_argument, NULL, OPT_SMAPS_BUDGET},
        GSM_RECORDER_LONGOPTS, GSM_HISTORY_LONGOPTS, GSM_PROTECT_LONGOPTS,
        {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX}, {"help", no_argument, NULL, 'h'}, {0},
    };
    struct gsm_watch_opts wo;
    gsm_watch_opts_default(&wo);
    const char *listen_addr = "127.0.0.1:9731", *root_dir = NULL, *cgroups[64];
    size_t n_cgroups = 0;
    uint64_t top = 50, max_series = 10000;
    bool all = false, print_events = true, read_env = false, emit_samples = false, no_sandbox = false;
    struct gsm_recorder_cli rc;
    gsm_recorder_cli_init(&rc);
    struct gsm_history_cli hist;
    gsm_history_cli_init(&hist);
    struct gsm_protect_cli prot = {.n = 0};
    int c, r;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: listen_addr = optarg; break;
        case OPT_TOP:
        case OPT_MAX_SERIES:
        case OPT_SMAPS_BUDGET:
        case OPT_INTERVAL:
            if (parse_number_opt(c, optarg, &top, &max_series, &wo) < 0)
                return GSM_EXIT_USAGE;
            break;
        case OPT_CGROUP:
            if (n_cgroups == 64) {
                gsm_error("serve: at most 64 --cgroup");
                return GSM_EXIT_USAGE;
            }
            cgroups[n_cgroups++] = optarg;
            break;
        case OPT_ALL: all = true; break;
        case OPT_NO_GO: wo.go_stats = false; break;
        case OPT_READ_ENV: read_env = wo.classes_all_go = true; break;
        case OPT_QUIET: print_events = false; break;
        case OPT_EMIT: emit_samples = true; break;
        case OPT_ROOT: root_dir = optarg; break;
        case OPT_NO_SANDBOX: no_sandbox = true; break;
        case 'h': fputs(usage, stdout); return GSM_EXIT_OK;
        default: {
            int k = gsm_history_cli_parse(&hist, "serve", c, optarg);
            if (k == 0)
                k = gsm_protect_cli_parse(&prot, "serve", c, optarg);
            if (k == 0)
                k = gsm_recorder_cli_parse(&rc, "serve", c, optarg, &wo.ring_ms);
            if (k > 0)
                break;
            if (k == 0)
                gsm_error("serve: see 'gsmapper serve --help'");
            return GSM_EXIT_USAGE;
        }
        }
    }
    /* One sampling rate: the exporter renders once per tick (kernel notifications still wake it). */
    wo.fast_interval_ms = wo.interval_ms;
    gsm_protect_cli_apply(&prot, &wo);
    struct sockaddr_storage ss;
    int family;
    if ((r = prepare_listen(listen_addr, &ss, &family)) != GSM_EXIT_OK)
        return r;
    if (optind == argc && n_cgroups == 0)
        all = true;

    wo.classes = true;
    wo.top_processes = (size_t)top;
    gsm_malloc_tune_for_daemon();
    struct gsm_root root;
    r = gsm_root_open(root_dir, &root);
    if (r < 0) {
        gsm_error("cannot open root %s: %s", root_dir ? root_dir : "/", strerror(-r));
        return GSM_EXIT_USAGE;
    }
    int ret = GSM_EXIT_OK;
    struct gsm_watch *w = NULL;
    struct MHD_Daemon *d = NULL;
    struct exposition ex = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct serve_events se = {.print = print_events, .emit_samples = emit_samples, .root = &root, .hist = &hist,
                              .read_env = read_env, .ex = &ex, .top = top, .max_series = max_series, .ticks = 1};
    if ((r = gsm_watch_new(&root, &wo, &w)) < 0) {
        gsm_error("serve: %s", strerror(-r));
        ret = GSM_EXIT_FAILURE;
        goto out;
    }
    if ((ret = gsm_watch_add_cli_targets(w, &root, "serve", argv + optind, (size_t)(argc - optind), cgroups, n_cgroups)) !=
        GSM_EXIT_OK)
        goto out;
    gsm_watch_set_all(w, all);
    if ((ret = gsm_recorder_cli_open(&rc, "serve", root_dir, &se.rec)) != GSM_EXIT_OK ||
        (ret = gsm_history_cli_open(&hist, "serve")) != GSM_EXIT_OK)
        goto out;
    /* Files open, directories known, libmicrohttpd loaded, no thread started yet (Landlock binds
     * the threads created after it): restrict ourselves (docs/sandbox.md). */
    /* --protect's writes to /proc/PID/oom_score_adj, which Landlock refuses, go through the
     * /proc broker (gsm_protect_cli_apply gave it the rules) */
    gsm_sandbox_daemon("serve", no_sandbox, false, rc.dump_dir, hist.path, root_dir);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    first_tick(w, &se);
    if (!(d = start_http(family, &ss, listen_addr, &ex))) {
        ret = GSM_EXIT_FAILURE;
        goto out;
    }
    gsm_sandbox_strict("serve");   /* listening: bind and listen are done with */
    struct gsm_watch_run_opts run = {.on_event = on_event, .on_sample = on_sample, .userdata = &se,
                                     .after_tick = after_tick, .stop = &stop_requested, .fixed_rate = true};
    gsm_watch_run(w, &run);
    gsm_watch_reap_bundles(se.rec, GSM_RECORDER_DRAIN_MS, on_bundle, &se);   /* bundles still being written */
out:
    if (d)
        MHD_stop_daemon(d);
    if (ex.text_resp)
        MHD_destroy_response(ex.text_resp);
    for (size_t i = 0; i < 2; i++)
        if (ex.gz[i])
            MHD_destroy_response(ex.gz[i]);
    serve_findings_free(&se.fr);
    gsm_history_cli_close(&hist);
    gsm_recorder_free(se.rec);
    gsm_watch_free(w);
    gsm_root_close(&root);
    return ret;
}
