#include "readers/go_http.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <arpa/inet.h>
#include "readers/curl_dl.h"
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

__attribute__((format(printf, 3, 4)))
static int seterr(char *errbuf, size_t errlen, const char *fmt, ...) {
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static uint64_t now_ms(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
                    seterr(errbuf, errlen, "missing %s", fields[j].expvar);
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
        seterr(errbuf, errlen, "no \"# runtime.MemStats\" block");
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
                seterr(errbuf, errlen, "PauseNs: expected '['");
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
                    seterr(errbuf, errlen, "PauseNs: %s", r == -ERANGE ? "number out of range"
                                                       : r < 0 ? "bad array" : "more than 256 entries");
                    return -EBADMSG;
                }
                ring[n++] = x;
            }
            if (n != GSM_GO_PAUSE_RING) {
                seterr(errbuf, errlen, "PauseNs: %zu entries, want 256", n);
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
                seterr(errbuf, errlen, "line %zu: %s: expected \"N / N\"", lineno, pairs[i].key);
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
                    seterr(errbuf, errlen, "line %zu: %s: bad fraction", lineno, d->pprof);
                    return -EBADMSG;
                }
                store_double(&s, d, x);
            } else {
                uint64_t x;
                int r = span_u64(&q, le, &x);
                if (r < 0 || q != le) {
                    seterr(errbuf, errlen, "line %zu: %s: %s", lineno, d->pprof,
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
        seterr(errbuf, errlen, "body too large for JSON parser");
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
        seterr(errbuf, errlen, "not JSON: %s", json_tokener_error_desc(jerr == json_tokener_success ? json_tokener_continue : jerr));
        return -EBADMSG;
    }
    for (; used < len; used++)       /* only whitespace may follow the document */
        if (buf[used] != ' ' && buf[used] != '\n' && buf[used] != '\r' && buf[used] != '\t') {
            seterr(errbuf, errlen, "trailing data after JSON");
            return -EBADMSG;
        }
    struct json_object *ms;
    if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "memstats", &ms) ||
        !json_object_is_type(ms, json_type_object)) {
        seterr(errbuf, errlen, "no \"memstats\" object");
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
                seterr(errbuf, errlen, "%s: not a number", d->expvar);
                return -EBADMSG;
            }
            double x = json_object_get_double(v);
            if (!isfinite(x) || x < 0 || x > 1) {
                seterr(errbuf, errlen, "%s: out of range", d->expvar);
                return -EBADMSG;
            }
            store_double(&s, d, x);
            continue;
        }
        uint64_t x;
        int r = json_u64(v, &x);
        if (r < 0) {
            seterr(errbuf, errlen, "%s: %s", d->expvar, r == -ERANGE ? "out of range" : "not an integer");
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
            seterr(errbuf, errlen, "PauseNs: not a 256-entry array");
            return -EBADMSG;
        }
        uint64_t ring[GSM_GO_PAUSE_RING];
        for (size_t i = 0; i < GSM_GO_PAUSE_RING; i++)
            if (json_u64(json_object_array_get_idx(pause, i), &ring[i]) < 0) {
                seterr(errbuf, errlen, "PauseNs[%zu]: not an integer", i);
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
            seterr(errbuf, errlen, "line %zu: NUL byte", lineno);
            return -EBADMSG;
        }
        struct prom_sample smp;
        const char *why = "?";
        if (prom_parse_sample(q, le, &smp, &why) < 0) {
            seterr(errbuf, errlen, "line %zu: %s", lineno, why);
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
                seterr(errbuf, errlen, "line %zu: go_gc_duration_seconds: bad value", lineno);
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
                    seterr(errbuf, errlen, "line %zu: %s: out of range", lineno, d->prom);
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
                seterr(errbuf, errlen, "line %zu: %s: negative or infinite", lineno, d->prom);
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

/* ---- HTTP through libcurl ---- */


static bool addr_is_loopback(int family, const void *addr) {
    if (family == AF_INET) {
        const unsigned char *b = addr;
        return b[0] == 127;
    }
    if (family == AF_INET6) {
        const struct in6_addr *a = addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

static void curlu_freep(CURLU **u) {
    if (*u)
        curl_url_cleanup(*u);
}
static void curl_freep(char **p) {
    if (*p)
        curl_free(*p);
}

int gsm_http_url_is_loopback(const char *url) {
    if (!gsm_curl_load())
        return -ENOSYS;   /* libcurl's URL parser is what decides; without it, refuse */
    _cleanup_(curlu_freep) CURLU *u = curl_url();
    if (!u)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        return -EINVAL;
    _cleanup_(curl_freep) char *scheme = NULL;
    _cleanup_(curl_freep) char *host = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0))
        return -EINVAL;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host)
        return -EINVAL;
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    unsigned char a[16];
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        char h6[64];
        if (hl - 2 >= sizeof h6)
            return 0;
        memcpy(h6, host + 1, hl - 2);
        h6[hl - 2] = '\0';
        char *zone = strchr(h6, '%');
        if (zone)
            *zone = '\0';
        return inet_pton(AF_INET6, h6, a) == 1 && addr_is_loopback(AF_INET6, a);
    }
    return inet_pton(AF_INET, host, a) == 1 && addr_is_loopback(AF_INET, a);
}

struct xfer {
    char *buf;
    size_t len, cap, max;
    bool too_big;
    bool refused_addr;
    bool allow_non_loopback;
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
    struct xfer *x = userdata;
    size_t n = size * nmemb;          /* curl guarantees size == 1 */
    if (n > x->max - x->len) {
        x->too_big = true;
        return 0;                     /* != n: curl aborts with CURLE_WRITE_ERROR */
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 64 * 1024;
        while (cap < x->len + n + 1)
            cap *= 2;
        if (cap > x->max + 1)
            cap = x->max + 1;
        char *nb = realloc(x->buf, cap);
        if (!nb)
            return 0;
        x->buf = nb;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return n;
}

/* Defence in depth behind the URL check: the address curl is about to connect to. */
static curl_socket_t on_opensocket(void *userdata, curlsocktype purpose, struct curl_sockaddr *a) {
    struct xfer *x = userdata;
    (void)purpose;
    if (!x->allow_non_loopback) {
        const void *ip = NULL;
        if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in))
            ip = &((const struct sockaddr_in *)(const void *)&a->addr)->sin_addr;
        else if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6))
            ip = &((const struct sockaddr_in6 *)(const void *)&a->addr)->sin6_addr;
        if (!ip || !addr_is_loopback(a->family, ip)) {
            x->refused_addr = true;
            return CURL_SOCKET_BAD;
        }
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void curl_easy_freep(CURL **c) {
    if (*c)
        curl_easy_cleanup(*c);
}

static int http_get(const char *url, const struct gsm_http_opts *o, const char *accept, char **ret_body,
                    size_t *ret_len, char *errbuf, size_t errlen) {
    if (!gsm_curl_load()) {
        seterr(errbuf, errlen, "libcurl (libcurl.so.4) could not be loaded");
        return -ENOSYS;
    }

    int lb = gsm_http_url_is_loopback(url);
    if (lb < 0) {
        seterr(errbuf, errlen, "%s: not an http(s) URL", url);
        return lb == -ENOMEM ? -ENOMEM : -EINVAL;
    }
    if (lb == 0 && !o->allow_non_loopback) {
        seterr(errbuf, errlen, "%s: refusing a non-loopback host", url);
        return -EPERM;
    }

    _cleanup_(curl_easy_freep) CURL *c = curl_easy_init();
    if (!c)
        return -ENOMEM;
    struct xfer x = {.max = o->max_body_bytes, .allow_non_loopback = o->allow_non_loopback};
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    if (accept)
        hdrs = curl_slist_append(hdrs, accept);

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);              /* threads: no SIGALRM for DNS */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");                  /* ignore http_proxy & co */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->total_timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body_bytes); /* by Content-Length */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "gsmapper/" GSM_VERSION);
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (o->accept_gzip) {
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
        curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 1L);
    } else {
        /* No Accept-Encoding; a body gzipped anyway stays compressed and fails to parse. */
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
        curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    }

    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    _cleanup_free_ char *body = x.buf;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        int r;
        if (x.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            seterr(errbuf, errlen, "%s: body larger than %zu bytes", url, o->max_body_bytes);
            r = -EFBIG;
        } else if (x.refused_addr) {
            seterr(errbuf, errlen, "%s: refusing a non-loopback address", url);
            r = -EPERM;
        } else if (cc == CURLE_OPERATION_TIMEDOUT) {
            seterr(errbuf, errlen, "%s: timed out: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
            r = -ETIMEDOUT;
        } else if (cc == CURLE_COULDNT_CONNECT) {
            seterr(errbuf, errlen, "%s: connection refused", url);
            r = -ECONNREFUSED;
        } else if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL) {
            seterr(errbuf, errlen, "%s: %s", url, curl_easy_strerror(cc));
            r = -EINVAL;
        } else if (cc == CURLE_OUT_OF_MEMORY) {
            r = -ENOMEM;
        } else {
            seterr(errbuf, errlen, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
            r = -EPROTO;
        }
        gsm_debug("GET %s: curl %d: %s", url, (int)cc, cerr);
        return r;
    }
    if (status != 200) {
        seterr(errbuf, errlen, "%s: HTTP %ld%s", url, status,
               status >= 300 && status < 400 ? " (redirects are not followed)" : "");
        return -EPROTO;
    }
    if (!body) {                      /* empty body: hand out an empty string */
        body = strdup("");
        if (!body)
            return -ENOMEM;
    }
    *ret_len = x.len;
    *ret_body = TAKE_PTR(body);
    return 0;
}

static struct gsm_http_opts opts_or_defaults(const struct gsm_http_opts *opts) {
    struct gsm_http_opts o = opts ? *opts : (struct gsm_http_opts){0};
    if (!o.connect_timeout_ms)
        o.connect_timeout_ms = GSM_HTTP_CONNECT_TIMEOUT_MS_DEFAULT;
    if (!o.total_timeout_ms)
        o.total_timeout_ms = GSM_HTTP_TOTAL_TIMEOUT_MS_DEFAULT;
    if (!o.max_body_bytes)
        o.max_body_bytes = GSM_HTTP_MAX_BODY_DEFAULT;
    return o;
}

int gsm_http_get(const char *url, const struct gsm_http_opts *opts, char **ret_body, size_t *ret_len,
                 char *errbuf, size_t errlen) {
    struct gsm_http_opts o = opts_or_defaults(opts);
    return http_get(url, &o, NULL, ret_body, ret_len, errbuf, errlen);
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

int gsm_go_stats_fetch(const char *base_url, const struct gsm_http_opts *opts, struct gsm_go_stats *ret,
                       char *errbuf, size_t errlen) {
    struct gsm_http_opts o = opts_or_defaults(opts);
    size_t bl = strlen(base_url);
    if (bl == 0 || bl > 200) {
        seterr(errbuf, errlen, "bad endpoint URL");
        return -EINVAL;
    }
    /* An URL that names one endpoint is used alone; otherwise it is the base of all three. */
    size_t first = 0, last = ELEMENTSOF(sources);
    char base[256];
    memcpy(base, base_url, bl + 1);
    for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
        if (ends_with(base, bl, sources[i].path)) {
            first = i, last = i + 1;
            bl -= strlen(sources[i].path);
            break;
        }
    }
    if (first == 0 && last == ELEMENTSOF(sources)) {
        if (ends_with(base, bl, "/debug/pprof/"))
            bl -= STRLEN("/debug/pprof/");
        else if (ends_with(base, bl, "/debug/pprof"))
            bl -= STRLEN("/debug/pprof");
    }
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    base[bl] = '\0';

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
        int r = http_get(url, &oi, sources[i].accept, &body, &len, msg, sizeof msg);
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
    seterr(errbuf, errlen, "%s", first_msg);
    return first_err ? first_err : -EPROTO;
}
