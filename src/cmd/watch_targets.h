/* The targets named on a command line (`watch` and `serve` take the same ones): PIDs as
 * positional arguments and --cgroup PATHs, added to a watch engine. */
#pragma once

#include "engine/watch.h"
#include "util/proc_broker.h"

#include <getopt.h>
#include <stddef.h>
#include <string.h>

/* Returns GSM_EXIT_OK, or the exit code after printing the one-line error (cmd names the
 * subcommand in messages): 2 not a PID or a bad path, 3 no such process or cgroup, 1 otherwise. */
int gsm_watch_add_cli_targets(struct gsm_watch *w, const struct gsm_root *root, const char *cmd, char *const *pids,
                              size_t n_pids, const char *const *cgroups, size_t n_cgroups);

/* --protect NAME=ADJ (repeatable), for watch and serve: put GSM_PROTECT_LONGOPTS in the getopt
 * table, hand unknown options to gsm_protect_cli_parse(), then point the engine's options at
 * the rules (gsm_protect_cli_apply). */
enum { GSM_OPT_PROTECT = 0x1200 };
#define GSM_PROTECT_LONGOPTS {"protect", required_argument, NULL, GSM_OPT_PROTECT}
#define GSM_PROTECT_USAGE                                                                           \
    "      --protect NAME=ADJ   set oom_score_adj to ADJ (-1000..1000) for every process whose\n"     \
    "                           name (comm) is NAME, once per process; repeatable (lowering\n"       \
    "                           needs CAP_SYS_RESOURCE; each change or refusal is an event)\n"
#define GSM_PROTECT_MAX 32
struct gsm_protect_cli {
    struct gsm_protect_rule rules[GSM_PROTECT_MAX];
    size_t n;
};
/* 1 when opt was --protect, 0 when not, -1 on a bad value (one line printed, prefixed with cmd). */
int gsm_protect_cli_parse(struct gsm_protect_cli *pc, const char *cmd, int opt, const char *arg);
/* Also tells the /proc broker the rules (before the sandbox forks it): inside the sandbox the
 * broker makes the oom_score_adj writes, and only these. */
static inline void gsm_protect_cli_apply(const struct gsm_protect_cli *pc, struct gsm_watch_opts *wo) {
    wo->protect = pc->rules;
    wo->n_protect = pc->n;
    struct gsm_broker_oom_rule br[GSM_PROTECT_MAX];
    _Static_assert(GSM_PROTECT_MAX <= GSM_BROKER_OOM_RULES_MAX, "the broker holds every rule");
    _Static_assert(sizeof br[0].comm == sizeof pc->rules[0].comm, "the same comm size");
    for (size_t i = 0; i < pc->n; i++) {
        memcpy(br[i].comm, pc->rules[i].comm, sizeof br[i].comm);
        br[i].adj = pc->rules[i].adj;
    }
    gsm_broker_allow_oom_adj(br, pc->n);
}
