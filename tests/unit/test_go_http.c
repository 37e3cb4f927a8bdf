/* Go runtime statistics over HTTP: the three body parsers (pprof heap debug=1 MemStats block,
 * expvar JSON, Prometheus text), the URL loopback check, /proc/net/tcp{,6} parsing and port
 * discovery on a fixture tree, and the GOMEMLIMIT/GOGC/environ scanner. Every parser gets its
 * input in a malloc'd buffer of exactly the input's length (no NUL after it), so an overread
 * shows up under ASan. */
#include "test.h"

#include "readers/go_discover.h"
#include "readers/go_stats_fetch.h"
#include "readers/go_stats_parse.h"
#include "readers/proc_environ.h"
#include "util/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* An exact-length heap copy (not NUL-terminated). */
static char *exact(const char *s, size_t len) {
    char *p = malloc(len ? len : 1);
    memcpy(p, s, len);
    return p;
}

typedef int (*parse_fn)(const char *, size_t, struct gsm_go_stats *, char *, size_t);
static int run(parse_fn fn, const char *text, struct gsm_go_stats *s, char *err, size_t errlen) {
    size_t len = strlen(text);
    char *b = exact(text, len);
    int r = fn(b, len, s, err, errlen);
    free(b);
    return r;
}

/* ---- pprof heap debug=1 ---- */

/* The tail of a real Go 1.19 /debug/pprof/heap?debug=1 (memshape -heap-mib 8), PauseNs filled
 * in by pprof_block(). */
static const char pprof_head[] =
    "heap profile: 3: 8392704 [3: 8392704] @ heap/1048576\n"
    "1: 8388608 [1: 8388608] @ 0x4a1b2c 0x43a1b2\n"
    "#\t0x4a1b2b\tmain.main+0x8b\t/src/memshape/main.go:80\n"
    "\n"
    "# runtime.MemStats\n"
    "# Alloc = 8684040\n"
    "# TotalAlloc = 8753512\n"
    "# Sys = 23180552\n"
    "# Lookups = 0\n"
    "# Mallocs = 1814\n"
    "# Frees = 607\n"
    "# HeapAlloc = 8684040\n"
    "# HeapSys = 11993088\n"
    "# HeapIdle = 2703360\n"
    "# HeapInuse = 9289728\n"
    "# HeapReleased = 2670592\n"
    "# HeapObjects = 1207\n"
    "# Stack = 589824 / 655360\n"
    "# MSpan = 30240 / 32544\n"
    "# MCache = 2400 / 15600\n"
    "# BuckHashSys = 1444614\n"
    "# GCSys = 8495040\n"
    "# OtherSys = 609842\n"
    "# NextGC = 17323032\n"
    "# LastGC = 1795316173405374402\n";

/* Build the block with a PauseNs ring of n_entries entries where ring[i] = base + i, and NumGC. */
static char *pprof_block(size_t n_entries, uint64_t base, uint64_t num_gc, const char *extra) {
    size_t cap = sizeof pprof_head + n_entries * 24 + 1024;
    char *b = malloc(cap);
    size_t len = (size_t)snprintf(b, cap, "%s# PauseNs = [", pprof_head);
    for (size_t i = 0; i < n_entries; i++)
        len += (size_t)snprintf(b + len, cap - len, "%s%" PRIu64, i ? " " : "", base + i);
    snprintf(b + len, cap - len,
             "]\n# PauseEnd = [0 0]\n# NumGC = %" PRIu64 "\n# NumForcedGC = 0\n"
             "# GCCPUFraction = 0.039140791733227986\n# DebugGC = false\n# MaxRSS = 15237120\n%s",
             num_gc, extra ? extra : "");
    return b;
}

TEST(go_pprof_memstats_real_block) {
    _cleanup_free_ char *text = pprof_block(256, 0, 2, NULL);
    struct gsm_go_stats s;
    char err[160] = "";
    CHECK(run(gsm_go_parse_pprof_memstats, text, &s, err, sizeof err) == 0);
    CHECK_STREQ(s.source, "pprof-heap-debug1");
    CHECK_EQ_U64(s.heap_alloc_bytes, 8684040);
    CHECK_EQ_U64(s.heap_sys_bytes, 11993088);
    CHECK_EQ_U64(s.heap_idle_bytes, 2703360);
    CHECK_EQ_U64(s.heap_inuse_bytes, 9289728);
    CHECK_EQ_U64(s.heap_released_bytes, 2670592);
    CHECK_EQ_U64(s.heap_objects, 1207);
    CHECK_EQ_U64(s.stack_inuse_bytes, 589824);
    CHECK_EQ_U64(s.stack_sys_bytes, 655360);
    CHECK_EQ_U64(s.mspan_inuse_bytes, 30240);
    CHECK_EQ_U64(s.mspan_sys_bytes, 32544);
    CHECK_EQ_U64(s.mcache_inuse_bytes, 2400);
    CHECK_EQ_U64(s.mcache_sys_bytes, 15600);
    CHECK_EQ_U64(s.buck_hash_sys_bytes, 1444614);
    CHECK_EQ_U64(s.gc_sys_bytes, 8495040);
    CHECK_EQ_U64(s.other_sys_bytes, 609842);
    CHECK_EQ_U64(s.next_gc_bytes, 17323032);
    CHECK_EQ_U64(s.last_gc_ms, 1795316173405);
    CHECK_EQ_U64(s.num_gc, 2);
    CHECK_EQ_U64(s.sys_bytes, 23180552);
    CHECK_EQ_U64(s.max_rss_bytes, 15237120);
    CHECK(s.gc_cpu_fraction > 0.0391 && s.gc_cpu_fraction < 0.0392);
    /* ring[0] = 0, ring[1] = 1: NumGC 2 -> newest is ring[1] */
    CHECK(gsm_go_stats_has(&s, GSM_GO_PAUSE_RECENT));
    CHECK_EQ_U64(s.pause_recent_count, 2);
    CHECK_EQ_U64(s.pause_ns_recent[0], 1);
    CHECK_EQ_U64(s.pause_ns_recent[1], 0);
    /* every pause is still in the ring: the total is exact */
    CHECK(gsm_go_stats_has(&s, GSM_GO_PAUSE_TOTAL));
    CHECK_EQ_U64(s.pause_total_ns, 1);
    CHECK(!gsm_go_stats_has(&s, GSM_GO_GOROUTINES));
    CHECK(!gsm_go_stats_has(&s, GSM_GO_GOMEMLIMIT));
}

TEST(go_pprof_memstats_ring_wrapped) {
    /* NumGC 300: newest at (300 + 255) % 256 = 43, 256 entries, total unknown */
    _cleanup_free_ char *text = pprof_block(256, 1000, 300, NULL);
    struct gsm_go_stats s;
    CHECK(run(gsm_go_parse_pprof_memstats, text, &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.pause_recent_count, 256);
    CHECK_EQ_U64(s.pause_ns_recent[0], 1043);
    CHECK_EQ_U64(s.pause_ns_recent[1], 1042);
    CHECK_EQ_U64(s.pause_ns_recent[43], 1000);
    CHECK_EQ_U64(s.pause_ns_recent[44], 1255);
    CHECK(!gsm_go_stats_has(&s, GSM_GO_PAUSE_TOTAL));
    uint64_t p99, p50;
    CHECK(gsm_go_stats_pause_quantile_ns(&s, 0.99, &p99) == 0);
    CHECK(gsm_go_stats_pause_quantile_ns(&s, 0.5, &p50) == 0);
    CHECK_EQ_U64(p99, 1000 + 253);   /* ceil(0.99 * 256) = 254th smallest */
    CHECK_EQ_U64(p50, 1000 + 127);
}

TEST(go_pprof_memstats_crlf_and_no_trailing_newline) {
    const char *t = "# runtime.MemStats\r\n# HeapSys = 10\r\n# HeapIdle = 2\r\n# HeapInuse = 8\r\n"
                    "# HeapReleased = 1\r\n# Stack = 4 / 5";
    struct gsm_go_stats s;
    CHECK(run(gsm_go_parse_pprof_memstats, t, &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.stack_sys_bytes, 5);
    CHECK(!gsm_go_stats_has(&s, GSM_GO_NUM_GC));
    CHECK(!gsm_go_stats_has(&s, GSM_GO_PAUSE_RECENT));
}

TEST(go_pprof_memstats_hostile) {
    struct gsm_go_stats s;
    char err[160];
    static const char *bad[] = {
        "",                                                                 /* empty */
        "heap profile: 0: 0 [0: 0] @ heap/1048576\n",                        /* no block */
        "# runtime.MemStatsX\n# HeapSys = 1\n",                             /* header not alone */
        "# runtime.MemStats\n# HeapAlloc = 1\n",                            /* truncated block */
        ("# runtime.MemStats\n# HeapSys = 1\n# HeapIdle = 1\n# HeapInuse = 1\n# HeapReleased = 1\n"
         "junk\n# Stack = 1 / 1\n"),                                        /* block ends early */
        "# runtime.MemStats\n# HeapSys = 1234567890123456789012345\n",      /* 25 digits */
        "# runtime.MemStats\n# HeapSys = 18446744073709551616\n",           /* 2^64 */
        "# runtime.MemStats\n# HeapSys = -1\n",
        "# runtime.MemStats\n# HeapSys = 12abc\n",
        "# runtime.MemStats\n# HeapSys = \n",
        "# runtime.MemStats\n# Stack = 1 /\n",
        "# runtime.MemStats\n# Stack = 1 / 2 / 3\n",
        "# runtime.MemStats\n# PauseNs = [1 2 3]\n",                        /* not 256 */
        "# runtime.MemStats\n# PauseNs = [1 2 3\n",                         /* unterminated */
        "# runtime.MemStats\n# PauseNs = 1 2 3\n",
        "# runtime.MemStats\n# PauseNs = [1 x]\n",
        "# runtime.MemStats\n# GCCPUFraction = NaN\n",
        "# runtime.MemStats\n# GCCPUFraction = 2.5\n",
        "# runtime.MemStats\n# GCCPUFraction = 0x1p-3\n",
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        err[0] = '\0';
        int r = run(gsm_go_parse_pprof_memstats, bad[i], &s, err, sizeof err);
        if (r != -EBADMSG) {
            char m[128];
            snprintf(m, sizeof m, "case %zu accepted (r=%d)", i, r);
            gsm_test_fail(__FILE__, __LINE__, m);
            return;
        }
        CHECK(err[0] != '\0');
    }
    /* 257 ring entries, and an absurdly long PauseNs line */
    _cleanup_free_ char *t257 = pprof_block(257, 0, 1, NULL);
    CHECK(run(gsm_go_parse_pprof_memstats, t257, &s, NULL, 0) == -EBADMSG);
    _cleanup_free_ char *tlong = pprof_block(100000, 0, 1, NULL);
    CHECK(run(gsm_go_parse_pprof_memstats, tlong, &s, NULL, 0) == -EBADMSG);
    /* unknown keys and lines without " = " are tolerated: the format may grow */
    _cleanup_free_ char *tnew = pprof_block(256, 0, 1, "# NewField = 7\n# something else\n");
    CHECK(run(gsm_go_parse_pprof_memstats, tnew, &s, NULL, 0) == 0);
}

/* ---- expvar ---- */

static char *expvar_doc(const char *memstats_extra) {
    char *b = malloc(8192);
    size_t len = (size_t)snprintf(b, 8192,
        "{\n\"cmdline\": [\"/memshape\",\"-pprof-port\",\"0\"],\n\"memstats\": {\"Alloc\":67384824,"
        "\"TotalAlloc\":67454616,\"Sys\":84066584,\"Lookups\":0,\"Mallocs\":1798,\"Frees\":607,"
        "\"HeapAlloc\":67384824,\"HeapSys\":70713344,\"HeapIdle\":2711552,\"HeapInuse\":68001792,"
        "\"HeapReleased\":2670592,\"HeapObjects\":1191,\"StackInuse\":655360,\"StackSys\":655360,"
        "\"MSpanInuse\":39456,\"MSpanSys\":48816,\"MCacheInuse\":2400,\"MCacheSys\":15600,"
        "\"BuckHashSys\":1444614,\"GCSys\":10708088,\"OtherSys\":546298,\"NextGC\":132669792,"
        "\"LastGC\":1795316084878123456,\"PauseTotalNs\":384316,\"PauseNs\":[");
    for (int i = 0; i < 256; i++)
        len += (size_t)snprintf(b + len, 8192 - len, "%s%d", i ? "," : "", i < 5 ? 100 + i : 0);
    snprintf(b + len, 8192 - len,
             "],\"NumGC\":5,\"NumForcedGC\":0,\"GCCPUFraction\":0.02284240715301376,\"EnableGC\":true,"
             "\"DebugGC\":false,\"BySize\":[{\"Size\":0,\"Mallocs\":0,\"Frees\":0}]%s}\n}\n",
             memstats_extra ? memstats_extra : "");
    return b;
}

TEST(go_expvar_real_document) {
    _cleanup_free_ char *doc = expvar_doc(NULL);
    struct gsm_go_stats s;
    char err[160] = "";
    CHECK(run(gsm_go_parse_expvar, doc, &s, err, sizeof err) == 0);
    CHECK_STREQ(s.source, "expvar");
    CHECK_EQ_U64(s.heap_inuse_bytes, 68001792);
    CHECK_EQ_U64(s.stack_inuse_bytes, 655360);
    CHECK_EQ_U64(s.mspan_sys_bytes, 48816);
    CHECK_EQ_U64(s.pause_total_ns, 384316);
    CHECK_EQ_U64(s.num_gc, 5);
    CHECK_EQ_U64(s.last_gc_ms, 1795316084878);
    CHECK_EQ_U64(s.pause_recent_count, 5);
    CHECK_EQ_U64(s.pause_ns_recent[0], 104);   /* ring[(5 + 255) % 256] = ring[4] */
    CHECK_EQ_U64(s.pause_ns_recent[4], 100);
    CHECK(s.gc_cpu_fraction > 0.0228 && s.gc_cpu_fraction < 0.0229);
}

TEST(go_expvar_hostile) {
    struct gsm_go_stats s;
    char err[160];
    static const char *bad[] = {
        "",
        "not json",
        "[1,2,3]",
        "{\"memstats\": 5}",
        "{\"memstats\": \"x\"}",
        "{\"cmdline\": []}",                                                  /* no memstats */
        "{\"memstats\": {\"HeapSys\": \"1\"}}",                               /* string */
        "{\"memstats\": {\"HeapSys\": 1.5}}",                                 /* double */
        "{\"memstats\": {\"HeapSys\": -1}}",                                  /* negative */
        "{\"memstats\": {\"HeapSys\": true}}",
        "{\"memstats\": {\"HeapSys\": null}}",
        "{\"memstats\": {\"HeapSys\": 100000000000000000000000000000}}",      /* > 2^64 */
        "{\"memstats\": {\"HeapSys\": 1, \"HeapIdle\": 1, \"HeapInuse\": 1}}", /* missing fields */
        ("{\"memstats\": {\"HeapSys\":1,\"HeapIdle\":1,\"HeapInuse\":1,\"HeapReleased\":1,\"StackInuse\":1,"
         "\"PauseNs\": [1,2]}}"),                                               /* short ring */
        ("{\"memstats\": {\"HeapSys\":1,\"HeapIdle\":1,\"HeapInuse\":1,\"HeapReleased\":1,\"StackInuse\":1,"
         "\"PauseNs\": {}}}"),
        ("{\"memstats\": {\"HeapSys\":1,\"HeapIdle\":1,\"HeapInuse\":1,\"HeapReleased\":1,\"StackInuse\":1,"
         "\"GCCPUFraction\": \"0.5\"}}"),
        "{\"memstats\": {\"HeapSys\":1,\"HeapIdle\":1,\"HeapInuse\":1,\"HeapReleased\":1,\"StackInuse\":1}} x",
        "{\"memstats\": {\"HeapSys\":1",                                      /* truncated */
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        err[0] = '\0';
        int r = run(gsm_go_parse_expvar, bad[i], &s, err, sizeof err);
        if (r != -EBADMSG) {
            char m[128];
            snprintf(m, sizeof m, "case %zu accepted (r=%d)", i, r);
            gsm_test_fail(__FILE__, __LINE__, m);
            return;
        }
        CHECK(err[0] != '\0');
    }
    /* a nesting bomb stops at the tokenizer's depth limit */
    size_t n = 100000;
    char *deep = malloc(n);
    memset(deep, '[', n);
    CHECK(gsm_go_parse_expvar(deep, n, &s, err, sizeof err) == -EBADMSG);
    free(deep);
    /* a duplicate key: json-c keeps the last, a one-element ring of the wrong type */
    _cleanup_free_ char *doc = expvar_doc(",\"PauseNs\":[\"x\"]");
    CHECK(run(gsm_go_parse_expvar, doc, &s, NULL, 0) == -EBADMSG);
    /* the smallest valid document, uint64 above INT64_MAX */
    CHECK(run(gsm_go_parse_expvar,
              "{\"memstats\": {\"HeapSys\":9223372036854775808,\"HeapIdle\":1,\"HeapInuse\":1,"
              "\"HeapReleased\":1,\"StackInuse\":1}}", &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.heap_sys_bytes, 9223372036854775808ull);
    CHECK(!gsm_go_stats_has(&s, GSM_GO_PAUSE_RECENT));
}

/* ---- Prometheus ---- */

static const char prom_real[] =
    "# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.\n"
    "# TYPE go_gc_duration_seconds summary\n"
    "go_gc_duration_seconds{quantile=\"0\"} 2.9306e-05\n"
    "go_gc_duration_seconds{quantile=\"0.25\"} 3.1e-05\n"
    "go_gc_duration_seconds{quantile=\"0.5\"} 3.3697e-05\n"
    "go_gc_duration_seconds{quantile=\"0.75\"} 4.1e-05\n"
    "go_gc_duration_seconds{quantile=\"1\"} 0.000119553\n"
    "go_gc_duration_seconds_sum 0.000384316\n"
    "go_gc_duration_seconds_count 5\n"
    "# HELP go_goroutines Number of goroutines that currently exist.\n"
    "# TYPE go_goroutines gauge\n"
    "go_goroutines 105\n"
    "# HELP go_info Information about the Go environment.\n"
    "# TYPE go_info gauge\n"
    "go_info{version=\"go1.19.8\"} 1\n"
    "go_gc_gomemlimit_bytes 9.223372036854776e+18\n"
    "go_memstats_alloc_bytes 6.7384824e+07\n"
    "go_memstats_buck_hash_sys_bytes 1.444614e+06\n"
    "go_memstats_gc_cpu_fraction 0.02284240715301376\n"
    "go_memstats_gc_sys_bytes 1.0708088e+07\n"
    "go_memstats_heap_alloc_bytes 6.7384824e+07\n"
    "go_memstats_heap_idle_bytes 2.711552e+06\n"
    "go_memstats_heap_inuse_bytes 6.8001792e+07\n"
    "go_memstats_heap_objects 1191\n"
    "go_memstats_heap_released_bytes 2.670592e+06\n"
    "go_memstats_heap_sys_bytes 7.0713344e+07\n"
    "go_memstats_last_gc_time_seconds 1.7953160848781233e+09\n"
    "go_memstats_mcache_inuse_bytes 2400\n"
    "go_memstats_mcache_sys_bytes 15600\n"
    "go_memstats_mspan_inuse_bytes 39456\n"
    "go_memstats_mspan_sys_bytes 48816\n"
    "go_memstats_next_gc_bytes 1.32669792e+08\n"
    "go_memstats_other_sys_bytes 546298\n"
    "go_memstats_stack_inuse_bytes 655360\n"
    "go_memstats_stack_sys_bytes 655360\n"
    "go_memstats_sys_bytes 8.4066584e+07\n"
    "go_threads 7\n"
    "process_resident_memory_bytes 7.6578816e+07\n";

TEST(go_prometheus_real_exposition) {
    struct gsm_go_stats s;
    char err[160] = "";
    CHECK(run(gsm_go_parse_prometheus, prom_real, &s, err, sizeof err) == 0);
    CHECK_STREQ(s.source, "prometheus");
    CHECK_EQ_U64(s.heap_alloc_bytes, 67384824);
    CHECK_EQ_U64(s.heap_sys_bytes, 70713344);
    CHECK_EQ_U64(s.heap_inuse_bytes, 68001792);
    CHECK_EQ_U64(s.heap_objects, 1191);
    CHECK_EQ_U64(s.stack_inuse_bytes, 655360);
    CHECK_EQ_U64(s.next_gc_bytes, 132669792);
    CHECK_EQ_U64(s.num_gc, 5);
    CHECK_EQ_U64(s.pause_total_ns, 384316);
    CHECK_EQ_U64(s.pause_max_recent_ns, 119553);
    CHECK_EQ_U64(s.goroutines, 105);
    CHECK_EQ_U64(s.gomemlimit_bytes, INT64_MAX);
    CHECK_EQ_U64(s.last_gc_ms, 1795316084878);
    CHECK(!gsm_go_stats_has(&s, GSM_GO_PAUSE_RECENT));
    uint64_t p99;
    CHECK(gsm_go_stats_pause_quantile_ns(&s, 0.99, &p99) == 0);
    CHECK_EQ_U64(p99, 119553);
}

TEST(go_prometheus_syntax) {
    /* labels with escapes and blanks, a trailing comma, timestamps, NaN, CRLF, comments, other
     * metrics with hostile names in label values, first series wins */
    const char *t =
        "# a free comment\r\n"
        "\n"
        "   \t\n"
        "weird_metric{path=\"a \\\"quoted\\\" \\\\ back\\nslash}\",other=\"go_memstats_heap_sys_bytes 1\",} 3 1700000000000\n"
        "go_gc_duration_seconds{ quantile = \"1\" } NaN\n"
        "go_gc_duration_seconds{job=\"x\",quantile=\"1\"} 2e-3\n"
        "go_memstats_heap_sys_bytes{instance=\"a\"} 100\r\n"
        "go_memstats_heap_sys_bytes{instance=\"b\"} 999\n"
        "go_memstats_heap_idle_bytes\t10 -5\n"
        "go_memstats_heap_inuse_bytes 90\n"
        "go_memstats_heap_released_bytes +0\n"
        "go_memstats_stack_inuse_bytes 1.5e1\n"
        "go_memstats_gc_cpu_fraction NaN\n"
        "go_goroutines NaN\n";
    struct gsm_go_stats s;
    char err[160] = "";
    int r = run(gsm_go_parse_prometheus, t, &s, err, sizeof err);
    if (r != 0)
        gsm_test_fail(__FILE__, __LINE__, err);
    CHECK(r == 0);
    CHECK_EQ_U64(s.heap_sys_bytes, 100);
    CHECK_EQ_U64(s.heap_idle_bytes, 10);
    CHECK_EQ_U64(s.stack_inuse_bytes, 15);
    CHECK_EQ_U64(s.pause_max_recent_ns, 2000000);
    CHECK(!gsm_go_stats_has(&s, GSM_GO_GC_CPU_FRACTION));
    CHECK(!gsm_go_stats_has(&s, GSM_GO_GOROUTINES));
}

TEST(go_prometheus_hostile) {
    static const char *bad[] = {
        "go_memstats_heap_sys_bytes{a=\"unterminated} 1\n",
        "go_memstats_heap_sys_bytes{a=\"x\\q\"} 1\n",                 /* bad escape */
        "go_memstats_heap_sys_bytes{a=x} 1\n",                        /* unquoted */
        "go_memstats_heap_sys_bytes{=\"x\"} 1\n",
        "go_memstats_heap_sys_bytes{a=\"x\" b=\"y\"} 1\n",            /* missing comma */
        "go_memstats_heap_sys_bytes{a=\"x\"}1\n",                      /* no blank */
        "go_memstats_heap_sys_bytes\n",                               /* no value */
        "go_memstats_heap_sys_bytes \n",
        "go_memstats_heap_sys_bytes 12abc\n",
        "go_memstats_heap_sys_bytes 1 2 3\n",                         /* trailing junk */
        "go_memstats_heap_sys_bytes 1 1.5\n",                         /* float timestamp */
        "9go_memstats 1\n",                                           /* bad name */
        "{a=\"b\"} 1\n",
        "go_memstats_heap_sys_bytes 0x10\n",                          /* hex float */
        "go_memstats_heap_sys_bytes -1\n",                            /* negative bytes */
        "go_memstats_heap_sys_bytes +Inf\n",
        "go_memstats_heap_sys_bytes 1e400\n",                         /* overflows a double */
        "go_memstats_heap_sys_bytes 1e30\n",                          /* > 2^64 */
        "go_memstats_gc_cpu_fraction 7\n",
        "go_memstats_heap_sys_bytes 1\n",                             /* missing the rest */
        "just some text that is not an exposition\n",
        "<html><body>404</body></html>\n",
    };
    struct gsm_go_stats s;
    char err[160];
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        err[0] = '\0';
        int r = run(gsm_go_parse_prometheus, bad[i], &s, err, sizeof err);
        if (r != -EBADMSG) {
            char m[128];
            snprintf(m, sizeof m, "case %zu accepted (r=%d)", i, r);
            gsm_test_fail(__FILE__, __LINE__, m);
            return;
        }
        CHECK(err[0] != '\0');
    }
    /* a NUL byte in the middle of a line */
    const char nul[] = "go_memstats_heap_sys_bytes 1\0 2\n";
    CHECK(gsm_go_parse_prometheus(nul, sizeof nul - 1, &s, err, sizeof err) == -EBADMSG);
    /* a label value of 1 MiB: parsed in place, no copy */
    size_t n = (1 << 20) + 64;
    char *big = malloc(n);
    size_t off = (size_t)snprintf(big, n, "x{a=\"");
    memset(big + off, 'v', n - off);
    CHECK(gsm_go_parse_prometheus(big, n, &s, err, sizeof err) == -EBADMSG);   /* unterminated */
    free(big);
}

/* ---- URLs ---- */

TEST(go_http_url_loopback) {
    CHECK(gsm_http_url_is_loopback("http://127.0.0.1:6060") == 1);
    CHECK(gsm_http_url_is_loopback("http://127.3.4.5:80/x") == 1);
    CHECK(gsm_http_url_is_loopback("https://localhost/metrics") == 1);
    CHECK(gsm_http_url_is_loopback("http://[::1]:6060/") == 1);
    CHECK(gsm_http_url_is_loopback("http://[::ffff:127.0.0.1]:6060/") == 1);
    CHECK(gsm_http_url_is_loopback("http://10.0.0.1:6060") == 0);
    CHECK(gsm_http_url_is_loopback("http://example.com") == 0);
    CHECK(gsm_http_url_is_loopback("http://127.0.0.1.nip.io/") == 0);
    CHECK(gsm_http_url_is_loopback("http://[::2]/") == 0);
    CHECK(gsm_http_url_is_loopback("http://[::ffff:10.0.0.1]/") == 0);
    CHECK(gsm_http_url_is_loopback("http://user@10.0.0.1/") == 0);
    CHECK(gsm_http_url_is_loopback("file:///etc/passwd") == -EINVAL);
    CHECK(gsm_http_url_is_loopback("gopher://127.0.0.1/") == -EINVAL);
    CHECK(gsm_http_url_is_loopback("not a url") == -EINVAL);
}

/* --go-endpoint takes the base or any usual path; the base never carries a path twice. */
TEST(go_endpoint_base_paths) {
    static const struct { const char *url, *base; int only; } cases[] = {
        {"http://127.0.0.1:6060", "http://127.0.0.1:6060", GSM_GO_SOURCE_ANY},
        {"http://127.0.0.1:6060/", "http://127.0.0.1:6060", GSM_GO_SOURCE_ANY},
        {"http://127.0.0.1:6060/debug/pprof/heap", "http://127.0.0.1:6060", GSM_GO_SOURCE_PPROF},
        {"http://127.0.0.1:6060/debug/pprof/heap?debug=1", "http://127.0.0.1:6060", GSM_GO_SOURCE_PPROF},
        {"http://127.0.0.1:6060/debug/pprof/heap?gc=1#x", "http://127.0.0.1:6060", GSM_GO_SOURCE_PPROF},
        {"http://127.0.0.1:6060/debug/pprof/", "http://127.0.0.1:6060", GSM_GO_SOURCE_ANY},
        {"http://127.0.0.1:6060/debug/pprof", "http://127.0.0.1:6060", GSM_GO_SOURCE_ANY},
        {"http://127.0.0.1:6060/debug/vars", "http://127.0.0.1:6060", GSM_GO_SOURCE_EXPVAR},
        {"http://[::1]:9090/metrics/", "http://[::1]:9090", GSM_GO_SOURCE_PROMETHEUS},
        {"http://localhost:9090/app/metrics", "http://localhost:9090/app", GSM_GO_SOURCE_PROMETHEUS},
        {"http://h/metrics", "http://h", GSM_GO_SOURCE_PROMETHEUS},
        /* a host that looks like a path is not stripped */
        {"http://metrics", "http://metrics", GSM_GO_SOURCE_ANY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char base[256];
        int only = 99;
        CHECK(gsm_go_endpoint_base(cases[i].url, base, sizeof base, &only) == 0);
        CHECK_STREQ(base, cases[i].base);
        CHECK(only == cases[i].only);
    }
    char small[8];
    int only;
    CHECK(gsm_go_endpoint_base("127.0.0.1:6060", small, sizeof small, &only) == -EINVAL);
    CHECK(gsm_go_endpoint_base("http://127.0.0.1:6060", small, sizeof small, &only) == -EINVAL);
    uint16_t port = 0;
    CHECK(gsm_http_url_port("http://127.0.0.1:6060/x", &port) == 0 && port == 6060);
    CHECK(gsm_http_url_port("http://[::1]/", &port) == 0 && port == 80);
    CHECK(gsm_http_url_port("https://localhost/", &port) == 0 && port == 443);
    CHECK(gsm_http_url_port("nope", &port) == -EINVAL);
}

TEST(go_http_refuses_without_connecting) {
    char *body = NULL;
    size_t len = 0;
    char err[256] = "";
    CHECK(gsm_http_get("http://192.0.2.1:6060/debug/vars", NULL, &body, &len, err, sizeof err) == -EPERM);
    CHECK(body == NULL);
    CHECK(gsm_http_get("ftp://127.0.0.1/", NULL, &body, &len, err, sizeof err) == -EINVAL);
    struct gsm_go_stats s;
    CHECK(gsm_go_stats_fetch("http://example.com:6060", NULL, &s, err, sizeof err) == -EPERM);
}

/* ---- /proc/net/tcp{,6} (little-endian hex words: the expectations assume x86/arm64) ---- */

static bool little_endian(void) {
    uint16_t x = 1;
    return *(uint8_t *)&x == 1;
}

static const char tcp4[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 35263 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000:17AC 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 35264 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0100007F:1F90 0100007F:A2B4 01 00000000:00000000 00:00000000 00000000  1000        0 35265 1 0000000000000000 20 4 30 10 -1\n"
    "   3: 0F02000A:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 35266 1 0000000000000000 100 0 0 10 0\n"
    "   4: 0201007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0\n";

static const char tcp6[] =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 40001 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000000000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 40002 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0000000000000000FFFF00000100007F:1F93 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 40003 1 0000000000000000 100 0 0 10 0\n"
    "   3: 000080FE00000000FF005452FE1234AB:1F94 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 40004 1 0000000000000000 100 0 0 10 0\n";

TEST(go_proc_net_tcp4) {
    if (!little_endian())
        SKIP("expectations are written for a little-endian /proc/net/tcp");
    _cleanup_free_ struct gsm_tcp_listener *ls = NULL;
    size_t n = 0;
    char err[128] = "";
    _cleanup_free_ char *b = exact(tcp4, sizeof tcp4 - 1);
    CHECK(gsm_parse_proc_net_tcp(b, sizeof tcp4 - 1, AF_INET, &ls, &n, err, sizeof err) == 0);
    CHECK_EQ_U64(n, 3);   /* established and inode-0 lines are skipped */
    CHECK_EQ_U64(ls[0].port, 8080);
    CHECK(ls[0].addr[0] == 127 && ls[0].addr[1] == 0 && ls[0].addr[2] == 0 && ls[0].addr[3] == 1);
    CHECK_EQ_U64(ls[0].inode, 35263);
    CHECK_EQ_U64(ls[1].port, 6060);
    CHECK_EQ_U64(ls[2].port, 80);
    CHECK(ls[2].addr[0] == 10 && ls[2].addr[1] == 0 && ls[2].addr[2] == 2 && ls[2].addr[3] == 15);
    char host[48];
    CHECK(gsm_tcp_listener_loopback_host(&ls[0], host, sizeof host) == 0);
    CHECK_STREQ(host, "127.0.0.1");
    CHECK(gsm_tcp_listener_loopback_host(&ls[1], host, sizeof host) == 0);   /* 0.0.0.0 */
    CHECK_STREQ(host, "127.0.0.1");
    CHECK(gsm_tcp_listener_loopback_host(&ls[2], host, sizeof host) == -EADDRNOTAVAIL);
}

TEST(go_proc_net_tcp6) {
    if (!little_endian())
        SKIP("expectations are written for a little-endian /proc/net/tcp6");
    _cleanup_free_ struct gsm_tcp_listener *ls = NULL;
    size_t n = 0;
    _cleanup_free_ char *b = exact(tcp6, sizeof tcp6 - 1);
    CHECK(gsm_parse_proc_net_tcp(b, sizeof tcp6 - 1, AF_INET6, &ls, &n, NULL, 0) == 0);
    CHECK_EQ_U64(n, 4);
    char host[48];
    CHECK_EQ_U64(ls[0].port, 8081);
    CHECK(ls[0].addr[15] == 1 && ls[0].addr[0] == 0);
    CHECK(gsm_tcp_listener_loopback_host(&ls[0], host, sizeof host) == 0);
    CHECK_STREQ(host, "[::1]");
    CHECK(gsm_tcp_listener_loopback_host(&ls[1], host, sizeof host) == 0);   /* [::] */
    CHECK_STREQ(host, "[::1]");
    CHECK(ls[2].addr[10] == 0xff && ls[2].addr[11] == 0xff && ls[2].addr[12] == 127);
    CHECK(gsm_tcp_listener_loopback_host(&ls[2], host, sizeof host) == 0);   /* ::ffff:127.0.0.1 */
    CHECK_STREQ(host, "127.0.0.1");
    CHECK(ls[3].addr[0] == 0xfe && ls[3].addr[1] == 0x80);                  /* fe80::... */
    CHECK(gsm_tcp_listener_loopback_host(&ls[3], host, sizeof host) == -EADDRNOTAVAIL);
}

TEST(go_proc_net_tcp_hostile) {
    static const char *bad[] = {
        "   0: 0100007F:1F90\n",                                                           /* short */
        "   0: 0100007G:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1 1\n",                          /* bad hex */
        "   0: 0100007F1F90 00000000:0000 0A 0:0 0:0 0 0 0 1 1\n",
        "   0: 0100007F:1F9 00000000:0000 0A 0:0 0:0 0 0 0 1 1\n",
        "   0: 0100007F:1F90 00000000:0000 A 0:0 0:0 0 0 0 1 1\n",
        "   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1234567890123456789012345 1\n",  /* 25 digits */
        "   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 12x 1\n",
        "garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage\n",
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        _cleanup_free_ struct gsm_tcp_listener *ls = NULL;
        size_t n = 0;
        char err[128] = "";
        _cleanup_free_ char *b = exact(bad[i], strlen(bad[i]));
        int r = gsm_parse_proc_net_tcp(b, strlen(bad[i]), AF_INET, &ls, &n, err, sizeof err);
        if (r != -EBADMSG) {
            char m[64];
            snprintf(m, sizeof m, "case %zu: r=%d", i, r);
            gsm_test_fail(__FILE__, __LINE__, m);
            return;
        }
    }
    /* an IPv4 line handed to the IPv6 parser is malformed, not misread */
    _cleanup_free_ struct gsm_tcp_listener *ls = NULL;
    size_t n = 0;
    CHECK(gsm_parse_proc_net_tcp(tcp4, sizeof tcp4 - 1, AF_INET6, &ls, &n, NULL, 0) == -EBADMSG);
    /* header only, and empty */
    CHECK(gsm_parse_proc_net_tcp(tcp4, 100, AF_INET, &ls, &n, NULL, 0) == 0);
    CHECK(gsm_parse_proc_net_tcp("", 0, AF_INET, &ls, &n, NULL, 0) == 0);
    CHECK_EQ_U64(n, 0);
}

/* ---- discovery on a fixture tree made at test time (fd/ symlinks can't live in git well) ---- */

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void rm_rf(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* best effort */ }
}

TEST(go_discover_fixture) {
    if (!little_endian())
        SKIP("fixture tables are little-endian");
    char root[] = "/tmp/gsm-discover-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char p[512];
    static const char *dirs[] = {"proc", "proc/42", "proc/42/net", "proc/42/fd", "proc/42/ns",
                                 "proc/self", "proc/self/ns"};
    for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        mkdir(p, 0755);
    }
    snprintf(p, sizeof p, "%s/proc/42/net/tcp", root);
    write_file(p, tcp4);
    snprintf(p, sizeof p, "%s/proc/42/net/tcp6", root);
    write_file(p, tcp6);
    /* the process owns 35264 (0.0.0.0:6060), 40001 ([::1]:8081), 40003 (mapped 127.0.0.1:8083),
     * 35266 (10.0.2.15:80, not loopback); 35263 (8080) belongs to someone else */
    static const struct { const char *fd, *target; } links[] = {
        {"0", "/dev/null"}, {"3", "socket:[35264]"}, {"4", "socket:[40001]"}, {"5", "socket:[40003]"},
        {"6", "socket:[35266]"}, {"7", "pipe:[35263]"}, {"8", "socket:[bogus]"}, {"9", "anon_inode:[eventpoll]"},
    };
    for (size_t i = 0; i < ELEMENTSOF(links); i++) {
        snprintf(p, sizeof p, "%s/proc/42/fd/%s", root, links[i].fd);
        CHECK(symlink(links[i].target, p) == 0);
    }
    snprintf(p, sizeof p, "%s/proc/42/ns/net", root);
    CHECK(symlink("net:[4026531840]", p) == 0);
    snprintf(p, sizeof p, "%s/proc/self/ns/net", root);
    CHECK(symlink("net:[4026531840]", p) == 0);

    struct gsm_root r;
    CHECK(gsm_root_open(root, &r) == 0);
    struct gsm_go_ports ports;
    int rc = gsm_go_discover(&r, 42, &ports);
    CHECK(rc == 0);
    CHECK_EQ_U64(ports.n, 3);
    CHECK_EQ_U64(ports.ep[0].port, 6060);
    CHECK_STREQ(ports.ep[0].host, "127.0.0.1");
    CHECK_EQ_U64(ports.ep[1].port, 8081);
    CHECK_STREQ(ports.ep[1].host, "[::1]");
    CHECK_EQ_U64(ports.ep[2].port, 8083);
    CHECK_STREQ(ports.ep[2].host, "127.0.0.1");
    CHECK(ports.same_netns == 1);
    CHECK(gsm_go_discover(&r, 43, &ports) == -ENOENT);

    /* another network namespace: its 127.0.0.1 is not ours, so no connection is attempted */
    snprintf(p, sizeof p, "%s/proc/self/ns/net", root);
    unlink(p);
    CHECK(symlink("net:[4026532000]", p) == 0);
    CHECK(gsm_go_discover(&r, 42, &ports) == 0);
    CHECK(ports.same_netns == 0);
    struct gsm_go_stats s;
    char err[256];
    CHECK(gsm_go_stats_fetch_pid(&r, 42, NULL, &s, err, sizeof err) == -EXDEV);
    gsm_root_close(&r);
    rm_rf(root);
}

/* ---- environment ---- */

static const char environ_text[] =
    "PATH=/usr/bin\0AWS_SECRET_ACCESS_KEY=hunter2hunter2\0GOGC=50\0GOMEMLIMIT=512MiB\0"
    "XGOGC=1\0GOGCX=2\0GOGC=200\0GODEBUG=madvdontneed=1,gctrace=1\0GOMAXPROCS\0DB_PASSWORD=GOGC=7\0"
    "GOMAXPROCS=4";   /* the last entry unterminated */

TEST(go_env_scanner_every_split) {
    size_t len = sizeof environ_text - 1;
    for (size_t split = 0; split <= len; split++) {
        struct gsm_go_env_scanner sc;
        gsm_go_env_scan_init(&sc);
        gsm_go_env_scan_feed(&sc, environ_text, split);
        gsm_go_env_scan_feed(&sc, environ_text + split, len - split);
        struct gsm_go_env e;
        gsm_go_env_scan_finish(&sc, &e);
        CHECK(e.gogc.present);
        CHECK_STREQ(e.gogc.value, "50");            /* first occurrence wins, as in Go */
        CHECK(e.gomemlimit.present);
        CHECK_STREQ(e.gomemlimit.value, "512MiB");
        CHECK_STREQ(e.godebug.value, "madvdontneed=1,gctrace=1");
        CHECK(e.gomaxprocs.present);
        CHECK_STREQ(e.gomaxprocs.value, "4");
        /* nothing else made it into the result */
        CHECK(memmem(&e, sizeof e, "hunter2", 7) == NULL);
        CHECK(memmem(&e, sizeof e, "/usr/bin", 8) == NULL);
    }
    /* byte by byte */
    struct gsm_go_env_scanner sc;
    gsm_go_env_scan_init(&sc);
    for (size_t i = 0; i < len; i++)
        gsm_go_env_scan_feed(&sc, environ_text + i, 1);
    struct gsm_go_env e;
    gsm_go_env_scan_finish(&sc, &e);
    CHECK_STREQ(e.gogc.value, "50");
}

TEST(go_env_value_cap_and_empty) {
    size_t big = 100000;
    char *t = malloc(big + 64);
    size_t n = (size_t)sprintf(t, "GODEBUG=");
    memset(t + n, 'x', big);
    n += big;
    t[n++] = '\0';
    n += (size_t)sprintf(t + n, "GOGC=") + 1;   /* empty value, terminated */
    struct gsm_go_env_scanner sc;
    gsm_go_env_scan_init(&sc);
    gsm_go_env_scan_feed(&sc, t, n);
    struct gsm_go_env e;
    gsm_go_env_scan_finish(&sc, &e);
    free(t);
    CHECK(e.godebug.present && e.godebug.truncated);
    CHECK_EQ_U64(strlen(e.godebug.value), GSM_GO_ENV_VALUE_MAX);
    CHECK(e.gogc.present && !e.gogc.truncated);
    CHECK_STREQ(e.gogc.value, "");
    CHECK(!e.gomemlimit.present && !e.gomaxprocs.present);
}

TEST(go_env_read_at) {
    char dir[] = "/tmp/gsm-environ-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p[256];
    snprintf(p, sizeof p, "%s/environ", dir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    fwrite(environ_text, 1, sizeof environ_text - 1, f);
    fclose(f);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    struct gsm_go_env e;
    int r = gsm_read_go_env_at(fd, &e);
    close(fd);
    unlink(p);
    rmdir(dir);
    CHECK(r == 0);
    CHECK_STREQ(e.gomemlimit.value, "512MiB");
    CHECK_STREQ(e.gomaxprocs.value, "4");
}

TEST(go_env_read_self) {
    /* our own environ: whatever is in it, only the four keys come out */
    int fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        SKIP("no /proc/self");
    struct gsm_go_env e;
    int r = gsm_read_go_env_at(fd, &e);
    close(fd);
    CHECK(r == 0);
    const char *gogc = getenv("GOGC");
    CHECK(e.gogc.present == (gogc != NULL));
}

TEST(go_gomemlimit_parse) {
    static const struct { const char *in; int r; uint64_t want; } cases[] = {
        {"512MiB", 0, 512ull << 20},
        {"1GiB", 0, 1ull << 30},
        {"3KiB", 0, 3072},
        {"2TiB", 0, 2ull << 40},
        {"123", 0, 123},
        {"123B", 0, 123},
        {"0", 0, 0},
        {"off", 0, INT64_MAX},
        {"", 0, INT64_MAX},
        {"9223372036854775807", 0, INT64_MAX},
        {"8388607TiB", 0, 8388607ull << 40},
        {"8388608TiB", -ERANGE, 0},             /* 2^63: over math.MaxInt64 */
        {"9223372036854775808", -ERANGE, 0},
        {"99999999999999999999999", -ERANGE, 0},
        {"1GB", -EINVAL, 0},                    /* decimal units are not Go's */
        {"1g", -EINVAL, 0},
        {"1 GiB", -EINVAL, 0},
        {"-1", -EINVAL, 0},
        {"-1MiB", -EINVAL, 0},
        {"MiB", -EINVAL, 0},
        {"iB", -EINVAL, 0},
        {"B", -EINVAL, 0},
        {"1PiB", -EINVAL, 0},
        {"1.5GiB", -EINVAL, 0},
        {"OFF", -EINVAL, 0},
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        uint64_t v = 12345;
        int r = gsm_parse_gomemlimit(cases[i].in, &v);
        if (r != cases[i].r || (r == 0 && v != cases[i].want)) {
            char m[160];
            snprintf(m, sizeof m, "\"%s\": r=%d v=%" PRIu64, cases[i].in, r, v);
            gsm_test_fail(__FILE__, __LINE__, m);
            return;
        }
    }
}

TEST(go_gogc_parse) {
    int32_t v;
    CHECK(gsm_parse_gogc("100", &v) == 0 && v == 100);
    CHECK(gsm_parse_gogc("off", &v) == 0 && v == -1);
    CHECK(gsm_parse_gogc("-1", &v) == 0 && v == -1);
    CHECK(gsm_parse_gogc("2147483647", &v) == 0 && v == INT32_MAX);
    CHECK(gsm_parse_gogc("2147483648", &v) == -EINVAL);
    CHECK(gsm_parse_gogc("", &v) == -EINVAL);
    CHECK(gsm_parse_gogc("50%", &v) == -EINVAL);
    CHECK(gsm_parse_gogc("Off", &v) == -EINVAL);
}
