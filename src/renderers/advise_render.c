/* renderers/advise_render.h. Recommended sizes are rounded up to whole MiB in snippets. */
#include "renderers/advise_render.h"
#include "analyses/cgroup_analysis.h"
#include "util/text.h"
#include "util/units.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB (1024ULL * 1024)

static uint64_t mib_up(uint64_t b) { return (b + MIB - 1) / MIB; }

static void fmt_time(uint64_t t_ms, char *buf, size_t len) {
    time_t s = (time_t)(t_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, len, "?");
}

static bool is_cgroup(const struct gsm_hist_target *t) { return strcmp(t->type, "cgroup") == 0; }

/* The unit name at the end of a cgroup path (…/foo.service), or NULL. */
static const char *systemd_unit(const char *path) {
    const char *b = path ? strrchr(path, '/') : NULL;
    b = b ? b + 1 : path;
    if (!b || !*b)
        return NULL;
    size_t n = strlen(b);
    static const char *const sfx[] = {".service", ".scope", ".slice"};
    for (size_t i = 0; i < 3; i++) {
        size_t k = strlen(sfx[i]);
        if (n > k && strcmp(b + n - k, sfx[i]) == 0)
            return b;
    }
    return NULL;
}

static void why_text(const struct gsm_advice *a, char *buf, size_t len) {
    char pk[32], an[32], fi[32], un[32], p90[32], p99[32], when[32];
    fmt_time(a->peak_t_ms, when, sizeof when);
    snprintf(buf, len, "%s peaked at %s in the minute of %s (%s-driven: anon %s, file %s; unreclaimable %s); "
             "decayed p90 %s, p99 %s",
             gsm_hist_series_name(a->series), gsm_fmt_bytes(a->peak_bytes, pk, sizeof pk), when, a->peak_class,
             gsm_fmt_bytes(a->peak_anon_bytes, an, sizeof an), gsm_fmt_bytes(a->peak_file_bytes, fi, sizeof fi),
             gsm_fmt_bytes(a->peak_unreclaimable_bytes, un, sizeof un), gsm_fmt_bytes(a->p90_bytes, p90, sizeof p90),
             gsm_fmt_bytes(a->p99_bytes, p99, sizeof p99));
}

static void bump_text(const struct gsm_advice *a, char *buf, size_t len) {
    char pb[32], bl[32], bb[32];
    if (a->oom_kills == 0) {
        snprintf(buf, len, "no OOM kills recorded");
        return;
    }
    snprintf(buf, len, "%zu OOM kill(s), %zu distinct limit(s); bump = max(peak before %s × 1.2, limit %s + 100 MiB) = %s%s%s",
             a->oom_kills, a->oom_bumps, gsm_fmt_bytes(a->bump_peak_before_bytes, pb, sizeof pb),
             gsm_fmt_bytes(a->bump_base_limit_bytes, bl, sizeof bl), gsm_fmt_bytes(a->bump_bytes, bb, sizeof bb),
             a->bump_applied ? " (sets the limit)" : " (below the sized limit)",
             a->leak_suspected ? "; killed at every bumped limit: leak suspected, bumps stopped" : "");
}

static void go_text(const struct gsm_advice *a, char *buf, size_t len) {
    char l[32], nh[32], m[32], g[32];
    snprintf(buf, len, "GOMEMLIMIT = limit %s - non-heap p99 %s - margin %s = %s%s", gsm_fmt_bytes(a->limit_bytes, l, sizeof l),
             gsm_fmt_bytes(a->go_nonheap_p99_bytes, nh, sizeof nh), gsm_fmt_bytes(a->go_margin_bytes, m, sizeof m),
             gsm_fmt_bytes(a->gomemlimit_bytes, g, sizeof g),
             a->go_too_tight ? " (under half the limit: the non-Go memory needs looking at first)" : "");
}

static struct json_object *snippets(const struct gsm_hist_target *t, const struct gsm_advice *a) {
    struct json_object *o = json_object_new_object();
    char buf[1024];
    uint64_t req = mib_up(a->request_bytes), lim = mib_up(a->limit_bytes), high = mib_up(a->high_bytes);
    const char *cg = is_cgroup(t) ? t->name : t->cgroup;
    struct gsm_container_identity id = {0};
    if (cg)
        gsm_container_identity_parse(cg, &id);
    if (id.in_kubernetes) {
        snprintf(buf, sizeof buf,
                 "kubectl patch deployment NAME --type=strategic -p '{\"spec\":{\"template\":{\"spec\":{\"containers\":"
                 "[{\"name\":\"CONTAINER\",\"resources\":{\"requests\":{\"memory\":\"%lluMi\"},\"limits\":{\"memory\":"
                 "\"%lluMi\"}}}]}}}}'  # pod uid %s",
                 (unsigned long long)req, (unsigned long long)lim, id.pod_uid[0] ? id.pod_uid : "?");
        json_object_object_add(o, "kubectl", json_object_new_string(buf));
    }
    const char *unit = systemd_unit(cg);
    if (unit) {
        snprintf(buf, sizeof buf, "# /etc/systemd/system/%s.d/50-memory.conf\n[%s]\nMemoryHigh=%lluM\nMemoryMax=%lluM\n",
                 unit, strstr(unit, ".slice") ? "Slice" : strstr(unit, ".scope") ? "Scope" : "Service",
                 (unsigned long long)high, (unsigned long long)lim);
        json_object_object_add(o, "systemd", json_object_new_string(buf));
    }
    if (is_cgroup(t)) {
        snprintf(buf, sizeof buf, "echo %lluM > CGROUP/memory.high; echo %lluM > CGROUP/memory.max  "
                 "# cgroup v1: memory.limit_in_bytes", (unsigned long long)high, (unsigned long long)lim);
        json_object_object_add(o, "cgroup", json_object_new_string(buf));
    }
    if (a->have_go && a->gomemlimit_bytes) {
        snprintf(buf, sizeof buf, "GOMEMLIMIT=%lluMiB", (unsigned long long)(a->gomemlimit_bytes / MIB));
        json_object_object_add(o, "env", json_object_new_string(buf));
    }
    return o;
}

struct json_object *gsm_advice_to_json(const struct gsm_hist_target *t, const struct gsm_advice *a) {
    struct json_object *o = json_object_new_object();
    char buf[512];
    json_object_object_add(o, "key", json_object_new_string(t->key));
    json_object_object_add(o, "type", json_object_new_string(t->type));
    json_object_object_add(o, "name", json_object_new_string(t->name));
    if (t->cgroup)
        json_object_object_add(o, "cgroup", json_object_new_string(t->cgroup));
    if (t->pid > 0)
        json_object_object_add(o, "pid", json_object_new_int64(t->pid));
    json_object_object_add(o, "series", json_object_new_string(gsm_hist_series_name(a->series)));
    json_object_object_add(o, "request_bytes", json_object_new_uint64(a->request_bytes));
    json_object_object_add(o, "limit_bytes", json_object_new_uint64(a->limit_bytes));
    if (is_cgroup(t)) {
        json_object_object_add(o, "memory_high_bytes", json_object_new_uint64(a->high_bytes));
        json_object_object_add(o, "memory_max_bytes", json_object_new_uint64(a->limit_bytes));
    }
    json_object_object_add(o, "current_limit_bytes",
                           a->current_limit_bytes == UINT64_MAX ? NULL : json_object_new_uint64(a->current_limit_bytes));
    struct json_object *c = json_object_new_object();
    json_object_object_add(c, "level", json_object_new_string(gsm_confidence_name(a->confidence_level)));
    json_object_object_add(c, "value", json_object_new_double(a->confidence));
    json_object_object_add(c, "history_hours", json_object_new_double(a->span_h));
    json_object_object_add(c, "coverage", json_object_new_double(a->coverage));
    json_object_object_add(o, "confidence", c);
    struct json_object *p = json_object_new_object();
    json_object_object_add(p, "bytes", json_object_new_uint64(a->peak_bytes));
    fmt_time(a->peak_t_ms, buf, sizeof buf);
    json_object_object_add(p, "minute", json_object_new_string(buf));
    json_object_object_add(p, "class", json_object_new_string(a->peak_class));
    json_object_object_add(p, "anon_bytes", json_object_new_uint64(a->peak_anon_bytes));
    json_object_object_add(p, "file_bytes", json_object_new_uint64(a->peak_file_bytes));
    json_object_object_add(p, "unreclaimable_bytes", json_object_new_uint64(a->peak_unreclaimable_bytes));
    json_object_object_add(p, "p90_bytes", json_object_new_uint64(a->p90_bytes));
    json_object_object_add(p, "p99_bytes", json_object_new_uint64(a->p99_bytes));
    json_object_object_add(o, "peak", p);
    struct json_object *oom = json_object_new_object();
    json_object_object_add(oom, "kills", json_object_new_uint64(a->oom_kills));
    json_object_object_add(oom, "bumps", json_object_new_uint64(a->oom_bumps));
    json_object_object_add(oom, "bump_bytes", json_object_new_uint64(a->bump_bytes));
    json_object_object_add(oom, "base_limit_bytes", json_object_new_uint64(a->bump_base_limit_bytes));
    json_object_object_add(oom, "peak_before_bytes", json_object_new_uint64(a->bump_peak_before_bytes));
    json_object_object_add(oom, "applied", json_object_new_boolean(a->bump_applied));
    json_object_object_add(oom, "leak_suspected", json_object_new_boolean(a->leak_suspected));
    json_object_object_add(o, "oom", oom);
    json_object_object_add(o, "capped", json_object_new_boolean(a->capped));
    if (a->have_go) {
        struct json_object *g = json_object_new_object();
        json_object_object_add(g, "gomemlimit_bytes", json_object_new_uint64(a->gomemlimit_bytes));
        json_object_object_add(g, "nonheap_p99_bytes", json_object_new_uint64(a->go_nonheap_p99_bytes));
        json_object_object_add(g, "margin_bytes", json_object_new_uint64(a->go_margin_bytes));
        json_object_object_add(g, "too_tight", json_object_new_boolean(a->go_too_tight));
        go_text(a, buf, sizeof buf);
        json_object_object_add(g, "arithmetic", json_object_new_string(buf));
        json_object_object_add(o, "go", g);
    }
    why_text(a, buf, sizeof buf);
    json_object_object_add(o, "why", json_object_new_string(buf));
    json_object_object_add(o, "snippets", snippets(t, a));
    return o;
}

void gsm_advice_print_table(const struct gsm_hist_target *t, const struct gsm_advice *a, FILE *out) {
    char r[32], l[32], h[32], buf[1024], kb[512], nb[512];
    fprintf(out, "%s  (%s %s)\n", gsm_text_printable(t->key, false, kb, sizeof kb), t->type,
            gsm_text_printable(t->name, false, nb, sizeof nb));
    fprintf(out, "  request %s   limit %s", gsm_fmt_bytes(a->request_bytes, r, sizeof r),
            gsm_fmt_bytes(a->limit_bytes, l, sizeof l));
    if (is_cgroup(t))
        fprintf(out, "   memory.high %s   memory.max %s", gsm_fmt_bytes(a->high_bytes, h, sizeof h), l);
    fprintf(out, "%s\n", a->capped ? "   (capped)" : "");
    if (a->span_h < 1)
        fprintf(out, "  confidence %s (%.2f): %.0f min of history, %.0f%% covered\n",
                gsm_confidence_name(a->confidence_level), a->confidence, a->span_h * 60, a->coverage * 100);
    else
        fprintf(out, "  confidence %s (%.2f): %.1f h of history, %.0f%% covered\n",
                gsm_confidence_name(a->confidence_level), a->confidence, a->span_h, a->coverage * 100);
    why_text(a, buf, sizeof buf);
    fprintf(out, "  why: %s\n", buf);
    bump_text(a, buf, sizeof buf);
    fprintf(out, "  oom: %s\n", buf);
    if (a->have_go) {
        go_text(a, buf, sizeof buf);
        fprintf(out, "  %s\n", buf);
    }
    struct json_object *s = snippets(t, a);
    json_object_object_foreach(s, k, v) {
        /* line by line, each made printable (a unit name comes from a cgroup path) */
        const char *txt = json_object_get_string(v), *nl;
        fprintf(out, "  apply (%s): ", k);
        for (bool first = true; *txt; txt = nl ? nl + 1 : txt + strlen(txt), first = false) {
            nl = strchr(txt, '\n');
            size_t n = nl ? (size_t)(nl - txt) : strlen(txt);
            char line[512];
            snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), txt);
            fprintf(out, "%s%s\n", first ? "" : "      ", gsm_text_printable(line, false, buf, sizeof buf));
        }
    }
    json_object_put(s);
    fputc('\n', out);
}
