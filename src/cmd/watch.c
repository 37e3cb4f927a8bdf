/* gsmapper watch: the OOM sentinel. Wires analyses/watch (targets, tiered sampling, detectors)
 * to renderers/event_render (JSON lines or text), --exec, and renderers/recorder (bundles). */
#include "engine/watch.h"
#include "cmd/commands.h"
#include "cmd/history_cli.h"
#include "cmd/watch_bundles.h"
#include "cmd/watch_targets.h"
#include "renderers/event_render.h"
#include "renderers/json_text.h"
#include "recorder/recorder.h"
#include "util/sandbox.h"
#include "util/cleanup.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/memtrim.h"
#include "util/parse.h"
#include "util/root.h"
#include "util/units.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "Usage: gsmapper watch [PID...] [--cgroup PATH...] [--all] [OPTIONS]\n"
    "\n"
    "Samples processes and cgroups every tick from cheap sources (status, cgroup files, PSI),\n"
    "forecasts the time to the memory limit from a robust trend (Theil-Sen) of the memory the\n"
    "kernel cannot reclaim (for Go processes with reachable statistics: the heap goal of the\n"
    "last GC instead of the GC sawtooth), flags sudden growth (Z-score), pressure and the\n"
    "kernel's own OOM signals, and prints one event per condition (and one when it resolves).\n"
    "A flight recorder keeps the last minutes of samples and writes a bundle on a critical\n"
    "event or an OOM kill.\n"
    "\n"
    "Options:\n"
    "      --cgroup PATH        watch a memory cgroup (repeatable)\n"
    "      --all                every cgroup with a memory limit, and every process but kernel threads\n"
    "      --interval SECONDS   tick (default 2)\n"
    "      --horizon SECONDS    warn when the time to the limit falls under this (default 300)\n"
    "      --window SECONDS     trend window (default 120; a 20 s window runs beside it)\n"
    "      --baseline SECONDS   growth Z-score baseline (default 180)\n"
    "      --z-threshold Z      sudden-growth threshold (default 3.5)\n"
    "      --warmup SECONDS     the 20/120 s trend waits this long after a process (a cgroup's\n"
    "                           oldest) starts (default 20); a sustained rise is judged from the start\n"
    "      --rollup-budget-ms MS  kernel time per tick for smaps_rollup (default 5)\n"
    GSM_RECORDER_USAGE
    GSM_HISTORY_USAGE
    GSM_PROTECT_USAGE
    "      --exec CMD           run CMD (/bin/sh -c) for each event, the event JSON on stdin\n"
    "      --duration SECONDS   stop after this long (default: until SIGINT/SIGTERM)\n"
    "      --emit-samples       print every sample too (schema gsmapper.sample/v1)\n"
    "      --no-go-stats        do not read Go runtime statistics over HTTP\n"
    "      --stats              on exit, print what each sampling tier cost\n"
    "  -o, --output FORMAT      json (JSON lines, default) or text\n"
    "      --root DIR           read /proc and /sys under DIR\n"
    "      --no-sandbox         do not restrict this process (no_new_privs, Landlock, seccomp;\n"
    "                           docs/sandbox.md); also GSMAPPER_SANDBOX=off\n"
    "  -h, --help               this text\n"
    "\n"
    "Exit codes: 0 ok; 1 runtime failure; 2 usage; 3 a named target does not exist;\n"
    "4 permission denied.\n";

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

struct watch_ctx {
    struct gsm_watch *w;
    bool text, emit_samples;
    const char *exec_cmd;
    struct gsm_recorder *rec;
    const struct gsm_root *root;
    struct gsm_history_cli *hist;
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --exec: the event on the command's stdin; not waited for (reaped each tick), so a slow
 * handler never stalls sampling. */
static void run_exec(const char *cmd, const char *json) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        dup2(fds[0], STDIN_FILENO);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    size_t len = strlen(json), off = 0;
    signal(SIGPIPE, SIG_IGN);
    while (off < len) {
        ssize_t n = write(fds[1], json + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (write(fds[1], "\n", 1) < 0) { /* the handler closed its stdin: fine */ }
    close(fds[1]);
}

static void on_event(const struct gsm_watch_event *ev, void *userdata) {
    struct watch_ctx *c = userdata;
    gsm_history_cli_event(c->hist, ev);
    struct json_object *o = gsm_event_to_json(ev, NULL);
    char *json = gsm_json_text(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!json) {
        json_object_put(o);
        return;
    }
    if (c->text)
        gsm_event_print_text(ev, NULL, stdout);
    else
        fprintf(stdout, "%s\n", json);
    fflush(stdout);
    if (c->exec_cmd)
        run_exec(c->exec_cmd, json);
    if (ev->wants_bundle && c->rec)   /* written by a writer process; reaped each tick */
        gsm_watch_start_bundle(c->rec, c->root, ev, json, gsm_watch_bundle_event_json(ev, ""));
    free(json);
    json_object_put(o);
}

/* A bundle is written: a second event says where. */
static void on_bundle(struct json_object *bo, const char *path, void *userdata) {
    struct watch_ctx *c = userdata;
    if (c->text)
        fprintf(stdout, "bundle written: %s\n", path);
    else
        gsm_json_line(bo, stdout);
    fflush(stdout);
    if (c->exec_cmd) {
        char *bjson = gsm_json_text(bo, JSON_C_TO_STRING_PLAIN);
        if (bjson)
            run_exec(c->exec_cmd, bjson);
        free(bjson);
    }
}

static void on_sample(const struct gsm_watch_target *t, const struct gsm_watch_sample *s, void *userdata) {
    struct watch_ctx *c = userdata;
    gsm_history_cli_sample(c->hist, t, s);
    if (!c->emit_samples)
        return;
    struct gsm_target_ref ref;
    gsm_watch_target_ref(t, &ref);
    struct json_object *o = gsm_sample_to_json(&ref, s);
    gsm_json_line(o, stdout);
    json_object_put(o);
}

static int parse_seconds(const char *arg, const char *opt, double min, double *ret) {
    if (gsm_parse_seconds_arg(arg, min, 86400 * 365, ret) < 0) {
        gsm_error("watch: %s wants a number of seconds >= %g, not '%s'", opt, min, arg);
        return -EINVAL;
    }
    return 0;
}

static void print_stats(const struct gsm_watch_stats *s, size_t targets, uint64_t wall_ms) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_string("gsmapper.watch-stats/v1"));
    json_object_object_add(o, "ticks", json_object_new_uint64(s->ticks));
    json_object_object_add(o, "targets", json_object_new_uint64(targets));
    json_object_object_add(o, "events", json_object_new_uint64(s->events));
    json_object_object_add(o, "wall_seconds", json_object_new_double((double)wall_ms / 1000.0));
    const struct {
        const char *name;
        const struct gsm_watch_tier_stats *t;
    } tiers[] = {{"status", &s->status}, {"cgroup", &s->cgroup}, {"smaps_rollup", &s->rollup},
                 {"go_http", &s->go_http}, {"detectors", &s->detect}};
    struct json_object *ts = json_object_new_object();
    for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++) {
        struct json_object *x = json_object_new_object();
        json_object_object_add(x, "reads", json_object_new_uint64(tiers[i].t->reads));
        json_object_object_add(x, "errors", json_object_new_uint64(tiers[i].t->errors));
        json_object_object_add(x, "seconds", json_object_new_double((double)tiers[i].t->ns / 1e9));
        json_object_object_add(ts, tiers[i].name, x);
    }
    json_object_object_add(o, "tiers", ts);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        json_object_object_add(o, "cpu_seconds", json_object_new_double((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                                                                        (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6));
        json_object_object_add(o, "max_rss_bytes", json_object_new_uint64((uint64_t)ru.ru_maxrss * 1024));
    }
    gsm_json_line(o, stdout);
    json_object_put(o);
}

enum {
    OPT_CGROUP = 256, OPT_ALL, OPT_INTERVAL, OPT_HORIZON, OPT_WINDOW, OPT_BASELINE, OPT_Z, OPT_ROLLUP_BUDGET,
    OPT_EXEC, OPT_DURATION, OPT_EMIT, OPT_NO_GO, OPT_STATS,
    OPT_ROOT, OPT_WARMUP, OPT_NO_SANDBOX,
};

/* The numeric options (seconds, Z, budgets) into *wo and *duration: 1 handled, 0 not one of
 * them, -1 a bad value (said on stderr). */
static int numeric_option(int c, const char *arg, struct gsm_watch_opts *wo, double *duration) {
    double v;
    switch (c) {
    case OPT_INTERVAL:
        if (parse_seconds(arg, "--interval", 0.1, &v) < 0)
            return -1;
        wo->interval_ms = (uint64_t)(v * 1000);
        break;
    case OPT_HORIZON:
        if (parse_seconds(arg, "--horizon", 1, &v) < 0)
            return -1;
        wo->horizon_s = v;
        break;
    case OPT_WINDOW:
        if (parse_seconds(arg, "--window", 10, &v) < 0)
            return -1;
        wo->window_ms = (uint64_t)(v * 1000);
        break;
    case OPT_BASELINE:
        if (parse_seconds(arg, "--baseline", 10, &v) < 0)
            return -1;
        wo->baseline_ms = (uint64_t)(v * 1000);
        break;
    case OPT_Z:
        if (parse_seconds(arg, "--z-threshold", 0.5, &v) < 0)
            return -1;
        wo->z_threshold = v;
        break;
    case OPT_ROLLUP_BUDGET:
        if (parse_seconds(arg, "--rollup-budget-ms", 0, &v) < 0)
            return -1;
        wo->rollup_budget_us = (uint64_t)(v * 1000);
        break;
    case OPT_DURATION:
        if (parse_seconds(arg, "--duration", 0.1, duration) < 0)
            return -1;
        break;
    case OPT_WARMUP:
        if (parse_seconds(arg, "--warmup", 0, &v) < 0)
            return -1;
        wo->warmup_s = v;
        break;
    default: return 0;
    }
    return 1;
}

/* After each tick (engine/run.c): the events out, finished bundles reported, the --exec
 * handlers reaped. */
static bool after_tick(struct gsm_watch *w, bool scheduled, void *userdata) {
    struct watch_ctx *c = userdata;
    (void)w;
    (void)scheduled;
    gsm_watch_reap_bundles(c->rec, 0, on_bundle, c);
    fflush(stdout);
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }   /* reap --exec handlers */
    return true;
}

int cmd_watch(int argc, char **argv) {
    static const struct option longopts[] = {
        {"cgroup", required_argument, NULL, OPT_CGROUP}, {"all", no_argument, NULL, OPT_ALL},
        {"interval", required_argument, NULL, OPT_INTERVAL}, {"horizon", required_argument, NULL, OPT_HORIZON},
        {"window", required_argument, NULL, OPT_WINDOW}, {"baseline", required_argument, NULL, OPT_BASELINE},
        {"z-threshold", required_argument, NULL, OPT_Z}, {"rollup-budget-ms", required_argument, NULL, OPT_ROLLUP_BUDGET},
        GSM_RECORDER_LONGOPTS, GSM_HISTORY_LONGOPTS, GSM_PROTECT_LONGOPTS,
        {"exec", required_argument, NULL, OPT_EXEC}, {"duration", required_argument, NULL, OPT_DURATION},
        {"emit-samples", no_argument, NULL, OPT_EMIT}, {"no-go-stats", no_argument, NULL, OPT_NO_GO},
        {"stats", no_argument, NULL, OPT_STATS}, {"output", required_argument, NULL, 'o'},
        {"root", required_argument, NULL, OPT_ROOT}, {"warmup", required_argument, NULL, OPT_WARMUP},
        {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX}, {"help", no_argument, NULL, 'h'}, {0},
    };
    struct gsm_watch_opts wo;
    gsm_watch_opts_default(&wo);
    const char *cgroups[64], *root_dir = NULL, *exec_cmd = NULL;
    size_t n_cgroups = 0;
    bool all = false, text = false, emit_samples = false, stats = false, no_sandbox = false;
    double duration = 0;
    struct gsm_recorder_cli rc;
    gsm_recorder_cli_init(&rc);
    struct gsm_history_cli hist;
    gsm_history_cli_init(&hist);
    struct gsm_protect_cli prot = {.n = 0};
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CGROUP:
            if (n_cgroups == 64) {
                gsm_error("watch: at most 64 --cgroup");
                return GSM_EXIT_USAGE;
            }
            cgroups[n_cgroups++] = optarg;
            break;
        case OPT_ALL: all = true; break;
        case OPT_EXEC: exec_cmd = optarg; break;
        case OPT_EMIT: emit_samples = true; break;
        case OPT_NO_GO: wo.go_stats = false; break;
        case OPT_STATS: stats = true; break;
        case OPT_ROOT: root_dir = optarg; break;
        case OPT_NO_SANDBOX: no_sandbox = true; break;
        case 'o':
            if (strcmp(optarg, "text") == 0)
                text = true;
            else if (strcmp(optarg, "json") == 0)
                text = false;
            else {
                gsm_error("watch: unknown output format '%s' (json, text)", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        case 'h': fputs(usage, stdout); return GSM_EXIT_OK;
        default: {
            int k = numeric_option(c, optarg, &wo, &duration);
            if (k < 0)
                return GSM_EXIT_USAGE;
            if (k == 0)
                k = gsm_history_cli_parse(&hist, "watch", c, optarg);
            if (k == 0)
                k = gsm_protect_cli_parse(&prot, "watch", c, optarg);
            if (k == 0)
                k = gsm_recorder_cli_parse(&rc, "watch", c, optarg, &wo.ring_ms);
            if (k > 0)
                break;
            if (k == 0)
                gsm_error("watch: see 'gsmapper watch --help'");
            return GSM_EXIT_USAGE;
        }
        }
    }
    if (optind == argc && n_cgroups == 0 && !all && prot.n == 0) {
        gsm_error("watch: name PIDs, --cgroup PATH, --all or --protect (see 'gsmapper watch --help')");
        return GSM_EXIT_USAGE;
    }
    gsm_protect_cli_apply(&prot, &wo);

    gsm_malloc_tune_for_daemon();
    struct gsm_root root;
    int r = gsm_root_open(root_dir, &root);
    if (r < 0) {
        gsm_error("cannot open root %s: %s", root_dir ? root_dir : "/", strerror(-r));
        return GSM_EXIT_USAGE;
    }
    int ret = GSM_EXIT_OK;
    struct gsm_watch *w = NULL;
    struct gsm_recorder *rec = NULL;
    if ((r = gsm_watch_new(&root, &wo, &w)) < 0) {
        gsm_error("watch: %s", strerror(-r));
        ret = GSM_EXIT_FAILURE;
        goto out;
    }
    if ((ret = gsm_watch_add_cli_targets(w, &root, "watch", argv + optind, (size_t)(argc - optind), cgroups, n_cgroups)) !=
        GSM_EXIT_OK)
        goto out;
    gsm_watch_set_all(w, all);
    if ((ret = gsm_recorder_cli_open(&rc, "watch", root_dir, &rec)) != GSM_EXIT_OK ||
        (ret = gsm_history_cli_open(&hist, "watch")) != GSM_EXIT_OK)
        goto out;
    /* Everything to write is open or its directory known: restrict ourselves (docs/sandbox.md),
     * then at once the strict stage (watch listens nowhere). */
    /* --protect's writes to /proc/PID/oom_score_adj, which Landlock refuses, go through the
     * /proc broker (gsm_protect_cli_apply gave it the rules) */
    gsm_sandbox_daemon("watch", no_sandbox, exec_cmd != NULL, rc.dump_dir, hist.path, root_dir);
    gsm_sandbox_strict("watch");

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct watch_ctx ctx = {.w = w, .text = text, .emit_samples = emit_samples, .exec_cmd = exec_cmd, .rec = rec,
                            .root = &root, .hist = &hist};
    uint64_t start = now_ms();
    /* Until a signal, --duration, or (without --all or --cgroup) every named process gone. */
    struct gsm_watch_run_opts run = {.on_event = on_event, .on_sample = on_sample, .userdata = &ctx,
                                     .after_tick = after_tick, .stop = &stop_requested,
                                     .duration_ms = (uint64_t)(duration * 1000), .until_empty = !all && n_cgroups == 0 && prot.n == 0};
    gsm_watch_run(w, &run);
    /* Bundles still being written (an OOM kill's, typically, when the target died) finish first. */
    gsm_watch_reap_bundles(rec, GSM_RECORDER_DRAIN_MS, on_bundle, &ctx);
    if (stats)
        print_stats(gsm_watch_get_stats(w), gsm_watch_n_targets(w), now_ms() - start);
    fflush(stdout);
out:
    gsm_history_cli_close(&hist);
    gsm_recorder_free(rec);
    gsm_watch_free(w);
    gsm_root_close(&root);
    return ret;
}
