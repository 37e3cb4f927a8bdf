#include "cmd/watch_targets.h"
#include "readers/proc_access.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/parse.h"

#include <errno.h>
#include <string.h>

int gsm_watch_add_cli_targets(struct gsm_watch *w, const struct gsm_root *root, const char *cmd, char *const *pids,
                              size_t n_pids, const char *const *cgroups, size_t n_cgroups) {
    int r;
    for (size_t i = 0; i < n_pids; i++) {
        const char *p = pids[i];
        uint64_t pid;
        if (gsm_parse_u64(&p, &pid) < 0 || *p || pid == 0 || pid > INT32_MAX) {
            gsm_error("%s: '%s' is not a PID", cmd, pids[i]);
            return GSM_EXIT_USAGE;
        }
        if ((r = gsm_watch_add_pid(w, (pid_t)pid)) < 0) {
            if (r == -ENOENT || r == -ESRCH) {
                char hint[160];
                gsm_proc_notfound_hint(root->fd, hint, sizeof hint);
                gsm_error("no process %s%s", pids[i], hint);
            } else
                gsm_error("%s: process %s: %s", cmd, pids[i], strerror(-r));
            return gsm_exit_from_errno(r == -ESRCH ? -ENOENT : r);
        }
    }
    for (size_t i = 0; i < n_cgroups; i++) {
        if ((r = gsm_watch_add_cgroup(w, cgroups[i])) < 0) {
            if (r == -ENOENT)
                gsm_error("no cgroup %s", cgroups[i]);
            else
                gsm_error("%s: cgroup %s: %s", cmd, cgroups[i],
                          r == -ENOMEDIUM ? "no memory controller mounted" : strerror(-r));
            return r == -ENOENT ? GSM_EXIT_NOTFOUND : r == -EINVAL ? GSM_EXIT_USAGE : gsm_exit_from_errno(r);
        }
    }
    return GSM_EXIT_OK;
}

int gsm_protect_cli_parse(struct gsm_protect_cli *pc, const char *cmd, int opt, const char *arg) {
    if (opt != GSM_OPT_PROTECT)
        return 0;
    char err[256];
    if (pc->n == GSM_PROTECT_MAX) {
        gsm_error("%s: at most %d --protect", cmd, GSM_PROTECT_MAX);
        return -1;
    }
    if (gsm_protect_rule_parse(arg, &pc->rules[pc->n], err, sizeof err) < 0) {
        gsm_error("%s: %s", cmd, err);
        return -1;
    }
    for (size_t i = 0; i < pc->n; i++)
        if (strcmp(pc->rules[i].comm, pc->rules[pc->n].comm) == 0) {
            gsm_error("%s: --protect names '%s' twice", cmd, pc->rules[i].comm);
            return -1;
        }
    pc->n++;
    return 1;
}
