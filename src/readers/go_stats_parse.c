/* The three statistics formats (go_stats_parse.h): one table of which MemStats field is called
 * what in each, and a bounded scanner per format. */
#include "readers/go_stats_parse.h"
#include "util/cleanup.h"
#include "util/errbuf.h"

#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* ---- the field table: which MemStats field is called what in each source ---- */

enum conv {
    CONV_U64,         /* integer as is */
    CONV_NS_TO_MS,    /* LastGC: Unix ns -> ms */
    CONV_DOUBLE,      /* GCCPUFraction */
    CONV_S_TO_MS,     /* Prometheus last_gc_time_seconds (Unix seconds, float) */
    CONV_S_TO_NS,     /* Prometheus go_gc_duration_seconds_sum / quantile */
};

#define U64F(m) offsetof(struct gsm_go_stats, m)
static const struct field_def {
    const char *pprof;    /* "# Key = N" in the heap debug=1 block (NULL: not there / special) */
    const char *expvar;   /* key of the expvar "memstats" object */
    const char *prom;     /* Prometheus metric name (unlabelled series) */
    enum gsm_go_field f;
    size_t off;
    enum conv conv, prom_conv;
} fields[] = {
    {"HeapAlloc", "HeapAlloc", "go_memstats_heap_alloc_bytes", GSM_GO_HEAP_ALLOC, U64F(heap_alloc_bytes), CONV_U64, CONV_U64},
    {"HeapSys", "HeapSys", "go_memstats_heap_sys_bytes", GSM_GO_HEAP_SYS, U64F(heap_sys_bytes), CONV_U64, CONV_U64},
    {"HeapIdle", "HeapIdle", "go_memstats_heap_idle_bytes", GSM_GO_HEAP_IDLE, U64F(heap_idle_bytes), CONV_U64, CONV_U64},
    {"HeapInuse", "HeapInuse", "go_memstats_heap_inuse_bytes", GSM_GO_HEAP_INUSE, U64F(heap_inuse_bytes), CONV_U64, CONV_U64},
    {"HeapReleased", "HeapReleased", "go_memstats_heap_released_bytes", GSM_GO_HEAP_RELEASED, U64F(heap_released_bytes), CONV_U64, CONV_U64},
    {"HeapObjects", "HeapObjects", "go_memstats_heap_objects", GSM_GO_HEAP_OBJECTS, U64F(heap_objects), CONV_U64, CONV_U64},
    {NULL, "StackInuse", "go_memstats_stack_inuse_bytes", GSM_GO_STACK_INUSE, U64F(stack_inuse_bytes), CONV_U64, CONV_U64},
    {NULL, "StackSys", "go_memstats_stack_sys_bytes", GSM_GO_STACK_SYS, U64F(stack_sys_bytes), CONV_U64, CONV_U64},
    {NULL, "MSpanInuse", "go_memstats_mspan_inuse_bytes", GSM_GO_MSPAN_INUSE, U64F(mspan_inuse_bytes), CONV_U64, CONV_U64},
    {NULL, "MSpanSys", "go_memstats_mspan_sys_bytes", GSM_GO_MSPAN_SYS, U64F(mspan_sys_bytes), CONV_U64, CONV_U64},
    {NULL, "MCacheInuse", "go_memstats_mcache_inuse_bytes", GSM_GO_MCACHE_INUSE, U64F(mcache_inuse_bytes), CONV_U64, CONV_U64},
    {NULL, "MCacheSys", "go_memstats_mcache_sys_bytes", GSM_GO_MCACHE_SYS, U64F(mcache_sys_bytes), CONV_U64, CONV_U64},
    {"BuckHashSys", "BuckHashSys", "go_memstats_buck_hash_sys_bytes", GSM_GO_BUCK_HASH_SYS, U64F(buck_hash_sys_bytes), CONV_U64, CONV_U64},
    {"GCSys", "GCSys", "go_memstats_gc_sys_bytes", GSM_GO_GC_SYS, U64F(gc_sys_bytes), CONV_U64, CONV_U64},
    {"OtherSys", "OtherSys", "go_memstats_other_sys_bytes", GSM_GO_OTHER_SYS, U64F(other_sys_bytes), CONV_U64, CONV_U64},
    {"NextGC", "NextGC", "go_memstats_next_gc_bytes", GSM_GO_NEXT_GC, U64F(next_gc_bytes), CONV_U64, CONV_U64},
    {"LastGC", "LastGC", "go_memstats_last_gc_time_seconds", GSM_GO_LAST_GC, U64F(last_gc_ms), CONV_NS_TO_MS, CONV_S_TO_MS},
    {NULL, "PauseTotalNs", "go_gc_duration_seconds_sum", GSM_GO_PAUSE_TOTAL, U64F(pause_total_ns), CONV_U64, CONV_S_TO_NS},
    {"NumGC", "NumGC", "go_gc_duration_seconds_count", GSM_GO_NUM_GC, U64F(num_gc), CONV_U64, CONV_U64},
    {"GCCPUFraction", "GCCPUFraction", "go_memstats_gc_cpu_fraction", GSM_GO_GC_CPU_FRACTION, U64F(gc_cpu_fraction), CONV_DOUBLE, CONV_DOUBLE},
    {"Sys", "Sys", "go_memstats_sys_bytes", GSM_GO_SYS, U64F(sys_bytes), CONV_U64, CONV_U64},
    {"MaxRSS", NULL, NULL, GSM_GO_MAX_RSS, U64F(max_rss_bytes), CONV_U64, CONV_U64},
    {NULL, NULL, "go_goroutines", GSM_GO_GOROUTINES, U64F(goroutines), CONV_U64, CONV_U64},
    {NULL, NULL, "go_gc_gomemlimit_bytes", GSM_GO_GOMEMLIMIT, U64F(gomemlimit_bytes), CONV_U64, CONV_U64},
};

static void store_u64(struct gsm_go_stats *s, const struct field_def *d, uint64_t v) {
    memcpy((char *)s + d->off, &v, sizeof v);
    gsm_go_stats_set(s, d->f);
}
static void store_double(struct gsm_go_stats *s, const struct field_def *d, double v) {
    memcpy((char *)s + d->off, &v, sizeof v);
    gsm_go_stats_set(s, d->f);
}

/* The fields every source must deliver for the arena split to make sense. */
static const enum gsm_go_field required[] = {
    GSM_GO_HEAP_SYS, GSM_GO_HEAP_IDLE, GSM_GO_HEAP_INUSE, GSM_GO_HEAP_RELEASED, GSM_GO_STACK_INUSE,
};

static int check_required(const struct gsm_go_stats *s, char *errbuf, size_t errlen) {
    for (size_t i = 0; i < ELEMENTSOF(required); i++)
        if (!gsm_go_stats_has(s, required[i])) {
            for (size_t j = 0; j < ELEMENTSOF(fields); j++)
                if (fields[j].f == required[i])
                    gsm_seterr(errbuf, errlen, "missing %s", fields[j].expvar);
            return -EBADMSG;
        }
    return 0;
}

/* Turn the PauseNs ring (index (NumGC+255)%256 is the newest) into newest-first order. Also
 * derives PauseTotalNs when the ring still holds every pause (NumGC <= 256) and none is given. */
static void unroll_pause_ring(struct gsm_go_stats *s, const uint64_t ring[GSM_GO_PAUSE_RING]) {
    if (!gsm_go_stats_has(s, GSM_GO_NUM_GC))
        return;
    size_t n = s->num_gc < GSM_GO_PAUSE_RING ? (size_t)s->num_gc : GSM_GO_PAUSE_RING;
    uint64_t sum = 0;
    bool overflow = false;
    for (size_t i = 0; i < n; i++) {
        size_t idx = (size_t)((s->num_gc + GSM_GO_PAUSE_RING - 1 - i) % GSM_GO_PAUSE_RING);
        s->pause_ns_recent[i] = ring[idx];
        if (sum + ring[idx] < sum)
            overflow = true;
        sum += ring[idx];
    }
    s->pause_recent_count = n;
    gsm_go_stats_set(s, GSM_GO_PAUSE_RECENT);
    if (!gsm_go_stats_has(s, GSM_GO_PAUSE_TOTAL) && s->num_gc <= GSM_GO_PAUSE_RING && !overflow) {
        s->pause_total_ns = sum;
        gsm_go_stats_set(s, GSM_GO_PAUSE_TOTAL);
    }
}

/* ---- bounded number scanning over [p, end) (the buffers are not NUL-terminated) ---- */

static void skip_blanks(const char **p, const char *end) {
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
}

static int span_u64(const char **p, const char *end, uint64_t *ret) {
    const char *s = *p;
    if (s >= end || *s < '0' || *s > '9')
        return -EINVAL;
    uint64_t v = 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *p = s;
    *ret = v;
    return 0;
}

/* A float token of at most 63 chars: digits, '.', 'e', sign, or NaN / [+-]Inf. strtod is used
 * on a bounded, NUL-terminated copy; hex floats and "infinity" spellings are refused. */
static int span_double(const char **p, const char *end, double *ret) {
    const char *s = *p, *e = s;
    while (e < end && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r')
        e++;
    size_t n = (size_t)(e - s);
    char tok[64];
    if (n == 0 || n >= sizeof tok)
        return -EINVAL;
    memcpy(tok, s, n);
    tok[n] = '\0';
    double v;
    if (strcmp(tok, "NaN") == 0)
        v = NAN;
    else if (strcmp(tok, "+Inf") == 0 || strcmp(tok, "Inf") == 0)
        v = INFINITY;
    else if (strcmp(tok, "-Inf") == 0)
        v = -INFINITY;
    else {
        if (strspn(tok, "0123456789.eE+-") != n || !strpbrk(tok, "0123456789"))
            return -EINVAL;
        char *q;
        errno = 0;
        v = strtod(tok, &q);
        if (*q != '\0')
            return -EINVAL;
        if (errno == ERANGE && isinf(v))
            return -ERANGE;
    }
    *p = e;
    *ret = v;
    return 0;
}

/* ---- (a) the "# runtime.MemStats" block of /debug/pprof/heap?debug=1 ---- */

static const char *memmem_line(const char *buf, size_t len, const char *needle) {
    /* the block header on a line of its own */
    size_t nl = strlen(needle);
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), needle, nl);
        if (!hit)
            return NULL;
        bool bol = hit == buf || hit[-1] == '\n';
        bool eol = hit + nl == end || hit[nl] == '\n' || hit[nl] == '\r';
        if (bol && eol)
            return hit;
        p = hit + 1;
    }
    return NULL;
}

int gsm_go_parse_pprof_memstats(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen) {
    const char *hdr = memmem_line(buf, len, "# runtime.MemStats");
    if (!hdr) {
        gsm_seterr(errbuf, errlen, "no \"# runtime.MemStats\" block");
        return -EBADMSG;
    }
    struct gsm_go_stats s = {0};
    uint64_t ring[GSM_GO_PAUSE_RING] = {0};
    bool have_ring = false;
    const char *end = buf + len, *p = hdr;
    p = memchr(p, '\n', (size_t)(end - p));
    p = p ? p + 1 : end;
    size_t lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *line = p;
        p = nl ? nl + 1 : end;
        lineno++;
        if (le > line && le[-1] == '\r')
            le--;
        if (le - line < 2 || line[0] != '#' || line[1] != ' ')
            break;                    /* the block ends at the first line that is not "# ..." */
        const char *k = line + 2;
        const char *eq = memmem(k, (size_t)(le - k), " = ", 3);
        if (!eq)
            continue;                 /* a comment we do not know; the format may grow */
        size_t kl = (size_t)(eq - k);
        const char *v = eq + 3;

        if (kl == 7 && memcmp(k, "PauseNs", 7) == 0) {
            /* "[1 2 3 ...]": fmt's %d of a [256]uint64 */
            if (v >= le || *v != '[') {
                gsm_seterr(errbuf, errlen, "PauseNs: expected '['");
                return -EBADMSG;
            }
            v++;
            size_t n = 0;
            for (;;) {
                skip_blanks(&v, le);
                if (v < le && *v == ']')
                    break;
                uint64_t x;
                int r = span_u64(&v, le, &x);
                if (r < 0 || n >= GSM_GO_PAUSE_RING) {
                    gsm_seterr(errbuf, errlen, "PauseNs: %s", r == -ERANGE ? "number out of range"
                                                       : r < 0 ? "bad array" : "more than 256 entries");
                    return -EBADMSG;
                }
                ring[n++] = x;
            }
            if (n != GSM_GO_PAUSE_RING) {
                gsm_seterr(errbuf, errlen, "PauseNs: %zu entries, want 256", n);
                return -EBADMSG;
            }
            have_ring = true;
            continue;
        }
        /* "Stack = inuse / sys", same for MSpan, MCache */
        static const struct { const char *key; enum gsm_go_field fi, fs; size_t oi, os; } pairs[] = {
            {"Stack", GSM_GO_STACK_INUSE, GSM_GO_STACK_SYS, U64F(stack_inuse_bytes), U64F(stack_sys_bytes)},
            {"MSpan", GSM_GO_MSPAN_INUSE, GSM_GO_MSPAN_SYS, U64F(mspan_inuse_bytes), U64F(mspan_sys_bytes)},
            {"MCache", GSM_GO_MCACHE_INUSE, GSM_GO_MCACHE_SYS, U64F(mcache_inuse_bytes), U64F(mcache_sys_bytes)},
        };
        bool done = false;
        for (size_t i = 0; i < ELEMENTSOF(pairs) && !done; i++) {
            if (kl != strlen(pairs[i].key) || memcmp(k, pairs[i].key, kl) != 0)
                continue;
            uint64_t a, b;
            const char *q = v;
            if (span_u64(&q, le, &a) < 0 || le - q < 3 || memcmp(q, " / ", 3) != 0 ||
                (q += 3, span_u64(&q, le, &b) < 0) || q != le) {
                gsm_seterr(errbuf, errlen, "line %zu: %s: expected \"N / N\"", lineno, pairs[i].key);
                return -EBADMSG;
            }
            memcpy((char *)&s + pairs[i].oi, &a, sizeof a);
            memcpy((char *)&s + pairs[i].os, &b, sizeof b);
            gsm_go_stats_set(&s, pairs[i].fi);
            gsm_go_stats_set(&s, pairs[i].fs);
            done = true;
        }
        for (size_t i = 0; i < ELEMENTSOF(fields) && !done; i++) {
            const struct field_def *d = &fields[i];
            if (!d->pprof || kl != strlen(d->pprof) || memcmp(k, d->pprof, kl) != 0)
                continue;
            done = true;
            const char *q = v;
            if (d->conv == CONV_DOUBLE) {
                double x;
                if (span_double(&q, le, &x) < 0 || q != le || !isfinite(x) || x < 0 || x > 1) {
                    gsm_seterr(errbuf, errlen, "line %zu: %s: bad fraction", lineno, d->pprof);
                    return -EBADMSG;
                }
                store_double(&s, d, x);
            } else {
                uint64_t x;
                int r = span_u64(&q, le, &x);
                if (r < 0 || q != le) {
                    gsm_seterr(errbuf, errlen, "line %zu: %s: %s", lineno, d->pprof,
                           r == -ERANGE ? "number out of range" : "bad number");
                    return -EBADMSG;
                }
                store_u64(&s, d, d->conv == CONV_NS_TO_MS ? x / 1000000 : x);
            }
        }
    }
    int r = check_required(&s, errbuf, errlen);
    if (r < 0)
        return r;
    if (have_ring)
        unroll_pause_ring(&s, ring);
    snprintf(s.source, sizeof s.source, "pprof-heap-debug1");
    *ret = s;
    return 0;
}

/* ---- (b) expvar /debug/vars ---- */

static void json_putp(struct json_object **o) {
    if (*o)
        json_object_put(*o);
}

/* A JSON integer in [0, UINT64_MAX]. json-c keeps integers as int64 or uint64; anything else
 * (a double, a string, a bool) is the wrong type for a MemStats uint64. */
static int json_u64(struct json_object *v, uint64_t *ret) {
    if (!json_object_is_type(v, json_type_int))
        return -EINVAL;
    errno = 0;
    int64_t i = json_object_get_int64(v);
    if (i < 0)
        return -ERANGE;
    if (i == INT64_MAX) {            /* may be a uint64 above INT64_MAX, or clamped overflow */
        errno = 0;
        uint64_t u = json_object_get_uint64(v);
        if (errno != 0 || u == UINT64_MAX)
            return -ERANGE;
        *ret = u;
        return 0;
    }
    *ret = (uint64_t)i;
    return 0;
}

int gsm_go_parse_expvar(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen) {
    if (len > INT32_MAX) {
        gsm_seterr(errbuf, errlen, "body too large for JSON parser");
        return -EBADMSG;
    }
    /* Depth 32: expvar nests little; a hostile "[[[[..." stops early instead of recursing. */
    struct json_tokener *tok = json_tokener_new_ex(32);
    if (!tok)
        return -ENOMEM;
    _cleanup_(json_putp) struct json_object *root = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        gsm_seterr(errbuf, errlen, "not JSON: %s", json_tokener_error_desc(jerr == json_tokener_success ? json_tokener_continue : jerr));
        return -EBADMSG;
    }
    for (; used < len; used++)       /* only whitespace may follow the document */
        if (buf[used] != ' ' && buf[used] != '\n' && buf[used] != '\r' && buf[used] != '\t') {
            gsm_seterr(errbuf, errlen, "trailing data after JSON");
            return -EBADMSG;
        }
    struct json_object *ms;
    if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "memstats", &ms) ||
        !json_object_is_type(ms, json_type_object)) {
        gsm_seterr(errbuf, errlen, "no \"memstats\" object");
        return -EBADMSG;
    }
    struct gsm_go_stats s = {0};
    for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
        const struct field_def *d = &fields[i];
        struct json_object *v;
        if (!d->expvar || !json_object_object_get_ex(ms, d->expvar, &v))
            continue;
        if (d->conv == CONV_DOUBLE) {
            if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
                gsm_seterr(errbuf, errlen, "%s: not a number", d->expvar);
                return -EBADMSG;
            }
            double x = json_object_get_double(v);
            if (!isfinite(x) || x < 0 || x > 1) {
                gsm_seterr(errbuf, errlen, "%s: out of range", d->expvar);
                return -EBADMSG;
            }
            store_double(&s, d, x);
            continue;
        }
        uint64_t x;
        int r = json_u64(v, &x);
        if (r < 0) {
            gsm_seterr(errbuf, errlen, "%s: %s", d->expvar, r == -ERANGE ? "out of range" : "not an integer");
            return -EBADMSG;
        }
        store_u64(&s, d, d->conv == CONV_NS_TO_MS ? x / 1000000 : x);
    }
    int r = check_required(&s, errbuf, errlen);
    if (r < 0)
        return r;
    struct json_object *pause;
    if (json_object_object_get_ex(ms, "PauseNs", &pause)) {
        if (!json_object_is_type(pause, json_type_array) || json_object_array_length(pause) != GSM_GO_PAUSE_RING) {
            gsm_seterr(errbuf, errlen, "PauseNs: not a 256-entry array");
            return -EBADMSG;
        }
        uint64_t ring[GSM_GO_PAUSE_RING];
        for (size_t i = 0; i < GSM_GO_PAUSE_RING; i++)
            if (json_u64(json_object_array_get_idx(pause, i), &ring[i]) < 0) {
                gsm_seterr(errbuf, errlen, "PauseNs[%zu]: not an integer", i);
                return -EBADMSG;
            }
        unroll_pause_ring(&s, ring);
    }
    snprintf(s.source, sizeof s.source, "expvar");
    *ret = s;
    return 0;
}

/* ---- (c) Prometheus text exposition format 0.0.4 ----
 *   # HELP go_memstats_heap_alloc_bytes Number of heap bytes allocated and still in use.
 *   # TYPE go_memstats_heap_alloc_bytes gauge
 *   go_memstats_heap_alloc_bytes 3.3838352e+07
 *   go_gc_duration_seconds{quantile="0.75"} 4.1e-05
 *   metric{a="x \" \\ \n",b="y",} NaN 1700000000000
 */

static bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

struct prom_sample {
    const char *name;
    size_t name_len;
    char quantile[32];       /* value of a quantile="..." label, unescaped; "" if none */
    size_t n_labels;
    double value;
};

/* Parse one sample line [p, le). Returns 0 or -EINVAL with *why set. */
static int prom_parse_sample(const char *p, const char *le, struct prom_sample *ret, const char **why) {
    struct prom_sample smp = {0};
    if (p >= le || !name_start(*p)) {
        *why = "bad metric name";
        return -EINVAL;
    }
    smp.name = p;
    while (p < le && name_char(*p))
        p++;
    smp.name_len = (size_t)(p - smp.name);
    const char *after_name = p;
    skip_blanks(&p, le);
    if (p < le && *p == '{') {
        p++;
        for (;;) {
            skip_blanks(&p, le);
            if (p < le && *p == '}') {
                p++;
                break;
            }
            if (p >= le || (!name_start(*p) || *p == ':')) {
                *why = "bad label name";
                return -EINVAL;
            }
            const char *ln = p;
            while (p < le && name_char(*p) && *p != ':')
                p++;
            size_t lnl = (size_t)(p - ln);
            skip_blanks(&p, le);
            if (p >= le || *p != '=') {
                *why = "expected '=' after label name";
                return -EINVAL;
            }
            p++;
            skip_blanks(&p, le);
            if (p >= le || *p != '"') {
                *why = "expected '\"' to open label value";
                return -EINVAL;
            }
            p++;
            bool is_q = lnl == 8 && memcmp(ln, "quantile", 8) == 0;
            size_t qn = 0;
            bool closed = false;
            while (p < le) {
                char c = *p++;
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\') {
                    if (p >= le) {
                        break;
                    }
                    char e = *p++;
                    if (e == 'n')
                        c = '\n';
                    else if (e == '\\' || e == '"')
                        c = e;
                    else {
                        *why = "bad escape in label value";
                        return -EINVAL;
                    }
                }
                if (is_q && qn + 1 < sizeof smp.quantile)
                    smp.quantile[qn++] = c;
            }
            if (!closed) {
                *why = "unterminated label value";
                return -EINVAL;
            }
            if (is_q)
                smp.quantile[qn] = '\0';
            smp.n_labels++;
            skip_blanks(&p, le);
            if (p < le && *p == ',') {
                p++;
                continue;
            }
            if (p < le && *p == '}') {
                p++;
                break;
            }
            *why = "expected ',' or '}' after label";
            return -EINVAL;
        }
    }
    if (p == after_name) {
        if (p >= le || (*p != ' ' && *p != '\t')) {
            *why = "expected blank before value";
            return -EINVAL;
        }
    } else if (p < le && *p != ' ' && *p != '\t' && p[-1] == '}') {
        *why = "expected blank before value";
        return -EINVAL;
    }
    skip_blanks(&p, le);
    if (span_double(&p, le, &smp.value) < 0) {
        *why = "bad value";
        return -EINVAL;
    }
    skip_blanks(&p, le);
    if (p < le) {                      /* optional timestamp: an int64 of ms */
        if (*p == '-')
            p++;
        uint64_t ts;
        if (span_u64(&p, le, &ts) < 0) {
            *why = "bad timestamp";
            return -EINVAL;
        }
        skip_blanks(&p, le);
        if (p < le) {
            *why = "trailing characters";
            return -EINVAL;
        }
    }
    *ret = smp;
    return 0;
}

static bool name_is(const struct prom_sample *s, const char *name) {
    return s->name_len == strlen(name) && memcmp(s->name, name, s->name_len) == 0;
}

/* A finite non-negative float to an integer, saturating at INT64_MAX: the unlimited
 * go_gc_gomemlimit_bytes is printed as 9.223372036854776e+18, which is 2^63. -ENODATA for NaN,
 * -ERANGE for negative, infinite or >= 2^64. */
static int prom_to_u64(double v, double scale, uint64_t *ret) {
    if (isnan(v))
        return -ENODATA;
    if (v < 0 || isinf(v))
        return -ERANGE;
    double x = v * scale;
    if (x >= 18446744073709551616.0)  /* 2^64: no MemStats value is that large */
        return -ERANGE;
    if (x >= 9223372036854775807.0)
        *ret = INT64_MAX;
    else
        *ret = (uint64_t)llround(x);
    return 0;
}

int gsm_go_parse_prometheus(const char *buf, size_t len, struct gsm_go_stats *ret, char *errbuf, size_t errlen) {
    struct gsm_go_stats s = {0};
    const char *p = buf, *end = buf + len;
    size_t lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *line = p;
        p = nl ? nl + 1 : end;
        lineno++;
        if (le > line && le[-1] == '\r')
            le--;
        const char *q = line;
        skip_blanks(&q, le);
        if (q == le || *q == '#')
            continue;                  /* blank line, HELP, TYPE or a comment */
        if (memchr(q, '\0', (size_t)(le - q))) {
            gsm_seterr(errbuf, errlen, "line %zu: NUL byte", lineno);
            return -EBADMSG;
        }
        struct prom_sample smp;
        const char *why = "?";
        if (prom_parse_sample(q, le, &smp, &why) < 0) {
            gsm_seterr(errbuf, errlen, "line %zu: %s", lineno, why);
            return -EBADMSG;
        }
        if (smp.name_len < 3 || memcmp(smp.name, "go_", 3) != 0)
            continue;
        if (name_is(&smp, "go_gc_duration_seconds")) {
            if (strcmp(smp.quantile, "1") != 0 || gsm_go_stats_has(&s, GSM_GO_PAUSE_MAX_RECENT))
                continue;
            uint64_t x;
            int r = prom_to_u64(smp.value, 1e9, &x);
            if (r == -ENODATA)
                continue;              /* NaN: no GC yet */
            if (r < 0) {
                gsm_seterr(errbuf, errlen, "line %zu: go_gc_duration_seconds: bad value", lineno);
                return -EBADMSG;
            }
            s.pause_max_recent_ns = x;
            gsm_go_stats_set(&s, GSM_GO_PAUSE_MAX_RECENT);
            continue;
        }
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
            const struct field_def *d = &fields[i];
            if (!d->prom || !name_is(&smp, d->prom))
                continue;
            if (gsm_go_stats_has(&s, d->f))
                break;                 /* first series wins */
            if (d->prom_conv == CONV_DOUBLE) {
                if (isnan(smp.value))
                    break;
                if (!isfinite(smp.value) || smp.value < 0 || smp.value > 1) {
                    gsm_seterr(errbuf, errlen, "line %zu: %s: out of range", lineno, d->prom);
                    return -EBADMSG;
                }
                store_double(&s, d, smp.value);
                break;
            }
            double scale = d->prom_conv == CONV_S_TO_MS ? 1e3 : d->prom_conv == CONV_S_TO_NS ? 1e9 : 1;
            uint64_t x;
            int r = prom_to_u64(smp.value, scale, &x);
            if (r == -ENODATA)
                break;
            if (r < 0) {
                gsm_seterr(errbuf, errlen, "line %zu: %s: negative or infinite", lineno, d->prom);
                return -EBADMSG;
            }
            store_u64(&s, d, x);
            break;
        }
    }
    int r = check_required(&s, errbuf, errlen);
    if (r < 0)
        return r;
    snprintf(s.source, sizeof s.source, "prometheus");
    *ret = s;
    return 0;
}
