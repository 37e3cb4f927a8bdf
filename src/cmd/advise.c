/* gsmapper advise: memory request/limit, memory.high/max and GOMEMLIMIT recommendations from a
 * memory history (store/history, written by watch/serve --history) or a Prometheus server
 * (readers/prom_range). The arithmetic is analyses/advise; docs/advise.md is the contract. */
#include "analyses/advise.h"
#include "cmd/commands.h"
#include "cmd/history_cli.h"
#include "renderers/advise_render.h"
#include "readers/prom_range.h"
#include "renderers/event_render.h"
#include "store/history.h"
#include "util/exitcode.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/sandbox.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "Usage: gsmapper advise --history FILE [--target KEY] [OPTIONS]\n"
    "       gsmapper advise --prometheus URL [--source gsmapper|cadvisor] [--target KEY] [OPTIONS]\n"
    "\n"
    "Recommends per container, cgroup and process a memory request and limit (memory.high and\n"
    "memory.max for plain cgroups) from a decaying histogram of the recorded peaks with a\n"
    "margin, bumped after OOM kills by a rule that cannot loop; GOMEMLIMIT for Go processes as\n"
    "the limit minus the 99th percentile of their non-heap memory minus a margin; a confidence\n"
    "from the history's length; and which series and class drove the peak, and when.\n"
    "\n"
    "Options:\n"
    "      --history FILE       the history 'watch --history' or 'serve --history' wrote\n"
    "      --prometheus URL     read peaks from a Prometheus server's range queries instead\n"
    "      --source NAME        gsmapper (its cgroup working-set series, default) or cadvisor\n"
    "                           (container_memory_working_set_bytes)\n"
    "      --range DURATION     how far back to query (default 8d)\n"
    "      --allow-remote       allow a Prometheus server outside loopback\n"
    "      --target KEY         only this target: a key as listed (cgroup:/path,\n"
    "                           process:PID:START), a cgroup path or a PID\n"
    "      --half-life DURATION weight of a peak halves every DURATION (default 24h)\n"
    "      --margin PERCENT     added to the percentiles (default 15)\n"
    "      --max-limit MIB      never recommend more (the OOM bump says when it is clipped)\n"
    "  -o, --output FORMAT      table (default) or json (schema gsmapper.advise/v1)\n"
    "      --no-sandbox         do not restrict this process (no_new_privs, Landlock, seccomp;\n"
    "                           docs/sandbox.md); also GSMAPPER_SANDBOX=off\n"
    "  -h, --help               this text\n"
    "\n"
    "Exit codes: 0 ok; 1 runtime failure or an unreadable history; 2 usage; 3 no such target\n"
    "or no samples.\n";

/* Does the history key match --target? */
static bool key_matches(const char *key, const char *want) {
    if (strcmp(key, want) == 0)
        return true;
    if (strncmp(key, "cgroup:", 7) == 0 && strcmp(key + 7, want) == 0)
        return true;
    size_t n = strlen(want);
    return strncmp(key, "process:", 8) == 0 && strncmp(key + 8, want, n) == 0 && key[8 + n] == ':';
}

struct advise_out {
    bool json;
    struct json_object *list;
    size_t n;
};

static int advise_one(const struct gsm_hist_target *t, const struct gsm_advise_opts *o, struct advise_out *out) {
    struct gsm_advice a;
    if (gsm_advise(t, o, &a) < 0)
        return 0;   /* no rows (only events): nothing to size */
    if (out->json)
        json_object_array_add(out->list, gsm_advice_to_json(t, &a));
    else
        gsm_advice_print_table(t, &a, stdout);
    out->n++;
    return 0;
}

static int advise_prometheus(const char *url, enum gsm_prom_source src, uint64_t range_ms, bool allow_remote,
                             const char *target, const struct gsm_advise_opts *o, struct advise_out *out) {
    struct gsm_hist_target *v = NULL;
    size_t n = 0;
    char err[512];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    int r = gsm_prom_range_load(url, src, now, range_ms, allow_remote, &v, &n, err, sizeof err);
    if (r < 0) {
        gsm_error("advise: --prometheus %s", err);
        return r == -EINVAL || r == -EPERM ? GSM_EXIT_USAGE : GSM_EXIT_FAILURE;
    }
    for (size_t i = 0; i < n; i++) {
        if (!target || key_matches(v[i].key, target) || strcmp(v[i].name, target) == 0)
            advise_one(&v[i], o, out);
        gsm_hist_target_free(&v[i]);
    }
    free(v);
    return GSM_EXIT_OK;
}

static int advise_history(const char *path, const char *target, const struct gsm_advise_opts *o,
                          struct advise_out *out) {
    struct gsm_history *h = NULL;
    char err[512];
    if (gsm_history_open_ro(path, &h, err, sizeof err) < 0) {
        gsm_error("advise: --history %s", err);
        return GSM_EXIT_FAILURE;
    }
    char **keys = NULL;
    size_t n = 0;
    int ret = GSM_EXIT_OK;
    if (gsm_history_list(h, &keys, &n) < 0) {
        gsm_error("advise: %s: not a gsmapper history (no targets table)", path);
        gsm_history_close(h);
        return GSM_EXIT_FAILURE;
    }
    for (size_t i = 0; i < n; i++) {
        if (ret == GSM_EXIT_OK && (!target || key_matches(keys[i], target))) {
            struct gsm_hist_target t;
            if (gsm_history_load(h, keys[i], &t) < 0) {
                gsm_error("advise: %s: cannot read the rows of %s", path, keys[i]);
                ret = GSM_EXIT_FAILURE;
            } else {
                advise_one(&t, o, out);
                gsm_hist_target_free(&t);
            }
        }
        free(keys[i]);
    }
    free(keys);
    gsm_history_close(h);
    return ret;
}

int cmd_advise(int argc, char **argv) {
    enum { OPT_HISTORY = 256, OPT_TARGET, OPT_HALF_LIFE, OPT_MARGIN, OPT_MAX_LIMIT, OPT_PROM, OPT_SOURCE, OPT_RANGE,
           OPT_REMOTE, OPT_NO_SANDBOX };
    static const struct option longopts[] = {
        {"history", required_argument, NULL, OPT_HISTORY}, {"target", required_argument, NULL, OPT_TARGET},
        {"half-life", required_argument, NULL, OPT_HALF_LIFE}, {"margin", required_argument, NULL, OPT_MARGIN},
        {"max-limit", required_argument, NULL, OPT_MAX_LIMIT}, {"output", required_argument, NULL, 'o'},
        {"prometheus", required_argument, NULL, OPT_PROM}, {"source", required_argument, NULL, OPT_SOURCE},
        {"range", required_argument, NULL, OPT_RANGE}, {"allow-remote", no_argument, NULL, OPT_REMOTE},
        {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX}, {"help", no_argument, NULL, 'h'}, {0},
    };
    const char *history = NULL, *target = NULL, *prom = NULL;
    bool no_sandbox = false;
    enum gsm_prom_source src = GSM_PROM_GSMAPPER;
    uint64_t range_ms = 8 * 86400000ULL;
    bool allow_remote = false;
    struct gsm_advise_opts o;
    gsm_advise_opts_default(&o);
    struct advise_out out = {0};
    uint64_t v;
    double d;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_HISTORY: history = optarg; break;
        case OPT_TARGET: target = optarg; break;
        case OPT_PROM: prom = optarg; break;
        case OPT_REMOTE: allow_remote = true; break;
        case OPT_NO_SANDBOX: no_sandbox = true; break;
        case OPT_SOURCE:
            if (strcmp(optarg, "gsmapper") == 0)
                src = GSM_PROM_GSMAPPER;
            else if (strcmp(optarg, "cadvisor") == 0)
                src = GSM_PROM_CADVISOR;
            else {
                gsm_error("advise: --source wants gsmapper or cadvisor, not '%s'", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        case OPT_RANGE:
            if (gsm_parse_duration_ms(optarg, &range_ms) < 0 || range_ms < 600000) {
                gsm_error("advise: --range wants a duration of at least 10m (e.g. 8d), not '%s'", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        case OPT_HALF_LIFE:
            if (gsm_parse_duration_ms(optarg, &v) < 0 || v < 60000) {
                gsm_error("advise: --half-life wants a duration of at least 1m (e.g. 24h), not '%s'", optarg);
                return GSM_EXIT_USAGE;
            }
            o.half_life_h = (double)v / 3.6e6;
            break;
        case OPT_MARGIN:
            if (gsm_parse_seconds_arg(optarg, 0, 500, &d) < 0) {
                gsm_error("advise: --margin wants a percentage from 0 to 500, not '%s'", optarg);
                return GSM_EXIT_USAGE;
            }
            o.margin = d / 100;
            break;
        case OPT_MAX_LIMIT: {
            const char *p = optarg;
            if (gsm_parse_u64(&p, &v) < 0 || *p || v == 0 || v > (1ULL << 30)) {
                gsm_error("advise: --max-limit wants MiB (1 or more), not '%s'", optarg);
                return GSM_EXIT_USAGE;
            }
            o.cap_bytes = v << 20;
            break;
        }
        case 'o':
            if (strcmp(optarg, "json") == 0)
                out.json = true;
            else if (strcmp(optarg, "table") != 0) {
                gsm_error("advise: unknown output format '%s' (table, json)", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        case 'h': fputs(usage, stdout); return GSM_EXIT_OK;
        default: gsm_error("advise: see 'gsmapper advise --help'"); return GSM_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        gsm_error("advise: unexpected argument '%s' (see 'gsmapper advise --help')", argv[optind]);
        return GSM_EXIT_USAGE;
    }
    if (!history == !prom) {
        gsm_error("advise: name one source: --history FILE or --prometheus URL (see 'gsmapper advise --help')");
        return GSM_EXIT_USAGE;
    }
    /* Arguments parsed: restrict ourselves before reading anything (docs/sandbox.md). advise
     * writes only to stdout; SQLite may write the history's -shm (and -wal) beside it, even
     * read-only, while a watch writes the history: writes beneath its directory only. */
    struct gsm_sandbox sb;
    gsm_sandbox_init(&sb);
    if (no_sandbox)
        sb.mode = GSM_SANDBOX_OFF;
    gsm_sandbox_allow_write_parent(&sb, history);
    gsm_sandbox_apply(&sb, "advise");
    gsm_sandbox_strict("advise");
    if (out.json)
        out.list = json_object_new_array();
    int ret = history ? advise_history(history, target, &o, &out)
                      : advise_prometheus(prom, src, range_ms, allow_remote, target, &o, &out);
    const char *source = history ? history : prom;
    if (ret == GSM_EXIT_OK && out.n == 0) {
        if (target)
            gsm_error("advise: %s: no samples of a target matching '%s'", source, target);
        else
            gsm_error("advise: %s: no samples recorded yet", source);
        ret = GSM_EXIT_NOTFOUND;
    }
    if (out.json && ret == GSM_EXIT_OK) {
        struct json_object *root = json_object_new_object();
        json_object_object_add(root, "schema", json_object_new_string("gsmapper.advise/v1"));
        json_object_object_add(root, "source", json_object_new_string(source));
        json_object_object_add(root, "half_life_hours", json_object_new_double(o.half_life_h));
        json_object_object_add(root, "margin", json_object_new_double(o.margin));
        json_object_object_add(root, "targets", json_object_get(out.list));
        gsm_json_line(root, stdout);
        json_object_put(root);
    }
    json_object_put(out.list);
    return ret;
}
