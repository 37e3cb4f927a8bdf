#include "cmd/cgroup_gather.h"
#include "readers/cgroup.h"
#include "readers/proc_handle.h"
#include "readers/proc_snapshot.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* loc is set: read the memory files and the ancestors' limits, then analyse. */
static int read_and_analyse(const struct gsm_root *root, struct gsm_cgroup_report *r) {
    int k = gsm_cgroup_memory_read(root, &r->loc, &r->mem);
    if (k < 0)
        return k;
    struct gsm_cg_ancestry anc;
    bool have_anc = gsm_cgroup_read_ancestors(root, &r->loc, &anc) == 0;
    k = gsm_cgroup_report_analyse(r, have_anc ? &anc : NULL);
    if (have_anc)
        gsm_cg_ancestry_free(&anc);
    return k;
}

int gsm_cgroup_report_for_pid(const struct gsm_root *root, pid_t pid, struct gsm_cgroup_report *ret) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0) {
        memset(ret, 0, sizeof *ret);
        return r;
    }
    return gsm_cgroup_report_for_proc(root, &h, ret);
}

int gsm_cgroup_report_for_proc(const struct gsm_root *root, const struct gsm_proc *h, struct gsm_cgroup_report *ret) {
    memset(ret, 0, sizeof *ret);
    ret->victim = -1;
    int r = gsm_cgroup_locate_proc(root, h, &ret->loc);
    if (r < 0)
        return r;
    r = read_and_analyse(root, ret);
    if (r < 0)
        gsm_cgroup_report_free(ret);
    return r;
}

/* One member, with smaps. A process whose smaps cannot be used (malformed, unreadable) stays
 * listed from its status, with complete false and the reason: it is not gone. Returns 0,
 * -ESRCH (gone: exited since cgroup.procs was read), -ENOMEM. */
static int read_member(const struct gsm_root *root, pid_t pid, struct gsm_cgroup_member *m) {
    gsm_process_init(&m->proc, pid);
    struct gsm_read_opts opts = {.smaps = true, .best_effort = true};
    struct gsm_read_error err = {0};
    int k = gsm_process_read_pid(root, pid, &opts, &m->proc, &err);
    m->complete = k == 0 && m->proc.n_missing == 0;
    if (k == 0 && !m->complete)
        snprintf(m->reason, sizeof m->reason, "not readable: %s%s", m->proc.missing[0],
                 m->proc.n_missing > 1 ? " and more" : "");
    if (k == 0 || k == -ENOMEM || k == -ESRCH || k == -ENOENT) {
        if (k < 0) {
            gsm_debug("cgroup member %d: %s: %s", (int)pid, err.file, strerror(-k));
            gsm_process_free(&m->proc);
        }
        return k == -ENOENT ? -ESRCH : k;
    }
    if (err.parse.line)
        snprintf(m->reason, sizeof m->reason, "%s: line %zu: %s", err.file, err.parse.line, err.parse.what);
    else
        snprintf(m->reason, sizeof m->reason, "%s: %s", err.file, err.parse.what[0] ? err.parse.what : strerror(-k));
    gsm_warn("cgroup member %d: %s; listed from its status without smaps", (int)pid, m->reason);
    gsm_process_free(&m->proc);
    gsm_process_init(&m->proc, pid);
    opts.smaps = false;
    struct gsm_read_error err2 = {0};
    k = gsm_process_read_pid(root, pid, &opts, &m->proc, &err2);
    if (k < 0) {
        gsm_debug("cgroup member %d: %s: %s", (int)pid, err2.file, strerror(-k));
        gsm_process_free(&m->proc);
        return k == -ENOMEM ? k : -ESRCH;
    }
    m->complete = false;
    return 0;
}

/* Every process of the cgroup and its descendants, read with smaps. */
static int read_members(const struct gsm_root *root, struct gsm_cgroup_report *ret) {
    _cleanup_close_ int dirfd = openat(root->fd, ret->loc.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    struct gsm_pid_list pids;
    int r = gsm_cgroup_procs_read_tree(dirfd, &pids);
    if (r < 0)
        return r;
    ret->members = calloc(pids.n ? pids.n : 1, sizeof *ret->members);
    if (!ret->members) {
        gsm_pid_list_free(&pids);
        return -ENOMEM;
    }
    for (size_t i = 0; i < pids.n; i++) {
        int k = read_member(root, pids.pids[i], &ret->members[ret->n_members]);
        if (k == -ENOMEM) {
            gsm_pid_list_free(&pids);
            return k;
        }
        if (k < 0)
            ret->n_members_gone++;
        else
            ret->n_members++;
    }
    gsm_pid_list_free(&pids);
    gsm_cgroup_report_rank(ret);
    return 0;
}

int gsm_cgroup_report_for_path(const struct gsm_root *root, const char *path, struct gsm_cgroup_report *ret) {
    memset(ret, 0, sizeof *ret);
    ret->victim = -1;
    int r = gsm_cgroup_locate_path(root, path, &ret->loc);
    if (r < 0)
        return r;
    r = read_and_analyse(root, ret);
    if (r == 0)
        r = read_members(root, ret);
    if (r < 0)
        gsm_cgroup_report_free(ret);
    return r;
}
