#include "cmd/serve_findings.h"
#include "readers/proc_handle.h"
#include "analyses/cgroup_analysis.h"
#include "analyses/findings.h"
#include "analyses/go_split.h"
#include "readers/elf_go.h"
#include "model/process.h"
#include "readers/host.h"
#include "readers/proc_environ.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

static struct gsm_metrics_finding *add_row(struct serve_findings *out) {
    if (out->n == out->cap) {
        size_t nc = out->cap ? out->cap * 2 : 16;
        struct gsm_metrics_finding *nr = realloc(out->r, nc * sizeof *nr);
        if (!nr)
            return NULL;
        out->r = nr;
        out->cap = nc;
    }
    struct gsm_metrics_finding *row = &out->r[out->n++];
    memset(row, 0, sizeof *row);
    return row;
}

static void add_findings(struct serve_findings *out, const struct gsm_findings *f, bool go_rules_only,
                         const char *cgroup, const char *pod_uid, pid_t pid) {
    for (size_t k = 0; k < f->n; k++) {
        bool go_rule = f->items[k].category == GSM_RULE_GO;
        if (go_rules_only != go_rule)
            continue;
        struct gsm_metrics_finding *row = add_row(out);
        if (!row)
            return;
        snprintf(row->id, sizeof row->id, "%s", f->items[k].id);
        snprintf(row->severity, sizeof row->severity, "%s", gsm_severity_name(f->items[k].severity));
        snprintf(row->category, sizeof row->category, "%s", gsm_rule_category_name(f->items[k].category));
        snprintf(row->cgroup, sizeof row->cgroup, "%s", cgroup ? cgroup : "");
        snprintf(row->pod_uid, sizeof row->pod_uid, "%s", pod_uid ? pod_uid : "");
        row->pid = pid;
    }
}

/* The cgroup-level rules for one watched cgroup, on what the engine read this tick. Go rules
 * are left to the per-process pass: they need a process's classes and statistics. */
static void cgroup_findings(const struct gsm_watch_target *t, const struct gsm_host_info *host,
                            struct serve_findings *out) {
    const struct gsm_cgroup_memory *mem = gsm_watch_target_cgroup_memory(t);
    if (!mem)
        return;
    struct gsm_findings_input in = {.cg = mem, .eff = gsm_watch_target_limits(t),
                                    .bd = gsm_watch_target_cgroup_breakdown(t), .host = host};
    struct gsm_findings f = {0};
    out->evaluated[GSM_RULE_CGROUP]++;
    if (gsm_findings_evaluate(&in, &f) >= 0) {
        struct gsm_container_identity id;
        gsm_watch_target_identity(t, &id);
        add_findings(out, &f, false, gsm_watch_target_cgroup(t), id.pod_uid, 0);
    }
    gsm_findings_free(&f);
}

/* The process target of pid (the classes tier keeps a Go process's totals there). */
static const struct gsm_watch_target *process_target(struct gsm_watch *w, pid_t pid) {
    for (size_t i = 0; i < gsm_watch_n_targets(w); i++) {
        const struct gsm_watch_target *t = gsm_watch_target_at(w, i);
        if (gsm_watch_target_type(t) == GSM_WT_PROCESS && gsm_watch_target_pid(t) == pid)
            return t;
    }
    return NULL;
}

/* The Go rules for one Go process, as `explain PID` evaluates them, on what the engine holds:
 * the per-class totals of the classes tier's last full smaps read (with the time it was taken,
 * so the Go split knows how far apart the two readings are; nothing is read again here), the
 * cgroup of the target it was found through as read this tick, the runtime statistics polled
 * this tick (NULL otherwise) and, with read_env, the four Go keys of its environment. Before the
 * tier's first read the rules that need the classes stay silent. */
static void go_findings(const struct gsm_root *root, struct gsm_watch *w, const struct gsm_watch_target *t, pid_t pid,
                        const struct gsm_go_stats *stats, bool read_env, const struct gsm_host_info *host,
                        struct serve_findings *out) {
    const struct gsm_watch_target *pt = process_target(w, pid);
    uint64_t taken_ms = 0;
    const struct gsm_totals *totals = pt ? gsm_watch_target_go_totals(pt, &taken_ms) : NULL;
    struct gsm_go_info go = {0};   /* the rules need only to know the process is Go */
    struct gsm_process proc;
    gsm_process_init(&proc, pid);
    proc.go = &go;
    struct gsm_go_split split;
    bool have_split = stats && totals && gsm_go_split_compute(totals, stats, taken_ms, &split) == 0;
    struct gsm_go_env env;
    bool have_env = false;
    if (read_env) {
        _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
        have_env = gsm_proc_handle_open(root, pid, &h) == 0 && gsm_read_go_env_at(h.dirfd, &env) == 0;
    }
    const struct gsm_cgroup_memory *cg = gsm_watch_target_cgroup_memory(t);
    struct gsm_findings_input in = {
        .go_env = have_env ? &env : NULL,
        .proc = &proc, .totals = totals, .host = host, .go_stats = stats, .go_split = have_split ? &split : NULL,
        .cg = cg, .eff = cg ? gsm_watch_target_limits(t) : NULL, .bd = cg ? gsm_watch_target_cgroup_breakdown(t) : NULL,
    };
    struct gsm_findings f = {0};
    out->evaluated[GSM_RULE_GO]++;
    if (gsm_findings_evaluate(&in, &f) >= 0) {
        struct gsm_container_identity id;
        gsm_watch_target_identity(t, &id);
        add_findings(out, &f, true, cg ? gsm_watch_target_cgroup(t) : NULL, cg ? id.pod_uid : NULL, pid);
    }
    gsm_findings_free(&f);
    proc.go = NULL;   /* on this stack, not the process's to free */
    gsm_process_free(&proc);
}

/* Is this process target Go? Remembered by PID and start time; a new process (or a recycled
 * PID) is inspected once, through the executable's .go.buildinfo (as watch's Go discovery). */
static bool target_is_go(const struct gsm_root *root, const struct gsm_watch_target *t, struct serve_findings *f,
                         struct serve_go_known *next, size_t *n_next) {
    pid_t pid = gsm_watch_target_pid(t);
    uint64_t starttime = gsm_watch_target_starttime(t);
    int engine_knows = gsm_watch_target_is_go(t);   /* the engine looked at the executable already */
    bool go = engine_knows > 0, found = engine_knows >= 0;
    for (size_t k = 0; k < f->n_known && !found; k++)
        if (f->known[k].pid == pid && f->known[k].starttime == starttime) {
            go = f->known[k].go;
            found = true;
        }
    if (!found) {
        _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
        struct gsm_go_info gi;
        go = gsm_proc_handle_open(root, pid, &h) == 0 && gsm_go_info_read_at(h.dirfd, "exe", &gi) == 0;
        if (go)
            gsm_go_info_free(&gi);
    }
    if (next)
        next[(*n_next)++] = (struct serve_go_known){pid, starttime, go};
    return go;
}

void serve_findings_evaluate(const struct gsm_root *root, struct gsm_watch *w, bool read_env,
                             struct serve_findings *out) {
    out->n = 0;
    struct gsm_host_info host;
    bool have_host = gsm_host_info_read(root, &host) == 0;
    const struct gsm_host_info *hp = have_host ? &host : NULL;
    size_t n_targets = gsm_watch_n_targets(w), n_next = 0;
    struct serve_go_known *next = read_env ? calloc(n_targets ? n_targets : 1, sizeof *next) : NULL;
    pid_t done[SERVE_GO_FINDINGS_MAX];
    size_t n_done = 0;
    for (size_t i = 0; i < n_targets; i++) {
        const struct gsm_watch_target *t = gsm_watch_target_at(w, i);
        if (gsm_watch_target_type(t) == GSM_WT_CGROUP)
            cgroup_findings(t, hp, out);
        /* Go processes with statistics; a Go process can be a process target and a cgroup's
         * member: once per call. */
        for (size_t g = 0; g < gsm_watch_target_n_go(t) && n_done < SERVE_GO_FINDINGS_MAX; g++) {
            pid_t pid = 0;
            const struct gsm_go_stats *st = gsm_watch_target_go_stats(t, g, &pid);
            bool seen = false;
            for (size_t k = 0; k < n_done && !seen; k++)
                seen = done[k] == pid;
            if (!st || seen)
                continue;
            done[n_done++] = pid;
            go_findings(root, w, t, pid, st, read_env, hp, out);
        }
        /* With the environment readable, Go process targets without statistics too. */
        if (read_env && next && gsm_watch_target_type(t) == GSM_WT_PROCESS && n_done < SERVE_GO_FINDINGS_MAX) {
            pid_t pid = gsm_watch_target_pid(t);
            bool seen = false;
            for (size_t k = 0; k < n_done && !seen; k++)
                seen = done[k] == pid;
            if (seen || !target_is_go(root, t, out, next, &n_next))
                continue;
            done[n_done++] = pid;
            go_findings(root, w, t, pid, NULL, read_env, hp, out);
        }
    }
    if (next) {
        free(out->known);
        out->known = next;
        out->n_known = n_next;
    }
}

void serve_findings_free(struct serve_findings *f) {
    free(f->r);
    free(f->known);
    memset(f, 0, sizeof *f);
}
