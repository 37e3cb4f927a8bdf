/* analyses/advise on synthetic histories: steady, spiky, with OOM kills (the bump converges
 * when applied, never compounds, stops on a leak), short history -> low confidence, GOMEMLIMIT
 * arithmetic. Expected values are computed here from the rules in docs/advise.md. */
#include "analyses/advise.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024ULL * 1024)
#define T0 1800000000000ULL          /* a fixed Unix ms */

/* n minute rows from T0, working set peaks from f(i). */
static struct gsm_hist_target synth(size_t n, uint64_t (*f)(size_t i)) {
    struct gsm_hist_target t = {0};
    t.rows = calloc(n, sizeof *t.rows);
    t.n_rows = n;
    for (size_t i = 0; i < n; i++) {
        struct gsm_hist_row *r = &t.rows[i];
        r->t_ms = T0 + i * 60000;
        r->res_s = 60;
        r->n = 30;
        uint64_t v = f(i);
        r->s[GSM_HS_WS] = (struct gsm_hist_stat){v, v, v};
        r->s[GSM_HS_USAGE] = (struct gsm_hist_stat){v + 10 * MIB, v, v};
        r->s[GSM_HS_UNRECL] = (struct gsm_hist_stat){v - MIB, v, v};
        r->limit_bytes = 1024 * MIB;
        r->anon_bytes = v - 8 * MIB;
        r->file_bytes = 8 * MIB;
    }
    return t;
}

static uint64_t steady(size_t i) { return 400 * MIB + (i % 7) * MIB; }
static uint64_t spiky(size_t i) { return i % 100 == 50 ? 800 * MIB : 300 * MIB; }

TEST(advise_steady) {
    struct gsm_hist_target t = synth(8 * 24 * 60, steady);   /* 8 days */
    struct gsm_advise_opts o;
    gsm_advise_opts_default(&o);
    struct gsm_advice a;
    CHECK(gsm_advise(&t, &o, &a) == 0);
    CHECK(a.series == GSM_HS_WS);
    CHECK(a.peak_bytes == 406 * MIB);
    /* limit = max(p99, peak) × 1.15 = 406 MiB × 1.15; request = p90 × 1.15 with p90 in 404..406 */
    CHECK(a.limit_bytes == (uint64_t)(406.0 * MIB * 1.15));
    CHECK(a.request_bytes >= (uint64_t)(404.0 * MIB * 1.15) && a.request_bytes <= a.limit_bytes);
    CHECK(a.limit_bytes > a.peak_bytes && a.limit_bytes < 2 * a.p99_bytes);
    CHECK(a.confidence_level == GSM_CONF_HIGH && a.confidence > 0.99);
    CHECK(strcmp(a.peak_class, "anon") == 0);
    CHECK(!a.have_go && a.oom_kills == 0 && !a.bump_applied);
    gsm_hist_target_free(&t);
}

TEST(advise_spiky) {
    /* a 800 MiB spike every 100 minutes over a 300 MiB base, 2 days: 1% of the minutes */
    struct gsm_hist_target t = synth(2 * 24 * 60, spiky);
    struct gsm_advise_opts o;
    gsm_advise_opts_default(&o);
    struct gsm_advice a;
    CHECK(gsm_advise(&t, &o, &a) == 0);
    CHECK(a.peak_bytes == 800 * MIB);
    CHECK(a.limit_bytes == (uint64_t)(800.0 * MIB * 1.15));    /* above every peak */
    CHECK(a.request_bytes == (uint64_t)(300.0 * MIB * 1.15));  /* p90 is the base */
    CHECK(a.high_bytes == (uint64_t)((double)a.limit_bytes * 0.9));
    CHECK(a.confidence_level == GSM_CONF_MEDIUM);
    gsm_hist_target_free(&t);
}

TEST(advise_short_history_low_confidence) {
    struct gsm_hist_target t = synth(20, steady);   /* 20 minutes */
    struct gsm_advise_opts o;
    gsm_advise_opts_default(&o);
    struct gsm_advice a;
    CHECK(gsm_advise(&t, &o, &a) == 0);
    CHECK(a.confidence_level == GSM_CONF_LOW);
    CHECK(a.confidence < 0.1);
    CHECK(a.span_h > 0.33 && a.span_h < 0.34);
    struct gsm_hist_target empty = {0};
    CHECK(gsm_advise(&empty, &o, &a) == -EINVAL);
    gsm_hist_target_free(&t);
}

static void add_kill(struct gsm_hist_target *t, uint64_t t_ms, uint64_t limit, uint64_t peak) {
    t->events = realloc(t->events, (t->n_events + 1) * sizeof *t->events);
    struct gsm_hist_event *e = &t->events[t->n_events++];
    *e = (struct gsm_hist_event){.t_ms = t_ms, .limit_bytes = limit, .peak_before_bytes = peak};
    strcpy(e->kind, "oom_kill");
}

TEST(advise_oom_bump_converges) {
    /* The workload needs 900 MiB; the limit starts at 512 MiB. Each round: it is killed at the
     * limit in force (peak before the kill = that limit), advise runs, its limit is applied.
     * The limit must rise every round by max(×1.2, +100 MiB) and pass 900 MiB in a few rounds. */
    struct gsm_hist_target t = synth(60, steady);
    struct gsm_advise_opts o;
    gsm_advise_opts_default(&o);
    uint64_t limit = 512 * MIB;
    int rounds = 0;
    while (limit < 900 * MIB && rounds < 10) {
        add_kill(&t, T0 + (uint64_t)rounds * 1000, limit, limit);
        struct gsm_advice a;
        CHECK(gsm_advise(&t, &o, &a) == 0);
        uint64_t want = limit * 6 / 5 > limit + 100 * MIB ? (uint64_t)((double)limit * 1.2) : limit + 100 * MIB;
        CHECK(a.bump_applied && a.limit_bytes == want);
        CHECK(a.bump_base_limit_bytes == limit);
        CHECK(!a.leak_suspected);
        limit = a.limit_bytes;
        rounds++;
    }
    CHECK(limit >= 900 * MIB);
    CHECK(rounds == 4);   /* 512 -> 614.4 -> 737.3 -> 884.7 -> 1061.7 MiB */
    /* No more kills: re-running gives the same answer (stable, not a loop). */
    struct gsm_advice again;
    CHECK(gsm_advise(&t, &o, &again) == 0 && again.limit_bytes == limit);
    gsm_hist_target_free(&t);
}

TEST(advise_oom_no_compounding) {
    /* Three kills at the same 512 MiB limit (the recommendation not applied yet): one bump. */
    struct gsm_hist_target t = synth(60, steady);
    for (int i = 0; i < 3; i++)
        add_kill(&t, T0 + (uint64_t)i * 60000, 512 * MIB, 500 * MIB);
    struct gsm_advise_opts o;
    gsm_advise_opts_default(&o);
    struct gsm_advice a;
    CHECK(gsm_advise(&t, &o, &a) == 0);
    CHECK(a.oom_kills == 3 && a.oom_bumps == 1);
    CHECK(a.limit_bytes == 612 * MIB);    /* max(500 × 1.2 = 600, 512 + 100) */
    gsm_hist_target_free(&t);
}

TEST(advise_oom_leak_stops) {
    /* A leak: killed at every limit applied, seven times in a chain. After max_bumps (6) the
     * bumps stop and the leak is flagged; the cap clips. */
    struct gsm_hist_target t = synth(60, steady);
    struct gsm_advise_opts o;
    gsm_advise_opts_default(&o);
    uint64_t limit = 512 * MIB, sixth = 0;
    for (int i = 0; i < 8; i++) {
        add_kill(&t, T0 + (uint64_t)i * 1000, limit, limit);
        struct gsm_advice a;
        CHECK(gsm_advise(&t, &o, &a) == 0);
        if (i == 5)
            sixth = a.limit_bytes;
        if (i >= 6) {
            CHECK(a.leak_suspected);
            CHECK(a.limit_bytes == sixth);
        }
        limit = a.limit_bytes;
    }
    o.cap_bytes = 1024 * MIB;
    struct gsm_advice c;
    CHECK(gsm_advise(&t, &o, &c) == 0 && c.capped && c.limit_bytes == 1024 * MIB);
    gsm_hist_target_free(&t);
}

TEST(advise_gomemlimit) {
    /* 100 minutes, two of them at 48 MiB of non-heap memory: 2% of the rows, so p99 is 48 MiB
     * (one of 120 would be under 1%, and p99 would be 30 MiB) */
    struct gsm_hist_target t = synth(100, steady);
    for (size_t i = 0; i < t.n_rows; i++) {
        uint64_t nh = (i == 50 || i == 51 ? 48 : 30) * MIB;
        t.rows[i].s[GSM_HS_GO_NONHEAP] = (struct gsm_hist_stat){nh, nh, nh};
    }
    struct gsm_advise_opts o;
    gsm_advise_opts_default(&o);
    struct gsm_advice a;
    CHECK(gsm_advise(&t, &o, &a) == 0);
    CHECK(a.have_go);
    CHECK(a.go_nonheap_p99_bytes == 48 * MIB);
    uint64_t margin = (uint64_t)((double)a.limit_bytes * 0.05);
    CHECK(a.go_margin_bytes == margin);
    CHECK(a.gomemlimit_bytes == a.limit_bytes - 48 * MIB - margin);
    CHECK(!a.go_too_tight);
    gsm_hist_target_free(&t);
}

#include "readers/prom_range.h"

TEST(prom_parse_range) {
    static const char body[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
        "{\"metric\":{\"namespace\":\"ns\",\"pod\":\"p\",\"container\":\"c\"},"
        "\"values\":[[1800000060,\"104857600\"],[1800000120,\"209715200\"],[1800000180,\"NaN\"]]}]}}";
    struct gsm_hist_target *v = NULL;
    size_t n = 0;
    char err[128];
    CHECK(gsm_prom_parse_range(body, sizeof body - 1, GSM_PROM_CADVISOR, 60, &v, &n, err, sizeof err) == 0);
    CHECK(n == 1);
    CHECK(strcmp(v[0].key, "container:ns/p/c") == 0);
    CHECK(v[0].n_rows == 2);   /* NaN dropped */
    CHECK(v[0].rows[0].t_ms == 1800000000000ULL && v[0].rows[0].s[GSM_HS_WS].max_bytes == 100 * MIB);
    CHECK(v[0].rows[1].s[GSM_HS_WS].max_bytes == 200 * MIB);
    gsm_hist_target_free(&v[0]);
    free(v);
    static const char bad[] = "{\"status\":\"error\",\"error\":\"parse error\"}";
    CHECK(gsm_prom_parse_range(bad, sizeof bad - 1, GSM_PROM_GSMAPPER, 60, &v, &n, err, sizeof err) == -EPROTO);
    CHECK(strstr(err, "parse error") != NULL);
    char q[128];
    CHECK(gsm_prom_query_text(GSM_PROM_GSMAPPER, 60, q, sizeof q) == 0);
    CHECK(strcmp(q, "max_over_time(gsmapper_cgroup_working_set_bytes[60s])") == 0);
}

/* Hostile or broken query_range bodies (tests/fuzz/fuzz_prom_range.c found the first: a null
 * "status" reached strcmp(NULL)). Each is refused with a message, or its bad points dropped;
 * none is read past its length (the buffers are not NUL-terminated). */
static int prom_parse(const char *s, struct gsm_hist_target **v, size_t *n, char *err, size_t err_len) {
    size_t len = strlen(s);
    char *b = malloc(len ? len : 1);
    memcpy(b, s, len);
    int r = gsm_prom_parse_range(b, len, GSM_PROM_GSMAPPER, 60, v, n, err, err_len);
    free(b);
    return r;
}

static void prom_free(struct gsm_hist_target *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        gsm_hist_target_free(&v[i]);
    free(v);
}

TEST(prom_parse_range_hostile) {
    struct gsm_hist_target *v = NULL;
    size_t n = 0;
    char err[128];
    CHECK(prom_parse("{\"status\":null,\"error\":null}", &v, &n, err, sizeof err) == -EPROTO);
    CHECK(strcmp(err, "not a successful query_range response") == 0);
    CHECK(prom_parse("{\"status\":\"error\",\"error\":\"a\\nb\"}", &v, &n, err, sizeof err) == -EPROTO);
    CHECK(strcmp(err, "not a successful query_range response: a?b") == 0);   /* one line */
    CHECK(prom_parse("{\"status\":\"success\",\"data\":{\"result\":[]}} trailing", &v, &n, err, sizeof err) == -EPROTO);
    CHECK(prom_parse("{\"status\":\"success\",\"data\":{\"result\":[]}}\n", &v, &n, err, sizeof err) == 0 && n == 0);
    prom_free(v, n);
    /* a value that is not a Prometheus sample string, or a null timestamp: malformed */
    static const char *const bad[] = {
        "{\"status\":\"success\",\"data\":{\"result\":[{\"metric\":{},\"values\":[[1800000060,null]]}]}}",
        "{\"status\":\"success\",\"data\":{\"result\":[{\"metric\":{},\"values\":[[null,\"1\"]]}]}}",
        "{\"status\":\"success\",\"data\":{\"result\":[{\"metric\":{},\"values\":[[1800000060,\"12abc\"]]}]}}",
        "{\"status\":\"success\",\"data\":{\"result\":[{\"metric\":null,\"values\":[]}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(prom_parse(bad[i], &v, &n, err, sizeof err) == -EINVAL);
        CHECK(strcmp(err, "malformed series in the query_range response") == 0);
    }
    /* out-of-range points dropped (no float-to-integer overflow, no timestamp before the
     * epoch): 1e300 s, -1 s, 30 s (< one step), 1e400 (inf), 2^64 bytes; null labels read "" */
    CHECK(prom_parse("{\"status\":\"success\",\"data\":{\"result\":[{\"metric\":{\"cgroup\":null},\"values\":["
                     "[1e300,\"1\"],[-1,\"2\"],[30,\"3\"],[1800000060,\"1e400\"],[1800000060,\"18446744073709551616\"],"
                     "[1800000060,\"18446744073709549568\"]]}]}}",
                     &v, &n, err, sizeof err) == 0);
    CHECK(n == 1 && strcmp(v[0].key, "cgroup:") == 0);
    CHECK(v[0].n_rows == 1 && v[0].rows[0].t_ms == 1800000000000ULL);
    CHECK(v[0].rows[0].s[GSM_HS_WS].max_bytes == 18446744073709549568ULL);   /* 2^64 - 2048: fits */
    prom_free(v, n);
}
