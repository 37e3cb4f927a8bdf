/* The flight recorder's delta-encoded ring (analyses/sample_ring.c). The input is a ring size
 * and a series of samples (any values, time going backwards included). Oracle: what the ring
 * gives back, by index and by iterator, equals the newest samples pushed, in order; it holds
 * at least min(max, pushed) of them. */
#include "fuzz.h"
#include "analyses/sample_ring.h"

#define MAX_PUSH 4096

static bool same(const struct gsm_ring_entry *a, const struct gsm_ring_entry *b) {
    return memcmp(a, b, sizeof *a) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t max = 1 + data[0] % 200;
    /* Each record: 1 control byte, then the fields it says are new (so series of equal or
     * slowly changing samples, the common case, are reachable). */
    static struct gsm_ring_entry pushed[MAX_PUSH];
    size_t n = 0;
    struct gsm_ring_entry cur = {0};
    const uint8_t *p = data + 1, *end = data + size;
    struct gsm_sample_ring r;
    gsm_sample_ring_init(&r, max, 0);
    while (p < end && n < MAX_PUSH) {
        uint8_t ctl = *p++;
        if (ctl & 0x80) {
            if (end - p < 8)
                break;
            memcpy(&cur.t_ms, p, 8);
            p += 8;
        } else
            cur.t_ms += 2000;
        /* Bit k (k < 7) gives field (k + 7 * (n % 4)) % GSM_RING_FIELDS a new 64-bit value, so
         * every field is reachable and most samples change few of them. */
        for (int k = 0; k < 7; k++)
            if (ctl & (1u << k)) {
                if (end - p < 8)
                    break;
                memcpy(&cur.f[(k + 7 * (n % 4)) % GSM_RING_FIELDS], p, 8);
                p += 8;
            }
        FUZZ_ASSERT(gsm_sample_ring_push(&r, &cur) == 0);
        pushed[n++] = cur;
    }
    size_t len = gsm_sample_ring_len(&r);
    FUZZ_ASSERT(len <= n && len >= (n < max ? n : max));
    struct gsm_ring_entry e;
    for (size_t i = 0; i < len; i++) {
        FUZZ_ASSERT(gsm_sample_ring_get(&r, i, &e));
        FUZZ_ASSERT(same(&e, &pushed[n - len + i]));
    }
    FUZZ_ASSERT(!gsm_sample_ring_get(&r, len, &e));
    struct gsm_sample_ring_iter it;
    size_t k = 0;
    gsm_sample_ring_iter_init(&it, &r);
    while (gsm_sample_ring_next(&it, &e)) {
        FUZZ_ASSERT(k < len && same(&e, &pushed[n - len + k]));
        k++;
    }
    FUZZ_ASSERT(k == len);
    gsm_sample_ring_free(&r);
    return 0;
}
