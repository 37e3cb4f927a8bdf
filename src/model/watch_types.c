#include "model/watch_types.h"

static const char *const kind_names[GSM_WK__COUNT] = {
    [GSM_WK_ETA] = "eta", [GSM_WK_GROWTH] = "growth", [GSM_WK_PRESSURE] = "pressure",
    [GSM_WK_OOM_KILL] = "oom_kill", [GSM_WK_OOM] = "oom", [GSM_WK_MAX] = "max", [GSM_WK_HIGH] = "high",
    [GSM_WK_FAILCNT] = "failcnt", [GSM_WK_TARGET_GONE] = "target_gone", [GSM_WK_CRASH_LOOP] = "crash_loop",
    [GSM_WK_KERNEL] = "kernel_notification",
};

const char *gsm_watch_kind_name(enum gsm_watch_kind k) {
    return (unsigned)k < GSM_WK__COUNT ? kind_names[k] : "?";
}

const char *gsm_watch_level_name(enum gsm_watch_level l) {
    switch (l) {
    case GSM_WL_INFO: return "info";
    case GSM_WL_WARN: return "warn";
    case GSM_WL_CRITICAL: return "critical";
    default: return "none";
    }
}

void gsm_watch_event_evidence(struct gsm_watch_event *ev, const char *key, double v) {
    if (ev->n_evidence < GSM_WATCH_MAX_EVIDENCE) {
        ev->evidence[ev->n_evidence].key = key;
        ev->evidence[ev->n_evidence].value = v;
        ev->n_evidence++;
    }
}
