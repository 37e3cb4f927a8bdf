#include "test.h"
#include "analyses/sample_ring.h"

#include <stdlib.h>
#include <string.h>

/* A deterministic mix: idle stretches, steady growth, drops, big jumps and the extremes. */
static struct gsm_ring_entry sample(size_t i) {
    static uint64_t x = 88172645463325252ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    struct gsm_ring_entry e = {
        .t_ms = 1763780000000ull + i * 2000 + (x % 7),
        .value_kib = (uint32_t)(100000 + (i / 10) * 64),
        .unreclaimable_kib = (uint32_t)(i % 50 == 0 ? x % UINT32_MAX : 4096),
        .usage_kib = (uint32_t)(i % 3 ? 200000 - i : 200000 + i),
        .anon_kib = (uint32_t)(x & 0xffffffffu),
        .file_kib = (uint32_t)(i % 97 == 0 ? 0 : 12345),
        .swap_kib = 0,
        .limit_kib = i % 40 < 20 ? UINT32_MAX : 262144,
        .threads = (uint32_t)(1 + i % 5),
    };
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
    gsm_sample_ring_init(&r, MAX);
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

/* An idle process (nothing changes but the clock) costs a fraction of the 40-byte record. */
TEST(sample_ring_idle_is_small) {
    struct gsm_sample_ring r;
    gsm_sample_ring_init(&r, 152);
    struct gsm_ring_entry e = {.t_ms = 1763780000000ull, .value_kib = 5000, .usage_kib = 5000, .anon_kib = 300,
                               .file_kib = 2000, .limit_kib = UINT32_MAX, .threads = 1};
    for (size_t i = 0; i < 152; i++) {
        e.t_ms += 2000;
        CHECK_EQ_U64(gsm_sample_ring_push(&r, &e), 0);
    }
    size_t bytes = gsm_sample_ring_bytes(&r);
    CHECK(bytes < 152 * 8);           /* 40 bytes each as records: 6,080; 3 each here, plus blocks */
    gsm_sample_ring_free(&r);
}
