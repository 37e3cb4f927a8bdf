#include "recorder/watch_bundle.h"
#include "renderers/event_render.h"
#include "util/log.h"
#include "util/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The summary a bundle starts with: which series grew most over the ring, from its first value
 * to its peak (after an OOM kill the last values have already dropped). */
static void summarize(const struct gsm_watch_target *t, const struct gsm_watch_event *ev, char *buf, size_t size) {
    size_t n = gsm_watch_target_ring_len(t);
    int off = snprintf(buf, size, "event: %s %s: %s\n", gsm_watch_level_name(ev->level), gsm_watch_kind_name(ev->kind),
                       ev->message);
    struct gsm_watch_sample first, x;
    if (n < 2 || !gsm_watch_target_ring_get(t, 0, &first) || off < 0 || (size_t)off >= size)
        return;
    enum { UNRECL, ANON, FILE_, USAGE, SWAP, N_SERIES };
    static const char *const names[N_SERIES] = {"unreclaimable memory", "anonymous memory", "page cache / file", "usage",
                                                "swap"};
    uint64_t from[N_SERIES] = {first.unreclaimable_bytes, first.anon_bytes, first.file_bytes, first.usage_bytes,
                               first.swap_bytes};
    uint64_t peak[N_SERIES] = {0}, peak_t[N_SERIES] = {0}, threads_from = first.threads, threads_peak = 0;
    for (size_t i = 0; gsm_watch_target_ring_get(t, i, &x); i++) {
        uint64_t v[N_SERIES] = {x.unreclaimable_bytes, x.anon_bytes, x.file_bytes, x.usage_bytes, x.swap_bytes};
        for (int k = 0; k < N_SERIES; k++)
            if (v[k] >= peak[k]) {
                peak[k] = v[k];
                peak_t[k] = x.t_ms;
            }
        if (x.threads > threads_peak)
            threads_peak = x.threads;
    }
    int best = 0;
    for (int k = 1; k < N_SERIES; k++)
        if ((int64_t)(peak[k] - from[k]) > (int64_t)(peak[best] - from[best]))
            best = k;
    double secs = peak_t[best] > first.t_ms ? (double)(peak_t[best] - first.t_ms) / 1000.0 : 0;
    char a[16], b[16];
    off += snprintf(buf + off, size - (size_t)off, "%s grew most: %s -> peak %s in %.0f s (%.2f MiB/s)\n", names[best],
                    gsm_fmt_bytes(from[best], a, sizeof a), gsm_fmt_bytes(peak[best], b, sizeof b), secs,
                    secs > 0 ? (double)(peak[best] - from[best]) / secs / 1048576.0 : 0.0);
    if (off > 0 && (size_t)off < size && threads_peak > threads_from)
        snprintf(buf + off, size - (size_t)off, "threads: %llu -> peak %llu\n", (unsigned long long)threads_from,
                 (unsigned long long)threads_peak);
}

/* What a bundle for ev needs, in bufs the caller owns (freed by free_bundle_bufs). */
struct bundle_bufs {
    char *samples;
    char key[600], label[96], summary[1024];
};

static int build_request(const struct gsm_root *root, const struct gsm_watch_event *ev, const char *event_json,
                         struct bundle_bufs *b, struct gsm_bundle_request *req) {
    const struct gsm_watch_target *t = ev->target;
    char *samples = NULL;
    size_t samples_len = 0;
    FILE *f = open_memstream(&samples, &samples_len);
    if (!f)
        return -ENOMEM;
    struct gsm_watch_sample rs;
    for (size_t i = 0; gsm_watch_target_ring_get(t, i, &rs); i++) {
        struct json_object *o = gsm_sample_to_json(&ev->ref, &rs);
        gsm_json_line(o, f);
        json_object_put(o);
    }
    fclose(f);
    b->samples = samples;
    char *key = b->key, *label = b->label, *summary = b->summary;
    bool proc = gsm_watch_target_type(t) == GSM_WT_PROCESS;
    /* Every OOM kill gets its bundle (a crash loop's too): its rate-limit key is apart from the
     * warnings' and names the kill's count; the quota and the rotation bound the disk. */
    char suffix[40] = "";
    if (ev->kind == GSM_WK_OOM_KILL)
        snprintf(suffix, sizeof suffix, "-oom-kill-%.0f", ev->value);
    if (proc) {
        snprintf(key, sizeof b->key, "pid-%d-%llu%s", (int)gsm_watch_target_pid(t),
                 (unsigned long long)gsm_watch_target_starttime(t), suffix);
        snprintf(label, sizeof b->label, "pid-%d", (int)gsm_watch_target_pid(t));
    } else {
        snprintf(key, sizeof b->key, "cgroup-%s%s", gsm_watch_target_cgroup(t), suffix);
        snprintf(label, sizeof b->label, "cg%.80s", gsm_watch_target_cgroup(t));
    }
    summarize(t, ev, summary, sizeof b->summary);
    *req = (struct gsm_bundle_request){
        .target_key = key, .target_label = label, .pid = proc ? gsm_watch_target_pid(t) : 0,
        .cgroup_path = gsm_watch_target_cgroup(t), .cg_loc = gsm_watch_target_cgroup_loc(t), .root = root,
        .samples_jsonl = samples, .samples_len = samples_len, .event_json = event_json, .summary = summary,
        .go_endpoint = gsm_watch_target_go_endpoint(t), .now_ms = ev->time_ms,
    };
    return 0;
}

void gsm_watch_write_bundle(struct gsm_recorder *rec, const struct gsm_root *root, const struct gsm_watch_event *ev,
                            const char *event_json, char *path, size_t path_len) {
    struct bundle_bufs b = {0};
    struct gsm_bundle_request req;
    path[0] = '\0';
    if (build_request(root, ev, event_json, &b, &req) < 0)
        return;
    int r = gsm_recorder_write(rec, &req, path, path_len);
    if (r < 0) {
        path[0] = '\0';
        if (r != -EAGAIN)
            gsm_warn("flight-recorder bundle not written: %s", strerror(-r));
    }
    free(b.samples);
}

void gsm_watch_start_bundle(struct gsm_recorder *rec, const struct gsm_root *root, const struct gsm_watch_event *ev,
                            const char *event_json, struct json_object *bundle_event) {
    struct bundle_bufs b = {0};
    struct gsm_bundle_request req;
    int r = build_request(root, ev, event_json, &b, &req);
    if (r == 0)
        r = gsm_recorder_start(rec, &req, ev->kind == GSM_WK_OOM_KILL, bundle_event);
    free(b.samples);
    if (r < 0) {
        json_object_put(bundle_event);
        if (r == -EBUSY)
            gsm_warn("flight-recorder bundle not written: %u bundles already being written, or one for this target",
                     GSM_RECORDER_MAX_WRITERS);
        else if (r != -EAGAIN)
            gsm_warn("flight-recorder bundle not written: %s", strerror(-r));
    }
}

struct reap_ctx {
    gsm_watch_bundle_done_fn fn;
    void *userdata;
};

static void on_done(void *cookie, int result, const char *path, void *userdata) {
    struct reap_ctx *c = userdata;
    struct json_object *bo = cookie;
    if (result < 0 && result != -EAGAIN)
        gsm_warn("flight-recorder bundle not written: %s", strerror(-result));
    if (result == 0 && bo) {
        json_object_object_add(bo, "bundle", json_object_new_string(path));
        if (c && c->fn)
            c->fn(bo, path, c->userdata);
    }
    json_object_put(bo);
}

size_t gsm_watch_reap_bundles(struct gsm_recorder *rec, uint64_t wait_ms, gsm_watch_bundle_done_fn fn, void *userdata) {
    struct reap_ctx c = {fn, userdata};
    return gsm_recorder_reap(rec, wait_ms, on_done, &c);
}


struct json_object *gsm_watch_bundle_event_json(const struct gsm_watch_event *ev, const char *path) {
    struct gsm_watch_event b = *ev;
    b.kind = GSM_WK__COUNT;   /* rendered as "bundle" below */
    struct json_object *bo = gsm_event_to_json(&b, path);
    json_object_object_add(bo, "kind", json_object_new_string("bundle"));
    json_object_object_add(bo, "level", json_object_new_string("info"));
    char msg[300];
    snprintf(msg, sizeof msg, "flight-recorder bundle written after: %.200s", ev->message);
    json_object_object_add(bo, "message", json_object_new_string(msg));
    return bo;
}
