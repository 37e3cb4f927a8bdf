/* Shared by the findings rule files (findings.c: cgroup and process rules, the table and
 * evaluation; findings_go.c: the Go rules). Not a public interface. */
#pragma once

#include "analyses/findings.h"
#include "util/units.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rule {
    struct gsm_rule_info info;
    int (*eval)(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
};

/* ---- Helpers ------------------------------------------------------------------------- */

/* Write a formatted line; control characters (from a cgroup path, say) become '?' so a
 * message stays one line. */
__attribute__((format(printf, 3, 4))) static inline void set_text(char *dst, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(dst, size, fmt, ap);
    va_end(ap);
    if (r < 0)
        dst[0] = '\0';
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* Append a finding; NULL on -ENOMEM. */
static inline struct gsm_finding *emit(struct gsm_findings *out, const char *id, enum gsm_severity sev) {
    if (out->n == out->cap) {
        size_t ncap = out->cap ? out->cap * 2 : 8;
        struct gsm_finding *ni = realloc(out->items, ncap * sizeof *ni);
        if (!ni)
            return NULL;
        out->items = ni;
        out->cap = ncap;
    }
    struct gsm_finding *f = &out->items[out->n++];
    memset(f, 0, sizeof *f);
    f->id = id;
    f->severity = sev;
    return f;
}

static inline void ev(struct gsm_finding *f, const char *key, double value) {
    if (f->n_evidence < GSM_FINDING_MAX_EVIDENCE)
        f->evidence[f->n_evidence++] = (struct gsm_evidence){key, value};
}

static inline double ratio_of(uint64_t part, uint64_t whole) {
    return whole ? (double)part / (double)whole : 0.0;
}

/* Whole percent, rounded down so a printed "85%" never hides an 84.9% that did not fire. */
static inline unsigned pct(double ratio) {
    double p = ratio * 100.0;
    return p <= 0 ? 0 : p >= 1e9 ? 1000000000u : (unsigned)p;
}

struct sz {
    char s[32];
};
static inline struct sz fmt_sz(uint64_t bytes) {
    struct sz z;
    gsm_fmt_bytes(bytes, z.s, sizeof z.s);
    return z;
}
#define SZ(b) (fmt_sz(b).s)

/* The Go rules (findings_go.c). */
int gsm_rule_go_memlimit(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
int gsm_rule_go_rss_over_heap(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
int gsm_rule_go_lazyfree(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
int gsm_rule_go_gc_thrash(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
int gsm_rule_go_gc_pause(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
int gsm_rule_go_goroutines(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
int gsm_rule_go_gogc(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
int gsm_rule_go_sync_pool(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
int gsm_rule_go_top_site(const struct gsm_findings_input *in, const struct gsm_rule_info *r, struct gsm_findings *out);
