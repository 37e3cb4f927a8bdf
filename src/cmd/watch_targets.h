/* The targets named on a command line (`watch` and `serve` take the same ones): PIDs as
 * positional arguments and --cgroup PATHs, added to a watch engine. */
#pragma once

#include "engine/watch.h"

#include <stddef.h>

/* Returns GSM_EXIT_OK, or the exit code after printing the one-line error (cmd names the
 * subcommand in messages): 2 not a PID or a bad path, 3 no such process or cgroup, 1 otherwise. */
int gsm_watch_add_cli_targets(struct gsm_watch *w, const struct gsm_root *root, const char *cmd, char *const *pids,
                              size_t n_pids, const char *const *cgroups, size_t n_cgroups);
