/* gsmapper advise's arithmetic (analyses/advise.h; docs/advise.md is the contract). */
#include "analyses/advise.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define HIST_BASE_BYTES MIB          /* first bucket: up to 1 MiB */
#define HIST_RATIO 1.05              /* each bucket 5% wider than the last */
#define HIST_BUCKETS 512             /* 1 MiB × 1.05^511 > 60 PiB */
#define RECENT_WEIGHT (1.0 / 16)     /* a peak counts for the limit floor for four half-lives */

void gsm_advise_opts_default(struct gsm_advise_opts *o) {
    *o = (struct gsm_advise_opts){.half_life_h = 24, .request_pct = 0.90, .limit_pct = 0.99, .margin = 0.15,
                                  .oom_factor = 1.2, .oom_add_bytes = 100ULL << 20, .max_bumps = 6,
                                  .go_margin = 0.05, .go_margin_min_bytes = 16ULL << 20};
}

const char *gsm_confidence_name(enum gsm_confidence c) {
    return c == GSM_CONF_HIGH ? "high" : c == GSM_CONF_MEDIUM ? "medium" : "low";
}

/* A decaying histogram: weights per exponential bucket, and the largest value each bucket saw
 * (so a percentile is a value that occurred, not a bucket bound). */
struct dhist {
    double w[HIST_BUCKETS], total;
    uint64_t vmax[HIST_BUCKETS];
};

static size_t bucket_of(uint64_t v) {
    if ((double)v <= HIST_BASE_BYTES)
        return 0;
    double b = ceil(log((double)v / HIST_BASE_BYTES) / log(HIST_RATIO));
    return b >= HIST_BUCKETS - 1 ? HIST_BUCKETS - 1 : (size_t)b;
}

static void dhist_add(struct dhist *h, uint64_t v, double w) {
    size_t b = bucket_of(v);
    h->w[b] += w;
    h->total += w;
    if (v > h->vmax[b])
        h->vmax[b] = v;
}

static uint64_t dhist_pct(const struct dhist *h, double p) {
    double want = p * h->total, acc = 0;
    for (size_t b = 0; b < HIST_BUCKETS; b++) {
        acc += h->w[b];
        if (h->w[b] > 0 && acc >= want * (1 - 1e-12))
            return h->vmax[b];
    }
    return 0;
}

/* Weight of a row: a minute row 1, an hour row 60 (it stands for 60 minute peaks, all taken as
 * its maximum: an over-estimate, on the safe side), halved every half-life before now. */
static double row_weight(const struct gsm_hist_row *r, const struct gsm_advise_opts *o) {
    double age_h = o->now_ms > r->t_ms ? (double)(o->now_ms - r->t_ms) / 3.6e6 : 0;
    return (r->res_s >= 3600 ? 60.0 : 1.0) * exp2(-age_h / o->half_life_h);
}

uint64_t gsm_advise_history_end_ms(const struct gsm_hist_target *t) {
    uint64_t end = 0;
    for (size_t i = 0; i < t->n_rows; i++) {
        uint64_t e = t->rows[i].t_ms + (uint64_t)t->rows[i].res_s * 1000;
        if (e > end)
            end = e;
    }
    return end;
}

static enum gsm_hist_series pick_series(const struct gsm_hist_target *t) {
    for (size_t i = 0; i < t->n_rows; i++)
        if (t->rows[i].s[GSM_HS_WS].max_bytes > 0 && t->rows[i].s[GSM_HS_WS].max_bytes != UINT64_MAX)
            return GSM_HS_WS;
    return GSM_HS_USAGE;
}

static uint64_t mul(uint64_t v, double f) {
    double x = (double)v * f;
    return x >= 1.8e19 ? UINT64_MAX : (uint64_t)x;
}

static void sizing(const struct gsm_hist_target *t, const struct gsm_advise_opts *o, struct gsm_advice *a,
                   struct dhist *h) {
    const struct gsm_hist_row *peak = NULL;
    for (size_t i = 0; i < t->n_rows; i++) {
        const struct gsm_hist_row *r = &t->rows[i];
        uint64_t v = r->s[a->series].max_bytes;
        if (v == UINT64_MAX)
            continue;
        double w = row_weight(r, o);
        dhist_add(h, v, w);
        if (w >= RECENT_WEIGHT * (r->res_s >= 3600 ? 60 : 1) && (!peak || v > peak->s[a->series].max_bytes))
            peak = r;
        if (r->limit_bytes != 0)
            a->current_limit_bytes = r->limit_bytes;
    }
    a->p90_bytes = dhist_pct(h, o->request_pct);
    a->p99_bytes = dhist_pct(h, o->limit_pct);
    a->peak_class = "unknown";
    if (peak) {
        a->peak_bytes = peak->s[a->series].max_bytes;
        a->peak_t_ms = peak->t_ms;
        a->peak_anon_bytes = peak->anon_bytes;
        a->peak_file_bytes = peak->file_bytes;
        a->peak_unreclaimable_bytes = peak->s[GSM_HS_UNRECL].max_bytes;
        if (peak->anon_bytes || peak->file_bytes)
            a->peak_class = peak->anon_bytes >= peak->file_bytes ? "anon" : "file";
    }
    uint64_t top = a->p99_bytes > a->peak_bytes ? a->p99_bytes : a->peak_bytes;
    a->limit_bytes = mul(top, 1 + o->margin);
    a->request_bytes = mul(a->p90_bytes, 1 + o->margin);
}

/* The OOM bump (docs/advise.md, "OOM kills"): from each kill, max(peak before × factor, limit
 * at the kill + add). The base is always the limit the kernel enforced at the kill, never an
 * earlier recommendation; kills at a base already used add nothing (no bump of a bump); a kill
 * at or above the previous bump continues a chain, and a chain longer than max_bumps stops
 * bumping (leak suspected). */
static void oom_bump(const struct gsm_hist_target *t, const struct gsm_advise_opts *o, struct gsm_advice *a) {
    uint64_t bases[64], prev_bump = 0;
    size_t n_bases = 0;
    unsigned chain = 0;
    for (size_t i = 0; i < t->n_events; i++) {
        const struct gsm_hist_event *e = &t->events[i];
        if (strcmp(e->kind, "oom_kill") != 0)
            continue;
        a->oom_kills++;
        uint64_t peak = e->peak_before_bytes == UINT64_MAX ? 0 : e->peak_before_bytes;
        uint64_t base = e->limit_bytes != UINT64_MAX && e->limit_bytes ? e->limit_bytes : peak;
        if (base == 0)
            continue;
        if (peak == 0)
            peak = base;
        bool seen = false;
        for (size_t k = 0; k < n_bases && !seen; k++)
            seen = (bases[k] > base ? bases[k] - base : base - bases[k]) < (1u << 20);
        if (seen || n_bases == 64)
            continue;
        bases[n_bases++] = base;
        chain = prev_bump && base + (1u << 20) >= prev_bump ? chain + 1 : 1;
        if (chain > o->max_bumps) {
            a->leak_suspected = true;
            continue;
        }
        uint64_t by_peak = mul(peak, o->oom_factor), by_limit = base + o->oom_add_bytes;
        uint64_t bump = by_peak > by_limit ? by_peak : by_limit;
        prev_bump = bump;
        a->oom_bumps++;
        if (bump > a->bump_bytes) {
            a->bump_bytes = bump;
            a->bump_base_limit_bytes = base;
            a->bump_peak_before_bytes = peak;
        }
    }
    if (a->bump_bytes > a->limit_bytes) {
        a->limit_bytes = a->bump_bytes;
        a->bump_applied = true;
    }
}

static void confidence(const struct gsm_hist_target *t, struct gsm_advice *a) {
    uint64_t first = UINT64_MAX, end = gsm_advise_history_end_ms(t);
    double covered_min = 0;
    for (size_t i = 0; i < t->n_rows; i++) {
        if (t->rows[i].t_ms < first)
            first = t->rows[i].t_ms;
        covered_min += t->rows[i].res_s >= 3600 ? 60 : 1;
    }
    a->span_h = end > first ? (double)(end - first) / 3.6e6 : 0;
    double span_min = a->span_h * 60;
    a->coverage = span_min > 0 ? fmin(1, covered_min / span_min) : 0;
    a->confidence = sqrt(fmin(1, a->span_h / 168)) * a->coverage;
    int level = a->span_h < 1 ? GSM_CONF_LOW : a->span_h < 168 ? GSM_CONF_MEDIUM : GSM_CONF_HIGH;
    if (a->coverage < 0.5 && level > GSM_CONF_LOW)
        level--;
    a->confidence_level = (enum gsm_confidence)level;
}

static void gomemlimit(const struct gsm_hist_target *t, const struct gsm_advise_opts *o, struct gsm_advice *a,
                       struct dhist *h) {
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < t->n_rows; i++) {
        uint64_t v = t->rows[i].s[GSM_HS_GO_NONHEAP].max_bytes;
        if (v > 0 && v != UINT64_MAX)
            dhist_add(h, v, row_weight(&t->rows[i], o));
    }
    if (h->total <= 0)
        return;
    a->have_go = true;
    a->go_nonheap_p99_bytes = dhist_pct(h, 0.99);
    a->go_margin_bytes = mul(a->limit_bytes, o->go_margin);
    if (a->go_margin_bytes < o->go_margin_min_bytes)
        a->go_margin_bytes = o->go_margin_min_bytes;
    uint64_t off = a->go_nonheap_p99_bytes + a->go_margin_bytes;
    a->gomemlimit_bytes = a->limit_bytes > off ? a->limit_bytes - off : 0;
    a->go_too_tight = a->gomemlimit_bytes < a->limit_bytes / 2;
}

int gsm_advise(const struct gsm_hist_target *t, const struct gsm_advise_opts *opts, struct gsm_advice *ret) {
    if (t->n_rows == 0)
        return -EINVAL;
    struct gsm_advise_opts o = *opts;
    if (o.now_ms == 0)
        o.now_ms = gsm_advise_history_end_ms(t);
    if (!(o.half_life_h > 0))
        o.half_life_h = 24;
    struct dhist h = {0};
    struct gsm_advice a = {.series = pick_series(t), .current_limit_bytes = UINT64_MAX};
    sizing(t, &o, &a, &h);
    oom_bump(t, &o, &a);
    if (o.cap_bytes && a.limit_bytes > o.cap_bytes) {
        a.limit_bytes = o.cap_bytes;
        a.capped = true;
    }
    if (a.request_bytes > a.limit_bytes)
        a.request_bytes = a.limit_bytes;
    uint64_t high = mul(a.limit_bytes, 0.9);
    a.high_bytes = a.request_bytes > high ? a.request_bytes : high;
    confidence(t, &a);
    gomemlimit(t, &o, &a, &h);
    *ret = a;
    return 0;
}
