#include "readers/proc_snapshot.h"
#include "readers/elf_go.h"
#include "readers/go_modinfo.h"
#include "readers/proc_files.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <fcntl.h>
#include <string.h>

static int failed(struct gsm_read_error *err, const char *file, int r) {
    snprintf(err->file, sizeof err->file, "%s", file);
    /* A process that exits mid-read makes its files vanish (ENOENT) or return ESRCH. */
    return r == -ENOENT ? -ESRCH : r;
}

/* Optional source: keep going without it, but say so. */
static int optional(struct gsm_process *p, struct gsm_read_error *err, const char *file, int r) {
    if (r == -ENOENT || r == -ESRCH || r == -EACCES || r == -EPERM) {
        gsm_debug("%s not read: %s", file, strerror(-r));
        gsm_process_note_missing(p, file);
        return 0;
    }
    return r < 0 ? failed(err, file, r) : 0;
}

static int read_maps(const struct gsm_proc *h, const struct gsm_read_opts *opts, struct gsm_process *p,
                     struct gsm_read_error *err);

/* After the last file of a read: still the process the handle was opened on? */
static int still_same(const struct gsm_proc *h, struct gsm_read_error *err, const char *last_file) {
    int r = gsm_proc_handle_check(h);
    return r < 0 ? failed(err, last_file, r) : 0;
}

static void read_go_info(const struct gsm_root *root, int procfd, struct gsm_process *p) {
    struct gsm_go_info *go = calloc(1, sizeof *go);
    if (!go)
        return;
    int r;
    if (root->is_host || p->exe_path[0] != '/')
        r = gsm_go_info_read_at(procfd, "exe", go);   /* the magic link works for deleted files too */
    else
        r = gsm_go_info_read_at(root->fd, p->exe_path + 1, go);   /* inside the fixture tree */
    if (r == 0) {
        p->go = go;
        if (go->modinfo) {
            struct gsm_go_buildinfo *bi = calloc(1, sizeof *bi);
            size_t line = 0;
            if (bi && gsm_go_modinfo_parse(go->modinfo, bi, &line) == 0)
                p->go_build = bi;
            else {
                gsm_debug("exe: Go build info malformed at line %zu", line);
                free(bi);
            }
        }
        return;
    }
    if (r != -ENOEXEC)
        gsm_process_note_missing(p, "exe");
    gsm_debug("exe: not Go or unreadable: %s", strerror(-r));
    free(go);
}

int gsm_process_read(const struct gsm_root *root, const struct gsm_proc *h, const struct gsm_read_opts *opts,
                     struct gsm_process *p, struct gsm_read_error *err) {
    memset(err, 0, sizeof *err);
    const int procfd = h->dirfd;
    int r = gsm_read_status_at(procfd, &p->status, &err->parse);
    if (r < 0)
        return failed(err, "status", r);
    p->have_status = true;

    r = gsm_read_stat_at(procfd, &p->stat, &err->parse);
    if (r == 0 && gsm_proc_handle_same_start(h, p->stat.starttime_ticks) < 0)
        return failed(err, "stat", -ESRCH);   /* the PID names another process now */
    if (r == 0)
        p->have_stat = true;
    else if ((r = optional(p, err, "stat", r)) < 0)
        return r;

    r = gsm_read_statm_at(procfd, &p->statm, &err->parse);
    if (r == 0)
        p->have_statm = true;
    else if ((r = optional(p, err, "statm", r)) < 0)
        return r;

    r = gsm_read_int_file_at(procfd, "oom_score", &p->oom_score, &err->parse);
    if (r == 0)
        r = gsm_read_int_file_at(procfd, "oom_score_adj", &p->oom_score_adj, &err->parse);
    if (r == 0)
        p->have_oom = true;
    else if ((r = optional(p, err, "oom_score", r)) < 0)
        return r;

    r = gsm_read_limits_stack_at(procfd, &p->stack_rlimit_bytes, &err->parse);
    if (r == 0)
        p->have_stack_rlimit = true;
    else if ((r = optional(p, err, "limits", r)) < 0)
        return r;

    r = gsm_read_exe_link_at(procfd, p->exe_path, sizeof p->exe_path, &p->exe_deleted);
    if (r == 0)
        read_go_info(root, procfd, p);
    else if (r != -ENOENT)   /* kernel threads have no exe */
        gsm_process_note_missing(p, "exe");

    r = gsm_read_tasks_at(procfd, &p->tasks, &p->n_tasks);
    if (r < 0 && (r = optional(p, err, "task", r)) < 0)
        return r;

    return opts->smaps ? read_maps(h, opts, p, err) : still_same(h, err, "task");
}

int gsm_process_read_pid(const struct gsm_root *root, pid_t pid, const struct gsm_read_opts *opts,
                         struct gsm_process *p, struct gsm_read_error *err) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0) {
        memset(err, 0, sizeof *err);
        return failed(err, "", r);
    }
    return gsm_process_read(root, &h, opts, p, err);
}

int gsm_process_read_smaps(const struct gsm_proc *h, const struct gsm_read_opts *opts, struct gsm_process *p,
                           struct gsm_read_error *err) {
    memset(err, 0, sizeof *err);
    int r = read_maps(h, opts, p, err);
    if (r < 0)
        return r;
    /* status and statm again, right after smaps: the header's RSS and the totals then describe
     * one moment, not the moment before whatever the caller did in between (issue 17: 53.5 vs
     * 55.0 MiB after a Go process's HTTP requests). */
    struct gsm_status st;
    r = gsm_read_status_at(h->dirfd, &st, &err->parse);
    if (r < 0)
        return failed(err, "status", r);
    p->status = st;
    struct gsm_statm sm;
    if (gsm_read_statm_at(h->dirfd, &sm, NULL) == 0) {
        p->statm = sm;
        p->have_statm = true;
    }
    return still_same(h, err, "status");
}

static int read_maps(const struct gsm_proc *h, const struct gsm_read_opts *opts, struct gsm_process *p,
                     struct gsm_read_error *err) {
    const int procfd = h->dirfd;
    int r;
    {
        r = gsm_smaps_read_at(procfd, "smaps", p, &opts->smaps_progress, &err->parse);
        if (r == 0)
            p->have_smaps = true;
        else if (r == -EACCES || r == -EPERM) {
            if (!opts->best_effort)
                return failed(err, "smaps", r);
            gsm_process_note_missing(p, "smaps");
        } else
            return failed(err, "smaps", r);
    }
    if (opts->rollup && p->have_smaps) {
        r = gsm_smaps_read_at(procfd, "smaps_rollup", p, NULL, &err->parse);
        if (r < 0 && (r = optional(p, err, "smaps_rollup", r)) < 0)
            return r;
    }
    return still_same(h, err, opts->rollup && p->have_smaps ? "smaps_rollup" : "smaps");
}
