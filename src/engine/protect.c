/* --protect NAME=ADJ: the processes whose comm is NAME get oom_score_adj ADJ, once per process
 * (PID and start time), each change or refusal an event (kind "protect"). /proc is scanned at
 * most once a second: a comm read per process, the handle and the write only for a match. */
#include "engine/engine_internal.h"
#include "readers/proc_oom_adj.h"
#include "util/log.h"
#include "util/parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROTECT_SCAN_MS 1000

int gsm_protect_rule_parse(const char *arg, struct gsm_protect_rule *ret, char *err, size_t err_len) {
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg) {
        snprintf(err, err_len, "--protect '%s': expected NAME=ADJ (a process name, -1000..1000)", arg);
        return -EINVAL;
    }
    size_t n = (size_t)(eq - arg);
    if (n >= sizeof ret->comm) {
        snprintf(err, err_len, "--protect '%s': NAME is longer than 15 bytes, the kernel's comm never matches it", arg);
        return -EINVAL;
    }
    const char *p = eq + 1;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    uint64_t v;
    if (*p < '0' || *p > '9' || gsm_parse_u64(&p, &v) < 0 || *p || v > 1000) {
        snprintf(err, err_len, "--protect '%s': ADJ must be an integer from -1000 to 1000", arg);
        return -EINVAL;
    }
    memcpy(ret->comm, arg, n);
    ret->comm[n] = 0;
    ret->adj = neg ? -(int)v : (int)v;
    return 0;
}

static const struct gsm_protect_rule *rule_for(const struct gsm_watch *w, const char *comm) {
    for (size_t i = 0; i < w->o.n_protect; i++)
        if (strcmp(w->o.protect[i].comm, comm) == 0)
            return &w->o.protect[i];
    return NULL;
}

static struct protect_done *done_find(struct gsm_watch *w, pid_t pid, uint64_t start) {
    for (size_t i = 0; i < w->n_protect_done; i++)
        if (w->protect_done[i].pid == pid && w->protect_done[i].start == start)
            return &w->protect_done[i];
    return NULL;
}

static void done_add(struct gsm_watch *w, pid_t pid, uint64_t start) {
    if (w->n_protect_done == w->cap_protect_done) {
        size_t cap = w->cap_protect_done ? w->cap_protect_done * 2 : 16;
        struct protect_done *p = realloc(w->protect_done, cap * sizeof *p);
        if (!p)
            return;   /* tried again at the next scan: at worst a second event */
        w->protect_done = p;
        w->cap_protect_done = cap;
    }
    w->protect_done[w->n_protect_done++] = (struct protect_done){.pid = pid, .start = start, .seen = true};
}

static void protect_one(struct gsm_watch *w, pid_t pid, const char *comm, const struct gsm_protect_rule *rule,
                        uint64_t now_ms, gsm_engine_fire_fn fire, void *arg) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    if (gsm_proc_handle_open(w->root, pid, &h) < 0 || !h.have_start)
        return;
    struct protect_done *d = done_find(w, pid, h.start_ticks);
    if (d) {
        d->seen = true;
        return;
    }
    int64_t old = 0;
    int r = gsm_proc_oom_score_adj_set(&h, rule->adj, &old);
    if (r == -ESRCH || r == -ENOENT)
        return;   /* gone */
    done_add(w, pid, h.start_ticks);
    if (r == 0 && old == rule->adj) {
        gsm_debug("protect: %s[%d] already has oom_score_adj %d", comm, (int)pid, rule->adj);
        return;
    }
    struct gsm_watch_event ev = {.time_ms = now_ms, .kind = GSM_WK_PROTECT, .eta_seconds = NAN,
                                 .level = r == 0 ? GSM_WL_INFO : GSM_WL_WARN, .value = rule->adj,
                                 .threshold = NAN};
    ev.ref = (struct gsm_target_ref){.type = GSM_WT_PROCESS, .pid = pid, .starttime = h.start_ticks, .name = comm};
    gsm_watch_event_evidence(&ev, "pid", pid);
    gsm_watch_event_evidence(&ev, "new_oom_score_adj", rule->adj);
    if (r == 0) {
        w->stats.protect_set++;
        ev.threshold = (double)old;
        gsm_watch_event_evidence(&ev, "old_oom_score_adj", (double)old);
        snprintf(ev.message, sizeof ev.message, "oom_score_adj of %.15s[%d] set from %lld to %d (--protect)", comm,
                 (int)pid, (long long)old, rule->adj);
    } else {
        w->stats.protect_refused++;
        gsm_watch_event_evidence(&ev, "errno", -r);
        bool perm = r == -EACCES || r == -EPERM;
        snprintf(ev.message, sizeof ev.message, "oom_score_adj of %.15s[%d] not set to %d: %s%s", comm, (int)pid,
                 rule->adj, strerror(-r),
                 !perm ? ""
                 : rule->adj < 0 ? " (lowering it needs CAP_SYS_RESOURCE)"
                                 : " (the file belongs to the process's user)");
        gsm_warn("protect: %s", ev.message);
    }
    fire(&ev, arg);
}

void gsm_engine_protect_scan(struct gsm_watch *w, uint64_t now_ms, gsm_engine_fire_fn fire, void *arg) {
    if (w->o.n_protect == 0 || (w->protect_scan_ms && now_ms < w->protect_scan_ms + PROTECT_SCAN_MS))
        return;
    w->protect_scan_ms = now_ms;
    int pfd = openat(w->root->fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0)
        return;
    DIR *dir = fdopendir(pfd);
    if (!dir) {
        close(pfd);
        return;
    }
    for (size_t i = 0; i < w->n_protect_done; i++)
        w->protect_done[i].seen = false;
    struct dirent *de;
    while ((de = readdir(dir))) {
        const char *p = de->d_name;
        uint64_t v;
        char comm[32];
        if (gsm_parse_u64(&p, &v) < 0 || *p || v == 0 || v > INT32_MAX)
            continue;
        if (gsm_read_comm_at(dirfd(dir), (pid_t)v, comm, sizeof comm) < 0)
            continue;
        const struct gsm_protect_rule *rule = rule_for(w, comm);
        if (rule)
            protect_one(w, (pid_t)v, comm, rule, now_ms, fire, arg);
    }
    closedir(dir);
    /* forget the processes that are gone (their PIDs may come back as other processes) */
    size_t k = 0;
    for (size_t i = 0; i < w->n_protect_done; i++)
        if (w->protect_done[i].seen)
            w->protect_done[k++] = w->protect_done[i];
    w->n_protect_done = k;
}
