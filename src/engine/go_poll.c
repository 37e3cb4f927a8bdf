#include "engine/engine_internal.h"
#include "readers/elf_go.h"
#include "readers/go_discover.h"
#include "readers/go_stats_fetch.h"
#include "readers/proc_handle.h"
#include "readers/proc_files.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/parse.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Go statistics are fetched every tick (at most about once a second when a young target is
 * sampled faster) for a target that has them: the Go-adjusted value mixes the cgroup's numbers
 * with the runtime's, and pairs taken seconds apart make their own noise. */
#define GO_POLL_MS 900
#define GO_RETRY_DISCOVERY_MS 30000

/* Go members of a cgroup target, or the process target itself when it is Go: discovered
 * (exe has .go.buildinfo, and a loopback port answers) at most every 30 s. */
void gsm_engine_go_discover(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms) {
    if (!w->o.go_stats || !w->root->is_host)
        return;
    if (t->go_checked && now_ms - t->go_discovery_ms < GO_RETRY_DISCOVERY_MS)
        return;
    t->go_checked = true;
    t->go_discovery_ms = now_ms;
    pid_t pids[64];
    size_t n = 0;
    if (t->type == GSM_WT_PROCESS)
        pids[n++] = t->pid;
    else {
        struct gsm_pid_list l = {0};
        if (gsm_engine_members(w, t, 64, &l) == 0)
            for (size_t k = 0; k < l.n && n < 64; k++)
                pids[n++] = l.pids[k];
        gsm_pid_list_free(&l);
    }
    free(t->go);
    t->go = NULL;
    t->n_go = 0;
    for (size_t i = 0; i < n; i++) {
        /* A process target's executable is looked at once (not again every 30 s). */
        if (t->type == GSM_WT_PROCESS && t->exe_checked && !t->is_go)
            continue;
        _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
        if (gsm_proc_handle_open(w->root, pids[i], &h) < 0)
            continue;
        if (t->type == GSM_WT_PROCESS) {
            if (!gsm_engine_exe_is_go(t, h.dirfd))
                continue;
        } else {
            struct gsm_go_info gi;
            if (gsm_go_info_read_at(h.dirfd, "exe", &gi) < 0)
                continue;
            gsm_go_info_free(&gi);
        }
        struct gsm_go_stats st;
        char why[128];
        struct gsm_http_opts ho = {.connect_timeout_ms = 300, .total_timeout_ms = 800};
        uint64_t t0 = gsm_engine_mono_ns();
        int r = gsm_go_stats_fetch_proc(w->root, &h, &ho, &st, why, sizeof why);
        w->stats.go_http.reads++;
        w->stats.go_http.ns += gsm_engine_mono_ns() - t0;
        if (r < 0) {
            gsm_engine_count_error(w, &w->stats.go_http, "go_http", NULL, NULL, r, now_ms);   /* no endpoint: not logged */
            continue;
        }
        struct go_member *g = realloc(t->go, (t->n_go + 1) * sizeof *g);
        if (!g)
            break;
        t->go = g;
        g = &t->go[t->n_go++];
        memset(g, 0, sizeof *g);
        g->pid = pids[i];
        snprintf(g->endpoint, sizeof g->endpoint, "%s", st.endpoint);
        g->stats = st;
        g->have = true;
        g->last_poll_ms = g->last_good_ms = now_ms;
    }
    t->go_have_base = false;   /* fresh statistics: the next adjustment starts from them */
}

/* The Go adjustment: replace what the runtime maps for the heap (HeapInuse + HeapIdle -
 * HeapReleased) by the heap goal of the last GC (NextGC). Both in the anon memory the sample
 * counts; the goal moves only with the live heap, so the sawtooth between GCs disappears.
 *
 * The statistics are polled about once a second (later under CPU load), the memory at every
 * sample (4 Hz while a target grows). Fresh memory minus an older heap size would count the heap's
 * growth since the poll twice (its goal already holds it): the GC sawtooth's rising edges came
 * back into the value, and its fall at the next poll, so a Go leak's series rose and fell every
 * second (a GC sawtooth read as a leak; a leak read as stopping). Between polls the value
 * therefore moves only by growth beyond what the heaps may still grow to their goals (memory
 * the goal does not hold), and a poll that fails keeps the last statistics for a few seconds. */
#define GO_STALE_OK_MS 5000
static bool go_poll_member(struct gsm_watch *w, struct gsm_watch_target *t, struct go_member *g, uint64_t now_ms) {
    if (now_ms - g->last_poll_ms < GO_POLL_MS)
        return false;
    struct gsm_go_stats st;
    char why[128];
    struct gsm_http_opts ho = {.connect_timeout_ms = 300, .total_timeout_ms = 800};
    uint64_t t0 = gsm_engine_mono_ns();
    int r = gsm_go_stats_fetch(g->endpoint, &ho, &st, why, sizeof why);
    w->stats.go_http.reads++;
    w->stats.go_http.ns += gsm_engine_mono_ns() - t0;
    g->last_poll_ms = now_ms;
    if (r == 0) {
        g->stats = st;
        g->have = true;
        g->last_good_ms = now_ms;
        return true;
    }
    gsm_engine_count_error(w, &w->stats.go_http, "go_http", t, g->endpoint, r, now_ms);
    g->have = g->have && now_ms - g->last_good_ms < GO_STALE_OK_MS;
    return false;
}

bool gsm_engine_go_adjust(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms, uint64_t value, uint64_t *ret,
                      uint64_t *ret_next_gc) {
    if (t->n_go == 0)
        return false;
    int64_t adj = 0;
    uint64_t next_gc = 0, headroom = 0;
    bool polled = false;
    for (size_t i = 0; i < t->n_go; i++) {
        struct go_member *g = &t->go[i];
        polled |= go_poll_member(w, t, g, now_ms);
        if (!g->have) {
            t->go_have_base = false;
            return false;   /* a member without statistics: use the raw numbers */
        }
        const struct gsm_go_stats *s = &g->stats;
        uint64_t mapped = s->heap_inuse_bytes + s->heap_idle_bytes - s->heap_released_bytes;
        adj += (int64_t)s->next_gc_bytes - (int64_t)mapped;
        next_gc += s->next_gc_bytes;
        headroom += s->next_gc_bytes > mapped ? s->next_gc_bytes - mapped : 0;
    }
    if (polled || !t->go_have_base) {
        int64_t v = (int64_t)value + adj;
        t->go_base_raw = value;
        t->go_base_value = v > 0 ? (uint64_t)v : 0;
        t->go_headroom = headroom;
        t->go_have_base = true;
    }
    uint64_t grown = value > t->go_base_raw ? value - t->go_base_raw : 0;
    *ret = t->go_base_value + (grown > t->go_headroom ? grown - t->go_headroom : 0);
    *ret_next_gc = next_gc;
    return true;
}
