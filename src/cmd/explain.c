/* gsmapper explain PID | --self | --cgroup PATH: one-shot attribution of a process's or a
 * cgroup's memory. Wires readers (proc_snapshot, cgroup) -> analyses (classify, totals,
 * cgroup_report) -> renderers (explain_*, cgroup_render). */
#include "cmd/cgroup_gather.h"
#include "analyses/classify.h"
#include "analyses/findings.h"
#include "analyses/go_split.h"
#include "analyses/health.h"
#include "renderers/health_render.h"
#include "cmd/explain_go.h"
#include "readers/proc_access.h"
#include "readers/proc_environ.h"
#include "renderers/go_render.h"
#include "renderers/pprof_writer.h"
#include "util/sandbox.h"
#include "util/fileio.h"
#include "readers/host.h"
#include "renderers/findings_render.h"
#include "analyses/totals.h"
#include "cmd/commands.h"
#include "readers/proc_handle.h"
#include "readers/proc_snapshot.h"
#include "renderers/cgroup_render.h"
#include "renderers/explain_render.h"
#include "util/cleanup.h"
#include "util/exitcode.h"
#include "util/log.h"
#include <errno.h>
#include "util/parse.h"
#include "util/root.h"
#include "util/text.h"

#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "Usage: gsmapper explain [OPTIONS] PID\n"
    "       gsmapper explain [OPTIONS] --self\n"
    "       gsmapper explain [OPTIONS] --cgroup PATH\n"
    "\n"
    "Where a process's memory goes: every mapping from /proc/PID/smaps gets a runtime class\n"
    "(go-heap, go-runtime, thread-stack, main-stack, native-heap, binary, shared-lib,\n"
    "file-mapped, shmem, special, hugetlb, anon-other); totals reconcile with smaps_rollup.\n"
    "The process's memory cgroup follows: usage, limits, the effective (binding) limit,\n"
    "a breakdown that adds up to usage, events, pressure and the container's identity.\n"
    "With --cgroup, a whole cgroup: its processes ranked by PSS with their classes, how\n"
    "their memory reconciles with the cgroup's usage, and which process the OOM killer\n"
    "would pick next. PATH is relative to the memory hierarchy's root, or an absolute path\n"
    "under its mount point (/sys/fs/cgroup/...).\n"
    "\n"
    "Options:\n"
    "  -o, --output FORMAT  table (default on a terminal), json (default otherwise), folded\n"
    "                       (flame-graph input), pprof (gzipped profile.proto for go tool pprof);\n"
    "                       folded and pprof hold the tree cgroup > process > class > mapping >\n"
    "                       Go frames (the heap profile's in-use bytes by stack, when reachable)\n"
    "      --output-file PATH  write to PATH (atomically: a temp file, then rename) not stdout\n"
    "      --mappings       JSON: include every mapping with all its smaps fields\n"
    "      --top N          show the N largest mappings (default 10, at most 64)\n"
    "      --rollup         also read smaps_rollup and check the totals against it (a second\n"
    "                       walk of the page tables: doubles the kernel's cost on large RSS)\n"
    "      --best-effort    if smaps is not readable, report status/statm and say what is missing\n"
    "      --self           explain gsmapper's own process\n"
    "      --cgroup PATH    explain a whole memory cgroup\n"
    "      --fail-on LEVEL  exit 1 when a finding reaches LEVEL (warn or critical)\n"
    "      --go-endpoint URL  a Go process's net/http/pprof, expvar or Prometheus URL: the base\n"
    "                       or /debug/pprof/heap, /debug/pprof/, /debug/vars, /metrics (default:\n"
    "                       discover the process's own loopback listening ports); its port must\n"
    "                       be a listening socket of the process, else exit 2\n"
    "      --go-endpoint-any  accept a --go-endpoint the process does not own (e.g. a proxy)\n"
    "      --gc             ask the Go runtime for a GC before taking the heap profile\n"
    "                       (heap?gc=1); by default nothing is changed in the target and the\n"
    "                       profile is as of its last GC\n"
    "      --no-go-stats    do not contact the process over HTTP\n"
    "      --read-env       read GOMEMLIMIT, GOGC, GODEBUG and GOMAXPROCS (only these) from\n"
    "                       /proc/PID/environ\n"
    "      --root DIR       read /proc under DIR instead of / (fixture trees)\n"
    "      --no-sandbox     do not restrict this process (no_new_privs, Landlock, seccomp;\n"
    "                       docs/sandbox.md); also GSMAPPER_SANDBOX=off\n"
    "  -h, --help           this text\n"
    "\n"
    "Findings (rules with stable ids, severity, evidence and advice) follow the numbers;\n"
    "docs/findings.md lists them.\n"
    "\n"
    "Exit codes: 0 ok; 1 runtime failure, malformed file, or --fail-on reached; 2 usage (also a\n"
    "--go-endpoint that is not the process's own);\n"
    "3 no such process or cgroup;\n"
    "4 permission denied (smaps needs the process's user or CAP_SYS_PTRACE).\n";

enum format { FMT_TABLE, FMT_JSON, FMT_FOLDED, FMT_PPROF };

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int report_read_error(const struct gsm_root *root, pid_t pid, const struct gsm_read_error *err, int r) {
    const char *rp = root->is_host ? "" : root->path;
    if (r == -ESRCH || r == -ENOENT) {
        char hint[160];
        gsm_proc_notfound_hint(root->fd, hint, sizeof hint);
        gsm_error("no process %d%s", (int)pid, hint);
        return GSM_EXIT_NOTFOUND;
    }
    if ((r == -EACCES || r == -EPERM) && gsm_proc_not_dumpable(root->fd, pid, err->file)) {
        gsm_error("cannot read %s/proc/%d/%s: permission denied (the process is not dumpable: only "
                  "CAP_SYS_PTRACE opens its files, even for its own user)", rp, (int)pid, err->file);
        return GSM_EXIT_PERM;
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

static int finish_output(int r) {
    if (r == 0 && fflush(stdout) != 0)
        r = -errno;
    if (r < 0) {
        gsm_error("writing output: %s", strerror(-r));
        return GSM_EXIT_FAILURE;
    }
    return GSM_EXIT_OK;
}

struct explain_opts {
    enum format fmt;
    bool with_mappings, best_effort, rollup;
    uint64_t top;
    bool fail_on_set;
    enum gsm_severity fail_on;
    struct explain_go_opts go;
    bool read_env;
    const char *output_file;
};

/* Everything is rendered into memory first, then written in one go: to stdout, or to
 * --output-file atomically, so a failure never leaves a partial file under the final name. */
static int emit_raw(const struct explain_opts *eo, const void *data, size_t len);

/* A table carries names and paths from the target: written through gsm_text_write_lines
 * (valid UTF-8, no control characters but newline and tab). JSON is repaired when rendered. */
static int emit(const struct explain_opts *eo, const void *data, size_t len) {
    if (eo->fmt != FMT_TABLE)
        return emit_raw(eo, data, len);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return finish_output(-ENOMEM);
    int r = gsm_text_write_lines(f, data, len);
    if (fclose(f) != 0 || r < 0) {
        free(buf);
        return finish_output(-ENOMEM);
    }
    r = emit_raw(eo, buf, n);
    free(buf);
    return r;
}

static int emit_raw(const struct explain_opts *eo, const void *data, size_t len) {
    if (eo->output_file) {
        int r = gsm_write_file_atomic(eo->output_file, data, len);
        if (r < 0) {
            gsm_error("writing %s: %s", eo->output_file, strerror(-r));
            return r == -EACCES || r == -EPERM ? GSM_EXIT_PERM : GSM_EXIT_FAILURE;
        }
        return GSM_EXIT_OK;
    }
    if (len && fwrite(data, 1, len, stdout) != len)
        return finish_output(-EIO);
    return finish_output(0);
}

/* -o folded / -o pprof: one sample per mapping with RSS, under cgroup > process > class >
 * mapping, with the Go heap profile's stacks under the go-heap mappings. Several processes
 * (explain --cgroup) share one tree. */
static int emit_tree_of(const struct explain_opts *eo, const char *cgroup_path, const struct gsm_process *const *procs,
                        size_t n, const struct gsm_heap_profile *heap) {
    struct gsm_pprof_builder *b = gsm_pprof_builder_new();
    if (!b)
        return finish_output(-ENOMEM);
    /* Name the target: `go tool pprof` prints the mapping's file as "File:". */
    int r = 0;
    char note[4200];
    if (n == 1 && procs[0]->exe_path[0]) {
        r = gsm_pprof_set_main_file(b, procs[0]->exe_path);
        snprintf(note, sizeof note, "target: pid %d, executable %s", (int)procs[0]->pid, procs[0]->exe_path);
    } else if (cgroup_path) {
        r = gsm_pprof_set_main_file(b, cgroup_path);
        snprintf(note, sizeof note, "target: cgroup %s, %zu processes", cgroup_path, n);
    } else
        snprintf(note, sizeof note, "target: pid %d", n ? (int)procs[0]->pid : 0);
    if (r == 0)
        r = gsm_pprof_add_comment(b, note);
    for (size_t i = 0; i < n && r == 0; i++)
        if (procs[i]->have_smaps)
            r = gsm_explain_build_tree(b, cgroup_path, procs[i], n == 1 ? heap : NULL);
    void *buf = NULL;
    size_t len = 0;
    if (r == 0 && eo->fmt == FMT_PPROF) {
        if (!eo->output_file && isatty(STDOUT_FILENO)) {
            gsm_error("explain: pprof output is binary; redirect it or use --output-file FILE");
            gsm_pprof_builder_free(b);
            return GSM_EXIT_USAGE;
        }
        r = gsm_pprof_encode_gzip(b, &buf, &len);
    } else if (r == 0) {
        FILE *f = open_memstream((char **)&buf, &len);
        if (!f)
            r = -ENOMEM;
        else {
            r = gsm_pprof_write_folded(b, f);
            if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        }
    }
    gsm_pprof_builder_free(b);
    int ret = r < 0 ? finish_output(r) : emit(eo, buf, len);
    free(buf);
    return ret;
}

static int emit_tree(const struct explain_opts *eo, const char *cgroup_path, const struct gsm_process *p,
                     const struct gsm_heap_profile *heap) {
    return emit_tree_of(eo, cgroup_path, &p, 1, heap);
}

/* Evaluate the rules; JSON gets the array, the table a section. Returns the exit code that
 * --fail-on asks for (GSM_EXIT_OK or GSM_EXIT_FAILURE). */
static int evaluate_findings(const struct gsm_root *root, struct gsm_findings_input *in, const struct explain_opts *eo,
                             struct gsm_findings *ret) {
    struct gsm_host_info host;
    if (gsm_host_info_read(root, &host) == 0)
        in->host = &host;
    int r = gsm_findings_evaluate(in, ret);
    in->host = NULL;   /* host lives on this stack frame */
    if (r < 0) {
        gsm_warn("findings could not be evaluated: %s", strerror(-r));
        memset(ret, 0, sizeof *ret);
        return GSM_EXIT_OK;
    }
    return eo->fail_on_set && gsm_findings_reach(ret, eo->fail_on) ? GSM_EXIT_FAILURE : GSM_EXIT_OK;
}

/* The health score from the same reads as the findings; without a cgroup limit, the node's
 * memory is the limit (as the watch engine does). */
static void compute_health(const struct gsm_root *root, const struct gsm_findings_input *fin, bool is_go,
                           struct gsm_health *ret) {
    struct gsm_health_input hin;
    gsm_health_input_from_cgroup(fin->cg, fin->eff, fin->bd, is_go, fin->go_stats, &hin);
    struct gsm_host_info host;
    if (hin.limit_bytes == UINT64_MAX && !hin.limit_unknown && fin->cg && gsm_host_info_read(root, &host) == 0 &&
        host.have_mem_total) {
        hin.limit_bytes = host.mem_total_bytes;
        hin.limit_is_node = true;
    }
    gsm_health_compute(&hin, ret);
}

static int open_root(const char *root_dir, struct gsm_root *root) {
    int r = gsm_root_open(root_dir, root);
    if (r < 0) {
        gsm_error("cannot open root %s: %s", root_dir ? root_dir : "/", strerror(-r));
        return r == -ENOENT || r == -ENOTDIR ? GSM_EXIT_USAGE : gsm_exit_from_errno(r);
    }
    return GSM_EXIT_OK;
}


static const char *cgroup_unavailable_reason(int r) {
    switch (-r) {
    case ENOMEDIUM: return "no memory cgroup: the controller is not mounted, or the process is not in one";
    case EXDEV: return "the process's cgroup lies outside every cgroup sub-tree mounted here";
    case EREMOTE:
        return "the process's cgroup lies above gsmapper's cgroup namespace root (its /proc/PID/cgroup path "
               "starts with /..) and no cgroup mount here reaches that far up: mount the host's /sys/fs/cgroup "
               "(docs/cgroups.md, Cgroup namespaces)";
    case ENOLINK:
        return "the process's cgroup lies outside gsmapper's cgroup namespace, and gsmapper did not find its own "
               "cgroup in the host's cgroup mount to resolve the path against (it needs the host's PID namespace: "
               "hostPID)";
    case ENOENT: return "no memory cgroup found for the process (it or its cgroup went away, or /proc/PID/cgroup is missing)";
    case EACCES:
    case EPERM: return "the cgroup files are not readable";
    case EBADMSG: return "/proc/PID/cgroup has a malformed line and no other line names a memory cgroup";
    default: return "the cgroup could not be read";
    }
}

/* Classes and totals are worked out while smaps streams in: the parser keeps well ahead of the
 * kernel, so this thread would otherwise wait (cmd/explain's share of bench/explain.sh). */
struct streaming_totals {
    struct gsm_classifier classifier;
    struct gsm_totals totals;
    size_t totalled;          /* maps[0, totalled) are in totals */
};

static void streaming_totals_advance(struct streaming_totals *st, bool complete) {
    size_t done = gsm_classifier_advance(&st->classifier, complete);
    gsm_totals_add(&st->totals, st->classifier.p, st->totalled, done);
    st->totalled = done;
}

static void on_reclassed(void *arg, const struct gsm_mapping *m, enum gsm_class from) {
    struct streaming_totals *st = arg;
    if ((size_t)(m - st->classifier.p->maps) < st->totalled)
        gsm_totals_move(&st->totals, m, from);
}

static void on_smaps_progress(struct gsm_process *p, void *arg) {
    (void)p;
    streaming_totals_advance(arg, false);
}

/* explain PID's output, in the chosen format, from what was read and evaluated; the exit code. */
static int render_pid(const struct explain_opts *eo, struct gsm_process *proc, const struct gsm_totals *totals,
                      uint64_t taken, struct gsm_cgroup_report *cg, int cr, struct explain_go *go,
                      const struct gsm_findings *findings, const struct gsm_health *health) {
    struct json_object *cg_json = NULL, *findings_json = NULL, *go_json = NULL, *env_json = NULL, *health_json = NULL;
    int ret, r;
    struct gsm_explain_view view = {
        .proc = proc, .totals = totals, .with_mappings = eo->with_mappings, .top_mappings = eo->top,
        .taken_ms = taken, .cgroup_unavailable = cg ? NULL : cgroup_unavailable_reason(cr),
    };
    if (eo->fmt == FMT_JSON) {
        if (cg)
            view.cgroup_json = cg_json = gsm_cgroup_to_json(cg);
        view.findings_json = findings_json = gsm_findings_to_json(findings);
        view.with_health = true;
        view.health_json = health_json = gsm_health_to_json(health);
        if (proc->go) {
            view.go_json = go_json = explain_go_json(go);
            view.go_unavailable = go->have_stats ? NULL : go->why;
        }
        if (go->have_env)
            view.env_json = env_json = gsm_go_env_to_json(&go->env);
    }

    if (eo->fmt == FMT_FOLDED || eo->fmt == FMT_PPROF) {
        ret = emit_tree(eo, cg ? cg->loc.path : NULL, proc, go->have_heap ? &go->heap : NULL);
        goto out;
    }
    char *obuf = NULL;
    size_t olen = 0;
    FILE *out = open_memstream(&obuf, &olen);
    if (!out) {
        ret = finish_output(-ENOMEM);
        goto out;
    }
    if (eo->fmt == FMT_TABLE) {
        r = gsm_explain_print_table(&view, out);
        if (r == 0 && proc->go)
            explain_go_print_table(go, &eo->go, out);
        else if (r == 0 && go->have_env)
            gsm_go_env_print_table(&go->env, out);
        if (r == 0 && cg)
            gsm_cgroup_print_table(cg, out);
        else if (r == 0)
            fprintf(out, "\nCGROUP: %s\n", view.cgroup_unavailable);
        if (r == 0)
            gsm_health_print_table(health, out);
        if (r == 0)
            gsm_findings_print_table(findings, out);
    } else
        r = gsm_explain_print_json(&view, out);
    if (fclose(out) != 0 && r == 0)
        r = -ENOMEM;
    ret = r < 0 ? finish_output(r) : emit(eo, obuf, olen);
    free(obuf);
out:
    if (health_json)
        json_object_put(health_json);
    if (go_json)
        json_object_put(go_json);
    if (env_json)
        json_object_put(env_json);
    if (findings_json)
        json_object_put(findings_json);
    if (cg_json)
        json_object_put(cg_json);
    return ret;
}

static int explain_pid(const char *root_dir, pid_t pid, const struct explain_opts *eo) {
    struct gsm_root root;
    int ret = open_root(root_dir, &root);
    if (ret != GSM_EXIT_OK)
        return ret;

    /* One handle for every read of /proc/PID below: a PID recycled between two of them is
     * reported as gone (exit 3), not mixed into one output. */
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    struct gsm_process proc;
    gsm_process_init(&proc, pid);
    proc.maps_reserve_early = true;   /* one process at a time */
    struct gsm_cgroup_report cg;
    bool have_cg = false;
    struct gsm_findings findings = {0};
    struct explain_go go = {0};
    /* First what identifies the process (status, exe: is it Go?), then for Go the runtime's
     * statistics, then smaps (status and statm again right after it), then the heap profile: the
     * kernel's figures of one output and the runtime's describe one moment (skew_ms says how
     * close). */
    struct gsm_read_opts opts = {.smaps = false, .rollup = eo->rollup, .best_effort = eo->best_effort};
    struct gsm_read_error err;
    memset(&err, 0, sizeof err);
    int r = gsm_proc_handle_open(&root, pid, &h);
    if (r == 0)
        r = gsm_process_read(&root, &h, &opts, &proc, &err);
    if (r < 0) {
        ret = report_read_error(&root, pid, &err, r);
        goto out;
    }
    if (proc.go) {
        ret = explain_go_fetch(&root, &h, &eo->go, &go);
        if (ret != GSM_EXIT_OK)
            goto out;
    }
    uint64_t taken = now_ms();
    struct streaming_totals st = {0};
    gsm_classifier_init(&st.classifier, &proc);
    st.classifier.reclassed = on_reclassed;
    st.classifier.reclassed_arg = &st;
    opts.smaps = true;
    opts.smaps_progress = (struct gsm_smaps_progress){on_smaps_progress, &st};
    r = gsm_process_read_smaps(&h, &opts, &proc, &err);
    if (r < 0) {
        ret = report_read_error(&root, pid, &err, r);
        goto out;
    }
    if ((eo->fmt == FMT_FOLDED || eo->fmt == FMT_PPROF) && !proc.have_smaps) {
        gsm_error("explain: %s output needs smaps, which was not readable", eo->fmt == FMT_PPROF ? "pprof" : "folded");
        ret = GSM_EXIT_PERM;
        goto out;
    }
    streaming_totals_advance(&st, true);
    const struct gsm_totals totals = st.totals;
    if (proc.go)
        explain_go_fetch_profile(&eo->go, &go);
    if (go.have_stats)
        go.have_split = gsm_go_split_compute(&totals, &go.stats, taken, &go.split) == 0;

    if (eo->read_env) {
        int er = gsm_read_go_env_at(h.dirfd, &go.env);
        if (er == 0)
            go.have_env = true;
        else
            gsm_process_note_missing(&proc, "environ");
    }

    int cr = gsm_cgroup_report_for_proc(&root, &h, &cg);
    have_cg = cr == 0;
    if (gsm_proc_handle_check(&h) < 0) {   /* environ and cgroup were read after smaps */
        gsm_error("no process %d (it exited, or its PID was reused, while being read)", (int)pid);
        ret = GSM_EXIT_NOTFOUND;
        goto out;
    }
    if (!have_cg)
        gsm_debug("cgroup of %d: %s", (int)pid, strerror(-cr));
    if (cr == -EBADMSG)   /* a malformed /proc/PID/cgroup: the cgroup is unknown, not absent */
        gsm_process_note_missing(&proc, "cgroup (malformed /proc/PID/cgroup)");

    struct gsm_findings_input fin = {
        .proc = &proc, .totals = proc.have_smaps ? &totals : NULL, .cg = have_cg ? &cg.mem : NULL,
        .eff = have_cg && cg.have_eff ? &cg.eff : NULL, .bd = have_cg && cg.have_bd ? &cg.bd : NULL,
        .go_stats = go.have_stats ? &go.stats : NULL, .go_split = go.have_split ? &go.split : NULL,
        .go_env = go.have_env ? &go.env : NULL, .go_heap = go.have_heap ? &go.heap : NULL,
    };
    int fail_on = evaluate_findings(&root, &fin, eo, &findings);
    struct gsm_health health;
    compute_health(&root, &fin, proc.go != NULL, &health);

    ret = render_pid(eo, &proc, &totals, taken, have_cg ? &cg : NULL, cr, &go, &findings, &health);
    if (proc.n_missing && ret == GSM_EXIT_OK)
        gsm_warn("incomplete: %zu source(s) not readable (listed in the output)", proc.n_missing);
    if (ret == GSM_EXIT_OK)
        ret = fail_on;
out:
    explain_go_free(&go);
    gsm_findings_free(&findings);
    if (have_cg)
        gsm_cgroup_report_free(&cg);
    gsm_process_free(&proc);
    gsm_root_close(&root);
    return ret;
}

static int explain_cgroup(const char *root_dir, const char *path, const struct explain_opts *eo) {
    struct gsm_root root;
    int ret = open_root(root_dir, &root);
    if (ret != GSM_EXIT_OK)
        return ret;
    struct gsm_cgroup_report cg;
    uint64_t taken = now_ms();
    int r = gsm_cgroup_report_for_path(&root, path, &cg);
    if (r < 0) {
        if (r == -ENOENT) {
            gsm_error("no cgroup %s", path);
            ret = GSM_EXIT_NOTFOUND;
        } else if (r == -EINVAL) {
            gsm_error("explain: cgroup path '%s' is not valid ('..' is not allowed)", path);
            ret = GSM_EXIT_USAGE;
        } else if (r == -ENOMEDIUM) {
            gsm_error("no memory cgroup controller is mounted under %s", root.path);
            ret = GSM_EXIT_FAILURE;
        } else {
            gsm_error("reading cgroup %s: %s", path, strerror(-r));
            ret = gsm_exit_from_errno(r);
        }
        gsm_root_close(&root);
        return ret;
    }
    struct gsm_findings findings = {0};
    struct gsm_findings_input fin = {
        .cg = &cg.mem, .eff = cg.have_eff ? &cg.eff : NULL, .bd = cg.have_bd ? &cg.bd : NULL,
        .n_processes = cg.n_members,
    };
    int fail_on = evaluate_findings(&root, &fin, eo, &findings);
    bool any_go = false;
    for (size_t i = 0; i < cg.n_members; i++)
        any_go |= cg.members[i].proc.go != NULL;
    struct gsm_health health;
    compute_health(&root, &fin, any_go, &health);
    if (eo->fmt == FMT_FOLDED || eo->fmt == FMT_PPROF) {
        const struct gsm_process **procs = calloc(cg.n_members ? cg.n_members : 1, sizeof *procs);
        if (!procs)
            ret = finish_output(-ENOMEM);
        else {
            /* each process frame carries its USS (gsm_explain_build_tree) */
            for (size_t i = 0; i < cg.n_members; i++)
                procs[i] = &cg.members[i].proc;
            ret = emit_tree_of(eo, cg.loc.path, procs, cg.n_members, NULL);
            free(procs);
        }
    } else {
        char *obuf = NULL;
        size_t olen = 0;
        FILE *out = open_memstream(&obuf, &olen);
        if (!out)
            r = -ENOMEM;
        else if (eo->fmt == FMT_JSON) {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "schema", json_object_new_string("gsmapper.explain/v1"));
            json_object_object_add(o, "taken_ms", json_object_new_uint64(taken));
            struct json_object *t = json_object_new_object();
            json_object_object_add(t, "cgroup", json_object_new_string(cg.loc.path));
            json_object_object_add(o, "target", t);
            json_object_object_add(o, "cgroup", gsm_cgroup_to_json(&cg));
            gsm_cgroup_members_to_json(&cg, o);
            json_object_object_add(o, "health", gsm_health_to_json(&health));
            json_object_object_add(o, "findings", gsm_findings_to_json(&findings));
            r = gsm_json_print(o, out);
            json_object_put(o);
        } else {
            gsm_cgroup_print_table(&cg, out);
            gsm_cgroup_members_print_table(&cg, out);
            gsm_health_print_table(&health, out);
            gsm_findings_print_table(&findings, out);
            r = 0;
        }
        if (out && fclose(out) != 0 && r == 0)
            r = -ENOMEM;
        ret = r < 0 ? finish_output(r) : emit(eo, obuf, olen);
        free(obuf);
    }
    if (ret == GSM_EXIT_OK)
        ret = fail_on;
    gsm_findings_free(&findings);
    gsm_cgroup_report_free(&cg);
    gsm_root_close(&root);
    return ret;
}

int cmd_explain(int argc, char **argv) {
    enum {
        OPT_MAPPINGS = 256, OPT_TOP, OPT_BEST_EFFORT, OPT_SELF, OPT_ROOT, OPT_ROLLUP, OPT_CGROUP, OPT_FAIL_ON,
        OPT_GO_ENDPOINT, OPT_NO_GO_STATS, OPT_READ_ENV, OPT_OUTPUT_FILE, OPT_GO_ENDPOINT_ANY, OPT_GC,
        OPT_NO_SANDBOX,
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},   {"mappings", no_argument, NULL, OPT_MAPPINGS},
        {"top", required_argument, NULL, OPT_TOP},  {"best-effort", no_argument, NULL, OPT_BEST_EFFORT},
        {"self", no_argument, NULL, OPT_SELF},      {"root", required_argument, NULL, OPT_ROOT},
        {"rollup", no_argument, NULL, OPT_ROLLUP},  {"cgroup", required_argument, NULL, OPT_CGROUP},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON}, {"go-endpoint", required_argument, NULL, OPT_GO_ENDPOINT},
        {"no-go-stats", no_argument, NULL, OPT_NO_GO_STATS}, {"read-env", no_argument, NULL, OPT_READ_ENV},
        {"output-file", required_argument, NULL, OPT_OUTPUT_FILE}, {"help", no_argument, NULL, 'h'},
        {"go-endpoint-any", no_argument, NULL, OPT_GO_ENDPOINT_ANY}, {"gc", no_argument, NULL, OPT_GC},
        {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX}, {0},
    };
    enum format fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_JSON;
    bool with_mappings = false, best_effort = false, self = false, rollup = false;
    uint64_t top = 10;
    bool fail_on_set = false, read_env = false, no_sandbox = false;
    struct explain_go_opts go = {0};
    const char *output_file = NULL;
    enum gsm_severity fail_on = GSM_SEV_CRITICAL;
    const char *root_dir = NULL, *cgroup_path = NULL;
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
            else if (strcmp(optarg, "pprof") == 0)
                fmt = FMT_PPROF;
            else {
                gsm_error("explain: unknown output format '%s' (table, json, folded, pprof)", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        case OPT_MAPPINGS: with_mappings = true; break;
        case OPT_TOP: {
            const char *p = optarg;
            if (gsm_parse_u64(&p, &top) < 0 || *p || top > GSM_TOP_MAPPINGS_MAX) {
                gsm_error("explain: --top wants a number from 0 to 64, not '%s'", optarg);
                return GSM_EXIT_USAGE;
            }
            break;
        }
        case OPT_BEST_EFFORT: best_effort = true; break;
        case OPT_ROLLUP: rollup = true; break;
        case OPT_SELF: self = true; break;
        case OPT_ROOT: root_dir = optarg; break;
        case OPT_CGROUP: cgroup_path = optarg; break;
        case OPT_GO_ENDPOINT: go.endpoint = optarg; break;
        case OPT_GO_ENDPOINT_ANY: go.endpoint_any = true; break;
        case OPT_GC: go.gc = true; break;
        case OPT_OUTPUT_FILE: output_file = optarg; break;
        case OPT_NO_GO_STATS: go.no_stats = true; break;
        case OPT_READ_ENV: read_env = true; break;
        case OPT_NO_SANDBOX: no_sandbox = true; break;
        case OPT_FAIL_ON:
            if (gsm_severity_parse(optarg, &fail_on) < 0 || fail_on == GSM_SEV_INFO) {
                gsm_error("explain: --fail-on wants warn or critical, not '%s'", optarg);
                return GSM_EXIT_USAGE;
            }
            fail_on_set = true;
            break;
        case 'h': fputs(usage, stdout); return GSM_EXIT_OK;
        default:
            gsm_error("explain: see 'gsmapper explain --help'");
            return GSM_EXIT_USAGE;
        }
    }

    struct explain_opts eo = {.fmt = fmt, .with_mappings = with_mappings, .best_effort = best_effort,
                              .rollup = rollup, .top = top, .fail_on_set = fail_on_set, .fail_on = fail_on,
                              .go = go, .read_env = read_env,
                              .output_file = output_file};
    /* Arguments parsed: restrict ourselves before reading anything (docs/sandbox.md). Writes only
     * beneath --output-file's directory (temp file + rename); explain never listens. */
    struct gsm_sandbox sb;
    gsm_sandbox_init(&sb);
    if (no_sandbox)
        sb.mode = GSM_SANDBOX_OFF;
    gsm_sandbox_allow_write_parent(&sb, output_file);
    gsm_sandbox_allow_read(&sb, root_dir);   /* besides the read list (/proc, the cgroup mounts) */
    gsm_sandbox_apply(&sb, "explain");
    gsm_sandbox_strict("explain");
    if (cgroup_path) {
        if (self || optind != argc) {
            gsm_error("explain: --cgroup takes no PID");
            return GSM_EXIT_USAGE;
        }
        return explain_cgroup(root_dir, cgroup_path, &eo);
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

    return explain_pid(root_dir, pid, &eo);
}
