/* --history for watch and serve: options, and the hooks from the engine's callbacks to
 * store/history. */
#include "cmd/history_cli.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void gsm_history_cli_init(struct gsm_history_cli *hc) {
    *hc = (struct gsm_history_cli){0};
    gsm_history_opts_default(&hc->o);
}

int gsm_parse_duration_ms(const char *arg, uint64_t *ret_ms) {
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || !isfinite(v) || v <= 0)
        return -EINVAL;
    double mult = 1000;
    if (*end) {
        switch (*end) {
        case 's': mult = 1000; break;
        case 'm': mult = 60e3; break;
        case 'h': mult = 3600e3; break;
        case 'd': mult = 86400e3; break;
        case 'w': mult = 7 * 86400e3; break;
        default: return -EINVAL;
        }
        if (end[1])
            return -EINVAL;
    }
    if (v * mult > 3650 * 86400e3)
        return -EINVAL;
    *ret_ms = (uint64_t)(v * mult);
    return 0;
}

int gsm_history_cli_parse(struct gsm_history_cli *hc, const char *cmd, int opt, const char *arg) {
    uint64_t v;
    double d;
    switch (opt) {
    case GSM_OPT_HISTORY: hc->path = arg; return 1;
    case GSM_OPT_HISTORY_RETENTION:
        if (gsm_parse_duration_ms(arg, &v) < 0 || v < 3600000) {
            gsm_error("%s: --history-retention wants a duration of at least 1h (e.g. 8d, 36h), not '%s'", cmd, arg);
            return -1;
        }
        hc->o.retention_ms = v;
        return 1;
    case GSM_OPT_HISTORY_MAX_MB: {
        const char *p = arg;
        if (gsm_parse_u64(&p, &v) < 0 || *p || v < 1 || v > (1u << 20)) {
            gsm_error("%s: --history-max-mb wants MiB from 1 to 1048576, not '%s'", cmd, arg);
            return -1;
        }
        hc->o.max_bytes = v << 20;
        return 1;
    }
    case GSM_OPT_HISTORY_FLUSH:
        if (gsm_parse_seconds_arg(arg, 0.1, 3600, &d) < 0) {
            gsm_error("%s: --history-flush wants seconds from 0.1 to 3600, not '%s'", cmd, arg);
            return -1;
        }
        hc->o.flush_ms = (uint64_t)(d * 1000);
        return 1;
    default: return 0;
    }
}

int gsm_history_cli_open(struct gsm_history_cli *hc, const char *cmd) {
    if (!hc->path)
        return GSM_EXIT_OK;
    char err[512];
    int r = gsm_history_open(hc->path, &hc->o, &hc->h, err, sizeof err);
    if (r < 0) {
        gsm_error("%s: --history %s", cmd, err);
        return r == -EACCES || r == -EPERM ? GSM_EXIT_PERM : GSM_EXIT_FAILURE;
    }
    return GSM_EXIT_OK;
}

/* A Go process's memory outside its runtime: RSS - (Sys - HeapReleased), from statistics no
 * older than a minute; 0 when there are none. */
static uint64_t go_nonheap_bytes(const struct gsm_watch_target *t, const struct gsm_watch_sample *s) {
    if (gsm_watch_target_type(t) != GSM_WT_PROCESS || gsm_watch_target_n_go(t) == 0)
        return 0;
    pid_t pid;
    const struct gsm_go_stats *g = gsm_watch_target_go_stats(t, 0, &pid);
    if (!g || g->sys_bytes == 0 || g->taken_ms + 60000 < s->t_ms)
        return 0;
    uint64_t managed = g->sys_bytes > g->heap_released_bytes ? g->sys_bytes - g->heap_released_bytes : 0;
    return s->usage_bytes > managed ? s->usage_bytes - managed : 0;
}

void gsm_history_cli_sample(struct gsm_history_cli *hc, const struct gsm_watch_target *t,
                            const struct gsm_watch_sample *s) {
    if (!hc->h)
        return;
    struct gsm_target_ref ref;
    gsm_watch_target_ref(t, &ref);
    gsm_history_add_sample(hc->h, &ref, s, go_nonheap_bytes(t, s));
    gsm_history_flush(hc->h, s->t_ms, false);
}

void gsm_history_cli_event(struct gsm_history_cli *hc, const struct gsm_watch_event *ev) {
    if (!hc->h || ev->resolved)
        return;
    switch (ev->kind) {
    case GSM_WK_OOM_KILL: case GSM_WK_OOM: case GSM_WK_MAX: case GSM_WK_HIGH: case GSM_WK_FAILCNT: break;
    default: return;
    }
    /* The peak before it: the largest usage in the flight-recorder ring. */
    uint64_t peak = 0, limit = UINT64_MAX;
    if (ev->target) {
        size_t n = gsm_watch_target_ring_len(ev->target);
        struct gsm_watch_sample s;
        for (size_t i = 0; i < n; i++)
            if (gsm_watch_target_ring_get(ev->target, i, &s)) {
                if (s.usage_bytes > peak)
                    peak = s.usage_bytes;
                limit = s.limit_is_node ? UINT64_MAX : s.limit_bytes;
            }
    }
    gsm_history_add_event(hc->h, &ev->ref, ev->time_ms, gsm_watch_kind_name(ev->kind), limit, peak);
    if (ev->kind == GSM_WK_OOM_KILL)
        gsm_history_flush(hc->h, ev->time_ms, true);
}

void gsm_history_cli_close(struct gsm_history_cli *hc) {
    gsm_history_close(hc->h);
    hc->h = NULL;
}
