/* gsmapper explain PID | --self: one-shot attribution of a process's memory.
 * Wires readers/proc_snapshot -> analyses/classify + totals -> renderers/explain_*. */
#include "analyses/classify.h"
#include "analyses/totals.h"
#include "cmd/commands.h"
#include "readers/proc_snapshot.h"
#include "renderers/explain_render.h"
#include "util/exitcode.h"
#include "util/log.h"
#include <errno.h>
#include "util/parse.h"
#include "util/root.h"

#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "Usage: gsmapper explain [OPTIONS] PID\n"
    "       gsmapper explain [OPTIONS] --self\n"
    "\n"
    "Where a process's memory goes: every mapping from /proc/PID/smaps gets a runtime class\n"
    "(go-heap, go-runtime, thread-stack, main-stack, native-heap, binary, shared-lib,\n"
    "file-mapped, shmem, special, hugetlb, anon-other); totals reconcile with smaps_rollup.\n"
    "\n"
    "Options:\n"
    "  -o, --output FORMAT  table (default on a terminal), json (default otherwise), folded\n"
    "      --mappings       JSON: include every mapping with all its smaps fields\n"
    "      --top N          show the N largest mappings (default 10, at most 64)\n"
    "      --rollup         also read smaps_rollup and check the totals against it (a second\n"
    "                       walk of the page tables: doubles the kernel's cost on large RSS)\n"
    "      --best-effort    if smaps is not readable, report status/statm and say what is missing\n"
    "      --self           explain gsmapper's own process\n"
    "      --root DIR       read /proc under DIR instead of / (fixture trees)\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit codes: 0 ok; 1 runtime failure or malformed file; 2 usage; 3 no such process;\n"
    "4 permission denied (smaps needs the process's user or CAP_SYS_PTRACE).\n";

enum format { FMT_TABLE, FMT_JSON, FMT_FOLDED };

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int report_read_error(const struct gsm_root *root, pid_t pid, const struct gsm_read_error *err, int r) {
    const char *rp = root->is_host ? "" : root->path;
    if (r == -ESRCH || r == -ENOENT) {
        gsm_error("no process %d", (int)pid);
        return GSM_EXIT_NOTFOUND;
    }
    if (r == -EACCES || r == -EPERM) {
        gsm_error("cannot read %s/proc/%d/%s: permission denied (run as the process's user, or grant "
                  "CAP_SYS_PTRACE; --best-effort reports what is readable)", rp, (int)pid, err->file);
        return GSM_EXIT_PERM;
    }
    if (r == -EBADMSG) {
        if (err->parse.line)
            gsm_error("%s/proc/%d/%s:%zu: %s", rp, (int)pid, err->file, err->parse.line, err->parse.what);
        else
            gsm_error("%s/proc/%d/%s: %s", rp, (int)pid, err->file, err->parse.what);
        return GSM_EXIT_FAILURE;
    }
    gsm_error("reading %s/proc/%d/%s: %s", rp, (int)pid, err->file, strerror(-r));
    return gsm_exit_from_errno(r);
}

int cmd_explain(int argc, char **argv) {
    enum { OPT_MAPPINGS = 256, OPT_TOP, OPT_BEST_EFFORT, OPT_SELF, OPT_ROOT, OPT_ROLLUP };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},   {"mappings", no_argument, NULL, OPT_MAPPINGS},
        {"top", required_argument, NULL, OPT_TOP},  {"best-effort", no_argument, NULL, OPT_BEST_EFFORT},
        {"self", no_argument, NULL, OPT_SELF},      {"root", required_argument, NULL, OPT_ROOT},
        {"rollup", no_argument, NULL, OPT_ROLLUP},  {"help", no_argument, NULL, 'h'},
        {0},
    };
    enum format fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_JSON;
    bool with_mappings = false, best_effort = false, self = false, rollup = false;
    uint64_t top = 10;
    const char *root_dir = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (strcmp(optarg, "table") == 0)
                fmt = FMT_TABLE;
            else if (strcmp(optarg, "json") == 0)
                fmt = FMT_JSON;
            else if (strcmp(optarg, "folded") == 0)
                fmt = FMT_FOLDED;
            else {
                gsm_error("explain: unknown output format '%s' (table, json, folded)", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        case OPT_MAPPINGS: with_mappings = true; break;
        case OPT_TOP: {
            const char *p = optarg;
            if (gsm_parse_u64(&p, &top) < 0 || *p || top > 64) {
                gsm_error("explain: --top wants a number from 0 to 64, not '%s'", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        }
        case OPT_BEST_EFFORT: best_effort = true; break;
        case OPT_ROLLUP: rollup = true; break;
        case OPT_SELF: self = true; break;
        case OPT_ROOT: root_dir = optarg; break;
        case 'h': fputs(usage, stdout); return GSM_EXIT_OK;
        default:
            gsm_error("explain: see 'gsmapper explain --help'");
            return GSM_EXIT_USAGE;
        }
    }

    pid_t pid;
    if (self) {
        if (optind != argc) {
            gsm_error("explain: --self takes no PID");
            return GSM_EXIT_USAGE;
        }
        if (root_dir) {
            gsm_error("explain: --self reads the live /proc; it cannot be combined with --root");
            return GSM_EXIT_USAGE;
        }
        pid = getpid();
    } else {
        if (optind + 1 != argc) {
            gsm_error("explain: expected one PID (see 'gsmapper explain --help')");
            return GSM_EXIT_USAGE;
        }
        const char *p = argv[optind];
        uint64_t v;
        if (gsm_parse_u64(&p, &v) < 0 || *p || v == 0 || v > INT32_MAX) {
            gsm_error("explain: '%s' is not a PID", argv[optind]);
            return GSM_EXIT_USAGE;
        }
        pid = (pid_t)v;
    }

    struct gsm_root root;
    int r = gsm_root_open(root_dir, &root);
    if (r < 0) {
        gsm_error("cannot open root %s: %s", root_dir ? root_dir : "/", strerror(-r));
        return r == -ENOENT || r == -ENOTDIR ? GSM_EXIT_USAGE : gsm_exit_from_errno(r);
    }

    struct gsm_process proc;
    gsm_process_init(&proc, pid);
    struct gsm_read_opts opts = {.smaps = true, .rollup = rollup, .best_effort = best_effort};
    struct gsm_read_error err;
    uint64_t taken = now_ms();
    int ret = GSM_EXIT_OK;
    r = gsm_process_read(&root, pid, &opts, &proc, &err);
    if (r < 0) {
        ret = report_read_error(&root, pid, &err, r);
        goto out;
    }

    gsm_classify(&proc);
    struct gsm_totals totals;
    gsm_totals_compute(&proc, &totals);
    struct gsm_explain_view view = {
        .proc = &proc, .totals = &totals, .with_mappings = with_mappings, .top_mappings = top, .taken_ms = taken,
    };
    if (fmt == FMT_FOLDED && !proc.have_smaps) {
        gsm_error("explain: folded output needs smaps, which was not readable");
        ret = GSM_EXIT_PERM;
        goto out;
    }
    r = fmt == FMT_TABLE  ? gsm_explain_print_table(&view, stdout)
        : fmt == FMT_JSON ? gsm_explain_print_json(&view, stdout)
                          : gsm_explain_print_folded(&view, stdout);
    if (r == 0 && fflush(stdout) != 0)
        r = -errno;
    if (r < 0) {
        gsm_error("writing output: %s", strerror(-r));
        ret = GSM_EXIT_FAILURE;
    }
    if (proc.n_missing && ret == GSM_EXIT_OK)
        gsm_warn("incomplete: %zu source(s) not readable (listed in the output)", proc.n_missing);
out:
    gsm_process_free(&proc);
    gsm_root_close(&root);
    return ret;
}
