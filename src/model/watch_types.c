#include "model/watch_types.h"

#include <errno.h>

static const char *const kind_names[GSM_WK__COUNT] = {
    [GSM_WK_ETA] = "eta", [GSM_WK_GROWTH] = "growth", [GSM_WK_PRESSURE] = "pressure",
    [GSM_WK_OOM_KILL] = "oom_kill", [GSM_WK_OOM] = "oom", [GSM_WK_MAX] = "max", [GSM_WK_HIGH] = "high",
    [GSM_WK_FAILCNT] = "failcnt", [GSM_WK_TARGET_GONE] = "target_gone", [GSM_WK_CRASH_LOOP] = "crash_loop",
    [GSM_WK_KERNEL] = "kernel_notification", [GSM_WK_HEALTH] = "health", [GSM_WK_PROTECT] = "protect",
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

const char *gsm_watch_err_reason_name(enum gsm_watch_err_reason r) {
    static const char *const names[GSM_WE__COUNT] = {"permission", "parse", "memory", "timeout", "io"};
    return (unsigned)r < GSM_WE__COUNT ? names[r] : "io";
}

bool gsm_watch_err_reason_of(int r, enum gsm_watch_err_reason *ret) {
    switch (-r) {
    case ENOENT:
    case ESRCH: return false;
    case EACCES:
    case EPERM: *ret = GSM_WE_PERMISSION; return true;
    case EBADMSG:
    case EOVERFLOW:
    case EFBIG:
    case EPROTO:
    case ERANGE: *ret = GSM_WE_PARSE; return true;
    case ENOMEM: *ret = GSM_WE_MEMORY; return true;
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH: *ret = GSM_WE_TIMEOUT; return true;
    default: *ret = GSM_WE_IO; return true;
    }
}

const char *gsm_class_kind_name(enum gsm_class_kind k) {
    static const char *const names[GSM_CK__COUNT] = {"rss", "pss", "swap", "uss"};
    return (unsigned)k < GSM_CK__COUNT ? names[k] : "?";
}

const char *gsm_go_part_name(enum gsm_go_part p) {
    static const char *const names[GSM_GP__COUNT] = {"heap_inuse", "stacks", "idle_retained", "released_resident",
                                                     "runtime_metadata"};
    return (unsigned)p < GSM_GP__COUNT ? names[p] : "?";
}
