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
        struct gsm_cgroup_member *m = &ret->members[ret->n_members];
        gsm_process_init(&m->proc, pids.pids[i]);
        struct gsm_read_opts opts = {.smaps = true, .best_effort = true};
        struct gsm_read_error err;
        int k = gsm_process_read_pid(root, pids.pids[i], &opts, &m->proc, &err);
        if (k < 0) {
            /* Exited since cgroup.procs was read (or unreadable): counted, not fatal. */
            gsm_debug("cgroup member %d: %s: %s", (int)pids.pids[i], err.file, strerror(-k));
            gsm_process_free(&m->proc);
            ret->n_members_gone++;
            continue;
        }
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
