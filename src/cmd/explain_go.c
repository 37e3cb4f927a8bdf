#include "cmd/explain_go.h"
#include "readers/go_discover.h"
#include "readers/go_heap_profile.h"
#include "readers/go_stats_fetch.h"
#include "readers/http_client.h"
#include "renderers/go_render.h"
#include "util/exitcode.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* An endpoint given by hand must be the target's own: a listening socket of the process
 * (its fd/ socket inodes against net/tcp{,6}) on the URL's port, in our network namespace.
 * Otherwise another process's numbers would be split against this one's memory. Returns 0, or
 * -1 with the one-line reason in why. */
static int check_endpoint_owned(const struct gsm_root *root, const struct gsm_proc *h, const char *url, char *why,
                                size_t why_len) {
    uint16_t port;
    int r = gsm_http_url_port(url, &port);
    if (r < 0) {
        snprintf(why, why_len, "--go-endpoint %s: not an http(s) URL", url);
        return -1;
    }
    struct gsm_go_ports ports;
    r = root->is_host ? gsm_go_discover_proc(root, h, &ports) : -ENOTSUP;
    if (r < 0) {
        snprintf(why, why_len, "--go-endpoint %s: cannot check that process %d listens on port %u (%s); "
                 "--go-endpoint-any skips the check", url, (int)h->pid, (unsigned)port,
                 r == -ENOTSUP ? "not a live system" : strerror(-r));
        return -1;
    }
    if (ports.same_netns == 0) {
        snprintf(why, why_len, "--go-endpoint %s: process %d is in another network namespace; "
                 "--go-endpoint-any skips the check", url, (int)h->pid);
        return -1;
    }
    for (size_t i = 0; i < ports.n; i++)
        if (ports.ep[i].port == port)
            return 0;
    snprintf(why, why_len, "--go-endpoint %s: port %u is not a listening socket of process %d "
             "(another process's statistics would be set against its memory); --go-endpoint-any skips the check",
             url, (unsigned)port, (int)h->pid);
    return -1;
}

static int fetch_stats(const struct gsm_root *root, const struct gsm_proc *h, const struct explain_go_opts *o,
                       struct gsm_go_stats *ret, char *why, size_t why_len) {
    struct gsm_http_opts ho = {0};   /* the defaults: 1 s to connect, 3 s in all, 16 MiB */
    if (o->endpoint)
        return gsm_go_stats_fetch(o->endpoint, &ho, ret, why, why_len);
    if (!root->is_host) {
        snprintf(why, why_len, "not fetched from a fixture root (use --go-endpoint)");
        return -ENOTSUP;
    }
    return gsm_go_stats_fetch_proc(root, h, &ho, ret, why, why_len);
}

/* The heap profile (level 3) from the server the statistics came from. Without --gc its in-use
 * bytes are those of the end of the last GC (the runtime's own rule); --gc asks the runtime to
 * collect first (what `go tool pprof` users do): a GC cycle in the target, so not by default. */
static int fetch_heap_profile(const struct gsm_go_stats *s, bool gc, struct gsm_heap_profile *ret) {
    char base[256], url[300], why[160];
    int only;
    if (gsm_go_endpoint_base(s->endpoint, base, sizeof base, &only) < 0)
        return -EINVAL;
    snprintf(url, sizeof url, "%s/debug/pprof/heap%s", base, gc ? "?gc=1" : "");
    char *body = NULL;
    size_t len = 0;
    int r = gsm_http_get(url, NULL, &body, &len, why, sizeof why);
    if (r < 0) {
        gsm_debug("heap profile %s: %s", url, why);
        return r;
    }
    r = gsm_heap_profile_parse(body, len, 0, ret);
    free(body);
    if (r == 0)
        ret->as_of = (struct gsm_heap_profile_as_of){
            .forced_gc = gc, .last_gc_ms = gsm_go_stats_has(s, GSM_GO_LAST_GC) ? s->last_gc_ms : 0,
            .taken_ms = now_ms()};
    return r;
}

int explain_go_fetch(const struct gsm_root *root, const struct gsm_proc *h, const struct explain_go_opts *o,
                     struct explain_go *g) {
    if (o->no_stats) {
        snprintf(g->why, sizeof g->why, "not asked (--no-go-stats)");
        return GSM_EXIT_OK;
    }
    char why[512] = "";
    if (o->endpoint && !o->endpoint_any && check_endpoint_owned(root, h, o->endpoint, why, sizeof why) < 0) {
        gsm_error("explain: %s", why);
        return GSM_EXIT_USAGE;
    }
    int r = fetch_stats(root, h, o, &g->stats, why, sizeof why);
    if (r < 0) {
        snprintf(g->why, sizeof g->why, "%s", why[0] ? why : strerror(-r));
        gsm_debug("go statistics: %s", g->why);
        return GSM_EXIT_OK;
    }
    g->have_stats = true;
    if (!o->gc)
        return GSM_EXIT_OK;   /* the heap profile comes after smaps: explain_go_fetch_profile */
    /* --gc: the collection first, then the statistics again, so that they and smaps describe
     * the heap after it */
    g->have_heap = fetch_heap_profile(&g->stats, true, &g->heap) == 0;
    struct gsm_go_stats after;
    if (g->have_heap && gsm_go_stats_fetch(g->stats.endpoint, NULL, &after, why, sizeof why) == 0) {
        g->stats = after;
        g->heap.as_of.last_gc_ms = gsm_go_stats_has(&after, GSM_GO_LAST_GC) ? after.last_gc_ms : 0;
    }
    return GSM_EXIT_OK;
}

void explain_go_fetch_profile(const struct explain_go_opts *o, struct explain_go *g) {
    /* Serving the profile allocates in the target (its gzip writer: ~1.4 MiB here, mostly
     * untouched hash tables), so it is asked for after the statistics and smaps were read: they
     * describe one moment without it. Its in-use figures are the last GC's anyway. */
    if (g->have_stats && !o->gc && !g->have_heap)
        g->have_heap = fetch_heap_profile(&g->stats, false, &g->heap) == 0;
}

void explain_go_free(struct explain_go *g) {
    if (g->have_heap)
        gsm_heap_profile_free(&g->heap);
    g->have_heap = false;
}

struct json_object *explain_go_json(const struct explain_go *g) {
    if (!g->have_stats)
        return NULL;
    struct json_object *o = gsm_go_runtime_to_json(&g->stats, g->have_split ? &g->split : NULL);
    if (g->have_heap)
        json_object_object_add(o, "heap_profile", gsm_heap_profile_top_json(&g->heap, 10));
    return o;
}

void explain_go_print_table(const struct explain_go *g, const struct explain_go_opts *o, FILE *out) {
    (void)o;
    if (g->have_env)
        gsm_go_env_print_table(&g->env, out);
    if (g->have_stats)
        gsm_go_runtime_print_table(&g->stats, g->have_split ? &g->split : NULL, out);
    else
        fprintf(out, "\nGO RUNTIME: statistics not available: %s\n", g->why);
    if (g->have_heap)
        gsm_heap_profile_print_top(&g->heap, 5, out);
}
