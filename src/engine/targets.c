#include "engine/engine_internal.h"
#include "readers/cgroup.h"
#include "readers/proc_files.h"
#include "readers/proc_handle.h"
#include "util/cleanup.h"
#include "util/parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gsm_engine_target_free(struct gsm_watch_target *t) {
    if (!t)
        return;
    gsm_engine_notify_close(t);
    gsm_proc_handle_close(&t->h);
    if (t->pidfd >= 0)
        close(t->pidfd);
    gsm_cgroup_location_free(&t->loc);
    gsm_cg_effective_free(&t->eff);
    gsm_sample_ring_free(&t->ring);
    free(t->key);
    free(t->go);
    free(t->cls);
    free(t->go_totals);
    free(t);
}

static struct gsm_watch_target *target_new(struct gsm_watch *w, enum gsm_watch_target_type type) {
    struct gsm_watch_target *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->type = type;
    t->h = (struct gsm_proc)GSM_PROC_INIT;
    t->pidfd = -1;
    gsm_detect_state_init(&t->det);
    t->cg_tick = -1;
    t->tc = &w->tc;
    uint64_t fast = w->o.fast_interval_ms ? w->o.fast_interval_ms : w->o.interval_ms;
    t->ring_max = w->o.ring_ms / (fast ? fast : 1000) + 2;
    if (t->ring_max < 8)
        t->ring_max = 8;
    gsm_sample_ring_init(&t->ring, t->ring_max, w->o.ring_ms);
    t->notify_fd[0] = t->notify_fd[1] = -1;
    return t;
}

static int add_target(struct gsm_watch *w, struct gsm_watch_target *t) {
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 16;
        struct gsm_watch_target **n = realloc(w->t, nc * sizeof *n);
        if (!n)
            return -ENOMEM;
        w->t = n;
        w->cap = nc;
    }
    w->t[w->n++] = t;
    return 0;
}

static struct gsm_watch_target *find_key(struct gsm_watch *w, const char *key) {
    for (size_t i = 0; i < w->n; i++)
        if (w->t[i]->key && strcmp(w->t[i]->key, key) == 0)
            return w->t[i];
    return NULL;
}

/* A process is PID + start time: a recycled PID is a different process. -EPERM for a kernel
 * thread when skip_kthreads. */
static int identity(const struct gsm_root *root, pid_t pid, bool skip_kthreads, uint64_t *ret_start, char *name,
                    size_t name_len) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0)
        return r;
    struct gsm_stat st;
    r = gsm_read_stat_at(h.dirfd, &st, NULL);
    if (r < 0)
        return r;
    if (skip_kthreads && (st.flags & GSM_PF_KTHREAD))
        return -EPERM;
    *ret_start = st.starttime_ticks;
    if (name)
        snprintf(name, name_len, "%s", st.comm);
    return 0;
}

int gsm_engine_process_identity(const struct gsm_root *root, pid_t pid, uint64_t *ret_start, char *name, size_t name_len) {
    return identity(root, pid, false, ret_start, name, name_len);
}

int gsm_engine_same_process(const struct gsm_watch_target *t, const struct gsm_proc *h) {
    if (!h->have_start || h->start_ticks != t->starttime)
        return -ESRCH;
    if (t->pidfd >= 0)
        return gsm_pidfd_exited(t->pidfd) ? -ESRCH : 0;
    return gsm_proc_handle_check(h);
}

/* The new target's pidfd, bound to the identity (pid, start) read before it: opened, then the
 * start time read again, then polled: a process still running after the read is the one that
 * was read. -1 where there is none (see struct gsm_watch_target); -ESRCH when the process
 * exited or the PID changed hands meanwhile. */
static int open_target_pidfd(const struct gsm_watch *w, pid_t pid, uint64_t start) {
    if (!w->root->is_host)
        return -1;
    int fd = gsm_pidfd_open(pid);
    if (fd < 0)
        return fd == -1 && errno == ESRCH ? -ESRCH : -1;
    if (fd >= w->keep_fd_below) {
        close(fd);
        return -1;
    }
    uint64_t again;
    if (gsm_engine_process_identity(w->root, pid, &again, NULL, 0) < 0 || again != start || gsm_pidfd_exited(fd)) {
        close(fd);
        return -ESRCH;
    }
    return fd;
}

/* from_all: found by --all's walk of /proc, which leaves kernel threads out (no memory to
 * watch; ~100-200 on a node, ~3 KiB each as targets). */
static int new_process_target(struct gsm_watch *w, pid_t pid, bool explicit_target, bool from_all,
                              struct gsm_watch_target **ret) {
    uint64_t start;
    char name[64];
    int r = identity(w->root, pid, from_all, &start, name, sizeof name);
    if (r < 0)
        return r;
    char key[64];
    snprintf(key, sizeof key, "pid-%d-%llu", (int)pid, (unsigned long long)start);
    struct gsm_watch_target *t = find_key(w, key);
    if (t) {
        t->seen = true;
        *ret = t;
        return 0;
    }
    int pidfd = open_target_pidfd(w, pid, start);
    if (pidfd == -ESRCH)
        return -ESRCH;
    t = target_new(w, GSM_WT_PROCESS);
    if (!t) {
        if (pidfd >= 0)
            close(pidfd);
        return -ENOMEM;
    }
    t->pidfd = pidfd;
    t->pid = pid;
    t->starttime = start;
    t->start_s = (double)start / w->clk_tck;
    t->have_start = true;
    t->explicit_target = explicit_target;
    snprintf(t->name, sizeof t->name, "%s", name);
    if (!(t->key = strdup(key))) {
        gsm_engine_target_free(t);
        return -ENOMEM;
    }
    if (gsm_cgroup_locate_pid(w->root, pid, &t->loc) == 0)
        t->has_cg = true;
    t->seen = true;
    if ((r = add_target(w, t)) < 0) {
        gsm_engine_target_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

int gsm_engine_add_process(struct gsm_watch *w, pid_t pid, bool explicit_target, struct gsm_watch_target **ret) {
    return new_process_target(w, pid, explicit_target, false, ret);
}

int gsm_watch_add_pid(struct gsm_watch *w, pid_t pid) {
    struct gsm_watch_target *t;
    return new_process_target(w, pid, true, false, &t);
}

static int new_cgroup_target(struct gsm_watch *w, struct gsm_cgroup_location *loc, bool explicit_target) {
    char key[512];
    snprintf(key, sizeof key, "cgroup-%s", loc->path);
    struct gsm_watch_target *t = find_key(w, key);
    if (t) {
        t->seen = true;
        gsm_cgroup_location_free(loc);
        return 0;
    }
    t = target_new(w, GSM_WT_CGROUP);
    if (!t) {
        gsm_cgroup_location_free(loc);
        return -ENOMEM;
    }
    t->loc = *loc;
    memset(loc, 0, sizeof *loc);
    t->has_cg = true;
    t->explicit_target = explicit_target;
    if (!(t->key = strdup(key))) {
        gsm_engine_target_free(t);
        return -ENOMEM;
    }
    snprintf(t->name, sizeof t->name, "%s", t->loc.path);
    t->seen = true;
    int r = add_target(w, t);
    if (r < 0)
        gsm_engine_target_free(t);
    return r;
}

int gsm_watch_add_cgroup(struct gsm_watch *w, const char *path) {
    struct gsm_cgroup_location loc;
    int r = gsm_cgroup_locate_path(w->root, path, &loc);
    if (r < 0)
        return r;
    return new_cgroup_target(w, &loc, true);
}

/* --all: every cgroup with a memory limit, and every process. */
static void walk_limited_cgroups(struct gsm_watch *w, const struct gsm_cgroup_location *top, int dirfd, const char *path,
                                 unsigned depth) {
    if (depth > 16)
        return;
    int dfd = dup(dirfd);
    if (dfd < 0)
        return;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        int c = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c < 0)
            continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") == 0 ? "" : path, de->d_name);
        struct gsm_cg_limit max = {0}, high = {0};
        if (gsm_cgroup_read_limits_at(c, top->version, &max, &high) == 0 &&
            ((max.have && !max.unlimited) || (high.have && !high.unlimited))) {
            struct gsm_cgroup_location loc;
            if (gsm_cgroup_location_make(top->version, top->mount_point, top->mount_root, child, &loc) == 0)
                new_cgroup_target(w, &loc, false);
        }
        walk_limited_cgroups(w, top, c, child, depth + 1);
        close(c);
    }
    closedir(d);
}

void gsm_engine_refresh_all(struct gsm_watch *w) {
    int pfd = openat(w->root->fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
        DIR *d = fdopendir(pfd);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                const char *p = de->d_name;
                uint64_t v;
                if (gsm_parse_u64(&p, &v) < 0 || *p || v == 0 || v > INT32_MAX)
                    continue;
                struct gsm_watch_target *t;
                new_process_target(w, (pid_t)v, false, true, &t);
            }
            closedir(d);
        } else
            close(pfd);
    }
    /* The memory hierarchy of our own process tells where cgroups are mounted. */
    struct gsm_cgroup_location self;
    if (gsm_cgroup_locate_path(w->root, "/", &self) == 0) {
        int top = openat(w->root->fd, self.top_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (top >= 0) {
            walk_limited_cgroups(w, &self, top, "/", 0);
            close(top);
        }
        gsm_cgroup_location_free(&self);
    }
}

int gsm_engine_members(const struct gsm_watch *w, const struct gsm_watch_target *t, size_t max,
                       struct gsm_pid_list *ret) {
    if (!t->has_cg)
        return -ENOENT;
    _cleanup_close_ int dfd = openat(w->root->fd, t->loc.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    return gsm_cgroup_procs_read_at(dfd, max, ret);
}
