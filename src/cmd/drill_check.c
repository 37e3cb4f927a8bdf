/* What the drill looks for: watch's JSON lines about the drill's cgroup, the bundle watch wrote
 * after the OOM kill (complete on disk), and serve's /metrics (polled in a thread, so a slow
 * scrape never delays seeing the kill). */
#include "cmd/drill.h"
#include "readers/http_client.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/parse.h"
#include "util/text.h"
#include "util/units.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *jstr(struct json_object *o, const char *key) {
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                             : NULL;
}

static uint64_t ju64(struct json_object *o, const char *key) {
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

static const char *target_cgroup(struct json_object *o) {
    struct json_object *t;
    return json_object_object_get_ex(o, "target", &t) ? jstr(t, "cgroup") : NULL;
}

static void on_event(struct drill_obs *o, struct json_object *j, const char *cg) {
    o->events++;
    if (!cg || strcmp(cg, o->drill_cg) != 0)
        return;
    const char *kind = jstr(j, "kind"), *state = jstr(j, "state"), *level = jstr(j, "level");
    if (!kind || !state || !level || strcmp(state, "firing") != 0)
        return;
    uint64_t t = ju64(j, "time_ms");
    if (strcmp(kind, "eta") == 0 && !o->warn_ms && (strcmp(level, "warn") == 0 || strcmp(level, "critical") == 0)) {
        o->warn_ms = t;
        snprintf(o->warn_level, sizeof o->warn_level, "%s", level);
        struct json_object *e;
        o->warn_eta_s = json_object_object_get_ex(j, "eta_seconds", &e) && !json_object_is_type(e, json_type_null)
                            ? json_object_get_double(e)
                            : NAN;
        const char *m = jstr(j, "message");
        snprintf(o->warn_msg, sizeof o->warn_msg, "%s", m ? m : "");
    } else if (strcmp(kind, "oom_kill") == 0 && !o->oom_event_ms) {
        o->oom_event_ms = t;
        o->oom_event_seen_ms = drill_now_ms();
    } else if (strcmp(kind, "bundle") == 0 && o->oom_event_ms && t == o->oom_event_ms && !o->bundle[0]) {
        /* The bundle line follows its event, with the event's time. */
        const char *p = jstr(j, "bundle");
        if (p) {
            snprintf(o->bundle, sizeof o->bundle, "%s", p);
            o->bundle_seen_ms = drill_now_ms();
        }
    }
}

void drill_obs_line(const char *line, void *obs) {
    struct drill_obs *o = obs;
    struct json_object *j = json_tokener_parse(line);
    if (!j || !json_object_is_type(j, json_type_object)) {
        o->bad_lines++;
        json_object_put(j);
        return;
    }
    const char *schema = jstr(j, "schema"), *cg = target_cgroup(j);
    if (schema && strcmp(schema, "gsmapper.sample/v1") == 0) {
        o->samples++;
        if (!o->first_sample_ms && cg && strcmp(cg, o->watch_cg) == 0)
            o->first_sample_ms = ju64(j, "time_ms");
    } else if (schema && strcmp(schema, "gsmapper.event/v1") == 0) {
        on_event(o, j, cg);
    }
    json_object_put(j);
}

/* ---- the bundle ------------------------------------------------------------------------------ */

static struct json_object *parse_file(int dfd, const char *name, size_t max) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    if (gsm_read_file_at(dfd, name, max, &buf, &len) < 0)
        return NULL;
    return json_tokener_parse(buf);
}

/* samples.jsonl: every line a sample of the cgroup; the peak usage. Returns the line count, or
 * -1 when a line is not a sample of it. */
static long samples_check(int dfd, const char *cgroup, uint64_t *ret_peak) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    *ret_peak = 0;
    if (gsm_read_file_at(dfd, "samples.jsonl", (size_t)64 << 20, &buf, &len) < 0)
        return -1;
    long n = 0;
    const char *cur = buf, *line;
    size_t ll;
    while ((line = gsm_next_line(&cur, buf + len, &ll))) {
        if (ll == 0)
            continue;
        buf[line - buf + ll] = '\0';   /* the '\n' */
        struct json_object *j = json_tokener_parse(line);
        const char *cg = j ? target_cgroup(j) : NULL;
        bool ok = cg && strcmp(cg, cgroup) == 0;
        if (ok && ju64(j, "usage_bytes") > *ret_peak)
            *ret_peak = ju64(j, "usage_bytes");
        json_object_put(j);
        if (!ok)
            return -1;
        n++;
    }
    return n;
}

/* MANIFEST: "name bytes" per file (each must be there at that size), "failed STEP: REASON" per
 * failed step. Returns the files listed, or -1 (why in detail). */
static long manifest_check(int dfd, uint64_t *ret_bytes, bool *ret_explain, char *detail, size_t len) {
    _cleanup_free_ char *buf = NULL;
    size_t blen;
    int r = gsm_read_file_at(dfd, "MANIFEST", GSM_SMALL_FILE_MAX, &buf, &blen);
    if (r < 0) {
        snprintf(detail, len, "no MANIFEST (%s)", strerror(-r));
        return -1;
    }
    long files = 0;
    *ret_bytes = 0;
    *ret_explain = false;
    const char *cur = buf, *line;
    size_t ll;
    while ((line = gsm_next_line(&cur, buf + blen, &ll))) {
        char *p = buf + (line - buf);
        p[ll] = '\0';   /* the '\n' */
        if (strncmp(p, "failed ", 7) == 0) {
            snprintf(detail, len, "MANIFEST says: %.300s", p);
            return -1;
        }
        char *sp = strrchr(p, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        const char *q = sp + 1;
        uint64_t size;
        struct stat st;
        if (gsm_parse_u64(&q, &size) < 0 || *q) {
            snprintf(detail, len, "MANIFEST line '%.200s' is not 'name bytes'", p);
            return -1;
        }
        if (fstatat(dfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
            snprintf(detail, len, "%.200s: listed with %llu bytes, %s", p, (unsigned long long)size,
                     errno == ENOENT ? "missing" : "has another size");
            return -1;
        }
        if (strcmp(p, "explain.json") == 0)
            *ret_explain = true;
        files++;
        *ret_bytes += size;
    }
    return files;
}

bool drill_bundle_check(const char *path, const char *cgroup, uint64_t limit, char *detail, size_t len) {
    _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(detail, len, "cannot open the bundle %s: %s", path, strerror(errno));
        return false;
    }
    uint64_t bytes, peak;
    bool explain;
    long files = manifest_check(dfd, &bytes, &explain, detail, len);
    if (files < 0)
        return false;
    struct json_object *ev = parse_file(dfd, "event.json", GSM_SMALL_FILE_MAX);
    const char *kind = ev ? jstr(ev, "kind") : NULL, *cg = ev ? target_cgroup(ev) : NULL;
    bool ev_ok = kind && strcmp(kind, "oom_kill") == 0 && cg && strcmp(cg, cgroup) == 0;
    json_object_put(ev);
    if (!ev_ok) {
        snprintf(detail, len, "event.json is not the oom_kill event of %s", cgroup);
        return false;
    }
    struct json_object *ex = explain ? parse_file(dfd, "explain.json", (size_t)256 << 20) : NULL;
    json_object_put(ex);
    if (!ex) {
        snprintf(detail, len, "explain.json %s", explain ? "does not parse" : "is not in MANIFEST");
        return false;
    }
    long n = samples_check(dfd, cgroup, &peak);
    struct stat st;
    if (n <= 0) {
        snprintf(detail, len, "samples.jsonl %s", n == 0 ? "is empty" : "has lines that are not samples of the cgroup");
        return false;
    }
    if (fstatat(dfd, "summary.txt", &st, AT_SYMLINK_NOFOLLOW) < 0 || fstatat(dfd, "cgroup", &st, 0) < 0) {
        snprintf(detail, len, "no %s", errno == ENOENT ? "summary.txt or cgroup/" : "summary.txt");
        return false;
    }
    char b1[16], b2[16], b3[16];
    if (peak < limit / 4) {
        snprintf(detail, len, "samples.jsonl peaks at %s, not a quarter of the limit %s: the ring missed the leak",
                 gsm_fmt_bytes(peak, b1, sizeof b1), gsm_fmt_bytes(limit, b2, sizeof b2));
        return false;
    }
    /* Below 90 %: watch did not sample the last stretch before the kill (it writes a warning's
     * bundle synchronously; on a loaded machine that can take seconds). Said, not failed. */
    snprintf(detail, len, "%s: %ld files, %s; event.json oom_kill, %ld samples peaking at %s of %s%s, explain.json", path,
             files, gsm_fmt_bytes(bytes, b1, sizeof b1), n, gsm_fmt_bytes(peak, b2, sizeof b2),
             gsm_fmt_bytes(limit, b3, sizeof b3),
             peak < limit / 10 * 9 ? " (the ring missed the last stretch before the kill: watch was not sampling)" : "");
    return true;
}

/* ---- serve's /metrics ------------------------------------------------------------------------ */

static char *needle(const char *prefix, const char *cgroup) {
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    fputs(prefix, f);
    gsm_text_write_label_value(f, cgroup);
    fputc('"', f);
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void drill_serve_scan(const struct drill_serve *s, const char *text, bool *ret_listed, bool *ret_forecast,
                      double *ret_eta, char level[16], uint64_t *ret_ticks) {
    *ret_listed = *ret_forecast = false;
    *ret_ticks = 0;
    *ret_eta = INFINITY;
    level[0] = '\0';
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, "gsmapper_ticks_total ", 21) == 0) {
            const char *q = p + 21;
            if (gsm_parse_u64(&q, ret_ticks) < 0)
                *ret_ticks = 0;
        } else if (strncmp(p, s->usage_needle, strlen(s->usage_needle)) == 0)
            *ret_listed = true;
        else if (strncmp(p, s->eta_needle, strlen(s->eta_needle)) == 0) {
            const char *v = strchr(p, '}');
            double eta = v ? strtod(v + 1, NULL) : INFINITY;
            if (isfinite(eta)) {
                *ret_eta = eta;
                *ret_forecast = true;
            }
        } else if (strncmp(p, s->cond_needle, strlen(s->cond_needle)) == 0) {
            const char *k = strstr(p, ",kind=\"eta\",level=\""), *e = strchr(p, '}');
            if (k && e && k < e && strtod(e + 1, NULL) == 1) {
                k += strlen(",kind=\"eta\",level=\"");
                size_t n = strcspn(k, "\"");
                snprintf(level, 16, "%.*s", (int)(n < 15 ? n : 15), k);
                *ret_forecast = true;
            }
        }
    }
}

static void scrape(struct drill_serve *s) {
    char *body = NULL, err[200] = "";
    size_t len;
    struct gsm_http_opts ho = {.connect_timeout_ms = 1000, .total_timeout_ms = 3000, .max_body_bytes = (size_t)64 << 20};
    int r = gsm_http_get_with(s->metrics_url, &ho, "Accept: text/plain", &body, &len, err, sizeof err);
    uint64_t now = drill_now_ms();
    bool listed = false, forecast = false;
    double eta = INFINITY;
    char level[16] = "";
    uint64_t ticks = 0;
    if (r == 0)
        drill_serve_scan(s, body, &listed, &forecast, &eta, level, &ticks);
    free(body);
    pthread_mutex_lock(&s->mu);
    s->scrapes++;
    if (r < 0) {
        s->errors++;
        snprintf(s->last_error, sizeof s->last_error, "%s", err[0] ? err : strerror(-r));
    }
    if (ticks && !s->ticks_first_ms) {
        s->ticks_first = ticks;
        s->ticks_first_ms = now;
    }
    if (ticks) {
        s->ticks_last = ticks;
        s->ticks_last_ms = now;
    }
    if (listed && !s->listed_ms)
        s->listed_ms = now;
    if (forecast && !s->forecast_ms) {
        s->forecast_ms = now;
        s->forecast_eta_s = eta;
        snprintf(s->forecast_level, sizeof s->forecast_level, "%s", level);
    }
    pthread_mutex_unlock(&s->mu);
}

static void *serve_thread(void *arg) {
    struct drill_serve *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        scrape(s);
        nanosleep(&(struct timespec){.tv_nsec = 250 * 1000 * 1000}, NULL);
    }
    return NULL;
}

int drill_serve_start(struct drill_serve *s, const char *url, const char *cgroup, char *err, size_t errlen) {
    *s = (struct drill_serve){.forecast_eta_s = INFINITY};
    int r = gsm_http_url_is_loopback(url);
    if (r <= 0) {
        snprintf(err, errlen, "--serve %s: %s", url,
                 r == 0 ? "not a loopback address (serve listens on 127.0.0.1 or [::1])"
                        : r == -ENOSYS ? "libcurl is not available" : "not an http:// URL");
        return -EINVAL;
    }
    size_t n = strlen(url);
    bool has_path = n >= 8 && strcmp(url + n - 8, "/metrics") == 0;
    if (asprintf(&s->metrics_url, "%.*s%s", (int)(n && url[n - 1] == '/' ? n - 1 : n), url,
                 has_path ? "" : "/metrics") < 0) {
        s->metrics_url = NULL;
        return -ENOMEM;
    }
    s->usage_needle = needle("gsmapper_cgroup_usage_bytes{cgroup=\"", cgroup);
    s->eta_needle = needle("gsmapper_cgroup_oom_eta_seconds{cgroup=\"", cgroup);
    s->cond_needle = needle("gsmapper_condition_active{target_type=\"cgroup\",cgroup=\"", cgroup);
    if (!s->usage_needle || !s->eta_needle || !s->cond_needle)
        return -ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    if ((r = pthread_create(&s->thread, NULL, serve_thread, s)) != 0) {
        snprintf(err, errlen, "cannot start the /metrics poller: %s", strerror(r));
        pthread_mutex_destroy(&s->mu);
        return -r;
    }
    s->running = true;
    return 0;
}

void drill_serve_stop(struct drill_serve *s) {
    if (s->running) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        pthread_mutex_destroy(&s->mu);
        s->running = false;
    }
    free(s->metrics_url);
    free(s->usage_needle);
    free(s->eta_needle);
    free(s->cond_needle);
    s->metrics_url = s->usage_needle = s->eta_needle = s->cond_needle = NULL;
}

void drill_serve_get(struct drill_serve *s, struct drill_serve *ret) {
    if (!s->running) {
        *ret = *s;
        return;
    }
    pthread_mutex_lock(&s->mu);
    *ret = *s;
    pthread_mutex_unlock(&s->mu);
}
