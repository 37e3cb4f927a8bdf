#include "test.h"
#include "analyses/sample_ring.h"
#include "engine/engine_internal.h"   /* the engine's ring transform (gsm_engine_ring_push) */

#include <stdlib.h>
#include <string.h>

/* A deterministic mix: idle stretches, steady growth, drops, big jumps and the extremes. */
static struct gsm_ring_entry sample(size_t i) {
    static uint64_t x = 88172645463325252ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    struct gsm_ring_entry e = {.t_ms = 1763780000000ull + i * 2000 + (x % 7)};
    e.f[0] = 100000 + (i / 10) * 64 * 1024;
    e.f[1] = i % 50 == 0 ? x : 4096;
    e.f[2] = i % 3 ? 200000 - i : 200000 + i;
    e.f[3] = x & 0xffffffffu;
    e.f[4] = i % 97 == 0 ? 0 : 12345;
    e.f[6] = i % 40 < 20 ? UINT64_MAX : 262144;
    e.f[7] = 1 + i % 5;
    e.f[GSM_RING_FIELDS - 1] = i % 11 == 0 ? UINT64_MAX - i : i;   /* the last field, extremes */
    return e;
}

static bool same(const struct gsm_ring_entry *a, const struct gsm_ring_entry *b) {
    return memcmp(a, b, sizeof *a) == 0;
}

/* Everything pushed reads back exactly (random access and in sequence), the oldest are dropped
 * a whole block at a time, and the ring never holds fewer than max once that many came. */
TEST(sample_ring_round_trip) {
    enum { MAX = 152, N = 1000 };
    struct gsm_ring_entry *all = calloc(N, sizeof *all);
    struct gsm_sample_ring r;
    gsm_sample_ring_init(&r, MAX, 0);
    for (size_t i = 0; i < N; i++) {
        all[i] = sample(i);
        CHECK_EQ_U64(gsm_sample_ring_push(&r, &all[i]), 0);
        size_t n = gsm_sample_ring_len(&r);
        if (i + 1 >= MAX)
            CHECK(n >= MAX && n < MAX + GSM_RING_BLOCK);
        else
            CHECK_EQ_U64(n, i + 1);
    }
    size_t n = gsm_sample_ring_len(&r), first = N - n;
    struct gsm_sample_ring_iter it;
    gsm_sample_ring_iter_init(&it, &r);
    struct gsm_ring_entry e;
    size_t k = 0, bad = 0;
    while (gsm_sample_ring_next(&it, &e)) {
        bad += !same(&e, &all[first + k]);
        k++;
    }
    CHECK_EQ_U64(k, n);
    CHECK_EQ_U64(bad, 0);
    for (size_t i = 0; i < n; i++) {
        CHECK(gsm_sample_ring_get(&r, i, &e));
        bad += !same(&e, &all[first + i]);
    }
    CHECK_EQ_U64(bad, 0);
    CHECK(!gsm_sample_ring_get(&r, n, &e));
    gsm_sample_ring_free(&r);
    free(all);
}

/* An idle process (nothing changes but the clock) costs a fraction of the 200-byte record. */
TEST(sample_ring_idle_is_small) {
    struct gsm_sample_ring r;
    gsm_sample_ring_init(&r, 152, 0);
    struct gsm_ring_entry e = {.t_ms = 1763780000000ull, .f = {5000 << 10, 5000 << 10, 5000 << 10, 300 << 10,
                                                                2000 << 10, 0, UINT64_MAX, 1}};
    for (size_t i = 0; i < 152; i++) {
        e.t_ms += 2000;
        CHECK_EQ_U64(gsm_sample_ring_push(&r, &e), 0);
    }
    size_t bytes = gsm_sample_ring_bytes(&r);
    CHECK(bytes < 152 * 8);           /* 200 bytes each as records: 30,400; 2 each here, plus blocks */
    gsm_sample_ring_free(&r);
}

/* With a time span, blocks older than the span go even before max samples are held (a target
 * sampled 4 times a second keeps the same minutes as one sampled every 2 s). */
TEST(sample_ring_time_span) {
    struct gsm_sample_ring r;
    gsm_sample_ring_init(&r, 10000, 60000);
    struct gsm_ring_entry e = {.t_ms = 1763780000000ull};
    for (size_t i = 0; i < 2000; i++) {
        e.t_ms += 250;
        e.f[0] = i;
        CHECK_EQ_U64(gsm_sample_ring_push(&r, &e), 0);
    }
    struct gsm_ring_entry first;
    CHECK(gsm_sample_ring_get(&r, 0, &first));
    uint64_t kept_ms = e.t_ms - first.t_ms;
    CHECK(kept_ms >= 60000 && kept_ms < 60000 + GSM_RING_BLOCK * 250);
    gsm_sample_ring_free(&r);
}

/* The engine keeps every field of a sample through the ring exactly (sizes in pages when whole
 * pages, the age as a start time, PSI in hundredths), and an idle process whose cgroup moves
 * around it (others_bytes changes every tick, the clock jitters) costs a few bytes a sample. */
TEST(engine_ring_keeps_samples_exactly_and_small) {
    struct gsm_watch_target *t = calloc(1, sizeof *t);
    gsm_sample_ring_init(&t->ring, 152, 0);
    enum { N = 300 };
    struct gsm_watch_sample *in = calloc(N, sizeof *in);
    uint64_t tm = 1763780000000ull;
    for (size_t i = 0; i < N; i++) {
        struct gsm_watch_sample *s = &in[i];
        tm += 2000 + (i * 7919) % 41;
        s->t_ms = tm;
        s->usage_bytes = (5000ull << 12) + (i % 3 ? 0 : 4096 * (i % 7));
        s->anon_bytes = i % 10 == 3 ? 12345 : 3000ull << 12;           /* not whole pages now and then */
        s->file_bytes = 2000ull << 12;
        s->unreclaimable_bytes = s->anon_bytes;
        s->value_bytes = i % 20 < 10 ? 33554431 : s->anon_bytes;        /* a Go heap goal: any number */
        s->go_adjusted = i % 20 < 10;
        s->go_next_gc_bytes = s->go_adjusted ? 33554431 : 0;
        s->limit_bytes = i % 50 < 25 ? UINT64_MAX : 1ull << 30;
        s->limit_is_node = i % 50 >= 25;
        s->others_bytes = (80000ull + (i * 37) % 200) << 12;
        s->working_set_bytes = i == 7 ? UINT64_MAX - 1 : 0;
        s->swap_bytes = i % 97 == 0 ? 4096 : 0;
        s->threads = 1 + i % 3;
        s->psi_some_avg10 = i % 4 == 0 ? 0.25 : 1.5;
        s->have_psi = true;
        s->pss_bytes = i % 15 == 0 ? (4000ull << 12) + 100 : 0;
        s->age_ms = i % 100 == 50 ? 0 : 1000000 + (tm - 1763780000000ull) + (i % 3) * 10;
        s->members = i % 2;
        s->oom_kill = i / 100;
        s->failcnt = UINT64_MAX - i;
        CHECK_EQ_U64(gsm_engine_ring_push(t, s), 0);
    }
    size_t n = gsm_watch_target_ring_len(t), first = N - n, bad = 0;
    CHECK(n >= 152);
    for (size_t i = 0; i < n; i++) {
        struct gsm_watch_sample got, want = in[first + i];
        CHECK(gsm_watch_target_ring_get(t, i, &got));
        /* field by field (padding is not compared); shmem_bytes is not kept (samples.jsonl has
         * no such field) */
        bad += got.t_ms != want.t_ms || got.unreclaimable_bytes != want.unreclaimable_bytes ||
               got.value_bytes != want.value_bytes || got.go_adjusted != want.go_adjusted ||
               got.usage_bytes != want.usage_bytes || got.anon_bytes != want.anon_bytes ||
               got.file_bytes != want.file_bytes || got.working_set_bytes != want.working_set_bytes ||
               got.swap_bytes != want.swap_bytes || got.shmem_bytes != 0 || got.limit_bytes != want.limit_bytes ||
               got.limit_is_node != want.limit_is_node || got.others_bytes != want.others_bytes ||
               got.threads != want.threads || got.oom_kill != want.oom_kill || got.oom != want.oom ||
               got.max_events != want.max_events || got.high_events != want.high_events ||
               got.failcnt != want.failcnt || got.members != want.members ||
               got.psi_some_avg10 != want.psi_some_avg10 || got.psi_full_avg10 != want.psi_full_avg10 ||
               got.have_psi != want.have_psi || got.pss_bytes != want.pss_bytes ||
               got.go_next_gc_bytes != want.go_next_gc_bytes || got.age_ms != want.age_ms;
    }
    CHECK_EQ_U64(bad, 0);
    gsm_sample_ring_free(&t->ring);

    /* idle: a sleeping process in a busy cgroup */
    gsm_sample_ring_init(&t->ring, 152, 0);
    struct gsm_watch_sample s = {.usage_bytes = 900ull << 12, .anon_bytes = 100ull << 12, .file_bytes = 800ull << 12,
                                 .unreclaimable_bytes = 100ull << 12, .value_bytes = 100ull << 12,
                                 .limit_bytes = 8ull << 30, .limit_is_node = true, .threads = 1};
    tm = 1763780000000ull;
    for (size_t i = 0; i < 152; i++) {
        tm += 2000 + (i * 7919) % 23;
        s.t_ms = tm;
        s.age_ms = 5000000 + (tm - 1763780000000ull) + (i % 2) * 10;
        s.others_bytes = (300000ull + (i * 53) % 40) << 12;
        CHECK_EQ_U64(gsm_engine_ring_push(t, &s), 0);
    }
    size_t bytes = gsm_sample_ring_bytes(&t->ring);
    printf("# idle process in a busy cgroup: %zu ring bytes for 152 samples\n", bytes);
    CHECK(bytes < 152 * 6);           /* ~4 bytes a sample, plus 3 blocks; ~10 a sample before */
    gsm_sample_ring_free(&t->ring);
    free(in);
    free(t);
}
