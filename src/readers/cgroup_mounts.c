/* The mount table the cgroup locator works from, read and parsed once and kept (indexed, see
 * readers/mountinfo.h) until it changes. `watch --all` locates every process of a node; a node
 * with tens of thousands of mounts made that one mountinfo parse per process.
 *
 * Change detection: procfs signals a change of the mount namespace on an open mountinfo with
 * POLLPRI|POLLERR (fs/proc_namespace.c: mounts_poll() compares the namespace's event counter
 * with the one seen at open or at the last poll), so the open fd is polled without waiting. A
 * regular file (a fixture tree) is compared by inode, size and mtime/ctime. */
#include "readers/cgroup_internal.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* A container host with thousands of mounts has a mountinfo of a few hundred KiB. */
#define MOUNTINFO_MAX_BYTES (16 * GSM_SMALL_FILE_MAX)

static struct gsm_cgroup_mounts shared = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .shared = true};

int gsm_cgroup_mounts_new(const struct gsm_root *root, struct gsm_cgroup_mounts **ret) {
    struct gsm_cgroup_mounts *cm = calloc(1, sizeof *cm);
    if (!cm)
        return -ENOMEM;
    pthread_mutex_init(&cm->lock, NULL);
    cm->root = root;
    cm->fd = -1;
    *ret = cm;
    return 0;
}

static void drop_table(struct gsm_cgroup_mounts *cm) {
    gsm_mountinfo_free(&cm->mi);
    if (cm->fd >= 0)
        close(cm->fd);
    cm->fd = -1;
    cm->have = false;
    cm->path[0] = '\0';
}

void gsm_cgroup_mounts_free(struct gsm_cgroup_mounts *cm) {
    if (!cm || cm->shared)
        return;
    drop_table(cm);
    pthread_mutex_destroy(&cm->lock);
    free(cm);
}

unsigned gsm_cgroup_mounts_reads(struct gsm_cgroup_mounts *cm) {
    pthread_mutex_lock(&cm->lock);
    unsigned n = cm->n_reads;
    pthread_mutex_unlock(&cm->lock);
    return n;
}

/* The mount table that describes the root. Its mount points are opened relative to the root,
 * so it must be the table of a process whose "/" the root stands for:
 *  - proc/self/mountinfo when the root is our own "/" (proc/self/root leads to it), and in
 *    fixture trees, which have no proc/self/root: the tree is "/" of the process captured
 *    (proc/PID/mountinfo when the tree has no proc/self);
 *  - proc/1/mountinfo when proc/self/root leads elsewhere: a container given the host's /proc
 *    and /sys/fs/cgroup under --root /host (deploy/kubernetes). Our own table lists the
 *    container's mounts, at points that are not under the root; PID 1 of the root's procfs
 *    is the host's init, whose mount points are host paths, which the root mirrors.
 * Either way cgroupfs mount roots are printed relative to *our* cgroup namespace
 * (cgroup_show_path() uses current's), like every /proc/PID/cgroup path we read.
 * The name goes to path (no file is opened: a kept table is checked without a new open). */
static void choose_table(const struct gsm_root *root, pid_t pid, char path[static 48]) {
    struct stat rs, ss;
    if (!root->is_host && fstat(root->fd, &rs) == 0 && fstatat(root->fd, "proc/self/root", &ss, 0) == 0 &&
        (rs.st_dev != ss.st_dev || rs.st_ino != ss.st_ino)) {
        if (faccessat(root->fd, "proc/1/mountinfo", R_OK, AT_SYMLINK_NOFOLLOW) == 0) {
            snprintf(path, 48, "proc/1/mountinfo");
            return;
        }
        gsm_debug("cgroup: proc/1/mountinfo: %s; using proc/self/mountinfo", strerror(errno));
    }
    snprintf(path, 48, "proc/self/mountinfo");
    if (pid > 0 && faccessat(root->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
        snprintf(path, 48, "proc/%d/mountinfo", (int)pid);
}

static bool same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whether the kept table still describes `path` of the root. */
static bool table_current(struct gsm_cgroup_mounts *cm, const char *path) {
    if (!cm->have || strcmp(cm->path, path) != 0)
        return false;
    if (cm->procfs) {
        struct pollfd p = {.fd = cm->fd, .events = POLLPRI};
        int n = poll(&p, 1, 0);
        return n == 0 || (n == 1 && !(p.revents & (POLLPRI | POLLERR | POLLNVAL)));
    }
    struct stat st;
    return fstatat(cm->root->fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && same_file(&st, &cm->st);
}

/* Read and parse the table from fd (taken over, kept open). */
static int load_table(struct gsm_cgroup_mounts *cm, int fd, const char *path) {
    struct statfs sfs;
    struct stat st;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    struct gsm_mountinfo mi;
    int r;
    if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    if ((r = gsm_read_fd(fd, MOUNTINFO_MAX_BYTES, &buf, &len)) < 0 || (r = gsm_parse_mountinfo(buf, len, &mi)) < 0) {
        close(fd);
        return r;
    }
    drop_table(cm);
    cm->fd = fd;
    cm->procfs = sfs.f_type == PROC_SUPER_MAGIC;
    cm->st = st;
    cm->mi = mi;
    cm->have = true;
    snprintf(cm->path, sizeof cm->path, "%s", path);
    cm->n_reads++;
    return 0;
}

/* Whether the shared table may be kept for `root`: a table read through procfs is exact (it
 * signals changes); a fixture's is re-read on each use, as before the cache existed. */
static bool shared_keeps(struct gsm_cgroup_mounts *cm, const struct gsm_root *root) {
    struct stat rs;
    if (fstat(root->fd, &rs) < 0)
        return false;
    bool same = cm->have && cm->procfs && cm->root_dev == rs.st_dev && cm->root_ino == rs.st_ino &&
                cm->root_is_host == root->is_host;
    cm->root_dev = rs.st_dev;
    cm->root_ino = rs.st_ino;
    cm->root_is_host = root->is_host;
    return same;
}

int gsm_cgroup_mounts_get(struct gsm_cgroup_mounts *cm, const struct gsm_root *root, pid_t pid,
                          const struct gsm_mountinfo **ret) {
    pthread_mutex_lock(&cm->lock);
    if (cm->shared) {
        if (!shared_keeps(cm, root))
            drop_table(cm);
        cm->root = root;
    }
    char path[48];
    choose_table(cm->root, pid, path);
    if (!table_current(cm, path)) {
        int fd = openat(cm->root->fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        int r = fd < 0 ? -errno : load_table(cm, fd, path);
        if (r < 0) {
            pthread_mutex_unlock(&cm->lock);
            return r;
        }
    }
    *ret = &cm->mi;
    return 0;
}

void gsm_cgroup_mounts_put(struct gsm_cgroup_mounts *cm) { pthread_mutex_unlock(&cm->lock); }

struct gsm_cgroup_mounts *gsm_cgroup_mounts_shared(void) { return &shared; }
