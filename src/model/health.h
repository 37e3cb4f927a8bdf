/* A target's health score (0-100) and its parts: the result type of analyses/health.h, kept in
 * the model so the watch state, events and renderers can carry it. docs/health-score.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gsm_health_part {
    GSM_HP_HEADROOM,      /* room left under the effective limit */
    GSM_HP_TREND,         /* time to the limit at the current trend */
    GSM_HP_PRESSURE,      /* PSI memory pressure (v2) */
    GSM_HP_LIMIT_HITS,    /* memory.events max + high (v2), failcnt (v1) */
    GSM_HP_OOM_KILLS,     /* memory.events oom_kill (v2), oom_control oom_kill (v1) */
    GSM_HP_GO_GC,         /* Go: GC CPU fraction, memory at the heap goal vs the limit */
    GSM_HP__COUNT
};
/* "headroom", "trend", "pressure", "limit_hits", "oom_kills", "go_gc" */
const char *gsm_health_part_name(enum gsm_health_part p);

enum gsm_health_part_status {
    GSM_HPS_MISSING,      /* the input was not available: no penalty, said in note */
    GSM_HPS_USED,
    GSM_HPS_NOT_APPLICABLE,   /* go_gc of a target that runs no Go */
};
/* "missing", "used", "not_applicable" */
const char *gsm_health_part_status_name(enum gsm_health_part_status s);

/* Bands, best first; a score-change event is due when the band changes (with hysteresis). */
enum gsm_health_band { GSM_HB_GOOD, GSM_HB_FAIR, GSM_HB_POOR, GSM_HB_CRITICAL, GSM_HB__COUNT };
/* "good", "fair", "poor", "critical" */
const char *gsm_health_band_name(enum gsm_health_band b);

struct gsm_health_part_result {
    enum gsm_health_part_status status;
    double badness;                  /* 0 (fine) .. 1 (as bad as this part gets) */
    double penalty;                  /* badness x max_penalty: points taken from 100 */
    double max_penalty;              /* the part's weight */
    double value;                    /* the input the curve read (its unit: docs/health-score.md) */
    char note[112];                  /* what the number was, or why the part is missing */
};

struct gsm_health {
    bool have;                       /* false: no part had its input (or no sample yet): no score */
    int score;                       /* 0 .. 100 */
    enum gsm_health_band band;       /* of score, without hysteresis */
    struct gsm_health_part_result parts[GSM_HP__COUNT];
    unsigned n_missing;              /* parts with status MISSING */
};

/* What the watch engine keeps of a target's score from tick to tick, and the exporter shows:
 * the score and each part's status and penalty, without the notes (64 bytes of the 936; serve
 * --all holds one per process). */
struct gsm_health_brief {
    bool have;
    int score;
    unsigned char status[GSM_HP__COUNT];   /* enum gsm_health_part_status */
    double penalty[GSM_HP__COUNT];
};
void gsm_health_brief_of(const struct gsm_health *h, struct gsm_health_brief *ret);
