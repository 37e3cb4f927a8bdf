#include "analyses/sample_ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define N_FIELDS (GSM_RING_FIELDS + 1)
#define MAX_ENTRY_BYTES (4 + N_FIELDS * 10)   /* the mask, and a 64-bit varint is at most 10 bytes */

static void to_fields(const struct gsm_ring_entry *e, uint64_t f[N_FIELDS]) {
    f[0] = e->t_ms;
    memcpy(f + 1, e->f, sizeof e->f);
}

static void from_fields(const uint64_t f[N_FIELDS], struct gsm_ring_entry *e) {
    e->t_ms = f[0];
    memcpy(e->f, f + 1, sizeof e->f);
}

/* Differences wrap modulo 2^64; zigzag keeps small negative ones small. */
static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static size_t get_varint(const uint8_t *p, uint64_t *ret) {
    uint64_t v = 0;
    size_t n = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t b = p[n++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *ret = v;
    return n;
}

static uint64_t zigzag(uint64_t cur, uint64_t prev) {
    int64_t d = (int64_t)(cur - prev);
    return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}

static uint64_t unzigzag(uint64_t z, uint64_t prev) {
    int64_t d = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    return prev + (uint64_t)d;
}

void gsm_sample_ring_init(struct gsm_sample_ring *r, size_t max_samples, uint64_t span_ms) {
    memset(r, 0, sizeof *r);
    r->max = max_samples ? max_samples : 1;
    r->span_ms = span_ms;
}

void gsm_sample_ring_free(struct gsm_sample_ring *r) {
    for (size_t k = 0; k < r->n_blocks; k++)
        free(r->blocks[(r->head + k) % r->cap_blocks].bytes);
    free(r->blocks);
    memset(r, 0, sizeof *r);
}

static struct gsm_ring_block *block_at(const struct gsm_sample_ring *r, size_t k) {
    return &r->blocks[(r->head + k) % r->cap_blocks];
}

/* A new, empty block at the new end. */
static int open_block(struct gsm_sample_ring *r) {
    if (r->n_blocks == r->cap_blocks) {
        /* Grow, unrolling the circle so blocks start at index 0 again. */
        size_t nc = r->cap_blocks ? r->cap_blocks * 2 : 4;
        struct gsm_ring_block *nb = malloc(nc * sizeof *nb);
        if (!nb)
            return -ENOMEM;
        for (size_t k = 0; k < r->n_blocks; k++)
            nb[k] = *block_at(r, k);
        free(r->blocks);
        r->blocks = nb;
        r->cap_blocks = nc;
        r->head = 0;
    }
    *block_at(r, r->n_blocks) = (struct gsm_ring_block){0};
    r->n_blocks++;
    return 0;
}

/* A block's buffer grows to what its samples need, rounded up to this: an open block holds at
 * most this much slack (it was 256-1,024 bytes with doubling: ~0.5 MiB over 600 targets). */
#define BLOCK_GROW 32

int gsm_sample_ring_push(struct gsm_sample_ring *r, const struct gsm_ring_entry *e) {
    if (r->n_blocks == 0 || block_at(r, r->n_blocks - 1)->n == GSM_RING_BLOCK) {
        /* The full block gives back its slack before the next one starts. */
        if (r->n_blocks > 0) {
            struct gsm_ring_block *full = block_at(r, r->n_blocks - 1);
            uint8_t *shrunk = realloc(full->bytes, full->len);
            if (shrunk) {
                full->bytes = shrunk;
                full->cap = full->len;
            }
        }
        if (open_block(r) < 0)
            return -ENOMEM;
    }
    struct gsm_ring_block *b = block_at(r, r->n_blocks - 1);
    uint64_t cur[N_FIELDS], prev[N_FIELDS] = {0};
    to_fields(e, cur);
    if (b->n > 0)
        to_fields(&r->last, prev);   /* a block's first sample is relative to zero */
    /* The time as the change of its step (samples come at a steady interval: a byte), a varint
     * with one bit per other field that changed, then the differences of those: an idle
     * process's sample is 2-3 bytes. Encoded here first, then appended. */
    uint8_t enc[MAX_ENTRY_BYTES];
    size_t n = 0;
    uint64_t dt = b->n > 0 ? cur[0] - prev[0] : 0;
    n += put_varint(enc + n, b->n > 0 ? zigzag(dt, r->last_dt) : cur[0]);
    uint64_t mask = 0;
    for (int f = 1; f < N_FIELDS; f++)
        if (cur[f] != prev[f])
            mask |= 1ull << (f - 1);
    n += put_varint(enc + n, mask);
    for (int f = 1; f < N_FIELDS; f++)
        if (mask & (1ull << (f - 1)))
            n += put_varint(enc + n, zigzag(cur[f], prev[f]));
    if ((size_t)b->cap - b->len < n) {
        size_t nc = ((size_t)b->len + n + BLOCK_GROW - 1) / BLOCK_GROW * BLOCK_GROW;
        uint8_t *nb = realloc(b->bytes, nc);
        if (!nb)
            return -ENOMEM;
        b->bytes = nb;
        b->cap = (uint16_t)nc;
    }
    memcpy(b->bytes + b->len, enc, n);
    b->len = (uint16_t)(b->len + n);
    if (b->n == 0)
        b->t0_ms = e->t_ms;
    r->last_dt = dt;
    b->n++;
    r->n++;
    r->last = *e;
    /* The oldest block goes as soon as the others hold max samples, or span_ms, without it. */
    if (r->n_blocks > 1 && (r->n - block_at(r, 0)->n >= r->max ||
                            (r->span_ms && e->t_ms >= block_at(r, 1)->t0_ms + r->span_ms))) {
        struct gsm_ring_block *old = block_at(r, 0);
        r->n -= old->n;
        free(old->bytes);
        r->head = (r->head + 1) % r->cap_blocks;
        r->n_blocks--;
    }
    return 0;
}

void gsm_sample_ring_iter_init(struct gsm_sample_ring_iter *it, const struct gsm_sample_ring *r) {
    memset(it, 0, sizeof *it);
    it->r = r;
}

bool gsm_sample_ring_next(struct gsm_sample_ring_iter *it, struct gsm_ring_entry *ret) {
    const struct gsm_sample_ring *r = it->r;
    while (it->block < r->n_blocks && it->pos == block_at(r, it->block)->n) {
        it->block++;
        it->pos = 0;
        it->off = 0;
    }
    if (it->block >= r->n_blocks)
        return false;
    const struct gsm_ring_block *b = block_at(r, it->block);
    uint64_t prev[N_FIELDS] = {0}, cur[N_FIELDS];
    if (it->pos > 0)
        to_fields(&it->cur, prev);
    uint64_t z;
    it->off += get_varint(b->bytes + it->off, &z);
    if (it->pos > 0) {
        it->dt = unzigzag(z, it->dt);
        cur[0] = prev[0] + it->dt;
    } else {
        it->dt = 0;
        cur[0] = z;
    }
    uint64_t mask;
    it->off += get_varint(b->bytes + it->off, &mask);
    for (int f = 1; f < N_FIELDS; f++) {
        cur[f] = prev[f];
        if (mask & (1ull << (f - 1))) {
            it->off += get_varint(b->bytes + it->off, &z);
            cur[f] = unzigzag(z, prev[f]);
        }
    }
    from_fields(cur, &it->cur);
    it->pos++;
    *ret = it->cur;
    return true;
}

bool gsm_sample_ring_get(const struct gsm_sample_ring *r, size_t i, struct gsm_ring_entry *ret) {
    if (i >= r->n)
        return false;
    /* Every block but the newest is full. */
    struct gsm_sample_ring_iter it = {.r = r, .block = i / GSM_RING_BLOCK};
    size_t pos = i % GSM_RING_BLOCK;
    struct gsm_ring_entry e;
    for (size_t k = 0; k <= pos; k++)
        if (!gsm_sample_ring_next(&it, &e))
            return false;
    *ret = e;
    return true;
}

size_t gsm_sample_ring_bytes(const struct gsm_sample_ring *r) {
    size_t s = r->cap_blocks * sizeof *r->blocks;
    for (size_t k = 0; k < r->n_blocks; k++)
        s += block_at(r, k)->cap;
    return s;
}
