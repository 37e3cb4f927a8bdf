/* The drill's memory cgroup: a child of our own memory cgroup (the `memory` line of
 * /proc/self/cgroup on v1, the `0::` line on v2), with a limit and swap kept out, so that the
 * leak inside ends in an OOM kill. */
#include "cmd/drill.h"
#include "readers/cgroup.h"
#include "readers/mountinfo.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/root.h"
#include "util/units.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Write a short string to DIR/NAME (an existing cgroup file). 0 or -errno. */
static int cg_write(const char *dir, const char *name, const char *text) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int r = n < 0 ? -errno : (size_t)n == strlen(text) ? 0 : -EIO;
    close(fd);
    return r;
}

static int cg_read(const char *dir, const char *name, char **ret) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    return gsm_read_file_at(AT_FDCWD, path, GSM_SMALL_FILE_MAX, ret, &len);
}

static bool word_in(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static void chomp(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* v2 by hand (the readers prefer a v1 memory mount on hybrid hosts): the "0::" path of
 * /proc/self/cgroup under the first cgroup2 mount. */
static int locate_v2(struct gsm_cgroup_location *loc, char *err, size_t errlen) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = gsm_read_file_at(AT_FDCWD, "/proc/self/cgroup", GSM_SMALL_FILE_MAX, &buf, &len);
    if (r < 0) {
        snprintf(err, errlen, "cannot read /proc/self/cgroup: %s", strerror(-r));
        return r;
    }
    struct gsm_proc_cgroup pc = {0};
    struct gsm_mountinfo mi = {0};
    if ((r = gsm_parse_proc_cgroup(buf, len, &pc)) < 0 ||
        (r = gsm_read_mountinfo_at(AT_FDCWD, "/proc/self/mountinfo", &mi)) < 0) {
        gsm_proc_cgroup_free(&pc);
        snprintf(err, errlen, "cannot read /proc/self/mountinfo: %s", strerror(-r));
        return r;
    }
    const char *path = gsm_proc_cgroup_v2_path(&pc);
    if (!path || mi.n_cg2 == 0) {
        snprintf(err, errlen, "no cgroup v2 hierarchy mounted (or no 0:: line in /proc/self/cgroup)");
        r = -ENOMEDIUM;
    } else {
        const struct gsm_mount *m = &mi.mounts[mi.cg2[0]];
        r = gsm_cgroup_location_make(GSM_CGROUP_V2, m->mount_point, m->root, path, loc);
        if (r < 0)
            snprintf(err, errlen, "our cgroup v2 %s is not below the mount %s: %s", path, m->mount_point, strerror(-r));
    }
    gsm_mountinfo_free(&mi);
    gsm_proc_cgroup_free(&pc);
    return r;
}

/* On v2 the parent must hand the memory controller to its children: listed in its
 * cgroup.controllers, and enabled in cgroup.subtree_control (which a cgroup that has
 * processes of its own cannot do, the no-internal-process rule). */
static int v2_delegate(const char *parent, const char *mount_point, char *err, size_t errlen) {
    _cleanup_free_ char *ctl = NULL, *sub = NULL;
    int r = cg_read(parent, "cgroup.controllers", &ctl);
    if (r < 0) {
        snprintf(err, errlen, "cannot read %s/cgroup.controllers: %s", parent, strerror(-r));
        return r == -EACCES || r == -EPERM ? -EACCES : -ENOMEDIUM;
    }
    chomp(ctl);
    if (!word_in(ctl, "memory")) {
        snprintf(err, errlen, "no memory controller in cgroup v2 at %s (cgroup.controllers: '%s'%s)", parent, ctl,
                 strcmp(parent, mount_point) == 0 ? "; memory may be on a v1 hierarchy" : "; not delegated to us");
        return -ENOMEDIUM;
    }
    if ((r = cg_read(parent, "cgroup.subtree_control", &sub)) == 0 && word_in(sub, "memory"))
        return 0;
    r = cg_write(parent, "cgroup.subtree_control", "+memory");
    if (r == -EBUSY) {
        snprintf(err, errlen, "our cgroup v2 %s has processes, so it cannot enable memory for a child (the "
                 "no-internal-process rule); run the drill in a delegated cgroup of its own (e.g. "
                 "systemd-run --scope -p Delegate=yes gsmapper drill)", parent);
        return -ENOMEDIUM;
    }
    if (r < 0)
        snprintf(err, errlen, "cannot enable memory in %s/cgroup.subtree_control: %s", parent, strerror(-r));
    return r == -EACCES || r == -EPERM || r == -EROFS ? -EACCES : r;
}

/* A drill killed with SIGKILL leaves its (empty) cgroup: remove gsm-drill-<pid> whose process
 * is gone. rmdir only: a cgroup with processes stays. */
static void remove_stale(const char *parent) {
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *p = de->d_name;
        uint64_t pid;
        if (strncmp(p, "gsm-drill-", 10) != 0)
            continue;
        p += 10;
        if (gsm_parse_u64(&p, &pid) < 0 || *p || pid == 0 || pid > INT32_MAX || pid == (uint64_t)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", parent, de->d_name);
        if (rmdir(path) == 0)
            gsm_debug("drill: removed the stale %s", path);
    }
    closedir(d);
}

static int set_limits_v1(const struct drill_cg *cg, const char *limit, const char **swap) {
    int r = cg_write(cg->dir, "memory.limit_in_bytes", limit);
    if (r < 0)
        return r;
    /* memsw (usage + swap) equal to the limit: nothing can go to swap (absent without swap
     * accounting). swappiness 0 keeps anon memory out of swap in the cgroup's reclaim anyway. */
    if (cg_write(cg->dir, "memory.memsw.limit_in_bytes", limit) == 0)
        *swap = "memsw limit";
    cg_write(cg->dir, "memory.swappiness", "0");
    return 0;
}

static int make_child(struct drill_cg *cg, char *err, size_t errlen) {
    char name[64], limit[32];
    snprintf(name, sizeof name, "gsm-drill-%d", (int)getpid());
    snprintf(limit, sizeof limit, "%llu", (unsigned long long)cg->limit_bytes);
    if (asprintf(&cg->dir, "%s/%s", cg->parent_dir, name) < 0) {
        cg->dir = NULL;
        return -ENOMEM;
    }
    if (mkdir(cg->dir, 0755) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot make the drill cgroup %s: %s%s", cg->dir, strerror(e),
                 e == EACCES || e == EPERM || e == EROFS ? " (needs root, or write access to our own memory cgroup)" : "");
        free(cg->dir);
        cg->dir = NULL;
        return e == EACCES || e == EPERM || e == EROFS ? -EACCES : -e;
    }
    const char *swap = NULL;
    int r;
    if (cg->version == 1)
        r = set_limits_v1(cg, limit, &swap);
    else if ((r = cg_write(cg->dir, "memory.max", limit)) == 0 && cg_write(cg->dir, "memory.swap.max", "0") == 0)
        swap = "swap.max 0";
    if (r < 0) {
        snprintf(err, errlen, "cannot set the limit of %s: %s", cg->dir, strerror(-r));
        rmdir(cg->dir);
        free(cg->dir);
        cg->dir = NULL;
        return r == -EPERM ? -EACCES : r;
    }
    cg->swap = swap;
    return 0;
}

static uint64_t read_u64(const char *dir, const char *name, uint64_t dflt) {
    _cleanup_free_ char *buf = NULL;
    uint64_t v;
    const char *p;
    if (cg_read(dir, name, &buf) < 0 || strncmp(buf, "max", 3) == 0)
        return dflt;
    p = buf;
    return gsm_parse_u64(&p, &v) == 0 ? v : dflt;
}

static uint64_t mem_available(void) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    uint64_t kb;
    if (gsm_read_file_at(AT_FDCWD, "/proc/meminfo", GSM_SMALL_FILE_MAX, &buf, &len) < 0)
        return UINT64_MAX;
    const char *p = strstr(buf, "MemAvailable:");
    if (!p)
        return UINT64_MAX;
    p += strlen("MemAvailable:");
    return gsm_parse_u64(&p, &kb) == 0 ? kb * 1024 : UINT64_MAX;
}

/* The leak must die in its own cgroup, never in an ancestor's or the node's OOM: the least
 * room left under the limits from our cgroup up to the hierarchy's root, and on the node.
 * The drill and watch themselves stay in our cgroup (a few MiB, more while a bundle's explain
 * runs): 32 MiB are kept for them. */
static int check_room(const struct drill_cg *cg, const char *mount_point, char *err, size_t errlen) {
    char dir[4096], b1[16], b2[16];
    uint64_t need = cg->limit_bytes + (32u << 20), room = mem_available();
    char who[4200] = "the node (MemAvailable)";
    snprintf(dir, sizeof dir, "%s", cg->parent_dir);
    for (;;) {
        uint64_t lim = read_u64(dir, cg->version == 1 ? "memory.limit_in_bytes" : "memory.max", UINT64_MAX);
        uint64_t use = read_u64(dir, cg->version == 1 ? "memory.usage_in_bytes" : "memory.current", 0);
        if (lim != UINT64_MAX && (lim > use ? lim - use : 0) < room) {
            room = lim > use ? lim - use : 0;
            snprintf(who, sizeof who, "the limit of %s", dir);
        }
        char *slash = strrchr(dir, '/');
        if (strcmp(dir, mount_point) == 0 || strlen(dir) <= strlen(mount_point) || !slash || slash == dir)
            break;
        *slash = '\0';
    }
    if (room >= need)
        return 0;
    snprintf(err, errlen, "--limit %s does not fit: %s is left under %s, and the drill needs the limit + 32 MiB; "
             "choose a smaller --limit", gsm_fmt_bytes(cg->limit_bytes, b1, sizeof b1), gsm_fmt_bytes(room, b2, sizeof b2), who);
    return -E2BIG;
}

int drill_cg_create(int version, uint64_t limit, struct drill_cg *ret, char *err, size_t errlen) {
    *ret = (struct drill_cg){.limit_bytes = limit};
    struct gsm_cgroup_location loc = {0};
    int r;
    if (version == 2) {
        r = locate_v2(&loc, err, errlen);
    } else {
        struct gsm_root root;
        if ((r = gsm_root_open(NULL, &root)) < 0) {
            snprintf(err, errlen, "cannot open /: %s", strerror(-r));
            return r;
        }
        r = gsm_cgroup_locate_pid(&root, getpid(), &loc);
        gsm_root_close(&root);
        if (r == 0 && version == 1 && loc.version != GSM_CGROUP_V1) {
            gsm_cgroup_location_free(&loc);
            r = -ENOMEDIUM;
        }
        if (r < 0)
            snprintf(err, errlen, "cannot find our own memory cgroup: %s",
                     r == -ENOMEDIUM ? (version == 1 ? "no cgroup v1 memory hierarchy mounted" : "no memory controller mounted")
                                     : strerror(-r));
    }
    if (r < 0)
        return r == -ENOMEDIUM || r == -EXDEV || r == -EREMOTE || r == -ENOLINK ? -ENOMEDIUM : r;
    ret->version = loc.version == GSM_CGROUP_V2 ? 2 : 1;
    if (asprintf(&ret->parent_dir, "/%s", loc.dir) < 0 ||
        asprintf(&ret->path, "%s/gsm-drill-%d", strcmp(loc.path, "/") == 0 ? "" : loc.path, (int)getpid()) < 0) {
        gsm_cgroup_location_free(&loc);
        return -ENOMEM;
    }
    char mount_point[4096];
    snprintf(mount_point, sizeof mount_point, "%s", loc.mount_point);
    gsm_cgroup_location_free(&loc);
    if (ret->version == 2 && (r = v2_delegate(ret->parent_dir, mount_point, err, errlen)) < 0)
        return r;
    if ((r = check_room(ret, mount_point, err, errlen)) < 0)
        return r;
    remove_stale(ret->parent_dir);
    return make_child(ret, err, errlen);
}

int drill_cg_move(const struct drill_cg *cg, pid_t pid) {
    char text[32];
    snprintf(text, sizeof text, "%d", (int)pid);
    return cg_write(cg->dir, "cgroup.procs", text);
}

int drill_cg_oom_kills(const struct drill_cg *cg, uint64_t *ret) {
    _cleanup_free_ char *buf = NULL;
    int r = cg_read(cg->dir, cg->version == 1 ? "memory.oom_control" : "memory.events", &buf);
    if (r < 0)
        return r;
    for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, "oom_kill ", 9) == 0) {
            const char *q = p + 9;
            return gsm_parse_u64(&q, ret);
        }
    }
    return -ENOENT;
}

uint64_t drill_cg_usage(const struct drill_cg *cg) {
    _cleanup_free_ char *buf = NULL;
    uint64_t v = 0;
    if (cg_read(cg->dir, cg->version == 1 ? "memory.usage_in_bytes" : "memory.current", &buf) == 0) {
        const char *p = buf;
        if (gsm_parse_u64(&p, &v) < 0)
            v = 0;
    }
    return v;
}

int drill_cg_remove(const struct drill_cg *cg) {
    if (!cg->dir)
        return 0;
    int r = 0;
    for (int i = 0; i < 100; i++) {
        if (rmdir(cg->dir) == 0 || errno == ENOENT)
            return 0;
        r = -errno;
        if (r != -EBUSY)
            return r;
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
    return r;
}

void drill_cg_free(struct drill_cg *cg) {
    free(cg->path);
    free(cg->dir);
    free(cg->parent_dir);
    *cg = (struct drill_cg){0};
}
