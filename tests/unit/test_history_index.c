/* The history writer's target lookup: util/strmap (the index) on its own, and the writer with
 * thousands of targets (each sample finds its own accumulator: one target row per key, the
 * same key twice is one target). */
#include "test.h"

#include "store/history.h"
#include "util/strmap.h"

#include <stdlib.h>
#include <unistd.h>

TEST(strmap_put_get_replace_clear) {
    struct gsm_strmap m = {0};
    CHECK(gsm_strmap_get(&m, "a") == NULL);
    static char keys[5000][24];
    static int vals[5000];
    for (int i = 0; i < 5000; i++) {
        snprintf(keys[i], sizeof keys[i], "process:%d:%d", i, i * 7);
        vals[i] = i;
        CHECK(gsm_strmap_put(&m, keys[i], &vals[i]) == 0);
    }
    CHECK_EQ_U64(m.n, 5000);
    CHECK(m.n * 2 <= m.cap);
    for (int i = 0; i < 5000; i++) {
        char probe[24];
        snprintf(probe, sizeof probe, "process:%d:%d", i, i * 7);   /* a different pointer, same text */
        int *v = gsm_strmap_get(&m, probe);
        CHECK(v && *v == i);
    }
    CHECK(gsm_strmap_get(&m, "process:1:8") == NULL);
    CHECK(gsm_strmap_get(&m, "") == NULL);
    static int other = -1;
    CHECK(gsm_strmap_put(&m, keys[42], &other) == 0);
    CHECK_EQ_U64(m.n, 5000);
    CHECK(gsm_strmap_get(&m, keys[42]) == &other);
    gsm_strmap_clear(&m);
    CHECK_EQ_U64(m.n, 0);
    CHECK(gsm_strmap_get(&m, keys[0]) == NULL);
    CHECK(gsm_strmap_put(&m, keys[1], &vals[1]) == 0);
    CHECK(gsm_strmap_get(&m, keys[1]) == &vals[1]);
    gsm_strmap_free(&m);
    CHECK(gsm_strmap_get(&m, keys[1]) == NULL);
}

TEST(history_writer_many_targets_one_row_each) {
    char path[] = "/tmp/gsm-unit-history-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    struct gsm_history_opts o;
    gsm_history_opts_default(&o);
    struct gsm_history *h = NULL;
    char err[256];
    CHECK(gsm_history_open(path, &o, &h, err, sizeof err) == 0);
    enum { N = 3000 };
    char cg[64];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            struct gsm_target_ref ref = {.type = i % 2 ? GSM_WT_CGROUP : GSM_WT_PROCESS, .pid = 1000 + i,
                                         .starttime = 500 + (uint64_t)i, .name = "leaker"};
            snprintf(cg, sizeof cg, "/unit/cg%d", i);
            if (ref.type == GSM_WT_CGROUP) {
                ref.pid = 0;
                ref.starttime = 0;
                ref.cgroup = cg;
            }
            struct gsm_watch_sample s = {.t_ms = 1700000000000ULL + (uint64_t)round * 1000, .value_bytes = 1 << 20,
                                         .usage_bytes = 2 << 20, .working_set_bytes = 2 << 20,
                                         .limit_bytes = 64 << 20};
            gsm_history_add_sample(h, &ref, &s, 0);
        }
    CHECK(gsm_history_flush(h, 1700000003000ULL, true) == 0);
    gsm_history_close(h);
    CHECK(gsm_history_open_ro(path, &h, err, sizeof err) == 0);
    char **keys = NULL;
    size_t n = 0;
    int r = gsm_history_list(h, &keys, &n);
    gsm_history_close(h);
    unlink(path);
    char wal[sizeof path + 8];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    CHECK(r >= 0);
    size_t procs = 0, cgs = 0;
    for (size_t i = 0; i < n; i++) {
        procs += strncmp(keys[i], "process:", 8) == 0;
        cgs += strncmp(keys[i], "cgroup:/unit/cg", 15) == 0;
        free(keys[i]);
    }
    free(keys);
    CHECK_EQ_U64(n, N);
    CHECK_EQ_U64(procs, N / 2);
    CHECK_EQ_U64(cgs, N / 2);
}
