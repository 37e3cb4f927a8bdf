/* gsmapper report: one self-contained HTML page (flame graph, heat map, address-space strip,
 * findings, diff) from a live PID or cgroup, a saved `explain -o json`, a flight-recorder
 * bundle, or two of these. It reads only the documented JSON (docs/report.md): a live target is
 * explained by running our own binary (/proc/self/exe explain ... -o json --mappings) and
 * reading its output, so the page does not depend on explain's insides. */
#include "cmd/commands.h"
#include "renderers/report_html.h"
#include "util/cleanup.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/proc_broker.h"
#include "util/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char usage[] =
    "Usage: gsmapper report [OPTIONS] PID -o FILE.html\n"
    "       gsmapper report [OPTIONS] --cgroup PATH -o FILE.html\n"
    "       gsmapper report [OPTIONS] EXPLAIN.json|BUNDLE_DIR -o FILE.html\n"
    "       gsmapper report [OPTIONS] --diff A B -o FILE.html\n"
    "\n"
    "One self-contained HTML page of where memory goes: a flame graph (cgroup > process > class >\n"
    "mapping > Go frames) with click-zoom, regex search, RSS/PSS/swap/USS and an inverted view;\n"
    "the address space by class; the findings with their evidence and advice; for a flight-\n"
    "recorder bundle, the heat map of its samples over time with the event marked; with --diff,\n"
    "what grew (red) and shrank (blue) from A to B. Scripts, styles and data are inline and the\n"
    "page forbids itself every network request: it opens from a local file, offline.\n"
    "\n"
    "Inputs: a PID (explained now, with every mapping), --cgroup PATH (explained now), a file\n"
    "written by `gsmapper explain -o json [--mappings]`, or a bundle directory written by watch\n"
    "or serve (explain.json, samples.jsonl, event.json, summary.txt). --diff takes two of them.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE    write the page here, atomically (a temp file, then rename); '-' for\n"
    "                       stdout (the default when stdout is not a terminal). FILE.svg writes\n"
    "                       the flame graph alone (its own zoom and search), FILE.csv the heat\n"
    "                       map's table of a bundle's samples\n"
    "      --cgroup PATH    report a whole memory cgroup (as `explain --cgroup`)\n"
    "      --diff           two inputs follow: A (before) and B (after)\n"
    "      --top N          children kept per node, the rest folded into one \"other\" node\n"
    "                       (default 40, 2..5000): bounds the page (20,000 mappings: < 2 MiB)\n"
    "      --title TEXT     the page's title\n"
    "      --root DIR       live targets: read /proc and /sys under DIR (passed to explain)\n"
    "      --go-endpoint URL, --no-go-stats\n"
    "                       live targets: passed to explain (the Go heap profile's frames)\n"
    "      --gc             live targets: ask the Go runtime for a GC before the heap profile\n"
    "                       (explain --gc); by default the profile is as of the last GC\n"
    "      --no-sandbox     do not restrict this process (no_new_privs, Landlock, seccomp;\n"
    "                       docs/sandbox.md); also GSMAPPER_SANDBOX=off\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit codes: 0 ok; 1 runtime failure or a malformed input; 2 usage; 3 no such process,\n"
    "cgroup, file or directory; 4 permission denied.\n";

/* An explain document of a 20,000-mapping process is ~30 MB; this is far above any real one. */
#define INPUT_MAX_BYTES ((size_t)512 << 20)

struct report_opts {
    const char *output, *cgroup, *title, *root_dir, *go_endpoint;
    bool diff, no_go_stats, gc, csv, svg, no_sandbox;
    size_t top;
};

/* One input, read: the documents and the texts they were parsed from. */
struct loaded {
    struct gsm_report_input in;
    struct json_object *explain, *event;
    struct json_object *details[GSM_REPORT_CGROUP_DETAILS];
    size_t n_details, details_failed;
    char *samples, *summary;
    char label[PATH_MAX + 32];
};

static void loaded_free(struct loaded *l) {
    json_object_put(l->explain);
    json_object_put(l->event);
    for (size_t i = 0; i < l->n_details; i++)
        json_object_put(l->details[i]);
    free(l->samples);
    free(l->summary);
}

static int exit_for(int r) {
    return r == -ENOENT || r == -ENOTDIR || r == -ESRCH ? GSM_EXIT_NOTFOUND : gsm_exit_from_errno(r);
}

/* Parse a whole buffer as one JSON value. */
static int parse_json(const char *what, const char *buf, size_t len, struct json_object **ret) {
    struct json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return -ENOMEM;
    struct json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (o && end < len && (buf[end] == ' ' || buf[end] == '\n' || buf[end] == '\t' || buf[end] == '\r'))
        end++;
    if (!o || e != json_tokener_success || end != len) {
        json_object_put(o);
        gsm_error("%s: not a JSON document (%s at byte %zu)", what,
                  e != json_tokener_success ? json_tokener_error_desc(e) : !o ? "empty" : "trailing data", end);
        return -EBADMSG;
    }
    *ret = o;
    return 0;
}

static int read_error(const char *what, int r) {
    if (r == -EFBIG)
        gsm_error("%s: larger than %zu MiB", what, INPUT_MAX_BYTES >> 20);
    else
        gsm_error("%s: %s", what, strerror(-r));
    return r;
}

/* A file of a bundle directory; a missing one is not an error (*ret_buf NULL). */
static int read_bundle_file(int dfd, const char *dir, const char *name, char **ret_buf, size_t *ret_len) {
    int r = gsm_read_file_at(dfd, name, INPUT_MAX_BYTES, ret_buf, ret_len);
    if (r == -ENOENT) {
        *ret_buf = NULL;
        *ret_len = 0;
        return 0;
    }
    if (r < 0) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "%s/%s", dir, name);
        return read_error(what, r);
    }
    return 0;
}

static int load_bundle(const char *dir, struct loaded *l) {
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 && errno == EACCES)
        gsm_sandbox_note_refused(AT_FDCWD, dir);
    if (dfd < 0)
        return read_error(dir, -errno);
    _cleanup_free_ char *explain = NULL, *event = NULL;
    size_t elen = 0, evlen = 0, slen = 0, sumlen = 0;
    int r;
    if ((r = read_bundle_file(dfd, dir, "explain.json", &explain, &elen)) < 0 ||
        (r = read_bundle_file(dfd, dir, "samples.jsonl", &l->samples, &slen)) < 0 ||
        (r = read_bundle_file(dfd, dir, "event.json", &event, &evlen)) < 0 ||
        (r = read_bundle_file(dfd, dir, "summary.txt", &l->summary, &sumlen)) < 0)
        return r;
    if (!explain && !l->samples) {
        gsm_error("%s: not a gsmapper bundle (no explain.json and no samples.jsonl)", dir);
        return -EBADMSG;
    }
    char what[PATH_MAX + 64];
    snprintf(what, sizeof what, "%s/explain.json", dir);
    if (explain && (r = parse_json(what, explain, elen, &l->explain)) < 0)
        return r;
    snprintf(what, sizeof what, "%s/event.json", dir);
    if (event && (r = parse_json(what, event, evlen, &l->event)) < 0)
        return r;
    l->in.samples_jsonl = l->samples;
    l->in.samples_len = slen;
    l->in.summary = l->summary;
    if (strcmp(dir, ".") == 0)   /* the recorder drawing the bundle it is writing */
        snprintf(l->label, sizeof l->label, "flight-recorder bundle");
    else
        snprintf(l->label, sizeof l->label, "bundle %s", dir);
    return 0;
}

static int load_file(const char *path, struct loaded *l) {
    char real[PATH_MAX];
    if (!realpath(path, real))   /* a symlink the user names is theirs to follow */
        return read_error(path, -errno);
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    int r = gsm_read_file_at(AT_FDCWD, real, INPUT_MAX_BYTES, &buf, &len);
    if (r < 0)
        return read_error(path, r);
    if ((r = parse_json(path, buf, len, &l->explain)) < 0)
        return r;
    snprintf(l->label, sizeof l->label, "%s", path);
    return 0;
}

/* Read everything from fd (a pipe) into a malloc'd buffer. */
static int read_all_fd(int fd, char **ret_buf, size_t *ret_len) {
    size_t cap = 1 << 16, len = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (cap - len < 4096) {
            if (cap > INPUT_MAX_BYTES)
                return -EFBIG;
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                return -ENOMEM;
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = 0;
    *ret_buf = TAKE_PTR(buf);
    *ret_len = len;
    return 0;
}

/* Run our own binary's explain with stdout to a pipe; its stderr is ours, so its one-line
 * error reaches the user as it is. Returns its exit code (>= 0) with the output, or -errno. */
static int run_explain(char *const argv[], bool quiet, char **ret_out, size_t *ret_len) {
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    /* Sandboxed (docs/sandbox.md): the child is inside our Landlock domain and cannot start a
     * /proc broker of its own, so it gets a socket to ours as fd 3 (GSMAPPER_BROKER_FD=3). Above
     * fd 3, so that the dup2 to 3 clears its close-on-exec. */
    _cleanup_close_ int broker_fd = -1;
    _cleanup_free_ char **envp = NULL;
    if (gsm_broker_active()) {
        int s = gsm_broker_attach_new();
        broker_fd = s >= 0 && s <= 3 ? fcntl(s, F_DUPFD_CLOEXEC, 4) : s;
        if (s >= 0 && s <= 3)
            close(s);
        size_t n = 0;
        while (environ[n])
            n++;
        const char *asan = gsm_sandbox_child_asan_env();
        if (broker_fd >= 0 && (envp = calloc(n + 3, sizeof *envp))) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], GSM_BROKER_FD_ENV "=", sizeof GSM_BROKER_FD_ENV) != 0 &&
                    !(asan && strncmp(environ[i], "ASAN_OPTIONS=", 13) == 0))
                    envp[k++] = environ[i];
            envp[k++] = (char *)GSM_BROKER_FD_ENV "=3";
            if (asan)
                envp[k++] = (char *)asan;
            envp[k] = NULL;
        }
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    if (quiet)
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (envp)
        posix_spawn_file_actions_adddup2(&fa, broker_fd, 3);
    pid_t pid;
    int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp ? envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (r != 0) {
        close(pfd[0]);
        return -r;
    }
    char *out = NULL;
    size_t len = 0;
    int rr = read_all_fd(pfd[0], &out, &len);
    close(pfd[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (rr < 0) {
        free(out);
        return rr;
    }
    *ret_out = out;
    *ret_len = len;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* argv of our own explain (-o json) on a PID (--mappings) or a cgroup, with the live options. */
static void explain_argv(const struct report_opts *o, const char *pid_arg, const char *cgroup, char *argv[16]) {
    size_t a = 0;
    argv[a++] = (char *)"/proc/self/exe";
    argv[a++] = (char *)"explain";
    argv[a++] = (char *)"-o";
    argv[a++] = (char *)"json";
    if (o->root_dir) {
        argv[a++] = (char *)"--root";
        argv[a++] = (char *)o->root_dir;
    }
    if (o->no_go_stats)
        argv[a++] = (char *)"--no-go-stats";
    if (o->gc)
        argv[a++] = (char *)"--gc";
    if (o->go_endpoint) {
        argv[a++] = (char *)"--go-endpoint";
        argv[a++] = (char *)o->go_endpoint;
    }
    if (cgroup) {
        argv[a++] = (char *)"--cgroup";
        argv[a++] = (char *)cgroup;
    } else {
        argv[a++] = (char *)"--mappings";
        argv[a++] = (char *)"--";
        argv[a++] = (char *)pid_arg;
    }
    argv[a] = NULL;
}

/* The largest processes of a live cgroup document (explain ranks them by PSS) get their own
 * `explain PID --mappings`, so the cgroup's tree reaches their mappings and Go frames. One that
 * is gone or unreadable by now keeps its classes (counted, explain's message dropped). */
static void load_details(const struct report_opts *o, struct loaded *l) {
    struct json_object *procs = json_object_object_get(l->explain, "processes");
    size_t n = json_object_is_type(procs, json_type_array) ? json_object_array_length(procs) : 0;
    for (size_t i = 0; i < n && l->n_details < GSM_REPORT_CGROUP_DETAILS; i++) {
        struct json_object *pid = json_object_object_get(json_object_array_get_idx(procs, i), "pid");
        char pid_arg[24], *argv[16];
        snprintf(pid_arg, sizeof pid_arg, "%" PRId64, json_object_get_int64(pid));
        explain_argv(o, pid_arg, NULL, argv);
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        struct json_object *doc = NULL;
        int st = run_explain(argv, true, &out, &len);
        if (st == 0 && parse_json("explain's output", out, len, &doc) == 0)
            l->details[l->n_details++] = doc;
        else
            l->details_failed++;
    }
}

/* A live PID (pid_arg) or cgroup: explain it now through our own binary. Returns 0, or an exit
 * code (> 0) after explain has said why on stderr. */
static int load_live(const struct report_opts *o, const char *pid_arg, const char *cgroup, struct loaded *l) {
    char *argv[16];
    explain_argv(o, pid_arg, cgroup, argv);
    _cleanup_free_ char *out = NULL;
    size_t len = 0;
    int st = run_explain(argv, false, &out, &len);
    if (st < 0) {
        gsm_error("report: cannot run explain (/proc/self/exe): %s", strerror(-st));
        return GSM_EXIT_FAILURE;
    }
    if (st != 0)   /* explain printed its reason; its exit code says the same thing ours does */
        return st == GSM_EXIT_USAGE || st == GSM_EXIT_NOTFOUND || st == GSM_EXIT_PERM ? st : GSM_EXIT_FAILURE;
    if (parse_json("explain's output", out, len, &l->explain) < 0)
        return GSM_EXIT_FAILURE;
    if (cgroup)
        load_details(o, l);
    snprintf(l->label, sizeof l->label, "%s %s, live", cgroup ? "cgroup" : "PID", cgroup ? cgroup : pid_arg);
    return 0;
}

static bool is_pid(const char *s) {
    if (!*s || strlen(s) > 9)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return atoi(s) > 0;
}

/* One input named on the command line: a PID, a bundle directory or an explain file. Returns 0
 * or an exit code. */
static int load(const struct report_opts *o, const char *arg, const char *cgroup, struct loaded *l) {
    int r;
    if (cgroup || is_pid(arg))
        r = load_live(o, arg, cgroup, l);
    else {
        struct stat st;
        if (stat(arg, &st) < 0)
            r = read_error(arg, -errno);
        else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
            gsm_error("%s: not a file or a directory", arg);
            r = -EBADMSG;
        } else
            r = S_ISDIR(st.st_mode) ? load_bundle(arg, l) : load_file(arg, l);
        if (r < 0)
            r = r == -EBADMSG ? GSM_EXIT_FAILURE : exit_for(r);
    }
    const char *schema = l->explain ? json_object_get_string(json_object_object_get(l->explain, "schema")) : NULL;
    if (r == 0 && l->explain && (!schema || strcmp(schema, "gsmapper.explain/v1") != 0)) {
        gsm_error("%s: not a gsmapper explain document (schema %s, want gsmapper.explain/v1)", l->label[0] ? l->label : arg,
                  schema ? schema : "missing");
        r = GSM_EXIT_FAILURE;
    }
    l->in.explain = l->explain;
    l->in.event = l->event;
    l->in.details = l->details;
    l->in.n_details = l->n_details;
    l->in.details_failed = l->details_failed;
    l->in.label = l->label;
    return r;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_args(int argc, char **argv, struct report_opts *o, char ***ret_inputs, int *ret_n) {
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"cgroup", required_argument, NULL, 'c'},
        {"diff", no_argument, NULL, 'd'},         {"top", required_argument, NULL, 't'},
        {"title", required_argument, NULL, 'T'},  {"root", required_argument, NULL, 'r'},
        {"go-endpoint", required_argument, NULL, 'g'}, {"no-go-stats", no_argument, NULL, 'G'},
        {"gc", no_argument, NULL, 'C'},           {"no-sandbox", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},         {0},
    };
    int c;
    optind = 1;
    opterr = 0;   /* one line of our own instead of getopt's message and the usage */
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'c': o->cgroup = optarg; break;
        case 'd': o->diff = true; break;
        case 'T': o->title = optarg; break;
        case 'r': o->root_dir = optarg; break;
        case 'g': o->go_endpoint = optarg; break;
        case 'G': o->no_go_stats = true; break;
        case 'C': o->gc = true; break;
        case 'S': o->no_sandbox = true; break;
        case 't': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || v < 2 || v > GSM_REPORT_TOP_MAX) {
                gsm_error("report: --top wants a number from 2 to %d, not '%s'", GSM_REPORT_TOP_MAX, optarg);
                return GSM_EXIT_USAGE;
            }
            o->top = (size_t)v;
            break;
        }
        case 'h': fputs(usage, stdout); return -1;
        default:
            gsm_error("report: %s '%s' (see 'gsmapper report --help')",
                      optopt && strchr("o", optopt) ? "option needs a value:" : "unknown option", argv[optind - 1]);
            return GSM_EXIT_USAGE;
        }
    }
    int n = argc - optind, want = o->diff ? 2 : o->cgroup ? 0 : 1;
    if (o->diff && o->cgroup) {
        gsm_error("report: --diff takes two inputs; name a cgroup snapshot by its file or bundle");
        return GSM_EXIT_USAGE;
    }
    if (n != want) {
        gsm_error("report: %s (see 'gsmapper report --help')",
                  o->diff ? "--diff wants two inputs, A (before) and B (after)"
                  : o->cgroup ? "--cgroup takes no other input" : n == 0 ? "which PID, file or bundle?" : "one input only (or --diff A B)");
        return GSM_EXIT_USAGE;
    }
    if (!o->output && isatty(STDOUT_FILENO)) {
        gsm_error("report: name the page with -o FILE.html (it is not for a terminal)");
        return GSM_EXIT_USAGE;
    }
    const char *dot = o->output ? strrchr(o->output, '.') : NULL;
    if (dot && strcmp(dot, ".json") == 0) {
        gsm_error("report: a page (.html), the flame graph alone (.svg) or the heat map's table (.csv) is written, not %s", dot);
        return GSM_EXIT_USAGE;
    }
    o->csv = dot && strcmp(dot, ".csv") == 0;
    o->svg = dot && strcmp(dot, ".svg") == 0;
    if (o->csv && o->diff) {
        gsm_error("report: a .csv is the heat map's table of one bundle; --diff makes a page (.html)");
        return GSM_EXIT_USAGE;
    }
    *ret_inputs = argv + optind;
    *ret_n = n;
    return 0;
}

static int write_page(const struct report_opts *o, const char *page, size_t len) {
    if (!o->output || strcmp(o->output, "-") == 0) {
        if ((len && fwrite(page, 1, len, stdout) != len) || fflush(stdout) != 0) {
            gsm_error("report: writing the page to stdout: %s", strerror(errno ? errno : EIO));
            return GSM_EXIT_FAILURE;
        }
        return GSM_EXIT_OK;
    }
    int r = gsm_write_file_atomic(o->output, page, len);
    if (r < 0) {
        gsm_error("report: writing %s: %s", o->output, strerror(-r));
        return r == -EACCES || r == -EPERM ? GSM_EXIT_PERM : GSM_EXIT_FAILURE;
    }
    return GSM_EXIT_OK;
}

int cmd_report(int argc, char **argv) {
    struct report_opts o = {.top = GSM_REPORT_TOP_DEFAULT};
    char **inputs = NULL;
    int n = 0;
    int ret = parse_args(argc, argv, &o, &inputs, &n);
    if (ret != 0)
        return ret < 0 ? GSM_EXIT_OK : ret;
    /* Arguments parsed: restrict ourselves before reading anything (docs/sandbox.md). Writes
     * only beneath the page's directory (a temp file, then rename); execution only of our own
     * binary, the explain children of a live target, which get a socket to our /proc broker. */
    struct gsm_sandbox sb;
    gsm_sandbox_init(&sb);
    if (o.no_sandbox)
        sb.mode = GSM_SANDBOX_OFF;
    if (o.output && strcmp(o.output, "-") != 0)
        gsm_sandbox_allow_write_parent(&sb, o.output);
    sb.allow_exec = true;
    gsm_sandbox_allow_self_exec(&sb);
    /* Reads: the read list, --root, and the inputs that are files or bundle directories. */
    gsm_sandbox_allow_read(&sb, o.root_dir);
    for (int i = 0; i < n; i++)
        if (!is_pid(inputs[i]) && strcmp(inputs[i], "-") != 0)
            gsm_sandbox_allow_read(&sb, inputs[i]);
    gsm_sandbox_apply(&sb, "report");
    gsm_sandbox_strict("report");
    struct loaded a = {0}, b = {0};
    if (o.diff) {
        ret = load(&o, inputs[0], NULL, &a);
        if (ret == 0)
            ret = load(&o, inputs[1], NULL, &b);
    } else
        ret = load(&o, n ? inputs[0] : NULL, o.cgroup, &b);
    if (ret == 0) {
        struct gsm_report_opts ro = {.top = o.top, .title = o.title, .now_ms = now_ms()};
        _cleanup_free_ char *page = NULL;
        size_t len = 0;
        const char *why = NULL;
        int r = o.csv   ? gsm_report_csv(&b.in, &page, &len, &why)
                : o.svg ? gsm_report_svg(&b.in, o.diff ? &a.in : NULL, &ro, &page, &len, &why)
                        : gsm_report_html(&b.in, o.diff ? &a.in : NULL, &ro, &page, &len, &why);
        if (r < 0) {
            gsm_error("report: %s", why ? why : strerror(-r));
            ret = (o.csv && !b.in.samples_jsonl) || (o.svg && !b.in.explain) ? GSM_EXIT_USAGE : GSM_EXIT_FAILURE;
        } else
            ret = write_page(&o, page, len);
    }
    loaded_free(&a);
    loaded_free(&b);
    return ret;
}
