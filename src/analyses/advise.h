/* Recommendations from a memory history (model/history.h), pure: a memory request and limit
 * (memory.high / memory.max for plain cgroups) from a decaying histogram of peaks with a
 * margin, an OOM bump that cannot loop, a confidence from the history's length and coverage,
 * GOMEMLIMIT for Go processes, and which series/class drove the peak. docs/advise.md explains
 * every rule; the numbers here are its defaults. */
#pragma once

#include "model/history.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm_advise_opts {
    uint64_t now_ms;                 /* the decay's reference (usually the last row's end) */
    double half_life_h;              /* weight of a peak halves every this many hours (24) */
    double request_pct, limit_pct;   /* percentiles of the decayed histogram (0.90, 0.99) */
    double margin;                   /* added to both (0.15) */
    double oom_factor;               /* OOM bump: peak before the kill × this (1.2) ... */
    uint64_t oom_add_bytes;          /* ... or the limit at the kill + this (100 MiB), larger */
    unsigned max_bumps;              /* OOM bumps in a chain before "leak suspected" (6) */
    uint64_t cap_bytes;              /* no recommendation above this (0: none; e.g. MemTotal) */
    double go_margin;                /* GOMEMLIMIT margin, fraction of the limit (0.05) */
    uint64_t go_margin_min_bytes;    /* at least this (16 MiB) */
};
void gsm_advise_opts_default(struct gsm_advise_opts *o);

enum gsm_confidence { GSM_CONF_LOW, GSM_CONF_MEDIUM, GSM_CONF_HIGH };
const char *gsm_confidence_name(enum gsm_confidence c);

struct gsm_advice {
    enum gsm_hist_series series;     /* what was sized: working set, else usage */
    uint64_t request_bytes, limit_bytes;
    uint64_t high_bytes;             /* memory.high for plain cgroups: max(request, 0.9 × limit) */
    uint64_t p90_bytes, p99_bytes;   /* of the decayed histogram (bucket upper bounds) */
    uint64_t peak_bytes, peak_t_ms;  /* largest peak with weight >= 1/16 (four half-lives) */
    uint64_t peak_anon_bytes, peak_file_bytes, peak_unreclaimable_bytes;
    const char *peak_class;          /* "anon", "file" or "unknown": the larger part at the peak */
    uint64_t current_limit_bytes;    /* at the last row (UINT64_MAX: none) */
    /* the OOM bump */
    size_t oom_kills, oom_bumps;     /* kills seen; distinct bump bases used */
    uint64_t bump_bytes;             /* the largest bump (0: none) */
    uint64_t bump_base_limit_bytes, bump_peak_before_bytes;
    bool bump_applied;               /* the bump set the limit */
    bool leak_suspected;             /* max_bumps kills in a chain, each at the previous bump */
    bool capped;                     /* cap_bytes clipped the recommendation */
    /* confidence */
    double span_h, coverage, confidence;
    enum gsm_confidence confidence_level;
    /* GOMEMLIMIT (have_go: a Go process with non-heap figures) */
    bool have_go;
    uint64_t go_nonheap_p99_bytes, go_margin_bytes, gomemlimit_bytes;
    bool go_too_tight;               /* non-heap + margin leave less than half the limit */
};

/* -EINVAL with no rows. */
int gsm_advise(const struct gsm_hist_target *t, const struct gsm_advise_opts *o, struct gsm_advice *ret);
/* The last row's end (the natural now_ms for a history). 0 with no rows. */
uint64_t gsm_advise_history_end_ms(const struct gsm_hist_target *t);
