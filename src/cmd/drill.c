/* gsmapper drill: proves the alert path end to end on this machine. A child memory cgroup of
 * our own with a small limit, a leak in it (a fork of gsmapper touching memory at a set rate),
 * the real `gsmapper watch` on it (spawned: the command users rely on, JSON lines read back),
 * and optionally a running `gsmapper serve`'s /metrics. Each step is checked and timed; every
 * child, the cgroup and the temp dir are removed on every way out. docs/drill.md is the
 * contract; the parts are in drill_cgroup.c, drill_procs.c and drill_check.c. */
#include "cmd/commands.h"
#include "cmd/drill.h"
#include "readers/http_client.h"
#include "renderers/json_text.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/units.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
    "Usage: gsmapper drill [--limit BYTES] [--rate BYTES] [--serve URL] [OPTIONS]\n"
    "\n"
    "Proves the OOM warning path on this machine: makes a child memory cgroup of our own with\n"
    "a small limit, starts a leak in it (a child of gsmapper touching memory at a set rate),\n"
    "runs `gsmapper watch` on it with a dump dir, and checks that the warning came before the\n"
    "OOM kill, that watch saw the kill, and that the bundle was written and is complete; with\n"
    "--serve, also that a running `gsmapper serve` showed the forecast for the cgroup on\n"
    "/metrics before the kill. Always removes the leak, the cgroup and its temp dir. Needs root\n"
    "(or a memory cgroup of its own it may write).\n"
    "\n"
    "Options:\n"
    "      --limit BYTES        memory limit of the drill's cgroup (default 64MiB; K, M, G suffixes)\n"
    "      --rate BYTES         leak rate per second (default 8MiB; checking a serve: limit/32)\n"
    "      --serve URL          also check this serve's /metrics (loopback, e.g.\n"
    "                           http://127.0.0.1:9731; serve must watch --all to find the cgroup)\n"
    "      --serve-wait SECONDS how long serve may take to list the cgroup (default 30)\n"
    "      --timeout SECONDS    how long the leak may take to be killed (default 3 x limit/rate + 30)\n"
    "      --wait SECONDS       after the kill, how long watch may take for its event and bundle\n"
    "                           (default 30)\n"
    "      --dump-dir DIR       keep the bundles here (default: a temp dir, removed)\n"
    "      --cgroup-version N   1 or 2: the hierarchy to use (default: the one memory is on)\n"
    "      --watch-cgroup PATH  test aid: point watch at PATH instead of the drill's cgroup, to see\n"
    "                           the drill fail\n"
    "  -o, --output FORMAT      table (default) or json (schema gsmapper.drill/v1)\n"
    "  -h, --help               this text\n"
    "\n"
    "Exit codes: 0 every step held; 1 a step did not hold (or the drill was interrupted);\n"
    "2 usage; 4 no permission to make a memory cgroup; 5 no memory controller to use here.\n";

enum step_id { S_CGROUP, S_LEAK, S_WATCH, S_SERVE, S_WARNING, S_KILL, S_OOM_EVENT, S_BUNDLE, S_SERVE_FORECAST,
               S_CLEANUP, S__N };
static const char *const step_names[S__N] = {"cgroup", "leak", "watch", "serve", "warning", "kill", "oom_event",
                                             "bundle", "serve_forecast", "cleanup"};
enum result { RES_NONE, RES_OK, RES_FAIL, RES_SKIP };
static const char *const result_names[] = {"-", "ok", "FAIL", "skipped"};

struct step {
    enum result r;
    uint64_t t_ms;
    char detail[700];
};

struct drill_opts {
    uint64_t limit, rate;
    const char *serve_url, *watch_cgroup, *dump_dir;
    double timeout_s, wait_s, serve_wait_s;
    int version;
    bool json;
};

struct drill {
    struct drill_opts o;
    struct drill_cg cg;
    struct drill_leak leak;
    struct drill_watch watch;
    struct drill_serve serve;
    struct drill_obs obs;
    char workdir[PATH_MAX], dump_dir[PATH_MAX], watch_err[PATH_MAX + 16];
    uint64_t start_ms, leak_ms, kill_ms, exit_ms;   /* kill_ms: the earlier of exit_ms and watch's oom_kill */
    uint64_t oom_before, oom_after, leak_touched;
    char cut[400];                /* why the drill stopped early, or "" */
    struct step steps[S__N];
};

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) {
    interrupted = sig;
}

__attribute__((format(printf, 4, 5))) static void set_step(struct drill *d, enum step_id s, enum result r,
                                                          const char *fmt, ...) {
    d->steps[s].r = r;
    if (!d->steps[s].t_ms)
        d->steps[s].t_ms = drill_now_ms();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->steps[s].detail, sizeof d->steps[s].detail, fmt, ap);
    va_end(ap);
}

/* "64MiB", "64M", "64m", "65536", "1.5GiB", and for a rate "8MiB/s". 0 or -EINVAL. */
static int parse_bytes(const char *arg, bool rate, uint64_t *ret) {
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || errno || !(v > 0) || v > 1e15)
        return -EINVAL;
    static const struct {
        const char *s;
        double m;
    } units[] = {{"", 1}, {"B", 1}, {"K", 1024.0}, {"Ki", 1024.0}, {"KiB", 1024.0}, {"M", 1048576.0}, {"Mi", 1048576.0},
                 {"MiB", 1048576.0}, {"G", 1073741824.0}, {"Gi", 1073741824.0}, {"GiB", 1073741824.0}};
    char unit[8];
    size_t n = strlen(end);
    if (rate && n >= 2 && strcmp(end + n - 2, "/s") == 0)
        n -= 2;
    if (n >= sizeof unit)
        return -EINVAL;
    memcpy(unit, end, n);
    unit[n] = '\0';
    if (unit[0] >= 'a' && unit[0] <= 'z')
        unit[0] = (char)(unit[0] - 'a' + 'A');
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(unit, units[i].s) == 0) {
            *ret = (uint64_t)(v * units[i].m);
            return 0;
        }
    return -EINVAL;
}

enum { OPT_LIMIT = 256, OPT_RATE, OPT_SERVE, OPT_SERVE_WAIT, OPT_TIMEOUT, OPT_WAIT, OPT_DUMP_DIR, OPT_VERSION,
       OPT_WATCH_CG };

static int parse_one(struct drill_opts *o, int c, const char *arg) {
    switch (c) {
    case OPT_LIMIT:
        if (parse_bytes(arg, false, &o->limit) < 0 || o->limit < (8u << 20) || o->limit > ((uint64_t)64 << 30)) {
            gsm_error("drill: --limit wants a size from 8MiB to 64GiB, not '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_RATE:
        if (parse_bytes(arg, true, &o->rate) < 0 || o->rate < (64u << 10) || o->rate > ((uint64_t)4 << 30)) {
            gsm_error("drill: --rate wants bytes per second from 64KiB to 4GiB, not '%s'", arg);
            return -1;
        }
        return 0;
    case OPT_SERVE: o->serve_url = arg; return 0;
    case OPT_WATCH_CG: o->watch_cgroup = arg; return 0;
    case OPT_DUMP_DIR: o->dump_dir = arg; return 0;
    case OPT_VERSION:
        if (strcmp(arg, "1") != 0 && strcmp(arg, "2") != 0) {
            gsm_error("drill: --cgroup-version wants 1 or 2, not '%s'", arg);
            return -1;
        }
        o->version = arg[0] - '0';
        return 0;
    case 'o':
        if (strcmp(arg, "json") != 0 && strcmp(arg, "table") != 0) {
            gsm_error("drill: unknown output format '%s' (table, json)", arg);
            return -1;
        }
        o->json = strcmp(arg, "json") == 0;
        return 0;
    }
    double *dst = c == OPT_TIMEOUT ? &o->timeout_s : c == OPT_WAIT ? &o->wait_s : c == OPT_SERVE_WAIT ? &o->serve_wait_s : NULL;
    const char *name = c == OPT_TIMEOUT ? "--timeout" : c == OPT_WAIT ? "--wait" : "--serve-wait";
    char *end;
    double v = dst ? strtod(arg, &end) : NAN;
    if (!dst || end == arg || *end || !(v >= 1) || v > 3600) {
        if (dst)
            gsm_error("drill: %s wants seconds from 1 to 3600, not '%s'", name, arg);
        else
            gsm_error("drill: see 'gsmapper drill --help'");
        return -1;
    }
    *dst = v;
    return 0;
}

/* 0, 1 --help printed, -1 usage error (said). */
static int parse_args(int argc, char **argv, struct drill_opts *o) {
    static const struct option longopts[] = {
        {"limit", required_argument, NULL, OPT_LIMIT}, {"rate", required_argument, NULL, OPT_RATE},
        {"serve", required_argument, NULL, OPT_SERVE}, {"serve-wait", required_argument, NULL, OPT_SERVE_WAIT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT}, {"wait", required_argument, NULL, OPT_WAIT},
        {"dump-dir", required_argument, NULL, OPT_DUMP_DIR}, {"cgroup-version", required_argument, NULL, OPT_VERSION},
        {"watch-cgroup", required_argument, NULL, OPT_WATCH_CG}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'}, {0},
    };
    *o = (struct drill_opts){.limit = 64u << 20, .wait_s = 30, .serve_wait_s = 30};
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            return 1;
        }
        if (c == '?' || parse_one(o, c, optarg) < 0) {
            if (c == '?')
                gsm_error("drill: see 'gsmapper drill --help'");
            return -1;
        }
    }
    if (optind < argc) {
        gsm_error("drill: unexpected argument '%s' (see 'gsmapper drill --help')", argv[optind]);
        return -1;
    }
    if (o->serve_url && gsm_http_url_is_loopback(o->serve_url) != 1) {
        gsm_error("drill: --serve wants an http:// URL on loopback (127.0.0.1, [::1]), not '%s'", o->serve_url);
        return -1;
    }
    /* serve samples every target at its tick (2 s by default), not faster for young ones as
     * watch does: against a serve the default leak takes 32 s to the limit, so that serve has
     * a dozen samples of the rise (at 8 s, seen here: no forecast before the kill). */
    if (o->serve_url && !o->rate)
        o->rate = o->limit / 32 < (64u << 10) ? (64u << 10) : o->limit / 32;
    if (!o->rate)
        o->rate = 8u << 20;
    if (o->timeout_s == 0)
        o->timeout_s = 3.0 * (double)o->limit / (double)o->rate + 30;
    return 0;
}

/* The first line watch wrote on stderr, for a reason. */
static void watch_stderr_line(const struct drill *d, char *buf, size_t len) {
    buf[0] = '\0';
    FILE *f = fopen(d->watch_err, "re");
    if (!f)
        return;
    if (fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

/* Watch is gone: why, into d->cut (and step s, unless S__N). */
static void watch_died(struct drill *d, enum step_id s) {
    char line[300];
    int st = 0;
    if (!d->watch.reaped && waitpid(d->watch.pid, &st, 0) == d->watch.pid) {
        d->watch.reaped = true;
        d->watch.status = st;
    }
    watch_stderr_line(d, line, sizeof line);
    st = d->watch.status;
    snprintf(d->cut, sizeof d->cut, "watch exited (%s %d)%s%.300s", WIFSIGNALED(st) ? "signal" : "status",
             WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), line[0] ? ": " : "", line);
    if (s != S__N)
        set_step(d, s, RES_FAIL, "%s", d->cut);
}

/* Wait on watch's output (and the leak's pidfd) for up to ms; read what came. false: watch is gone. */
static bool pump(struct drill *d, int ms) {
    struct pollfd p[2] = {{.fd = d->watch.out_fd, .events = POLLIN}, {.fd = d->leak.pidfd, .events = POLLIN}};
    poll(p, d->leak.pidfd >= 0 && !d->leak.reaped ? 2 : 1, ms);   /* a pidfd stays readable after the exit */
    return drill_watch_read(&d->watch, drill_obs_line, &d->obs) == 0;
}

static bool start_leak(struct drill *d) {
    int r = drill_leak_start(d->o.rate, d->o.limit * 4, &d->leak);
    if (r == 0 && (r = drill_cg_move(&d->cg, d->leak.pid)) < 0) {
        set_step(d, S_LEAK, RES_FAIL, "cannot move the leak (pid %d) into %s: %s", (int)d->leak.pid, d->cg.dir,
                 strerror(-r));
        return false;
    }
    if (r < 0) {
        set_step(d, S_LEAK, RES_FAIL, "cannot start the leak: %s", strerror(-r));
        return false;
    }
    return true;
}

static bool start_watch(struct drill *d) {
    const char *wcg = d->o.watch_cgroup ? d->o.watch_cgroup : d->cg.path;
    d->obs.drill_cg = d->cg.path;
    d->obs.watch_cg = wcg;
    int r = drill_watch_start(wcg, d->dump_dir, d->watch_err, &d->watch);
    if (r < 0) {
        set_step(d, S_WATCH, RES_FAIL, "cannot start gsmapper watch: %s", strerror(-r));
        return false;
    }
    uint64_t t0 = drill_now_ms();
    while (!d->obs.first_sample_ms) {
        if (interrupted) {
            snprintf(d->cut, sizeof d->cut, "interrupted by signal %d", (int)interrupted);
            return false;
        }
        if (!pump(d, 100)) {
            watch_died(d, S_WATCH);
            return false;
        }
        if (drill_now_ms() - t0 > 20000) {
            set_step(d, S_WATCH, RES_FAIL, "watch (pid %d) printed no sample of %s within 20 s", (int)d->watch.pid, wcg);
            return false;
        }
    }
    set_step(d, S_WATCH, RES_OK, "%s (pid %d) sampling %s, first sample %.2f s after its start", d->watch.argv_text,
             (int)d->watch.pid, wcg, (double)(d->obs.first_sample_ms - t0) / 1000.0);
    return true;
}

static bool start_serve(struct drill *d) {
    char err[300];
    if (drill_serve_start(&d->serve, d->o.serve_url, d->cg.path, err, sizeof err) < 0) {
        set_step(d, S_SERVE, RES_FAIL, "%s", err);
        return false;
    }
    uint64_t t0 = drill_now_ms();
    struct drill_serve v;
    for (;;) {
        drill_serve_get(&d->serve, &v);
        if (v.listed_ms)
            break;
        if (interrupted) {
            snprintf(d->cut, sizeof d->cut, "interrupted by signal %d", (int)interrupted);
            return false;
        }
        if (!pump(d, 100)) {
            watch_died(d, S_WATCH);
            return false;
        }
        if ((double)(drill_now_ms() - t0) > d->o.serve_wait_s * 1000) {
            set_step(d, S_SERVE, RES_FAIL, "%s did not list %s within %.0f s (%u scrapes, %u failed%s%s; serve finds a "
                     "cgroup it was not named with --all, the default)", d->serve.metrics_url, d->cg.path,
                     d->o.serve_wait_s, v.scrapes, v.errors, v.errors ? ", the last: " : "", v.last_error);
            return false;
        }
    }
    set_step(d, S_SERVE, RES_OK, "%s lists %s, %.2f s after the watch started", d->serve.metrics_url, d->cg.path,
             (double)(v.listed_ms - t0) / 1000.0);
    return true;
}

/* The leak runs: until it is killed and watch's bundle for the kill is seen (or --wait passes
 * after the kill), --timeout passes without a kill, watch exits or a signal comes. */
static void run_leak(struct drill *d) {
    drill_cg_oom_kills(&d->cg, &d->oom_before);
    if (drill_leak_go(&d->leak) < 0) {
        set_step(d, S_LEAK, RES_FAIL, "the leak (pid %d) did not start: %s", (int)d->leak.pid, strerror(errno));
        return;
    }
    d->leak_ms = drill_now_ms();
    char r1[16], r2[16];
    set_step(d, S_LEAK, RES_OK, "pid %d in %s, %s/s (the limit %s in about %.1f s)", (int)d->leak.pid, d->cg.path,
             gsm_fmt_bytes(d->o.rate, r1, sizeof r1), gsm_fmt_bytes(d->o.limit, r2, sizeof r2),
             (double)d->o.limit / (double)d->o.rate);
    for (;;) {
        bool alive = pump(d, 100);
        uint64_t now = drill_now_ms();
        if (!d->kill_ms && drill_leak_poll(&d->leak) == 1) {
            d->kill_ms = now;
            /* The counter is raised as the victim is chosen; read it a few times to be sure. */
            for (int i = 0; i < 20; i++) {
                if (drill_cg_oom_kills(&d->cg, &d->oom_after) == 0 && d->oom_after > d->oom_before)
                    break;
                poll(NULL, 0, 50);
            }
        }
        if (interrupted) {
            snprintf(d->cut, sizeof d->cut, "interrupted by signal %d", (int)interrupted);
            return;
        }
        if (d->kill_ms && (d->obs.bundle[0] || (double)(now - d->kill_ms) > d->o.wait_s * 1000))
            return;
        if (!alive) {
            drill_watch_read(&d->watch, drill_obs_line, &d->obs);
            watch_died(d, S__N);
            return;
        }
        if (!d->kill_ms && (double)(now - d->leak_ms) > d->o.timeout_s * 1000)
            return;
    }
}

static double secs(uint64_t a, uint64_t b) {
    return ((double)a - (double)b) / 1000.0;
}

/* A step that was never reached: skipped, with why. */
static bool unreached(struct drill *d, enum step_id s) {
    if (!d->cut[0])
        return false;
    set_step(d, s, RES_SKIP, "not reached: %s", d->cut);
    d->steps[s].t_ms = 0;
    return true;
}

static void judge_warning(struct drill *d) {
    const struct drill_obs *o = &d->obs;
    bool elsewhere = strcmp(o->watch_cg, o->drill_cg) != 0;
    if (o->warn_ms && (!d->kill_ms || o->warn_ms < d->kill_ms)) {
        char lead[64] = "";
        if (d->kill_ms)
            snprintf(lead, sizeof lead, ", %.2f s before the kill", secs(d->kill_ms, o->warn_ms));
        set_step(d, S_WARNING, RES_OK, "%s %.2f s into the leak%s (eta %.1f s): %s", o->warn_level,
                 secs(o->warn_ms, d->leak_ms), lead, o->warn_eta_s, o->warn_msg);
        d->steps[S_WARNING].t_ms = o->warn_ms;
    } else if (o->warn_ms) {
        set_step(d, S_WARNING, RES_FAIL, "the first warning (%s) came %.2f s after the kill", o->warn_level,
                 secs(o->warn_ms, d->kill_ms));
        d->steps[S_WARNING].t_ms = o->warn_ms;
    } else if (!unreached(d, S_WARNING) || d->kill_ms) {
        set_step(d, S_WARNING, RES_FAIL, "watch printed no eta warning for %s before the %s%s%s", o->drill_cg,
                 d->kill_ms ? "kill" : "drill ended", elsewhere ? " (watch was pointed at " : "",
                 elsewhere ? o->watch_cg : "");
        if (elsewhere)
            strncat(d->steps[S_WARNING].detail, ")", sizeof d->steps[S_WARNING].detail - strlen(d->steps[S_WARNING].detail) - 1);
        d->steps[S_WARNING].t_ms = 0;
    }
}

static void judge_kill(struct drill *d) {
    char b1[16], b2[16];
    uint64_t touched = drill_leak_touched(&d->leak);
    if (d->kill_ms) {
        int st = d->leak.status;
        bool sigkill = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        if (sigkill && d->oom_after > d->oom_before)
            set_step(d, S_KILL, RES_OK, "the kernel OOM-killed the leak %.2f s into it (SIGKILL; oom_kill %llu -> %llu), "
                     "%s touched", secs(d->kill_ms, d->leak_ms), (unsigned long long)d->oom_before,
                     (unsigned long long)d->oom_after, gsm_fmt_bytes(touched, b1, sizeof b1));
        else
            set_step(d, S_KILL, RES_FAIL, "the leak ended (%s %d) but the cgroup's oom_kill stayed at %llu: not an OOM kill",
                     WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
                     (unsigned long long)d->oom_before);
        d->steps[S_KILL].t_ms = d->kill_ms;
    } else if (!unreached(d, S_KILL)) {
        set_step(d, S_KILL, RES_FAIL, "the leak was not killed within %.0f s (%s touched, cgroup usage %s%s)",
                 d->o.timeout_s, gsm_fmt_bytes(touched, b1, sizeof b1), gsm_fmt_bytes(drill_cg_usage(&d->cg), b2, sizeof b2),
                 d->cg.swap ? "" : "; swap is not limited here, the leak may be swapping");
        d->steps[S_KILL].t_ms = 0;
    }
}

static void judge_watch_side(struct drill *d) {
    const struct drill_obs *o = &d->obs;
    if (o->oom_event_ms) {
        set_step(d, S_OOM_EVENT, RES_OK, "watch reported the oom_kill of %s %.2f s into the leak (its exit seen at "
                 "%.2f s)", o->drill_cg, secs(o->oom_event_ms, d->leak_ms), secs(d->exit_ms, d->leak_ms));
        d->steps[S_OOM_EVENT].t_ms = o->oom_event_ms;
    } else if (!d->kill_ms) {
        set_step(d, S_OOM_EVENT, RES_SKIP, "not reached: no kill%s%s", d->cut[0] ? ": " : "", d->cut);
        d->steps[S_OOM_EVENT].t_ms = 0;
    } else {
        set_step(d, S_OOM_EVENT, RES_FAIL, "watch printed no oom_kill event for %s within %.0f s of the kill%s%s",
                 o->drill_cg, d->o.wait_s, d->cut[0] ? ": " : "", d->cut);
        d->steps[S_OOM_EVENT].t_ms = 0;
    }
    if (o->bundle[0]) {
        char detail[600];
        bool ok = drill_bundle_check(o->bundle, o->drill_cg, d->o.limit, detail, sizeof detail);
        set_step(d, S_BUNDLE, ok ? RES_OK : RES_FAIL, "%s%s (%.2f s after the kill)", ok ? "" : "incomplete: ", detail,
                 secs(o->bundle_seen_ms, d->kill_ms));
        d->steps[S_BUNDLE].t_ms = o->bundle_seen_ms;
    } else if (!o->oom_event_ms) {
        set_step(d, S_BUNDLE, d->kill_ms ? RES_FAIL : RES_SKIP, "%s: no oom_kill event", d->kill_ms ? "no bundle" : "not reached");
        d->steps[S_BUNDLE].t_ms = 0;
    } else {
        set_step(d, S_BUNDLE, RES_FAIL, "watch wrote no bundle for the oom_kill within %.0f s (see %s's stderr)",
                 d->o.wait_s, "watch");
        d->steps[S_BUNDLE].t_ms = 0;
    }
}

static void judge_serve(struct drill *d) {
    struct drill_serve v;
    drill_serve_get(&d->serve, &v);
    if (v.forecast_ms && (!d->kill_ms || v.forecast_ms < d->kill_ms)) {
        char lead[64] = "", cond[48] = "";
        if (d->kill_ms)
            snprintf(lead, sizeof lead, ", %.2f s before the kill", secs(d->kill_ms, v.forecast_ms));
        if (v.forecast_level[0])
            snprintf(cond, sizeof cond, ", condition eta %s", v.forecast_level);
        set_step(d, S_SERVE_FORECAST, RES_OK, "/metrics showed the forecast (eta %.1f s%s) %.2f s into the leak%s",
                 v.forecast_eta_s, cond, secs(v.forecast_ms, d->leak_ms), lead);
        d->steps[S_SERVE_FORECAST].t_ms = v.forecast_ms;
    } else if (v.forecast_ms) {
        set_step(d, S_SERVE_FORECAST, RES_FAIL, "/metrics showed the forecast for %s only %.2f s after the kill",
                 d->cg.path, secs(v.forecast_ms, d->kill_ms));
        d->steps[S_SERVE_FORECAST].t_ms = v.forecast_ms;
    } else if (!unreached(d, S_SERVE_FORECAST) || d->kill_ms) {
        char ticks[120] = "";
        if (v.ticks_last_ms > v.ticks_first_ms && v.ticks_last > v.ticks_first)
            snprintf(ticks, sizeof ticks, "; serve ticked every %.1f s meanwhile",
                     secs(v.ticks_last_ms, v.ticks_first_ms) / (double)(v.ticks_last - v.ticks_first));
        set_step(d, S_SERVE_FORECAST, RES_FAIL, "/metrics never showed a finite gsmapper_cgroup_oom_eta_seconds or an eta "
                 "condition for %s before the %s (%u scrapes, %u failed%s%s%s)", d->cg.path,
                 d->kill_ms ? "kill" : "drill ended", v.scrapes, v.errors, v.errors ? ", the last: " : "", v.last_error,
                 ticks);
        d->steps[S_SERVE_FORECAST].t_ms = 0;
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Every way out comes through here: the leak (SIGKILL), watch (SIGTERM), the poller, the
 * cgroup, the temp dir. */
static void cleanup(struct drill *d) {
    char why[600] = "";
    bool leak_was_alive = d->leak.pid > 0 && !d->leak.reaped;
    drill_leak_stop(&d->leak);
    drill_watch_stop(&d->watch);
    if (d->o.serve_url)
        drill_serve_stop(&d->serve);
    int r = drill_cg_remove(&d->cg);
    if (r < 0)
        snprintf(why, sizeof why, "cannot remove %.400s: %s", d->cg.dir, strerror(-r));
    if (d->workdir[0] && nftw(d->workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && !why[0])
        snprintf(why, sizeof why, "cannot remove %.400s: %s", d->workdir, strerror(errno));
    if (why[0])
        set_step(d, S_CLEANUP, RES_FAIL, "%s", why);
    else
        set_step(d, S_CLEANUP, RES_OK, "leak%s and watch stopped, %s removed, %s removed%s",
                 leak_was_alive ? " (still running: killed)" : "", d->cg.dir, d->workdir,
                 d->o.dump_dir ? " (bundles kept in --dump-dir)" : "");
}

static void add_ms(struct json_object *o, const char *key, uint64_t ms) {
    json_object_object_add(o, key, ms ? json_object_new_int64((int64_t)ms) : NULL);
}

static void add_secs(struct json_object *o, const char *key, uint64_t a, uint64_t b) {
    json_object_object_add(o, key, a && b ? json_object_new_double(round(secs(a, b) * 1000) / 1000) : NULL);
}

static void print_json(const struct drill *d, bool ok) {
    struct json_object *o = json_object_new_object(), *x;
    json_object_object_add(o, "schema", json_object_new_string("gsmapper.drill/v1"));
    json_object_object_add(o, "ok", json_object_new_boolean(ok));
    add_ms(o, "time_ms", d->start_ms);
    json_object_object_add(o, "cgroup", x = json_object_new_object());
    json_object_object_add(x, "path", json_object_new_string(d->cg.path));
    json_object_object_add(x, "version", json_object_new_int(d->cg.version));
    json_object_object_add(x, "limit_bytes", json_object_new_uint64(d->o.limit));
    json_object_object_add(x, "swap", d->cg.swap ? json_object_new_string(d->cg.swap) : NULL);
    json_object_object_add(o, "leak", x = json_object_new_object());
    json_object_object_add(x, "pid", json_object_new_int(d->leak.pid));
    json_object_object_add(x, "rate_bytes_per_second", json_object_new_uint64(d->o.rate));
    json_object_object_add(x, "touched_bytes", json_object_new_uint64(d->leak_touched));
    json_object_object_add(o, "watch", x = json_object_new_object());
    json_object_object_add(x, "pid", json_object_new_int(d->watch.pid));
    json_object_object_add(x, "cgroup", json_object_new_string(d->obs.watch_cg ? d->obs.watch_cg : d->cg.path));
    json_object_object_add(x, "command", d->watch.argv_text ? json_object_new_string(d->watch.argv_text) : NULL);
    json_object_object_add(x, "events", json_object_new_int(d->obs.events));
    json_object_object_add(x, "samples", json_object_new_int(d->obs.samples));
    json_object_object_add(o, "serve", d->o.serve_url ? json_object_new_string(d->o.serve_url) : NULL);
    json_object_object_add(o, "bundle", d->o.dump_dir && d->obs.bundle[0] ? json_object_new_string(d->obs.bundle) : NULL);
    json_object_object_add(o, "timings", x = json_object_new_object());
    add_ms(x, "leak_start_ms", d->leak_ms);
    add_ms(x, "warning_ms", d->obs.warn_ms);
    add_ms(x, "kill_ms", d->kill_ms);
    add_ms(x, "leak_exit_ms", d->exit_ms);
    add_ms(x, "oom_event_ms", d->obs.oom_event_ms);
    add_ms(x, "bundle_ms", d->obs.bundle_seen_ms);
    add_ms(x, "serve_forecast_ms", d->steps[S_SERVE_FORECAST].r == RES_NONE ? 0 : d->steps[S_SERVE_FORECAST].t_ms);
    add_secs(x, "warning_lead_seconds", d->kill_ms, d->obs.warn_ms);
    add_secs(x, "leak_to_warning_seconds", d->obs.warn_ms, d->leak_ms);
    add_secs(x, "leak_to_kill_seconds", d->kill_ms, d->leak_ms);
    add_secs(x, "kill_to_oom_event_seconds", d->obs.oom_event_ms, d->kill_ms);
    add_secs(x, "kill_to_bundle_seconds", d->obs.bundle_seen_ms, d->kill_ms);
    add_secs(x, "serve_lead_seconds", d->kill_ms, d->steps[S_SERVE_FORECAST].r == RES_NONE ? 0 : d->steps[S_SERVE_FORECAST].t_ms);
    struct json_object *steps = json_object_new_array();
    for (int i = 0; i < S__N; i++) {
        if (d->steps[i].r == RES_NONE)
            continue;
        struct json_object *s = json_object_new_object();
        json_object_object_add(s, "step", json_object_new_string(step_names[i]));
        json_object_object_add(s, "result", json_object_new_string(d->steps[i].r == RES_OK ? "ok" : d->steps[i].r == RES_FAIL ? "fail" : "skipped"));
        add_ms(s, "time_ms", d->steps[i].t_ms);
        json_object_object_add(s, "detail", json_object_new_string(d->steps[i].detail));
        json_object_array_add(steps, s);
    }
    json_object_object_add(o, "steps", steps);
    gsm_json_write(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE, stdout);
    json_object_put(o);
}

static void print_table(const struct drill *d, bool ok, int failed, int skipped) {
    printf("%-15s %-8s %8s  %s\n", "STEP", "RESULT", "TIME", "DETAIL");
    for (int i = 0; i < S__N; i++) {
        const struct step *s = &d->steps[i];
        if (s->r == RES_NONE)
            continue;
        char t[24] = "-";
        if (s->t_ms)
            snprintf(t, sizeof t, "%.2f s", secs(s->t_ms, d->start_ms));
        printf("%-15s %-8s %8s  %s\n", step_names[i], result_names[s->r], t, s->detail);
    }
    if (ok)
        printf("\ndrill passed: warned %.2f s before the OOM kill, bundle %.2f s after it\n",
               secs(d->kill_ms, d->obs.warn_ms), secs(d->obs.bundle_seen_ms, d->kill_ms));
    else
        printf("\ndrill FAILED: %d step%s did not hold (%d failed, %d not reached)\n", failed, failed == 1 ? "" : "s",
               failed - skipped, skipped);
}

/* Everything between the cgroup and the cleanup. */
static void run(struct drill *d) {
    bool serve = d->o.serve_url != NULL;
    if (!start_leak(d) || !start_watch(d) || (serve && !start_serve(d))) {
        if (!d->cut[0])
            for (int s = S_LEAK; s <= S_SERVE; s++)
                if (d->steps[s].r == RES_FAIL)
                    snprintf(d->cut, sizeof d->cut, "the %s step failed", step_names[s]);
        for (int s = S_LEAK; s < S_CLEANUP; s++)
            if (d->steps[s].r == RES_NONE && (serve || (s != S_SERVE && s != S_SERVE_FORECAST))) {
                set_step(d, s, RES_SKIP, "not reached%s%s", d->cut[0] ? ": " : "", d->cut);
                d->steps[s].t_ms = 0;
            }
        return;
    }
    run_leak(d);
    /* The kernel counts the kill before the victim has exited (freeing its memory takes a
     * while): watch's oom_kill event can come before the drill sees the exit. The kill was no
     * later than either. */
    d->exit_ms = d->kill_ms;
    if (d->kill_ms && d->obs.oom_event_ms && d->obs.oom_event_ms < d->kill_ms)
        d->kill_ms = d->obs.oom_event_ms;
    d->leak_touched = drill_leak_touched(&d->leak);
    judge_warning(d);
    judge_kill(d);
    judge_watch_side(d);
    if (serve)
        judge_serve(d);
}

static int make_workdir(struct drill *d) {
    const char *tmp = getenv("TMPDIR");
    snprintf(d->workdir, sizeof d->workdir, "%s/gsmapper-drill-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (!mkdtemp(d->workdir)) {
        int e = errno;
        gsm_error("drill: cannot make a temp dir in %s: %s", tmp && tmp[0] == '/' ? tmp : "/tmp", strerror(e));
        d->workdir[0] = '\0';
        return -e;
    }
    snprintf(d->watch_err, sizeof d->watch_err, "%s/watch.stderr", d->workdir);
    snprintf(d->dump_dir, sizeof d->dump_dir, "%s", d->o.dump_dir ? d->o.dump_dir : d->workdir);
    if (!d->o.dump_dir)
        strncat(d->dump_dir, "/bundles", sizeof d->dump_dir - strlen(d->dump_dir) - 1);
    return 0;
}

int cmd_drill(int argc, char **argv) {
    struct drill *d = calloc(1, sizeof *d);
    if (!d) {
        gsm_error("drill: out of memory");
        return GSM_EXIT_FAILURE;
    }
    int k = parse_args(argc, argv, &d->o);
    if (k != 0) {
        free(d);
        return k > 0 ? GSM_EXIT_OK : GSM_EXIT_USAGE;
    }
    struct sigaction sa = {.sa_handler = on_signal}, ign = {.sa_handler = SIG_IGN};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &ign, NULL);
    d->start_ms = drill_now_ms();
    d->leak.pid = d->watch.pid = -1;
    d->leak.pidfd = d->leak.go_fd = d->watch.out_fd = -1;
    char err[600];
    int r = drill_cg_create(d->o.version, d->o.limit, &d->cg, err, sizeof err);
    if (r < 0) {
        gsm_error("drill: %s", err);
        drill_cg_free(&d->cg);
        free(d);
        return r == -ENOMEDIUM ? DRILL_EXIT_UNSUPPORTED : r == -EACCES ? GSM_EXIT_PERM : r == -E2BIG ? GSM_EXIT_USAGE
                                                                                                 : GSM_EXIT_FAILURE;
    }
    char b[16];
    set_step(d, S_CGROUP, RES_OK, "%s (cgroup v%d), limit %s, swap %s%s%s", d->cg.path, d->cg.version,
             gsm_fmt_bytes(d->o.limit, b, sizeof b), d->cg.swap ? "kept out (" : "not limited (no swap accounting)",
             d->cg.swap ? d->cg.swap : "", d->cg.swap ? ")" : "");
    if (make_workdir(d) == 0)
        run(d);
    else
        snprintf(d->cut, sizeof d->cut, "no temp dir");
    cleanup(d);
    int failed = 0, skipped = 0;
    for (int i = 0; i < S__N; i++) {
        failed += d->steps[i].r == RES_FAIL || d->steps[i].r == RES_SKIP;
        skipped += d->steps[i].r == RES_SKIP;
    }
    bool ok = failed == 0 && !d->cut[0] && d->workdir[0];
    if (d->o.json)
        print_json(d, ok);
    else
        print_table(d, ok, failed, skipped);
    fflush(stdout);
    for (int i = 0; i < S__N; i++)
        if (d->steps[i].r == RES_FAIL)
            gsm_error("drill: %s: %s", step_names[i], d->steps[i].detail);
    if (interrupted)
        gsm_error("drill: interrupted by signal %d; cleaned up", (int)interrupted);
    free(d->watch.argv_text);
    drill_cg_free(&d->cg);
    free(d);
    return ok ? GSM_EXIT_OK : GSM_EXIT_FAILURE;
}
