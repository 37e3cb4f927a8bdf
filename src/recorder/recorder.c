/* The flight recorder's bundle writer (see recorder.h for the layout and the contract). */
#include "recorder/recorder.h"

#include "readers/http_client.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUNDLE_PREFIX "gsmapper-"
#define TMP_PREFIX ".tmp-gsmapper-"
/* cgroup.procs of a big cgroup: 7 bytes a PID, 4 MiB is ~600k PIDs. memory.stat is ~2 KiB. */
#define CGROUP_FILE_MAX ((size_t)4 << 20)
/* A v2 memory cgroup has ~25 memory.* files, v1 ~30; anything past this is not a cgroup dir. */
#define CGROUP_FILES_MAX 128
/* Bundles are two levels deep (cgroup/, go/); deletion tolerates a little more, no more. */
#define RM_DEPTH_MAX 4

struct rate_entry {
    char *key;
    uint64_t last_ms;
};

struct gsm_recorder {
    int dir_fd;                  /* the dump dir, O_RDONLY|O_DIRECTORY */
    char *dump_dir;
    char *self_exe;
    char *root_dir;              /* absolute, or NULL */
    uint64_t quota_bytes;
    uint64_t min_interval_ms;
    unsigned max_bundles;
    uint32_t child_timeout_ms;
    struct rate_entry *rate;
    size_t n_rate, cap_rate;
};

/* ---- small helpers ------------------------------------------------------------------ */

/* The "failed <step>: <reason>" lines of MANIFEST, in the order the steps ran. */
struct notes {
    char *buf;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void note(struct notes *n, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    size_t l = (size_t)k < sizeof line ? (size_t)k : sizeof line - 1;
    if (n->len + l + 2 > n->cap) {
        size_t ncap = n->cap ? n->cap * 2 : 512;
        while (ncap < n->len + l + 2)
            ncap *= 2;
        char *nb = realloc(n->buf, ncap);
        if (!nb)
            return;   /* the note is lost; the bundle is not */
        n->buf = nb;
        n->cap = ncap;
    }
    memcpy(n->buf + n->len, line, l);
    n->len += l;
    n->buf[n->len++] = '\n';
    n->buf[n->len] = '\0';
}

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t realtime_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/* Create `name` in dirfd (never an existing file, never through a symlink) holding data. */
static int write_file_at(int dirfd, const char *name, const void *data, size_t len) {
    _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = write_all(fd, data, len);
    if (r < 0 || fsync(fd) < 0) {
        r = r < 0 ? r : -errno;
        unlinkat(dirfd, name, 0);
        return r;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The entries of a directory fd (not "." and ".."), sorted. The fd is not consumed: a fresh
 * description is opened, so readdir offsets never leak between calls. */
static int list_dir(int dirfd, char ***ret_names, size_t *ret_n) {
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int r = -errno;
        close(fd);
        return r;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;
    while ((errno = 0, de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn) {
                r = -ENOMEM;
                break;
            }
            names = nn;
            cap = ncap;
        }
        if (!(names[n] = strdup(de->d_name))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    if (r == 0 && errno != 0)
        r = -errno;
    closedir(d);
    if (r < 0) {
        free_names(names, n);
        return r;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    *ret_names = names;
    *ret_n = n;
    return 0;
}

/* Remove the directory `name` under parent_fd and everything in it, without following any
 * symlink (a symlink inside is unlinked itself, its target untouched). */
static int rm_tree_at(int parent_fd, const char *name, int depth) {
    _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (int pass = 0; pass < 3; pass++) {
        char **names = NULL;
        size_t n = 0;
        int r = list_dir(fd, &names, &n);
        if (r < 0)
            return r;
        for (size_t i = 0; i < n; i++) {
            struct stat st;
            if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            if (S_ISDIR(st.st_mode)) {
                if (depth < RM_DEPTH_MAX)
                    rm_tree_at(fd, names[i], depth + 1);
            } else {
                unlinkat(fd, names[i], 0);
            }
        }
        free_names(names, n);
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
            return 0;
        if (errno != ENOTEMPTY && errno != EEXIST)
            return -errno;
    }
    return -ENOTEMPTY;
}

/* The apparent size of every regular file below dirfd (depth-limited). */
static uint64_t tree_bytes(int dirfd, int depth) {
    char **names = NULL;
    size_t n = 0;
    uint64_t total = 0;
    if (list_dir(dirfd, &names, &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode)) {
            total += (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode) && depth < RM_DEPTH_MAX) {
            _cleanup_close_ int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                total += tree_bytes(sub, depth + 1);
        }
    }
    free_names(names, n);
    return total;
}

/* Is `name` in the dump dir a real directory owned by us? Fills st. */
static bool ours_dir(int dir_fd, const char *name, struct stat *st) {
    if (fstatat(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
        return false;
    return S_ISDIR(st->st_mode) && st->st_uid == geteuid();
}

/* ---- pure parts ----------------------------------------------------------------------- */

size_t gsm_recorder_sanitize_label(const char *label, char buf[static 65]) {
    size_t n = 0;
    for (const char *p = label ? label : ""; *p && n < 64; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        buf[n++] = ok ? c : '-';
    }
    if (n == 0)
        buf[n++] = 'x';
    if (buf[0] == '.')
        buf[0] = '_';
    buf[n] = '\0';
    return n;
}

int gsm_recorder_parse_bundle_name(const char *name, uint64_t *ret_time_ms) {
    if (strncmp(name, BUNDLE_PREFIX, STRLEN(BUNDLE_PREFIX)) != 0)
        return -EINVAL;
    const char *dash = strrchr(name, '-');
    /* "gsmapper-<label>-<ms>": the label is not empty, so the last '-' is past the prefix's. */
    if (!dash || dash <= name + STRLEN(BUNDLE_PREFIX))
        return -EINVAL;
    const char *p = dash + 1;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    uint64_t v;
    if (gsm_parse_u64(&p, &v) < 0 || *p)
        return -EINVAL;
    *ret_time_ms = v;
    return 0;
}

/* "http://127.0.0.1:4321/debug/pprof/heap?debug=1" -> "http://127.0.0.1:4321": everything before
 * "/debug/", or the scheme://host:port part when the URL names another path (/metrics). */
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

/* ---- lifecycle ------------------------------------------------------------------------ */

static int absolute_path(const char *p, char **ret) {
    if (p[0] == '/') {
        *ret = strdup(p);
    } else {
        char *a = realpath(p, NULL);
        if (!a)
            return -errno;
        *ret = a;
    }
    return *ret ? 0 : -ENOMEM;
}

void gsm_recorder_free(struct gsm_recorder *r) {
    if (!r)
        return;
    if (r->dir_fd >= 0)
        close(r->dir_fd);
    for (size_t i = 0; i < r->n_rate; i++)
        free(r->rate[i].key);
    free(r->rate);
    free(r->dump_dir);
    free(r->self_exe);
    free(r->root_dir);
    free(r);
}

int gsm_recorder_new(const struct gsm_recorder_opts *o, struct gsm_recorder **ret) {
    if (!o || !o->dump_dir || !*o->dump_dir)
        return -EINVAL;
    struct gsm_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->dir_fd = -1;
    int k;
    /* The dump dir itself may be a symlink the operator chose; nothing inside it is followed. */
    r->dir_fd = open(o->dump_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->dir_fd < 0) {
        k = -errno;
        goto fail;
    }
    if (faccessat(r->dir_fd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
        k = -errno;
        goto fail;
    }
    r->quota_bytes = o->quota_bytes ? o->quota_bytes : GSM_RECORDER_QUOTA_BYTES_DEFAULT;
    r->min_interval_ms = o->min_interval_ms ? o->min_interval_ms : GSM_RECORDER_MIN_INTERVAL_MS_DEFAULT;
    r->max_bundles = o->max_bundles ? o->max_bundles : GSM_RECORDER_MAX_BUNDLES_DEFAULT;
    r->child_timeout_ms = o->child_timeout_ms ? o->child_timeout_ms : GSM_RECORDER_CHILD_TIMEOUT_MS_DEFAULT;
    if (!(r->dump_dir = strdup(o->dump_dir))) {
        k = -ENOMEM;
        goto fail;
    }
    if ((k = absolute_path(o->self_exe ? o->self_exe : "/proc/self/exe", &r->self_exe)) < 0)
        goto fail;
    if (o->root_dir && (k = absolute_path(o->root_dir, &r->root_dir)) < 0)
        goto fail;
    *ret = r;
    return 0;
fail:
    gsm_recorder_free(r);
    return k;
}

/* ---- rate limit ----------------------------------------------------------------------- */

static bool rate_limited(const struct gsm_recorder *r, const char *key, uint64_t now_ms) {
    for (size_t i = 0; i < r->n_rate; i++)
        if (strcmp(r->rate[i].key, key) == 0)
            return now_ms >= r->rate[i].last_ms && now_ms - r->rate[i].last_ms < r->min_interval_ms;
    return false;
}

/* Remember the attempt; entries old enough to constrain nothing are dropped, so targets that
 * come and go do not grow the table. */
static void rate_record(struct gsm_recorder *r, const char *key, uint64_t now_ms) {
    size_t w = 0;
    bool found = false;
    for (size_t i = 0; i < r->n_rate; i++) {
        struct rate_entry e = r->rate[i];
        if (strcmp(e.key, key) == 0) {
            e.last_ms = now_ms;
            found = true;
        } else if (now_ms >= e.last_ms && now_ms - e.last_ms >= r->min_interval_ms) {
            free(e.key);
            continue;
        }
        r->rate[w++] = e;
    }
    r->n_rate = w;
    if (found)
        return;
    if (r->n_rate == r->cap_rate) {
        size_t ncap = r->cap_rate ? r->cap_rate * 2 : 8;
        struct rate_entry *nr = realloc(r->rate, ncap * sizeof *nr);
        if (!nr)
            return;
        r->rate = nr;
        r->cap_rate = ncap;
    }
    char *k = strdup(key);
    if (!k)
        return;
    r->rate[r->n_rate++] = (struct rate_entry){k, now_ms};
}

/* ---- explain as a child process ------------------------------------------------------- */

/* Run argv with cwd = bundle_fd, stdin /dev/null, stdout+stderr to out_fd, a minimal
 * environment, in its own process group; SIGKILL the group after timeout_ms. Returns 0 with
 * *ret_status (exit code, or 128 + signal), -ETIMEDOUT when killed, or -errno when it could not
 * be started (the exec errno comes back over a CLOEXEC pipe). */
static int run_child(char *const argv[], int bundle_fd, int out_fd, uint32_t timeout_ms, int *ret_status) {
    char *envp[4];
    size_t ne = 0;
    envp[ne++] = (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    envp[ne++] = (char *)"LC_ALL=C";
    if (gsm_debug_enabled)
        envp[ne++] = (char *)"GSMAPPER_DEBUG=1";
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
        /* Every other descriptor closes at exec (the watch loop's fds must not leak). */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
            for (int fd = 3; fd < 4096; fd++)
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

    uint64_t deadline = mono_ms() + timeout_ms;
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
        if (!killed && mono_ms() >= deadline) {
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

/* explain's own temp file (".explain.json.tmp.<pid>") when it was killed mid-write. */
static void remove_explain_leftovers(int bundle_fd) {
    char **names = NULL;
    size_t n = 0;
    if (list_dir(bundle_fd, &names, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], ".explain.json.tmp.", STRLEN(".explain.json.tmp.")) == 0)
            unlinkat(bundle_fd, names[i], 0);
    free_names(names, n);
}

static void run_explain(const struct gsm_recorder *r, const struct gsm_bundle_request *req, int bundle_fd,
                        struct notes *notes) {
    if (req->pid <= 0 && !req->cgroup_path) {
        note(notes, "failed explain.json: no PID and no cgroup path to explain");
        return;
    }
    _cleanup_close_ int out_fd = openat(bundle_fd, "explain.stderr",
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600);
    if (out_fd < 0) {
        note(notes, "failed explain.json: explain.stderr: %s", strerror(errno));
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
        uint64_t t0 = mono_ms();
        int k = run_child(argv, bundle_fd, out_fd, r->child_timeout_ms, &status);
        remove_explain_leftovers(bundle_fd);
        gsm_debug("recorder: %s took %" PRIu64 " ms: %d/%d", what, mono_ms() - t0, k, status);
        struct stat st;
        bool have_json = fstatat(bundle_fd, "explain.json", &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (k == -ETIMEDOUT) {
            note(notes, "failed explain.json: %s killed after %" PRIu32 " ms", what, r->child_timeout_ms);
            break;
        }
        if (k < 0) {
            note(notes, "failed explain.json: cannot run %s: %s", r->self_exe, strerror(-k));
            break;
        }
        if (status == 0 && have_json)
            break;
        /* Exit 3: the process is gone (an OOM kill's usual aftermath); its cgroup remains. */
        if (by_pid && status == 3 && req->cgroup_path && !have_json) {
            note(notes, "failed explain.json: process %ld is gone (exit 3); explained its cgroup instead",
                 (long)req->pid);
            continue;
        }
        if (have_json)
            note(notes, "failed explain.json: %s exited %d (output kept; see explain.stderr)", what, status);
        else
            note(notes, "failed explain.json: %s exited %d (see explain.stderr)", what, status);
        break;
    }
    struct stat st;
    if (fstat(out_fd, &st) == 0 && st.st_size == 0)
        unlinkat(bundle_fd, "explain.stderr", 0);
    else
        fsync(out_fd);
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

static void copy_cgroup(const struct gsm_bundle_request *req, int bundle_fd, struct notes *notes) {
    const struct gsm_cgroup_location *loc = req->cg_loc;
    if (!loc || !loc->dir)
        return;
    if (!req->root) {
        note(notes, "failed cgroup/: no root to read %s under", loc->dir);
        return;
    }
    _cleanup_close_ int src = openat(req->root->fd, loc->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0) {
        note(notes, "failed cgroup/: %s: %s", loc->dir, strerror(errno));
        return;
    }
    if (mkdirat(bundle_fd, "cgroup", 0700) < 0) {
        note(notes, "failed cgroup/: mkdir: %s", strerror(errno));
        return;
    }
    _cleanup_close_ int dst = openat(bundle_fd, "cgroup", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dst < 0) {
        note(notes, "failed cgroup/: %s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0;
    int k = list_dir(src, &names, &n);
    if (k < 0) {
        note(notes, "failed cgroup/: listing %s: %s", loc->dir, strerror(-k));
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
            note(notes, "failed cgroup/: more than %d memory.* files; the rest skipped", CGROUP_FILES_MAX);
            break;
        }
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        k = gsm_read_file_at(src, names[i], CGROUP_FILE_MAX, &buf, &len);
        if (k < 0) {
            note(notes, "failed cgroup/%s: read: %s", names[i], strerror(-k));
            continue;
        }
        k = write_file_at(dst, names[i], buf, len);
        if (k < 0) {
            note(notes, "failed cgroup/%s: write: %s", names[i], strerror(-k));
            continue;
        }
        copied++;
    }
    free_names(names, n);
    fsync(dst);
}

static void fetch_go(const struct gsm_bundle_request *req, int bundle_fd, struct notes *notes) {
    if (!req->go_endpoint)
        return;
    _cleanup_free_ char *base = go_base_url(req->go_endpoint);
    if (!base) {
        note(notes, "failed go/: out of memory");
        return;
    }
    if (mkdirat(bundle_fd, "go", 0700) < 0) {
        note(notes, "failed go/: mkdir: %s", strerror(errno));
        return;
    }
    _cleanup_close_ int dst = openat(bundle_fd, "go", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dst < 0) {
        note(notes, "failed go/: %s", strerror(errno));
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
            note(notes, "failed go/%s: URL too long", gets[i].file);
            continue;
        }
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        char err[256] = "";
        int k = gsm_http_get(url, NULL, &body, &len, err, sizeof err);
        if (k < 0) {
            note(notes, "failed go/%s: GET %s: %s", gets[i].file, url, err[0] ? err : strerror(-k));
            continue;
        }
        k = write_file_at(dst, gets[i].file, body, len);
        if (k < 0)
            note(notes, "failed go/%s: write: %s", gets[i].file, strerror(-k));
    }
    fsync(dst);
}

static void write_text_files(const struct gsm_bundle_request *req, int bundle_fd, struct notes *notes) {
    /* summary.txt: the engine's text, then who and when. */
    char *s = NULL;
    size_t slen = 0;
    FILE *f = open_memstream(&s, &slen);
    if (f) {
        const char *sum = req->summary && *req->summary ? req->summary : "(no summary)";
        size_t l = strlen(sum);
        fprintf(f, "%s%s\n", sum, sum[l - 1] == '\n' ? "" : "\n");
        fprintf(f, "target: %s\n", req->target_key ? req->target_key : "-");
        if (req->pid > 0)
            fprintf(f, "pid: %ld\n", (long)req->pid);
        if (req->cgroup_path)
            fprintf(f, "cgroup: %s\n", req->cgroup_path);
        fprintf(f, "time_ms: %" PRIu64 "\n", req->now_ms);
        fclose(f);
    }
    int k = s ? write_file_at(bundle_fd, "summary.txt", s, slen) : -ENOMEM;
    free(s);
    if (k < 0)
        note(notes, "failed summary.txt: %s", strerror(-k));

    if (req->event_json) {
        size_t l = strlen(req->event_json);
        bool nl = l > 0 && req->event_json[l - 1] == '\n';
        _cleanup_free_ char *e = malloc(l + 2);
        if (!e) {
            note(notes, "failed event.json: out of memory");
        } else {
            memcpy(e, req->event_json, l);
            if (!nl)
                e[l++] = '\n';
            if ((k = write_file_at(bundle_fd, "event.json", e, l)) < 0)
                note(notes, "failed event.json: %s", strerror(-k));
        }
    } else {
        note(notes, "failed event.json: no event given");
    }

    k = write_file_at(bundle_fd, "samples.jsonl", req->samples_jsonl ? req->samples_jsonl : "",
                      req->samples_jsonl ? req->samples_len : 0);
    if (k < 0)
        note(notes, "failed samples.jsonl: %s", strerror(-k));
}

/* MANIFEST: "name bytes" for every file (subdirectories as "cgroup/memory.current"), then the
 * failures. */
static int write_manifest(int bundle_fd, const struct notes *notes) {
    char *s = NULL;
    size_t slen = 0;
    FILE *f = open_memstream(&s, &slen);
    if (!f)
        return -ENOMEM;
    char **names = NULL;
    size_t n = 0;
    if (list_dir(bundle_fd, &names, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct stat st;
            if (strcmp(names[i], "MANIFEST") == 0 || fstatat(bundle_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            if (S_ISREG(st.st_mode)) {
                fprintf(f, "%s %" PRIu64 "\n", names[i], (uint64_t)st.st_size);
            } else if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int sub = openat(bundle_fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                char **sn = NULL;
                size_t sc = 0;
                if (sub < 0 || list_dir(sub, &sn, &sc) < 0)
                    continue;
                for (size_t j = 0; j < sc; j++) {
                    struct stat s2;
                    if (fstatat(sub, sn[j], &s2, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(s2.st_mode))
                        fprintf(f, "%s/%s %" PRIu64 "\n", names[i], sn[j], (uint64_t)s2.st_size);
                }
                free_names(sn, sc);
            }
        }
        free_names(names, n);
    }
    if (notes->len)
        fputs(notes->buf, f);
    if (fclose(f) != 0) {
        free(s);
        return -ENOMEM;
    }
    int k = write_file_at(bundle_fd, "MANIFEST", s, slen);
    free(s);
    return k;
}

/* ---- quota, rotation, stale temp dirs ------------------------------------------------- */

struct bundle_info {
    char *name;
    uint64_t time_ms;
    uint64_t bytes;
};

static int cmp_bundle(const void *a, const void *b) {
    const struct bundle_info *x = a, *y = b;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void enforce_limits(struct gsm_recorder *r, const char *keep) {
    char **names = NULL;
    size_t n = 0;
    if (list_dir(r->dir_fd, &names, &n) < 0)
        return;
    struct bundle_info *b = calloc(n ? n : 1, sizeof *b);
    if (!b) {
        free_names(names, n);
        return;
    }
    size_t nb = 0;
    uint64_t total = 0, now = realtime_ms();
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (strncmp(names[i], TMP_PREFIX, STRLEN(TMP_PREFIX)) == 0) {
            if (!ours_dir(r->dir_fd, names[i], &st))
                continue;
            uint64_t mtime_ms = (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000;
            if (now > mtime_ms && now - mtime_ms > GSM_RECORDER_STALE_TMP_MS) {
                int k = rm_tree_at(r->dir_fd, names[i], 0);
                gsm_debug("recorder: removed stale %s: %d", names[i], k);
            }
            continue;
        }
        uint64_t t;
        if (gsm_recorder_parse_bundle_name(names[i], &t) < 0 || !ours_dir(r->dir_fd, names[i], &st))
            continue;   /* a symlink, a file, someone else's: never ours to delete */
        _cleanup_close_ int fd = openat(r->dir_fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        b[nb].name = TAKE_PTR(names[i]);
        b[nb].time_ms = t;
        b[nb].bytes = tree_bytes(fd, 0);
        total += b[nb].bytes;
        nb++;
    }
    free_names(names, n);
    qsort(b, nb, sizeof *b, cmp_bundle);
    size_t count = nb;
    for (size_t i = 0; i < nb && (count > r->max_bundles || total > r->quota_bytes); i++) {
        if (keep && strcmp(b[i].name, keep) == 0)
            continue;
        int k = rm_tree_at(r->dir_fd, b[i].name, 0);
        gsm_debug("recorder: rotated out %s (%" PRIu64 " bytes): %d", b[i].name, b[i].bytes, k);
        if (k == 0 || k == -ENOENT) {
            count--;
            total -= b[i].bytes;
        }
    }
    for (size_t i = 0; i < nb; i++)
        free(b[i].name);
    free(b);
}

/* ---- the bundle ----------------------------------------------------------------------- */

int gsm_recorder_write(struct gsm_recorder *r, const struct gsm_bundle_request *req, char *ret_path,
                       size_t path_len) {
    if (!r || !req)
        return -EINVAL;
    const char *key = req->target_key ? req->target_key : req->target_label ? req->target_label : "";
    if (rate_limited(r, key, req->now_ms))
        return -EAGAIN;

    char label[65];
    gsm_recorder_sanitize_label(req->target_label ? req->target_label : req->target_key, label);

    /* Make the temp dir; a name already taken (same label in the same ms) moves the time on. */
    char tmp[NAME_MAX + 1], final[NAME_MAX + 1];
    uint64_t t = req->now_ms;
    int k = -EEXIST;
    for (int i = 0; i < 16 && k == -EEXIST; i++, t++) {
        snprintf(tmp, sizeof tmp, TMP_PREFIX "%s-%" PRIu64 "-%ld", label, t, (long)getpid());
        k = mkdirat(r->dir_fd, tmp, 0700) < 0 ? -errno : 0;
    }
    if (k < 0)
        return k;
    t--;
    /* From here on the expensive work starts: count the attempt against the rate limit, so a
     * bundle that keeps failing is not retried every tick. */
    rate_record(r, key, req->now_ms);

    _cleanup_close_ int bfd = openat(r->dir_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (bfd < 0) {
        k = -errno;
        unlinkat(r->dir_fd, tmp, AT_REMOVEDIR);
        return k;
    }

    struct notes notes = {0};
    write_text_files(req, bfd, &notes);
    run_explain(r, req, bfd, &notes);
    copy_cgroup(req, bfd, &notes);
    fetch_go(req, bfd, &notes);
    k = write_manifest(bfd, &notes);
    free(notes.buf);
    if (k < 0 || fsync(bfd) < 0) {
        k = k < 0 ? k : -errno;
        rm_tree_at(r->dir_fd, tmp, 0);
        return k;
    }

    uint64_t bytes = tree_bytes(bfd, 0);
    if (bytes > r->quota_bytes) {
        gsm_debug("recorder: bundle of %" PRIu64 " bytes exceeds the quota of %" PRIu64, bytes, r->quota_bytes);
        rm_tree_at(r->dir_fd, tmp, 0);
        return -ENOSPC;
    }

    k = -EEXIST;
    for (int i = 0; i < 16 && k == -EEXIST; i++, t++) {
        snprintf(final, sizeof final, BUNDLE_PREFIX "%s-%" PRIu64, label, t);
        if (renameat2(r->dir_fd, tmp, r->dir_fd, final, RENAME_NOREPLACE) == 0) {
            k = 0;
        } else if (errno == EINVAL || errno == ENOSYS) {
            /* A filesystem without RENAME_NOREPLACE: check, then rename (a directory cannot
             * replace a non-empty directory or a non-directory anyway). */
            struct stat st;
            if (fstatat(r->dir_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0)
                k = -EEXIST;
            else
                k = renameat(r->dir_fd, tmp, r->dir_fd, final) < 0 ? -errno : 0;
        } else {
            k = errno == ENOTEMPTY ? -EEXIST : -errno;
        }
    }
    if (k < 0) {
        rm_tree_at(r->dir_fd, tmp, 0);
        return k;
    }
    fsync(r->dir_fd);
    gsm_debug("recorder: wrote %s/%s (%" PRIu64 " bytes)", r->dump_dir, final, bytes);

    enforce_limits(r, final);

    if (ret_path) {
        int w = snprintf(ret_path, path_len, "%s/%s", r->dump_dir, final);
        if (w < 0 || (size_t)w >= path_len)
            return -ENAMETOOLONG;   /* the bundle stays; only its name did not fit */
    }
    return 0;
}
