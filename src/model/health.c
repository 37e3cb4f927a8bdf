#include "model/health.h"

const char *gsm_health_part_name(enum gsm_health_part p) {
    static const char *const names[GSM_HP__COUNT] = {"headroom", "trend", "pressure", "limit_hits", "oom_kills", "go_gc"};
    return (unsigned)p < GSM_HP__COUNT ? names[p] : "?";
}

const char *gsm_health_part_status_name(enum gsm_health_part_status s) {
    switch (s) {
    case GSM_HPS_USED: return "used";
    case GSM_HPS_NOT_APPLICABLE: return "not_applicable";
    default: return "missing";
    }
}

const char *gsm_health_band_name(enum gsm_health_band b) {
    static const char *const names[GSM_HB__COUNT] = {"good", "fair", "poor", "critical"};
    return (unsigned)b < GSM_HB__COUNT ? names[b] : "?";
}

void gsm_health_brief_of(const struct gsm_health *h, struct gsm_health_brief *ret) {
    *ret = (struct gsm_health_brief){.have = h->have, .score = h->score};
    for (int k = 0; k < GSM_HP__COUNT; k++) {
        ret->status[k] = (unsigned char)h->parts[k].status;
        ret->penalty[k] = h->parts[k].penalty;
    }
}
