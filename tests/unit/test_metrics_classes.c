/* The classes in the exposition: per-cgroup sums over the processes under the cgroup, the
 * series cap (whole processes, the smallest left out), shmem in resident memory, errors by
 * reason. Values checked against sums worked out here from the inputs. */
#include "renderers/metrics.h"
#include "test.h"

#include <stdlib.h>

static char *render_as(const struct gsm_watch_state *st, size_t n, size_t max_series, const struct gsm_watch_stats *stats,
                       bool openmetrics) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct gsm_metrics_input in = {.targets = st, .n_targets = n, .n_watched = n, .stats = stats};
    struct gsm_metrics_opts o = {.top_processes = 50, .engine_selects = true, .max_series = max_series,
                                 .openmetrics = openmetrics};
    int r = gsm_metrics_render(&in, &o, f);
    fclose(f);
    if (r < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static char *render(const struct gsm_watch_state *st, size_t n, size_t max_series, const struct gsm_watch_stats *stats) {
    return render_as(st, n, max_series, stats, false);
}

static double metric(const char *text, const char *line_prefix) {
    const char *p = strstr(text, line_prefix);
    if (!p)
        return -1;
    return strtod(p + strlen(line_prefix) + (line_prefix[strlen(line_prefix) - 1] == '}'), NULL);
}

TEST(metrics_classes_cgroup_sums_and_cap) {
    static struct gsm_proc_classes c1, c2, c3;
    c1.bytes[GSM_CLASS_NATIVE_HEAP][GSM_CK_RSS] = 100 << 20;
    c1.bytes[GSM_CLASS_SHMEM][GSM_CK_RSS] = 16 << 20;
    c2.bytes[GSM_CLASS_NATIVE_HEAP][GSM_CK_RSS] = 30 << 20;
    c3.bytes[GSM_CLASS_NATIVE_HEAP][GSM_CK_RSS] = 7 << 20;   /* outside the cgroup (a sibling prefix) */
    struct gsm_watch_state st[4] = {
        {.ref = {.type = GSM_WT_CGROUP, .name = "/pod", .cgroup = "/pod"}},
        {.ref = {.type = GSM_WT_PROCESS, .pid = 11, .name = "a", .cgroup = "/pod/c1"}, .selected = true, .classes = &c1,
         .s = {.usage_bytes = 200 << 20, .shmem_bytes = 16 << 20, .t_ms = 5000}},
        {.ref = {.type = GSM_WT_PROCESS, .pid = 12, .name = "b", .cgroup = "/pod"}, .selected = true, .classes = &c2,
         .s = {.usage_bytes = 50 << 20}},
        {.ref = {.type = GSM_WT_PROCESS, .pid = 13, .name = "c", .cgroup = "/pod2"}, .selected = true, .classes = &c3,
         .s = {.usage_bytes = 10 << 20}},
    };
    struct gsm_watch_stats stats = {0};
    stats.smaps.by_reason[GSM_WE_PERMISSION] = 3;
    stats.status.gone = 2;
    char *t = render(st, 4, 0, &stats);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(metric(t, "gsmapper_cgroup_process_memory_bytes{cgroup=\"/pod\",pod_uid=\"\",container_id=\"\",qos_class=\"\","
                    "class=\"native-heap\",kind=\"rss\"}") == (double)(130 << 20));
    CHECK(metric(t, "gsmapper_cgroup_process_memory_bytes{cgroup=\"/pod\",pod_uid=\"\",container_id=\"\",qos_class=\"\","
                    "class=\"shmem\",kind=\"rss\"}") == (double)(16 << 20));
    CHECK(metric(t, "gsmapper_process_resident_bytes{pid=\"11\",name=\"a\",cgroup=\"/pod/c1\",kind=\"shmem\"}") ==
          (double)(16 << 20));
    CHECK(metric(t, "gsmapper_errors_total{tier=\"smaps\",reason=\"permission\"}") == 3);
    CHECK(metric(t, "gsmapper_targets_gone_total{tier=\"status\"}") == 2);
    /* a: 6 base + 1 age + 2 classes x 4 kinds = 15; b and c: 6 + 1 + 4 = 11 each */
    CHECK(metric(t, "\ngsmapper_series ") == 37);
    CHECK(metric(t, "\ngsmapper_series_dropped ") == 0);
    free(t);
    /* a cap of 30: a (15) and b (11) fit, c (11) is dropped whole, though its sum still counts */
    t = render(st, 4, 30, &stats);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(metric(t, "\ngsmapper_series ") == 26);
    CHECK(metric(t, "\ngsmapper_series_dropped ") == 11);
    CHECK(strstr(t, "pid=\"13\"") == NULL);
    CHECK(strstr(t, "pid=\"12\"") != NULL);
    free(t);
}

/* serve keeps the text exposition only and converts it for an OpenMetrics scrape: the
 * conversion gives exactly what the renderer writes with openmetrics set. */
TEST(metrics_openmetrics_from_text) {
    static struct gsm_proc_classes c1;
    c1.bytes[GSM_CLASS_NATIVE_HEAP][GSM_CK_RSS] = 100 << 20;
    struct gsm_watch_state st[2] = {
        {.ref = {.type = GSM_WT_CGROUP, .name = "/pod", .cgroup = "/pod"}},
        {.ref = {.type = GSM_WT_PROCESS, .pid = 11, .name = "a_total counter", .cgroup = "/pod/c1"}, .selected = true,
         .classes = &c1, .s = {.usage_bytes = 200 << 20, .t_ms = 5000}},
    };
    struct gsm_watch_stats stats = {0};
    stats.ticks = 7;
    stats.smaps.by_reason[GSM_WE_PERMISSION] = 3;
    char *text = render_as(st, 2, 0, &stats, false), *om = render_as(st, 2, 0, &stats, true);
    CHECK(text && om);
    if (text && om) {
        size_t tl = strlen(text);
        char *conv = malloc(tl + GSM_METRICS_OM_EXTRA + 1);
        size_t cl = gsm_metrics_text_to_openmetrics(text, tl, conv);
        conv[cl] = '\0';
        CHECK(cl == strlen(om));
        CHECK(strcmp(conv, om) == 0);
        CHECK(strstr(conv, "# TYPE gsmapper_ticks counter\n") != NULL);
        free(conv);
    }
    free(text);
    free(om);
    /* Not a counter, or no _total: unchanged; the end gets "# EOF". */
    static const char in[] = "# HELP x_total h\n# TYPE x_total gauge\nx_total 1\n# HELP y_total h\n# TYPE y_total counter\ny_total 2\n";
    char out[sizeof in + GSM_METRICS_OM_EXTRA];
    size_t n = gsm_metrics_text_to_openmetrics(in, sizeof in - 1, out);
    static const char want[] = "# HELP x_total h\n# TYPE x_total gauge\nx_total 1\n# HELP y h\n# TYPE y counter\ny_total 2\n# EOF\n";
    CHECK(n == sizeof want - 1 && memcmp(out, want, n) == 0);
}
