/* The flight recorder's ring of samples, delta-encoded.
 *
 * watch keeps the last --ring seconds of every target (5 minutes at 2 s: 150 samples). Stored
 * as 200-byte records that would be 30 KiB per target. Consecutive samples of a process differ
 * little (an idle one not at all), so a sample is the varint of the zigzag-coded change of its
 * time step (the difference from the previous sample's time, less the step before: samples
 * come at a steady interval), a varint with one bit per other field that changed, and the
 * zigzag-coded differences of those: 2 bytes for an idle sample, ~60 for the first of a block
 * (which holds its time whole). A block's buffer grows in steps of 32 bytes. Blocks of
 * GSM_RING_BLOCK samples (64: few blocks, so little malloc overhead per target), each decodable
 * on its own, are dropped whole from the old end once the others hold max samples or span_ms
 * without them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A sample: its time and GSM_RING_FIELDS numbers (the caller decides what each one is; the
 * watch engine stores every field of its sample, exactly, so a bundle keeps what was seen). */
#define GSM_RING_FIELDS 24
struct gsm_ring_entry {
    uint64_t t_ms;
    uint64_t f[GSM_RING_FIELDS];
};

#define GSM_RING_BLOCK 64

struct gsm_ring_block {
    uint8_t *bytes;
    uint16_t len, cap;
    uint8_t n;                 /* samples in this block */
    uint64_t t0_ms;            /* its first sample's time */
};

struct gsm_sample_ring {
    struct gsm_ring_block *blocks;   /* circular: blocks[(head + k) % cap_blocks], k < n_blocks */
    size_t head, n_blocks, cap_blocks;
    size_t n, max;                   /* samples held; samples kept at most (give or take a block) */
    uint64_t span_ms;                /* time kept at least (0: no time bound) */
    struct gsm_ring_entry last;      /* the newest sample: the base of the next difference */
    uint64_t last_dt;                /* its time step from the one before (0 at a block's start) */
};

void gsm_sample_ring_init(struct gsm_sample_ring *r, size_t max_samples, uint64_t span_ms);
void gsm_sample_ring_free(struct gsm_sample_ring *r);
/* Appends; -ENOMEM leaves the ring as it was. */
int gsm_sample_ring_push(struct gsm_sample_ring *r, const struct gsm_ring_entry *e);
static inline size_t gsm_sample_ring_len(const struct gsm_sample_ring *r) { return r->n; }
/* Sample i, oldest first (decodes its block up to i: for occasional use). */
bool gsm_sample_ring_get(const struct gsm_sample_ring *r, size_t i, struct gsm_ring_entry *ret);
/* Sequential reading, oldest first. */
struct gsm_sample_ring_iter {
    const struct gsm_sample_ring *r;
    size_t block, pos, off;
    struct gsm_ring_entry cur;
    uint64_t dt;                     /* cur's time step */
};
void gsm_sample_ring_iter_init(struct gsm_sample_ring_iter *it, const struct gsm_sample_ring *r);
bool gsm_sample_ring_next(struct gsm_sample_ring_iter *it, struct gsm_ring_entry *ret);
/* Bytes held by the encoded samples (block buffers), for tests and --stats. */
size_t gsm_sample_ring_bytes(const struct gsm_sample_ring *r);
