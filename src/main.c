/* gsmapper: where a Linux process's or container's memory goes, and whether the OOM killer is
 * coming. One binary, git-style subcommands; this file is only the dispatch table. */
#include "cmd/commands.h"
#include "util/exitcode.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"explain", cmd_explain, "one-shot attribution of a process's memory, by mapping and by class"},
    {"watch", cmd_watch, "the OOM sentinel: forecasts, sudden growth, kernel OOM signals, flight recorder"},
    {"serve", cmd_serve, "Prometheus exporter (/metrics) with the watch engine inside"},
    {"report", cmd_report, "one offline HTML page: flame graph, heat map over time, address space, diff"},
    {"advise", cmd_advise, "memory request/limit and GOMEMLIMIT recommendations from a --history"},
    {"drill", cmd_drill, "prove the OOM warning path end to end: a controlled leak in a child cgroup"},
    {"symbolize", cmd_symbolize, "map program counters of a Go binary or process to function and file:line"},
};

static void usage(FILE *out) {
    fprintf(out, "Usage: gsmapper COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'gsmapper COMMAND --help' for a command's options.\n"
                 "Exit codes: 0 ok, 1 failure, 2 usage, 3 target not found, 4 permission denied\n"
                 "(drill: 5 no memory controller to use).\n");
}

int main(int argc, char **argv) {
    const char *dbg = getenv("GSMAPPER_DEBUG");
    gsm_debug_enabled = dbg && strcmp(dbg, "1") == 0;
    if (argc < 2) {
        usage(stderr);
        return GSM_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return GSM_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("gsmapper %s\n", GSM_VERSION);
        return GSM_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    gsm_error("unknown command '%s' (see 'gsmapper --help')", argv[1]);
    return GSM_EXIT_USAGE;
}
