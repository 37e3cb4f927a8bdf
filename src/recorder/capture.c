/* A bundle's steps that read: explain and report (report.html) as child processes, the
 * cgroup's raw files, the Go debug endpoint. Each failure becomes a MANIFEST note, never an
 * abort. */
#include "recorder/recorder_internal.h"
#include "readers/http_client.h"
#include "util/proc_broker.h"
#include "util/sandbox.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- explain as a child process ------------------------------------------------------- */

/* Run argv with cwd = bundle_fd, stdin /dev/null, stdout+stderr to out_fd, a minimal
 * environment, in its own process group; SIGKILL the group after timeout_ms. Returns 0 with
 * *ret_status (exit code, or 128 + signal), -ETIMEDOUT when killed, or -errno when it could not
 * be started (the exec errno comes back over a CLOEXEC pipe). */
static int run_child(char *const argv[], int bundle_fd, int out_fd, uint32_t timeout_ms, int *ret_status) {
    char *envp[8];
    size_t ne = 0;
    envp[ne++] = (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    envp[ne++] = (char *)"LC_ALL=C";
    if (gsm_debug_enabled)
        envp[ne++] = (char *)"GSMAPPER_DEBUG=1";
    /* Sandboxed (docs/sandbox.md): the child is inside our Landlock domain and cannot start a
     * /proc broker of its own, so it gets a socket to ours as fd 3; the sandbox mode goes along. */
    static char mode_env[64];
    const char *mode = getenv("GSMAPPER_SANDBOX");
    if (mode && strlen(mode) < 32) {
        snprintf(mode_env, sizeof mode_env, "GSMAPPER_SANDBOX=%s", mode);
        envp[ne++] = mode_env;
    }
    _cleanup_close_ int broker_fd = gsm_broker_active() ? gsm_broker_attach_new() : -1;
    if (broker_fd >= 0)
        envp[ne++] = (char *)GSM_BROKER_FD_ENV "=3";
    if (broker_fd >= 0 && gsm_sandbox_child_asan_env())
        envp[ne++] = (char *)gsm_sandbox_child_asan_env();
    envp[ne] = NULL;

    _cleanup_close_ int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0)
        return -errno;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;

    pid_t pid = fork();
    if (pid < 0) {
        int r = -errno;
        close(pfd[0]);
        close(pfd[1]);
        return r;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here to execve. */
        setpgid(0, 0);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        for (int s = 1; s < NSIG; s++)
            sigaction(s, &dfl, NULL);   /* ignored dispositions survive exec; handlers do not */
        if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0 ||
            fchdir(bundle_fd) < 0)
            goto child_fail;
        /* The broker's socket as fd 3 (dup2 clears close-on-exec; fd 3 itself may be it). */
        if (broker_fd >= 0 && (broker_fd == 3 ? fcntl(3, F_SETFD, 0) : dup2(broker_fd, 3)) < 0)
            goto child_fail;
        /* Every other descriptor closes at exec (the watch loop's fds must not leak). */
        unsigned first = broker_fd >= 0 ? 4U : 3U;
        if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
            for (int fd = (int)first; fd < 4096; fd++)
                fcntl(fd, F_SETFD, FD_CLOEXEC);
        execve(argv[0], argv, envp);
    child_fail:;
        int e = errno;
        ssize_t w = write(pfd[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    setpgid(pid, pid);   /* both sides, so the group exists before we may need to kill it */
    close(pfd[1]);
    int child_errno = 0;
    ssize_t got;
    do
        got = read(pfd[0], &child_errno, sizeof child_errno);
    while (got < 0 && errno == EINTR);
    close(pfd[0]);

    uint64_t deadline = rec_mono_ms() + timeout_ms;
    long step_us = 1000;
    int st = 0;
    bool killed = false;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            int r = -errno;   /* ECHILD: someone else reaped it (SIGCHLD ignored?) */
            kill(-pid, SIGKILL);
            return r;
        }
        if (!killed && rec_mono_ms() >= deadline) {
            kill(-pid, SIGKILL);   /* the leader is not reaped yet: the group id is still ours */
            kill(pid, SIGKILL);
            killed = true;
            step_us = 1000;
            continue;
        }
        struct timespec ts = {0, step_us * 1000};
        nanosleep(&ts, NULL);
        if (step_us < 20000)
            step_us *= 2;
    }
    if (got == (ssize_t)sizeof child_errno && child_errno != 0)
        return -child_errno;
    if (killed)
        return -ETIMEDOUT;
    *ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
    return 0;
}

/* A child's own temp file (".explain.json.tmp.<pid>", ".report.html.tmp.<pid>") when it was
 * killed mid-write. */
static void remove_leftovers(int bundle_fd, const char *prefix) {
    char **names = NULL;
    size_t n = 0;
    if (rec_list_dir(bundle_fd, &names, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], prefix, strlen(prefix)) == 0)
            unlinkat(bundle_fd, names[i], 0);
    rec_free_names(names, n);
}

void rec_run_explain(const struct gsm_recorder *r, const struct gsm_bundle_request *req, int bundle_fd,
                        struct notes *notes) {
    if (req->pid <= 0 && !req->cgroup_path) {
        rec_note(notes, "failed explain.json: no PID and no cgroup path to explain");
        return;
    }
    _cleanup_close_ int out_fd = openat(bundle_fd, "explain.stderr",
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600);
    if (out_fd < 0) {
        rec_note(notes, "failed explain.json: explain.stderr: %s", strerror(errno));
        return;
    }
    char pid_s[24];
    snprintf(pid_s, sizeof pid_s, "%ld", (long)req->pid);

    for (int attempt = 0; attempt < 2; attempt++) {
        bool by_pid = attempt == 0 && req->pid > 0;
        if (attempt == 1 && !req->cgroup_path)
            break;
        char *argv[16];
        size_t a = 0;
        argv[a++] = r->self_exe;
        argv[a++] = (char *)"explain";
        if (by_pid) {
            argv[a++] = pid_s;
            argv[a++] = (char *)"--mappings";
            if (req->go_endpoint) {
                argv[a++] = (char *)"--go-endpoint";
                argv[a++] = (char *)req->go_endpoint;
            }
        } else {
            argv[a++] = (char *)"--cgroup";
            argv[a++] = (char *)req->cgroup_path;
        }
        argv[a++] = (char *)"-o";
        argv[a++] = (char *)"json";
        argv[a++] = (char *)"--output-file";
        argv[a++] = (char *)"explain.json";
        if (r->root_dir) {
            argv[a++] = (char *)"--root";
            argv[a++] = r->root_dir;
        }
        argv[a] = NULL;

        const char *what = by_pid ? "explain PID" : "explain --cgroup";
        int status = 0;
        uint64_t t0 = rec_mono_ms();
        int k = run_child(argv, bundle_fd, out_fd, r->child_timeout_ms, &status);
        remove_leftovers(bundle_fd, ".explain.json.tmp.");
        gsm_debug("recorder: %s took %" PRIu64 " ms: %d/%d", what, rec_mono_ms() - t0, k, status);
        struct stat st;
        bool have_json = fstatat(bundle_fd, "explain.json", &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (k == -ETIMEDOUT) {
            rec_note(notes, "failed explain.json: %s killed after %" PRIu32 " ms", what, r->child_timeout_ms);
            break;
        }
        if (k < 0) {
            rec_note(notes, "failed explain.json: cannot run %s: %s", r->self_exe, strerror(-k));
            break;
        }
        if (status == 0 && have_json)
            break;
        /* Exit 3: the process is gone (an OOM kill's usual aftermath); its cgroup remains. */
        if (by_pid && status == 3 && req->cgroup_path && !have_json) {
            rec_note(notes, "failed explain.json: process %ld is gone (exit 3); explained its cgroup instead",
                 (long)req->pid);
            continue;
        }
        if (have_json)
            rec_note(notes, "failed explain.json: %s exited %d (output kept; see explain.stderr)", what, status);
        else
            rec_note(notes, "failed explain.json: %s exited %d (see explain.stderr)", what, status);
        break;
    }
    struct stat st;
    if (fstat(out_fd, &st) == 0 && st.st_size == 0)
        unlinkat(bundle_fd, "explain.stderr", 0);
    else
        fsync(out_fd);
}

/* report.html: the bundle as one offline page (`gsmapper report .`, docs/report.md), drawn from
 * the files written before it, in a child like explain. Making the page holds explain.json in
 * memory (json-c: about 10x its size), so a large one is left for `gsmapper report BUNDLE` to
 * draw later, off the node agent's memory budget (the DaemonSet and the unit cap it at 64 MiB). */
#define REPORT_EXPLAIN_MAX_BYTES ((off_t)1 << 20)

void rec_run_report(const struct gsm_recorder *r, int bundle_fd, struct notes *notes) {
    struct stat st;
    if (fstatat(bundle_fd, "explain.json", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > REPORT_EXPLAIN_MAX_BYTES) {
        rec_note(notes, "failed report.html: explain.json is %lld bytes (> %lld): run gsmapper report on the bundle",
                 (long long)st.st_size, (long long)REPORT_EXPLAIN_MAX_BYTES);
        return;
    }
    _cleanup_close_ int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0) {
        rec_note(notes, "failed report.html: cannot open /dev/null for its output: %s", strerror(errno));
        return;
    }
    char *argv[] = {r->self_exe, (char *)"report", (char *)".", (char *)"-o", (char *)"report.html", NULL};
    int status = 0;
    int k = run_child(argv, bundle_fd, null_fd, r->child_timeout_ms, &status);
    remove_leftovers(bundle_fd, ".report.html.tmp.");
    if (k == -ETIMEDOUT)
        rec_note(notes, "failed report.html: killed after %" PRIu32 " ms", r->child_timeout_ms);
    else if (k < 0)
        rec_note(notes, "failed report.html: cannot run %s: %s", r->self_exe, strerror(-k));
    else if (status != 0)
        rec_note(notes, "failed report.html: gsmapper report exited %d", status);
}

/* ---- the other steps ------------------------------------------------------------------ */

static bool cgroup_file_wanted(const char *name) {
    /* Control files that cannot be read: reading gives -EINVAL (v1 memory.pressure_level is
     * an eventfd registration point; the others are write-only triggers, 0200 but root may open). */
    static const char *const unreadable[] = {"memory.pressure_level", "memory.force_empty", "memory.reclaim"};
    for (size_t i = 0; i < ELEMENTSOF(unreadable); i++)
        if (strcmp(name, unreadable[i]) == 0)
            return false;
    return strncmp(name, "memory.", STRLEN("memory.")) == 0 || strcmp(name, "cgroup.procs") == 0;
}

void rec_copy_cgroup(const struct gsm_bundle_request *req, int bundle_fd, struct notes *notes) {
    const struct gsm_cgroup_location *loc = req->cg_loc;
    if (!loc || !loc->dir)
        return;
    if (!req->root) {
        rec_note(notes, "failed cgroup/: no root to read %s under", loc->dir);
        return;
    }
    _cleanup_close_ int src = openat(req->root->fd, loc->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0) {
        rec_note(notes, "failed cgroup/: %s: %s", loc->dir, strerror(errno));
        return;
    }
    if (mkdirat(bundle_fd, "cgroup", 0700) < 0) {
        rec_note(notes, "failed cgroup/: mkdir: %s", strerror(errno));
        return;
    }
    _cleanup_close_ int dst = openat(bundle_fd, "cgroup", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dst < 0) {
        rec_note(notes, "failed cgroup/: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0;
    int k = rec_list_dir(src, &names, &n);
    if (k < 0) {
        rec_note(notes, "failed cgroup/: listing %s: %s", loc->dir, strerror(-k));
        return;
    }
    size_t copied = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cgroup_file_wanted(names[i]))
            continue;
        struct stat st;
        if (fstatat(src, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (!(st.st_mode & 0444))
            continue;   /* write-only controls: memory.reclaim, memory.force_empty */
        if (copied == CGROUP_FILES_MAX) {
            rec_note(notes, "failed cgroup/: more than %d memory.* files; the rest skipped", CGROUP_FILES_MAX);
            break;
        }
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        k = gsm_read_file_at(src, names[i], CGROUP_FILE_MAX, &buf, &len);
        if (k < 0) {
            rec_note(notes, "failed cgroup/%s: read: %s", names[i], strerror(-k));
            continue;
        }
        k = rec_write_file_at(dst, names[i], buf, len);
        if (k < 0) {
            rec_note(notes, "failed cgroup/%s: write: %s", names[i], strerror(-k));
            continue;
        }
        copied++;
    }
    rec_free_names(names, n);
    fsync(dst);
}

static char *go_base_url(const char *url) {
    const char *hostp = strstr(url, "://");
    const char *start = hostp ? hostp + 3 : url;
    const char *dbg = strstr(start, "/debug/");
    size_t len;
    if (dbg) {
        len = (size_t)(dbg - url);
    } else {
        len = (size_t)(start - url) + strcspn(start, "/?#");
    }
    return strndup(url, len);
}

void rec_fetch_go(const struct gsm_bundle_request *req, int bundle_fd, struct notes *notes) {
    if (!req->go_endpoint)
        return;
    _cleanup_free_ char *base = go_base_url(req->go_endpoint);
    if (!base) {
        rec_note(notes, "failed go/: out of memory");
        return;
    }
    if (mkdirat(bundle_fd, "go", 0700) < 0) {
        rec_note(notes, "failed go/: mkdir: %s", strerror(errno));
        return;
    }
    _cleanup_close_ int dst = openat(bundle_fd, "go", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dst < 0) {
        rec_note(notes, "failed go/: %s", strerror(errno));
        return;
    }
    static const struct {
        const char *file, *path;
    } gets[] = {
        {"memstats.txt", "/debug/pprof/heap?debug=1"},   /* text profile + the runtime.MemStats block */
        {"heap.pb.gz", "/debug/pprof/heap"},             /* gzip'd pprof protobuf, as Go serves it */
    };
    for (size_t i = 0; i < ELEMENTSOF(gets); i++) {
        char url[1024];
        if ((size_t)snprintf(url, sizeof url, "%s%s", base, gets[i].path) >= sizeof url) {
            rec_note(notes, "failed go/%s: URL too long", gets[i].file);
            continue;
        }
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        char err[256] = "";
        int k = gsm_http_get(url, NULL, &body, &len, err, sizeof err);
        if (k < 0) {
            rec_note(notes, "failed go/%s: GET %s: %s", gets[i].file, url, err[0] ? err : strerror(-k));
            continue;
        }
        k = rec_write_file_at(dst, gets[i].file, body, len);
        if (k < 0)
            rec_note(notes, "failed go/%s: write: %s", gets[i].file, strerror(-k));
    }
    fsync(dst);
}

