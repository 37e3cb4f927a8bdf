/* The classes tier: memory by class (analyses/classify) for the processes serve exports, from
 * full smaps reads within a time budget per tick; the error accounting of every tier.
 *
 * Which processes: the top N by RSS, chosen stably (analyses/topn: a newcomer must beat the Nth
 * by 10%, a member stays for at least a minute), plus the named processes and the members of
 * the named cgroups, and the Go processes whose statistics are read (with o.classes_all_go: every
 * Go process; serve's Go findings use the totals kept for them, t->go_totals). Which first: every tick, the chosen process whose figures are the most
 * stale weighted by its RSS ((age + interval) x (RSS + 1 MiB); never read: first, largest
 * first), while the tick's budget lasts; none more often than every SMAPS_MIN_INTERVAL_MS, and
 * one that refused (permission) only every SMAPS_DENIED_RETRY_MS. The reads go through one
 * 32 KiB buffer on this thread (readers/proc_smaps_lean).
 * What is kept: the per-class sums (struct gsm_proc_classes, ~0.5 KiB per chosen process),
 * totalled while smaps streams in; the mappings are freed after each read. */
#include "analyses/classify.h"
#include "analyses/go_split.h"
#include "analyses/topn.h"
#include "analyses/totals.h"
#include "engine/engine_internal.h"
#include "readers/elf_go.h"
#include "readers/proc_files.h"
#include "readers/proc_handle.h"
#include "readers/proc_smaps_lean.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SMAPS_MIN_INTERVAL_MS 10000
#define TOPN_MARGIN 0.10
#define TOPN_HOLD_MS 60000
#define ERR_LOG_EVERY_MS 60000
#define ERR_LOG_LINES_PER_MIN 10
/* A process whose smaps we may not read (another user namespace, a dumpable-0 process) is
 * asked again only after this long. */
#define SMAPS_DENIED_RETRY_MS 300000
/* A first read's cost guess: full smaps costs about twice smaps_rollup's page walk (~10 ms per
 * GiB of RSS here) plus the text of the mappings. */
#define SMAPS_US_PER_GIB 20000
#define SMAPS_FIRST_US 300

/* Whether one more per-target error line fits in this minute's ERR_LOG_LINES_PER_MIN (run as a
 * user who may read none of the other users' smaps, --all would print a line for every process
 * of theirs); the ones left out are said in one line when the next minute starts. */
static bool log_budget(struct gsm_watch *w, uint64_t now_ms) {
    if (!w->err_window_ms || now_ms - w->err_window_ms >= ERR_LOG_EVERY_MS) {
        if (w->err_suppressed)
            gsm_warn("%llu more failed reads of processes and cgroups in the last minute were not logged one by one "
                     "(gsmapper_errors_total counts them by tier and reason)",
                     (unsigned long long)w->err_suppressed);
        w->err_window_ms = now_ms;
        w->err_lines = 0;
        w->err_suppressed = 0;
    }
    if (w->err_lines >= ERR_LOG_LINES_PER_MIN) {
        w->err_suppressed++;
        return false;
    }
    w->err_lines++;
    return true;
}

void gsm_engine_count_error(struct gsm_watch *w, struct gsm_watch_tier_stats *st, const char *tier,
                            struct gsm_watch_target *t, const char *what, int r, uint64_t now_ms) {
    enum gsm_watch_err_reason why;
    if (!gsm_watch_err_reason_of(r, &why)) {
        st->gone++;
        return;
    }
    st->errors++;
    st->by_reason[why]++;
    if (t) {
        /* the capability that would have let it read (PRODUCT.md: permission errors name it) */
        const char *hint = why != GSM_WE_PERMISSION       ? ""
                           : t->type == GSM_WT_PROCESS ? "; needs CAP_SYS_PTRACE"
                                                       : "; needs CAP_DAC_READ_SEARCH";
        if (t->last_err_log_ms && now_ms - t->last_err_log_ms < ERR_LOG_EVERY_MS)
            return;
        t->last_err_log_ms = now_ms;
        if (!log_budget(w, now_ms))
            return;
        if (t->type == GSM_WT_PROCESS)
            gsm_warn("%s: pid %d (%s)%s%s: %s (%s%s)", tier, (int)t->pid, t->name, what ? " " : "", what ? what : "",
                     gsm_watch_err_reason_name(why), strerror(-r), hint);
        else
            gsm_warn("%s: cgroup %s%s%s: %s (%s%s)", tier, t->name, what ? " " : "", what ? what : "",
                     gsm_watch_err_reason_name(why), strerror(-r), hint);
        return;
    }
    if (!what || (w->err_log_ms && now_ms - w->err_log_ms < ERR_LOG_EVERY_MS))
        return;
    w->err_log_ms = now_ms;
    gsm_warn("%s: %s: %s (%s)", tier, what, gsm_watch_err_reason_name(why), strerror(-r));
}

/* The members of the named cgroups become (class-only) process targets. */
static void refresh_members(struct gsm_watch *w) {
    size_t n = w->n;
    for (size_t i = 0; i < n; i++) {
        struct gsm_watch_target *cg = w->t[i];
        if (cg->type != GSM_WT_CGROUP || !cg->explicit_target)
            continue;
        struct gsm_pid_list l = {0};
        if (gsm_engine_members(w, cg, 1024, &l) == 0)
            for (size_t k = 0; k < l.n; k++) {
                struct gsm_watch_target *t;
                size_t before = w->n;
                if (gsm_engine_add_process(w, l.pids[k], false, &t) < 0)
                    continue;
                if (w->n > before)
                    t->class_only = true;
                t->pinned_by_cgroup = true;
            }
        gsm_pid_list_free(&l);
    }
}

/* A Go process whose runtime statistics the engine holds (or any Go process with
 * o.classes_all_go): serve's Go findings take its totals from here. */
static bool wants_go_totals(const struct gsm_watch *w, const struct gsm_watch_target *t) {
    if (!t->is_go)
        return false;
    return w->o.classes_all_go || (t->n_go > 0 && t->go[0].pid == t->pid && t->go[0].have);
}

/* Is t Go (looked at once per process; serve --read-env's findings want every Go process). */
static void exe_check(struct gsm_watch *w, struct gsm_watch_target *t) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    if (gsm_proc_handle_open(w->root, t->pid, &h) == 0 && gsm_engine_same_process(t, &h) == 0)
        gsm_engine_exe_is_go(t, h.dirfd);   /* the exe link opened after the check: still this process's while it runs */
}

/* The stable top N (analyses/topn) over the process targets with a sample this tick. */
static void select_processes(struct gsm_watch *w, uint64_t now_ms) {
    struct gsm_topn_item *it = calloc(w->n ? w->n : 1, sizeof *it);
    if (!it)
        return;
    for (size_t i = 0; i < w->n; i++) {
        struct gsm_watch_target *t = w->t[i];
        /* Sampled lately: a tick that a kernel notification caused samples only the woken
         * cgroups, and the processes sampled just before it keep their rank (else every such
         * tick emptied the choice, and its classes with it). */
        bool sampled = t->type == GSM_WT_PROCESS && t->det.have_prev && now_ms - t->det.prev.t_ms < 2 * w->o.interval_ms;
        if (sampled && w->o.classes_all_go && !t->exe_checked)
            exe_check(w, t);
        it[i] = (struct gsm_topn_item){
            .value = sampled ? t->det.prev.usage_bytes : 0,
            .pinned = sampled && (t->explicit_target || t->pinned_by_cgroup || wants_go_totals(w, t)),
            .member = t->selected, .since_ms = t->selected_since_ms,
        };
    }
    struct gsm_topn_opts o = {.n = w->o.top_processes, .margin = TOPN_MARGIN, .hold_ms = TOPN_HOLD_MS};
    int members = gsm_topn_select(it, w->n, &o, now_ms);
    if (members >= 0) {
        w->stats.smaps_selected = (uint64_t)members;
        for (size_t i = 0; i < w->n; i++) {
            struct gsm_watch_target *t = w->t[i];
            t->selected = it[i].member;
            t->selected_since_ms = it[i].since_ms;
            if (!t->selected) {   /* its series go; the figures are read afresh if it comes back */
                free(t->cls);
                t->cls = NULL;
                free(t->go_totals);
                t->go_totals = NULL;
            }
        }
    }
    free(it);
}

struct streaming {
    struct gsm_classifier c;
    struct gsm_totals totals;
    size_t totalled;
};

static void advance(struct streaming *st, bool complete) {
    size_t done = gsm_classifier_advance(&st->c, complete);
    gsm_totals_add(&st->totals, st->c.p, st->totalled, done);
    st->totalled = done;
}

static void on_reclassed(void *arg, const struct gsm_mapping *m, enum gsm_class from) {
    struct streaming *st = arg;
    if ((size_t)(m - st->c.p->maps) < st->totalled)
        gsm_totals_move(&st->totals, m, from);
}

static void on_progress(struct gsm_process *p, void *arg) {
    (void)p;
    advance(arg, false);
}

static void go_parts(const struct gsm_watch_target *t, const struct gsm_totals *tot, uint64_t taken_ms,
                     struct gsm_proc_classes *pc) {
    for (size_t i = 0; i < t->n_go; i++) {
        const struct go_member *g = &t->go[i];
        struct gsm_go_split sp;
        if (g->pid != t->pid || !g->have || gsm_go_split_compute(tot, &g->stats, taken_ms, &sp) < 0)
            continue;
        pc->go_parts[GSM_GP_HEAP_INUSE] = sp.heap_inuse_bytes;
        pc->go_parts[GSM_GP_STACKS] = sp.stacks_bytes;
        pc->go_parts[GSM_GP_IDLE_RETAINED] = sp.idle_retained_bytes;
        pc->go_parts[GSM_GP_RELEASED_RESIDENT] = sp.released_resident_bytes;
        pc->go_parts[GSM_GP_RUNTIME_METADATA] = sp.runtime_rss_bytes;
        pc->have_go = true;
        return;
    }
}

bool gsm_engine_exe_is_go(struct gsm_watch_target *t, int dirfd) {
    if (!t->exe_checked) {
        struct gsm_go_info gi;
        t->exe_checked = true;
        if (gsm_go_info_read_at(dirfd, "exe", &gi) == 0) {
            t->is_go = true;
            snprintf(t->goarch, sizeof t->goarch, "%s", gi.goarch);
            gsm_go_info_free(&gi);
        }
    }
    return t->is_go;
}

/* One full smaps read of t, classified and totalled as it streams in. */
static int read_classes(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(w->root, t->pid, &h);
    if (r < 0)
        return r;
    if (!h.have_start || h.start_ticks != t->starttime)
        return -ESRCH;
    gsm_engine_exe_is_go(t, h.dirfd);
    struct gsm_process *p = malloc(sizeof *p);
    struct streaming *st = calloc(1, sizeof *st);
    struct gsm_go_info go = {0};
    if (!p || !st) {
        free(p);
        free(st);
        return -ENOMEM;
    }
    gsm_process_init(p, t->pid);
    bool deleted;
    if (gsm_read_exe_link_at(h.dirfd, p->exe_path, sizeof p->exe_path, &deleted) == 0)
        p->exe_deleted = deleted;
    if (t->is_go) {   /* the classifier needs only that it is Go, and its GOARCH */
        snprintf(go.goarch, sizeof go.goarch, "%s", t->goarch);
        p->go = &go;
    }
    gsm_classifier_init(&st->c, p);
    st->c.reclassed = on_reclassed;
    st->c.reclassed_arg = st;
    struct gsm_smaps_progress prog = {on_progress, st};
    struct gsm_parse_error err;
    r = gsm_smaps_read_lean_at(h.dirfd, "smaps", p, &prog, &err);
    if (r == 0 && gsm_engine_same_process(t, &h) < 0)
        r = -ESRCH;   /* a recycled PID's mappings are not this target's */
    if (r == 0) {
        advance(st, true);
        if (!t->cls)
            t->cls = calloc(1, sizeof *t->cls);
        if (!t->cls)
            r = -ENOMEM;
    }
    if (r == 0) {
        struct gsm_proc_classes *pc = t->cls;
        memset(pc, 0, sizeof *pc);
        for (int c = 0; c < GSM_CLASS__COUNT; c++) {
            const struct gsm_class_totals *ct = &st->totals.cls[c];
            pc->bytes[c][GSM_CK_RSS] = ct->rss_bytes;
            pc->bytes[c][GSM_CK_PSS] = ct->pss_bytes;
            pc->bytes[c][GSM_CK_SWAP] = ct->swap_bytes;
            pc->bytes[c][GSM_CK_USS] = ct->uss_bytes;
        }
        pc->taken_ms = now_ms;
        go_parts(t, &st->totals, now_ms, pc);
        if (t->is_go && (t->go_totals || (t->go_totals = malloc(sizeof *t->go_totals)))) {
            *t->go_totals = st->totals;
            t->go_totals->n_top = 0;   /* indices into mappings that are freed below */
        }
    }
    p->go = NULL;   /* the stub above is not the process's to free */
    gsm_process_free(p);
    free(p);
    free(st);
    return r;
}

static uint64_t cost_guess_us(const struct gsm_watch_target *t) {
    if (t->smaps_cost_us)
        return t->smaps_cost_us;
    return (t->det.prev.usage_bytes * SMAPS_US_PER_GIB >> 30) + SMAPS_FIRST_US;
}

/* The chosen target whose figures are the most stale weighted by its size and that fits what
 * is left of the budget (the first read of a tick always fits). */
static struct gsm_watch_target *next_target(struct gsm_watch *w, uint64_t now_ms, int64_t left_us, bool first) {
    struct gsm_watch_target *best = NULL;
    double best_score = 0;
    for (size_t i = 0; i < w->n; i++) {
        struct gsm_watch_target *t = w->t[i];
        if (!t->selected || t->smaps_tick == w->ticks)
            continue;
        if (t->smaps_attempt_ms && now_ms - t->smaps_attempt_ms < SMAPS_MIN_INTERVAL_MS)
            continue;
        if (now_ms < t->smaps_retry_ms)
            continue;
        if (!first && (int64_t)cost_guess_us(t) > left_us)
            continue;
        double mib = (double)t->det.prev.usage_bytes / 1048576.0 + 1.0;
        double age_s = t->cls ? (double)(now_ms - t->cls->taken_ms) / 1000.0 : 1e9;
        double score = (age_s + (double)w->o.interval_ms / 1000.0) * mib;
        if (!best || score > best_score) {
            best = t;
            best_score = score;
        }
    }
    return best;
}

void gsm_engine_classes_tick(struct gsm_watch *w, uint64_t now_ms) {
    if (w->ticks % REFRESH_TICKS == 1)
        refresh_members(w);
    select_processes(w, now_ms);
    int64_t left_us = (int64_t)w->o.smaps_budget_us;
    for (bool first = true; left_us > 0; first = false) {
        struct gsm_watch_target *t = next_target(w, now_ms, left_us, first);
        if (!t)
            break;
        uint64_t t0 = gsm_engine_mono_ns();
        int r = read_classes(w, t, now_ms);
        uint64_t spent_ns = gsm_engine_mono_ns() - t0;
        w->stats.smaps.reads++;
        w->stats.smaps.ns += spent_ns;
        t->smaps_tick = w->ticks;
        t->smaps_attempt_ms = now_ms;
        if (r == -EACCES || r == -EPERM)
            t->smaps_retry_ms = now_ms + SMAPS_DENIED_RETRY_MS;
        if (r < 0)
            gsm_engine_count_error(w, &w->stats.smaps, "smaps", t, NULL, r, now_ms);
        else
            t->smaps_cost_us = spent_ns / 1000 + 1;
        left_us -= (int64_t)(spent_ns / 1000);
    }
}
