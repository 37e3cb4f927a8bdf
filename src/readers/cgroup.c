#include "readers/cgroup.h"
#include "readers/proc_handle.h"
#include "readers/mountinfo.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- /proc/PID/cgroup ---------------------------------------------------------------- */

void gsm_proc_cgroup_free(struct gsm_proc_cgroup *pc) {
    if (!pc)
        return;
    for (size_t i = 0; i < pc->n_entries; i++) {
        free(pc->entries[i].controllers);
        free(pc->entries[i].path);
    }
    free(pc->entries);
    pc->entries = NULL;
    pc->n_entries = 0;
}

int gsm_parse_proc_cgroup(const char *buf, size_t len, struct gsm_proc_cgroup *ret) {
    struct gsm_proc_cgroup pc = {0};
    size_t cap = 0;
    const char *cur = buf, *end = buf + len, *line;
    size_t llen;
    while ((line = gsm_next_line(&cur, end, &llen))) {
        /* "ID:CONTROLLERS:PATH"; the path may itself contain ':' so split at the first two. */
        const char *c1 = memchr(line, ':', llen);
        if (!c1)
            continue;
        const char *c2 = memchr(c1 + 1, ':', llen - (size_t)(c1 + 1 - line));
        if (!c2 || c1 == line)
            continue;
        char idbuf[16];
        size_t idlen = (size_t)(c1 - line);
        if (idlen >= sizeof idbuf)
            continue;
        memcpy(idbuf, line, idlen);
        idbuf[idlen] = '\0';
        const char *p = idbuf;
        uint64_t id;
        if (gsm_parse_u64(&p, &id) < 0 || *p || id > UINT32_MAX)
            continue;
        const char *path = c2 + 1;
        size_t plen = llen - (size_t)(path - line);
        if (plen == 0 || path[0] != '/')
            continue;

        if (pc.n_entries == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct gsm_proc_cgroup_entry *ne = realloc(pc.entries, ncap * sizeof *ne);
            if (!ne)
                goto oom;
            pc.entries = ne;
            cap = ncap;
        }
        struct gsm_proc_cgroup_entry *e = &pc.entries[pc.n_entries];
        e->hierarchy_id = (unsigned)id;
        e->controllers = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        e->path = strndup(path, plen);
        if (!e->controllers || !e->path) {
            free(e->controllers);
            free(e->path);
            goto oom;
        }
        pc.n_entries++;
    }
    *ret = pc;
    return 0;
oom:
    gsm_proc_cgroup_free(&pc);
    return -ENOMEM;
}

const char *gsm_proc_cgroup_v1_path(const struct gsm_proc_cgroup *pc, const char *controller) {
    for (size_t i = 0; i < pc->n_entries; i++)
        if (pc->entries[i].hierarchy_id != 0 && gsm_mount_has_option(pc->entries[i].controllers, controller))
            return pc->entries[i].path;
    return NULL;
}

const char *gsm_proc_cgroup_v2_path(const struct gsm_proc_cgroup *pc) {
    for (size_t i = 0; i < pc->n_entries; i++)
        if (pc->entries[i].hierarchy_id == 0 && pc->entries[i].controllers[0] == '\0')
            return pc->entries[i].path;
    return NULL;
}

/* ---- Location ------------------------------------------------------------------------ */

void gsm_cgroup_location_free(struct gsm_cgroup_location *loc) {
    if (!loc)
        return;
    free(loc->path);
    free(loc->ns_path);
    free(loc->mount_point);
    free(loc->mount_root);
    free(loc->dir);
    free(loc->top_dir);
    memset(loc, 0, sizeof *loc);
}

/* Does `path` contain a ".." or "." component? */
static bool has_dot_component(const char *path) {
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = strchrnul(p, '/');
        size_t l = (size_t)(e - p);
        if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
            return true;
        p = e;
    }
    return false;
}

/* "/a/b/" -> length without trailing slashes (but "/" stays "/"). */
static size_t trimmed_len(const char *s) {
    size_t l = strlen(s);
    while (l > 1 && s[l - 1] == '/')
        l--;
    return l;
}

int gsm_cgroup_location_make(enum gsm_cgroup_version version, const char *mount_point, const char *mount_root,
                             const char *cgroup_path, struct gsm_cgroup_location *ret) {
    if (!mount_point || mount_point[0] != '/' || !mount_root || mount_root[0] != '/' || !cgroup_path ||
        cgroup_path[0] != '/')
        return -EINVAL;
    /* Another cgroup namespace's process shows as "/../../x" (cgroup_path_ns()). */
    if (strncmp(cgroup_path, "/..", 3) == 0 && (cgroup_path[3] == '/' || cgroup_path[3] == '\0'))
        return -EXDEV;
    if (has_dot_component(cgroup_path) || has_dot_component(mount_point))
        return -EINVAL;

    size_t rlen = trimmed_len(mount_root);
    size_t plen = trimmed_len(cgroup_path);
    const char *rel;
    if (rlen == 1) {
        rel = cgroup_path;                      /* mount root "/": the whole path */
    } else {
        if (plen < rlen || memcmp(cgroup_path, mount_root, rlen) != 0 ||
            (plen > rlen && cgroup_path[rlen] != '/'))
            return -EXDEV;
        rel = cgroup_path + rlen;
    }
    while (*rel == '/')
        rel++;
    size_t rel_len = strlen(rel);
    while (rel_len > 0 && rel[rel_len - 1] == '/')
        rel_len--;

    const char *mp = mount_point;
    while (*mp == '/')
        mp++;
    size_t mlen = strlen(mp);
    while (mlen > 0 && mp[mlen - 1] == '/')
        mlen--;

    struct gsm_cgroup_location loc = {.version = version, .top_is_root = rlen == 1};
    int r;
    if (mlen == 0)
        loc.top_dir = strdup(".");
    else
        loc.top_dir = strndup(mp, mlen);
    if (mlen == 0 && rel_len == 0)
        r = asprintf(&loc.dir, ".");
    else if (mlen == 0)
        r = asprintf(&loc.dir, "%.*s", (int)rel_len, rel);
    else if (rel_len == 0)
        r = asprintf(&loc.dir, "%.*s", (int)mlen, mp);
    else
        r = asprintf(&loc.dir, "%.*s/%.*s", (int)mlen, mp, (int)rel_len, rel);
    if (r < 0)
        loc.dir = NULL;
    loc.path = strndup(cgroup_path, plen);
    loc.mount_point = strdup(mount_point);
    loc.mount_root = strdup(mount_root);
    if (!loc.top_dir || !loc.dir || !loc.path || !loc.mount_point || !loc.mount_root) {
        gsm_cgroup_location_free(&loc);
        return -ENOMEM;
    }
    *ret = loc;
    return 0;
}

/* ---- Paths relative to a cgroup namespace -------------------------------------------- */

int gsm_cgroup_path_normalize(const char *path, size_t *ret_up, char **ret_down) {
    if (!path || path[0] != '/')
        return -EINVAL;
    /* The result is never longer than the input: each name keeps the '/' before it. */
    _cleanup_free_ char *out = malloc(strlen(path) + 2);
    if (!out)
        return -ENOMEM;
    size_t o = 0, up = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchrnul(p, '/');
        size_t l = (size_t)(e - p);
        if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (o == 0) {
                up++;                           /* above where the path starts: counted */
            } else {
                while (out[o - 1] != '/')       /* drop the last "/name" (out[0] is '/') */
                    o--;
                o--;
            }
        } else if (!(l == 1 && p[0] == '.')) {
            out[o++] = '/';
            memcpy(out + o, p, l);
            o += l;
        }
        p = e;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    *ret_up = up;
    *ret_down = TAKE_PTR(out);
    return 0;
}

int gsm_cgroup_path_resolve(const char *base, const char *path, char **ret) {
    _cleanup_free_ char *b = NULL, *down = NULL;
    size_t bup, up;
    int r = gsm_cgroup_path_normalize(base, &bup, &b);
    if (r < 0)
        return r;
    if (bup > 0)
        return -EINVAL;
    if ((r = gsm_cgroup_path_normalize(path, &up, &down)) < 0)
        return r;
    size_t blen = strcmp(b, "/") == 0 ? 0 : strlen(b);
    for (; up > 0; up--) {
        if (blen == 0)
            return -EXDEV;                      /* would climb above the hierarchy's root */
        while (b[blen - 1] != '/')
            blen--;
        blen--;
    }
    bool down_is_root = strcmp(down, "/") == 0;
    size_t dlen = down_is_root && blen > 0 ? 0 : strlen(down);
    char *out = malloc(blen + dlen + 1);
    if (!out)
        return -ENOMEM;
    memcpy(out, b, blen);
    memcpy(out + blen, down, dlen);
    out[blen + dlen] = '\0';
    *ret = out;
    return 0;
}

/* The number of leading "/.." components of a path as the kernel prints it (one per level
 * above the reader's namespace root, kernfs_path_from_node()), and where the rest begins. */
static size_t leading_up(const char *path, const char **ret_rest) {
    size_t up = 0;
    const char *p = path;
    while (p[0] == '/' && p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0')) {
        up++;
        p += 3;
    }
    *ret_rest = p;
    return up;
}

/* A mount whose root cgroup_show_path() printed as "/.." x N: an ancestor of our cgroup
 * namespace root, N levels up (the host's cgroupfs bind-mounted into a pod). 0 otherwise:
 * "/" (our namespace root), "/a/b" (a sub-tree) or "/../x" (a sub-tree off to the side). */
static size_t mount_ancestor_levels(const struct gsm_mount *m) {
    const char *rest;
    size_t up = leading_up(m->root, &rest);
    return rest[0] == '\0' || strcmp(rest, "/") == 0 ? up : 0;
}

/* The mount point as a directory relative to the root: "sys/fs/cgroup", or "." for "/". */
static int mount_top_dir(const char *mount_point, char **ret) {
    if (!mount_point || mount_point[0] != '/' || has_dot_component(mount_point))
        return -EINVAL;
    const char *mp = mount_point;
    while (*mp == '/')
        mp++;
    size_t l = strlen(mp);
    while (l > 0 && mp[l - 1] == '/')
        l--;
    *ret = l == 0 ? strdup(".") : strndup(mp, l);
    return *ret ? 0 : -ENOMEM;
}

static bool exists_in(int rootfd, const char *dir, const char *name) {
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return false;
    return fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Whether a mount's top directory is the hierarchy's root cgroup. Only the root lacks the
 * files marked CFTYPE_NOT_ON_ROOT (v2 "cgroup.type", cgroup_base_files[], 4.14+), and only
 * the root has those marked CFTYPE_ONLY_ON_ROOT (v1 "cgroup.sane_behavior",
 * cgroup1_base_files[]). A mount whose root prints as "/" was taken to be the root before;
 * on v2 cgroup.type now says when it is a cgroup namespace's root instead (inside a pod). A
 * mount above our namespace root must look like the root on either version. */
static bool mount_top_is_root(int rootfd, enum gsm_cgroup_version version, const char *top_dir, bool ancestor) {
    if (version == GSM_CGROUP_V2)
        return !exists_in(rootfd, top_dir, "cgroup.type");
    return !ancestor || exists_in(rootfd, top_dir, "cgroup.sane_behavior");
}

/* The mount table that describes the root. Its mount points are opened relative to the root,
 * so it must be the table of a process whose "/" the root stands for:
 *  - proc/self/mountinfo when the root is our own "/" (proc/self/root leads to it), and in
 *    fixture trees, which have no proc/self/root: the tree is "/" of the process captured;
 *  - proc/1/mountinfo when proc/self/root leads elsewhere: a container given the host's /proc
 *    and /sys/fs/cgroup under --root /host (deploy/kubernetes). Our own table lists the
 *    container's mounts, at points that are not under the root; PID 1 of the root's procfs
 *    is the host's init, whose mount points are host paths, which the root mirrors.
 * Either way cgroupfs mount roots are printed relative to *our* cgroup namespace
 * (cgroup_show_path() uses current's), like every /proc/PID/cgroup path we read. */
static int read_mountinfo(const struct gsm_root *root, pid_t pid, struct gsm_mountinfo *ret) {
    struct stat rs, ss;
    int r;
    if (!root->is_host && fstat(root->fd, &rs) == 0 && fstatat(root->fd, "proc/self/root", &ss, 0) == 0 &&
        (rs.st_dev != ss.st_dev || rs.st_ino != ss.st_ino)) {
        r = gsm_read_mountinfo_at(root->fd, "proc/1/mountinfo", ret);
        if (r == 0 || r == -ENOMEM)
            return r;
        gsm_debug("cgroup: proc/1/mountinfo: %s; using proc/self/mountinfo", strerror(-r));
    }
    r = gsm_read_mountinfo_at(root->fd, "proc/self/mountinfo", ret);
    if (r == -ENOENT && pid > 0) {
        char path[48];
        snprintf(path, sizeof path, "proc/%d/mountinfo", (int)pid);
        r = gsm_read_mountinfo_at(root->fd, path, ret);
    }
    return r;
}

/* Whether a cgroup2 mount offers the memory controller: its cgroup.controllers lists it.
 * Unreadable (fixture without the file, EACCES) counts as yes. */
static bool v2_has_memory(int rootfd, const char *top_dir) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/cgroup.controllers", top_dir) >= sizeof path)
        return false;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    if (gsm_read_file_at(rootfd, path, GSM_SMALL_FILE_MAX, &buf, &len) < 0)
        return true;
    for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
        if (strcmp(t, "memory") == 0)
            return true;
    return false;
}

static int dir_exists(int rootfd, const char *dir) {
    struct stat st;
    if (fstatat(rootfd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOTDIR ? -ENOENT : -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

/* ---- Our cgroup namespace root, below a mount that reaches above it ------------------- */

/* Nothing in /proc or a mount table names the cgroups above our namespace root: every path
 * is printed relative to it. Below a mount whose root is N levels above it, the namespace
 * root is the directory N levels down that holds our own process (directly, or in the
 * sub-cgroup proc/self/cgroup names). cgroup.procs lists PIDs of the reader's PID namespace
 * (cgroup_procs_show(): task_pid_vnr()), so proc/self must be in the same one: hostPID. */

#define NS_SEARCH_MAX_LEVELS 64        /* k8s nests 3-5 deep; cgroup.max.depth is unlimited */
#define NS_SEARCH_MAX_DIRS 100000      /* a node has a few thousand cgroups */

/* Our PID as the root's procfs numbers it: proc/self is a link to "PID". */
static int own_pid(int rootfd, pid_t *ret) {
    char buf[32];
    ssize_t n = readlinkat(rootfd, "proc/self", buf, sizeof buf - 1);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    const char *p = buf;
    uint64_t v;
    if (gsm_parse_u64(&p, &v) < 0 || *p || v == 0 || v > INT32_MAX)
        return -EINVAL;
    *ret = (pid_t)v;
    return 0;
}

/* Our own cgroup of this version below our namespace root, from proc/self/cgroup, without
 * the leading '/': "" when we are in the namespace root itself (a container's usual place).
 * -ENOLINK when it is not at or below the namespace root. */
static int own_cgroup(int rootfd, enum gsm_cgroup_version version, char **ret) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = gsm_read_file_at(rootfd, "proc/self/cgroup", GSM_SMALL_FILE_MAX, &buf, &len);
    if (r < 0)
        return r;
    struct gsm_proc_cgroup pc;
    if ((r = gsm_parse_proc_cgroup(buf, len, &pc)) < 0)
        return r;
    const char *p = version == GSM_CGROUP_V1 ? gsm_proc_cgroup_v1_path(&pc, "memory") : gsm_proc_cgroup_v2_path(&pc);
    const char *rest;
    if (!p || leading_up(p, &rest) > 0 || has_dot_component(p))
        r = -ENOLINK;
    else {
        while (*p == '/')
            p++;
        size_t l = strlen(p);
        while (l > 0 && p[l - 1] == '/')
            l--;
        if (!(*ret = strndup(p, l)))
            r = -ENOMEM;
    }
    gsm_proc_cgroup_free(&pc);
    return r;
}

/* Whether dirfd/sub/cgroup.procs lists pid. */
static bool procs_list_pid(int dirfd, const char *sub, pid_t pid) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s%scgroup.procs", sub, *sub ? "/" : "") >= sizeof path)
        return false;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    if (gsm_read_file_at(dirfd, path, GSM_SMALL_FILE_MAX, &buf, &len) < 0)
        return false;
    const char *cur = buf, *end = buf + len, *line;
    size_t ll;
    while ((line = gsm_next_line(&cur, end, &ll))) {
        const char *p = line;
        uint64_t v;
        if (gsm_parse_u64(&p, &v) == 0 && p == line + ll && v == (uint64_t)pid)
            return true;
    }
    return false;
}

struct ns_search {
    pid_t self;
    const char *sub;        /* our cgroup below the namespace root ("" = the root itself) */
    size_t levels;          /* how far down the namespace root is */
    size_t budget;          /* directories we may still open */
    char path[4096];        /* the directory being visited, below the mount's root: "/a/b" */
};

/* 1: found, s->path names it; 0: not below dirfd; -E2BIG: the budget ran out. */
static int ns_search_at(int dirfd, size_t level, size_t plen, struct ns_search *s) {
    if (level == s->levels)
        return procs_list_pid(dirfd, s->sub, s->self) ? 1 : 0;
    int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return 0;
    }
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d))) {
        const char *name = de->d_name;
        size_t nl = strlen(name);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || plen + 1 + nl >= sizeof s->path)
            continue;
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        if (s->budget == 0) {
            r = -E2BIG;
            break;
        }
        s->budget--;
        int c = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c < 0)
            continue;
        s->path[plen] = '/';
        memcpy(s->path + plen + 1, name, nl + 1);
        r = ns_search_at(c, level + 1, plen + 1 + nl, s);
        close(c);
    }
    closedir(d);
    if (r != 1)
        s->path[plen] = '\0';
    return r;
}

/* The last answer: one search per process lifetime, while it stays true (`watch --all`
 * locates every process of the node). Checked before each use by one read of cgroup.procs. */
static struct {
    pthread_mutex_t lock;
    dev_t dev;
    ino_t ino;              /* the mount's top directory */
    size_t levels;
    char *ns_root;          /* below the mount's root: "/kubepods.slice/..." */
} ns_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Our cgroup namespace root as a path below the root of a mount (top_dir) that lies `levels`
 * above it. 0; -ENOLINK not found (reason logged at debug level); -ENOMEM. */
static int find_ns_root(const struct gsm_root *root, enum gsm_cgroup_version version, const char *top_dir,
                        size_t levels, char **ret) {
    pid_t self = 0;
    int r;
    if (levels == 0 || levels > NS_SEARCH_MAX_LEVELS) {
        gsm_debug("cgroup: our namespace root would be %zu levels below %s: not searched", levels, top_dir);
        return -ENOLINK;
    }
    if ((r = own_pid(root->fd, &self)) < 0) {
        gsm_debug("cgroup: proc/self: %s: our own PID is unknown", strerror(-r));
        return -ENOLINK;
    }
    _cleanup_free_ char *sub = NULL;
    if ((r = own_cgroup(root->fd, version, &sub)) < 0) {
        if (r == -ENOMEM)
            return r;
        gsm_debug("cgroup: proc/self/cgroup: %s: our own cgroup is unknown", strerror(-r));
        return -ENOLINK;
    }
    _cleanup_close_ int top = openat(root->fd, top_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (top < 0 || fstat(top, &st) < 0) {
        gsm_debug("cgroup: %s: %s", top_dir, strerror(errno));
        return -ENOLINK;
    }

    pthread_mutex_lock(&ns_cache.lock);
    if (ns_cache.ns_root && ns_cache.dev == st.st_dev && ns_cache.ino == st.st_ino && ns_cache.levels == levels) {
        _cleanup_close_ int d = openat(top, ns_cache.ns_root + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d >= 0 && procs_list_pid(d, sub, self)) {
            *ret = strdup(ns_cache.ns_root);
            pthread_mutex_unlock(&ns_cache.lock);
            return *ret ? 0 : -ENOMEM;
        }
    }
    pthread_mutex_unlock(&ns_cache.lock);

    struct ns_search *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    *s = (struct ns_search){.self = self, .sub = sub, .levels = levels, .budget = NS_SEARCH_MAX_DIRS};
    r = ns_search_at(top, 0, 0, s);
    if (r != 1) {
        gsm_debug("cgroup: no cgroup %zu levels below %s lists our PID %d%s%s%s", levels, top_dir, (int)self,
                  *sub ? " in its sub-cgroup " : "", sub, r == -E2BIG ? " (search limit reached)" : "");
        free(s);
        return -ENOLINK;
    }
    char *found = strdup(s->path), *cached = strdup(s->path);
    free(s);
    if (!found || !cached) {
        free(found);
        free(cached);
        return -ENOMEM;
    }
    pthread_mutex_lock(&ns_cache.lock);
    free(ns_cache.ns_root);
    ns_cache.ns_root = cached;
    ns_cache.dev = st.st_dev;
    ns_cache.ino = st.st_ino;
    ns_cache.levels = levels;
    pthread_mutex_unlock(&ns_cache.lock);
    gsm_debug("cgroup: our cgroup namespace root is %s below %s", found, top_dir);
    *ret = found;
    return 0;
}

/* The path through a mount whose root is `levels` above our namespace root. */
static int locate_via_ancestor(const struct gsm_root *root, const struct gsm_mount *m, size_t levels,
                               enum gsm_cgroup_version version, const char *path, struct gsm_cgroup_location *ret) {
    _cleanup_free_ char *top = NULL, *ns_root = NULL, *abs = NULL;
    int r = mount_top_dir(m->mount_point, &top);
    if (r < 0)
        return r;
    if (version == GSM_CGROUP_V2 && !v2_has_memory(root->fd, top))
        return -ENOMEDIUM;
    if ((r = find_ns_root(root, version, top, levels, &ns_root)) < 0)
        return r;
    /* absolute = normalize(namespace root + "/" + path): the "/.." of path climb from the
     * namespace root (kernfs_path_from_node()), never above the mount's root, since path
     * has at most `levels` of them. */
    if ((r = gsm_cgroup_path_resolve(ns_root, path, &abs)) < 0)
        return r;
    struct gsm_cgroup_location loc;
    if ((r = gsm_cgroup_location_make(version, m->mount_point, "/", abs, &loc)) < 0)
        return r;
    loc.top_is_root = mount_top_is_root(root->fd, version, loc.top_dir, true);
    if (strcmp(abs, path) != 0 && !(loc.ns_path = strdup(path))) {
        gsm_cgroup_location_free(&loc);
        return -ENOMEM;
    }
    *ret = loc;
    return 0;
}

static const struct gsm_mount *nth_mount(const struct gsm_mountinfo *mi, enum gsm_cgroup_version version, size_t nth) {
    return version == GSM_CGROUP_V1 ? gsm_mountinfo_find_cgroup1(mi, "memory", nth) : gsm_mountinfo_find_cgroup2(mi, nth);
}

/* Mounts of the right kind whose root lies above our namespace root, the highest first (then
 * in table order). 0 or -ENOMEM; none in a host's own table. */
struct ancestor_mount {
    const struct gsm_mount *m;
    size_t levels;
};
static int ancestor_mounts(const struct gsm_mountinfo *mi, enum gsm_cgroup_version version,
                           struct ancestor_mount **ret, size_t *ret_n) {
    struct ancestor_mount *a = calloc(mi->n_mounts ? mi->n_mounts : 1, sizeof *a);
    if (!a)
        return -ENOMEM;
    size_t n = 0;
    const struct gsm_mount *m;
    for (size_t nth = 0; (m = nth_mount(mi, version, nth)); nth++) {
        size_t levels = mount_ancestor_levels(m);
        if (levels == 0)
            continue;
        size_t i = n++;
        for (; i > 0 && a[i - 1].levels < levels; i--)   /* stable insertion, highest first */
            a[i] = a[i - 1];
        a[i] = (struct ancestor_mount){m, levels};
    }
    *ret = a;
    *ret_n = n;
    return 0;
}

/* The memory cgroup `path` (as /proc/PID/cgroup printed it) through the mounts of one kind. */
static int locate_in_mounts(const struct gsm_root *root, const struct gsm_mountinfo *mi,
                            enum gsm_cgroup_version version, const char *path,
                            struct gsm_cgroup_location *ret) {
    if (!nth_mount(mi, version, 0))
        return -ENOMEDIUM;
    const char *rest;
    size_t up = leading_up(path, &rest);
    /* The kernel's form: "/.." only at the start, then names (kernfs_path_from_node()). */
    bool canonical = path[0] == '/' && (rest[0] == '\0' || (rest[0] == '/' && !has_dot_component(rest)));

    /* 1. Through a mount above our namespace root (none outside a cgroup namespace). */
    int anc_r = 0;
    if (canonical) {
        _cleanup_free_ struct ancestor_mount *a = NULL;
        size_t n;
        int r = ancestor_mounts(mi, version, &a, &n);
        if (r < 0)
            return r;
        for (size_t i = 0; i < n && a[i].levels >= up; i++) {
            r = locate_via_ancestor(root, a[i].m, a[i].levels, version, path, ret);
            if (r == 0 || r == -ENOMEM)
                return r;
            if (anc_r != -ENOLINK)
                anc_r = r;                      /* "found no place for us" says the most */
        }
    }
    if (up > 0) {
        gsm_debug("cgroup: %s lies %zu levels above our cgroup namespace root", path, up);
        return anc_r ? anc_r : canonical ? -EREMOTE : -EINVAL;
    }

    /* 2. A path at or below our namespace root: the first mount whose root contains it. */
    int r = -ENOMEDIUM;
    for (size_t nth = 0;; nth++) {
        const struct gsm_mount *m = nth_mount(mi, version, nth);
        if (!m)
            return anc_r ? anc_r : r;
        struct gsm_cgroup_location loc;
        int k = gsm_cgroup_location_make(version, m->mount_point, m->root, path, &loc);
        if (k == -EXDEV || k == -EINVAL) {
            r = k;
            continue;
        }
        if (k < 0)
            return k;
        if (version == GSM_CGROUP_V2 && !v2_has_memory(root->fd, loc.top_dir)) {
            gsm_cgroup_location_free(&loc);
            r = -ENOMEDIUM;
            continue;
        }
        loc.top_is_root = loc.top_is_root && mount_top_is_root(root->fd, version, loc.top_dir, false);
        *ret = loc;
        return 0;
    }
}

int gsm_cgroup_locate_pid(const struct gsm_root *root, pid_t pid, struct gsm_cgroup_location *ret) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0)
        return r;
    return gsm_cgroup_locate_proc(root, &h, ret);
}

int gsm_cgroup_locate_proc(const struct gsm_root *root, const struct gsm_proc *h, struct gsm_cgroup_location *ret) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = gsm_read_file_at(h->dirfd, "cgroup", GSM_SMALL_FILE_MAX, &buf, &len);
    if (r == 0 && gsm_proc_handle_check(h) < 0)
        r = -ESRCH;   /* the PID names another process now: its cgroup is not ours to report */
    if (r < 0)
        return r == -ESRCH ? -ENOENT : r;

    struct gsm_proc_cgroup pc;
    r = gsm_parse_proc_cgroup(buf, len, &pc);
    if (r < 0)
        return r;
    struct gsm_mountinfo mi;
    r = read_mountinfo(root, h->pid, &mi);
    if (r < 0) {
        gsm_proc_cgroup_free(&pc);
        return r;
    }

    struct gsm_cgroup_location loc;
    r = -ENOMEDIUM;
    const char *p1 = gsm_proc_cgroup_v1_path(&pc, "memory");
    if (p1 && gsm_mountinfo_find_cgroup1(&mi, "memory", 0))
        r = locate_in_mounts(root, &mi, GSM_CGROUP_V1, p1, &loc);
    const char *p2 = gsm_proc_cgroup_v2_path(&pc);
    if (r < 0 && r != -ENOMEM && p2 && !gsm_mountinfo_find_cgroup1(&mi, "memory", 0))
        r = locate_in_mounts(root, &mi, GSM_CGROUP_V2, p2, &loc);
    gsm_proc_cgroup_free(&pc);
    gsm_mountinfo_free(&mi);
    if (r < 0)
        return r;

    r = dir_exists(root->fd, loc.dir);
    if (r < 0) {
        gsm_debug("cgroup: %s: %s", loc.dir, strerror(-r));
        gsm_cgroup_location_free(&loc);
        return r == -ENOTDIR ? -ENOENT : r;
    }
    *ret = loc;
    return 0;
}

/* The memory hierarchy's widest mount: the first v1 memory mount, or the first cgroup2 mount
 * offering memory, unless a later one's root lies higher above our namespace root. */
static const struct gsm_mount *widest_mount(const struct gsm_root *root, const struct gsm_mountinfo *mi,
                                            enum gsm_cgroup_version version, size_t *ret_levels) {
    const struct gsm_mount *best = NULL, *m;
    size_t best_levels = 0;
    for (size_t nth = 0; (m = nth_mount(mi, version, nth)); nth++) {
        if (version == GSM_CGROUP_V2) {
            const char *mp = m->mount_point;
            while (*mp == '/')
                mp++;
            if (!v2_has_memory(root->fd, *mp ? mp : "."))
                continue;
        }
        size_t levels = mount_ancestor_levels(m);
        if (!best || levels > best_levels) {
            best = m;
            best_levels = levels;
        }
    }
    *ret_levels = best_levels;
    return best;
}

int gsm_cgroup_locate_path(const struct gsm_root *root, const char *path, struct gsm_cgroup_location *ret) {
    if (!path || !*path)
        return -EINVAL;
    if (has_dot_component(path))
        return -EINVAL;
    struct gsm_mountinfo mi;
    int r = read_mountinfo(root, 0, &mi);
    if (r < 0)
        return r;

    enum gsm_cgroup_version version = GSM_CGROUP_V1;
    size_t levels = 0;
    const struct gsm_mount *m = gsm_mountinfo_find_cgroup1(&mi, "memory", 0) ? widest_mount(root, &mi, version, &levels)
                                                                             : NULL;
    if (!m) {
        version = GSM_CGROUP_V2;
        m = widest_mount(root, &mi, version, &levels);
    }
    if (!m) {
        gsm_mountinfo_free(&mi);
        return -ENOMEDIUM;
    }
    /* A mount above our namespace root ("/../..") shows the hierarchy from its own root. */
    const char *mount_root = levels > 0 ? "/" : m->root;

    /* An absolute directory below the mount point, or a path relative to the mount. */
    size_t mplen = trimmed_len(m->mount_point);
    const char *rel = path;
    if (mplen > 1 && strncmp(path, m->mount_point, mplen) == 0 && (path[mplen] == '/' || path[mplen] == '\0'))
        rel = path + mplen;
    while (*rel == '/')
        rel++;
    _cleanup_free_ char *cgpath = NULL;
    size_t rlen = trimmed_len(mount_root);
    if (asprintf(&cgpath, "%.*s/%s", rlen == 1 ? 0 : (int)rlen, mount_root, rel) < 0) {
        gsm_mountinfo_free(&mi);
        return -ENOMEM;
    }
    struct gsm_cgroup_location loc;
    r = gsm_cgroup_location_make(version, m->mount_point, mount_root, cgpath, &loc);
    gsm_mountinfo_free(&mi);
    if (r < 0)
        return r;
    loc.top_is_root = loc.top_is_root && mount_top_is_root(root->fd, version, loc.top_dir, levels > 0);
    r = dir_exists(root->fd, loc.dir);
    if (r < 0) {
        gsm_cgroup_location_free(&loc);
        return r == -ENOTDIR ? -ENOENT : r;
    }
    *ret = loc;
    return 0;
}

/* ---- Value parsers ------------------------------------------------------------------- */

/* Trim trailing whitespace from [buf, buf+len). */
static size_t rtrim(const char *buf, size_t len) {
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    return len;
}

int gsm_parse_cg_u64(const char *buf, size_t len, uint64_t *ret) {
    len = rtrim(buf, len);
    char tmp[32];
    if (len == 0)
        return -EINVAL;
    if (len >= sizeof tmp) {
        /* Longer than any u64: out of range if it is all digits, else junk. */
        for (size_t i = 0; i < len; i++)
            if (buf[i] < '0' || buf[i] > '9')
                return -EINVAL;
        return -ERANGE;
    }
    memcpy(tmp, buf, len);
    tmp[len] = '\0';
    const char *p = tmp;
    uint64_t v;
    int r = gsm_parse_u64(&p, &v);
    if (r < 0)
        return r;
    if (*p)
        return -EINVAL;
    *ret = v;
    return 0;
}

int gsm_parse_cg_limit(const char *buf, size_t len, struct gsm_cg_limit *ret) {
    size_t l = rtrim(buf, len);
    if (l == 3 && memcmp(buf, "max", 3) == 0) {
        *ret = (struct gsm_cg_limit){.have = true, .unlimited = true, .bytes = UINT64_MAX};
        return 0;
    }
    uint64_t v;
    int r = gsm_parse_cg_u64(buf, len, &v);
    if (r < 0)
        return r;
    if (v >= GSM_CG1_UNLIMITED_BYTES)
        *ret = (struct gsm_cg_limit){.have = true, .unlimited = true, .bytes = UINT64_MAX};
    else
        *ret = (struct gsm_cg_limit){.have = true, .unlimited = false, .bytes = v};
    return 0;
}

/* "key value" lines into a table of known keys plus a list of unknown ones. A line that is
 * not "key<blanks><u64>" is counted in *n_bad and skipped. */
static int parse_kv(const char *buf, size_t len, const char *const *names, size_t n_names, uint64_t *values,
                    bool *have, struct gsm_cg_kv **extra, size_t *n_extra, size_t *n_bad) {
    size_t cap = 0;
    const char *cur = buf, *end = buf + len, *line;
    size_t llen;
    while ((line = gsm_next_line(&cur, end, &llen))) {
        if (rtrim(line, llen) == 0)
            continue;
        const char *sp = memchr(line, ' ', llen);
        size_t klen = sp ? (size_t)(sp - line) : 0;
        uint64_t v;
        if (klen == 0 || klen > 128 || gsm_parse_cg_u64(sp, llen - klen, &v) < 0) {
            (*n_bad)++;
            gsm_debug("cgroup: unparsable line: %.*s", (int)(llen > 200 ? 200 : llen), line);
            continue;
        }
        size_t i;
        for (i = 0; i < n_names; i++)
            if (strlen(names[i]) == klen && memcmp(names[i], line, klen) == 0)
                break;
        if (i < n_names) {
            values[i] = v;
            have[i] = true;
            continue;
        }
        if (!extra) {
            (*n_bad)++;
            continue;
        }
        if (*n_extra == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct gsm_cg_kv *ne = realloc(*extra, ncap * sizeof *ne);
            if (!ne)
                return -ENOMEM;
            *extra = ne;
            cap = ncap;
        }
        char *key = strndup(line, klen);
        if (!key)
            return -ENOMEM;
        (*extra)[(*n_extra)++] = (struct gsm_cg_kv){.key = key, .value = v};
    }
    return 0;
}

static void kv_free(struct gsm_cg_kv *kv, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(kv[i].key);
    free(kv);
}

static const char *const cg2_stat_names[GSM_CG2__COUNT] = {
#define X(id, name) [GSM_CG2_##id] = name,
    GSM_CG2_STAT_KEYS(X)
#undef X
};

static const char *const cg1_stat_names[GSM_CG1__COUNT] = {
#define X(id, name) [GSM_CG1_##id] = name,
    GSM_CG1_STAT_KEYS(X)
#undef X
#define X(id, name) [GSM_CG1_TOTAL_##id] = "total_" name,
    GSM_CG1_STAT_KEYS(X)
#undef X
    [GSM_CG1_HIERARCHICAL_MEMORY_LIMIT] = "hierarchical_memory_limit",
    [GSM_CG1_HIERARCHICAL_MEMSW_LIMIT] = "hierarchical_memsw_limit",
};

static const char *const event_names[GSM_CG_EV__COUNT] = {
#define X(id, name) [GSM_CG_EV_##id] = name,
    GSM_CG_EVENT_KEYS(X)
#undef X
};

const char *gsm_cg2_stat_name(enum gsm_cg2_stat k) { return (unsigned)k < GSM_CG2__COUNT ? cg2_stat_names[k] : NULL; }
const char *gsm_cg1_stat_name(enum gsm_cg1_stat k) { return (unsigned)k < GSM_CG1__COUNT ? cg1_stat_names[k] : NULL; }
const char *gsm_cg_event_name(enum gsm_cg_event e) { return (unsigned)e < GSM_CG_EV__COUNT ? event_names[e] : NULL; }

void gsm_cg_stat_free(struct gsm_cg_stat *s) {
    if (!s)
        return;
    kv_free(s->extra, s->n_extra);
    s->extra = NULL;
    s->n_extra = 0;
}

int gsm_parse_cg_stat(const char *buf, size_t len, enum gsm_cgroup_version version, struct gsm_cg_stat *ret) {
    struct gsm_cg_stat s = {.have = true, .version = version};
    int r;
    if (version == GSM_CGROUP_V2)
        r = parse_kv(buf, len, cg2_stat_names, GSM_CG2__COUNT, s.v2, s.have_v2, &s.extra, &s.n_extra,
                     &s.n_bad_lines);
    else
        r = parse_kv(buf, len, cg1_stat_names, GSM_CG1__COUNT, s.v1, s.have_v1, &s.extra, &s.n_extra,
                     &s.n_bad_lines);
    if (r < 0) {
        gsm_cg_stat_free(&s);
        return r;
    }
    *ret = s;
    return 0;
}

bool gsm_cg_stat_get(const struct gsm_cg_stat *s, const char *key, uint64_t *ret) {
    if (!s->have)
        return false;
    if (s->version == GSM_CGROUP_V2) {
        for (size_t i = 0; i < GSM_CG2__COUNT; i++)
            if (s->have_v2[i] && strcmp(cg2_stat_names[i], key) == 0) {
                *ret = s->v2[i];
                return true;
            }
    } else {
        for (size_t i = 0; i < GSM_CG1__COUNT; i++)
            if (s->have_v1[i] && strcmp(cg1_stat_names[i], key) == 0) {
                *ret = s->v1[i];
                return true;
            }
    }
    for (size_t i = 0; i < s->n_extra; i++)
        if (strcmp(s->extra[i].key, key) == 0) {
            *ret = s->extra[i].value;
            return true;
        }
    return false;
}

void gsm_cg_events_free(struct gsm_cg_events *e) {
    if (!e)
        return;
    kv_free(e->extra, e->n_extra);
    e->extra = NULL;
    e->n_extra = 0;
}

int gsm_parse_cg_events(const char *buf, size_t len, struct gsm_cg_events *ret) {
    struct gsm_cg_events e = {.have = true};
    int r = parse_kv(buf, len, event_names, GSM_CG_EV__COUNT, e.count, e.have_key, &e.extra, &e.n_extra,
                     &e.n_bad_lines);
    if (r < 0) {
        gsm_cg_events_free(&e);
        return r;
    }
    *ret = e;
    return 0;
}

/* "12.34" -> 12.34 (psi_show() prints LOAD_INT.LOAD_FRAC with two digits). */
static int parse_pct(const char *s, size_t len, double *ret) {
    char tmp[32];
    if (len == 0 || len >= sizeof tmp)
        return -EINVAL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    const char *p = tmp;
    uint64_t ip, fp = 0;
    if (gsm_parse_u64(&p, &ip) < 0 || ip > 100000)
        return -EINVAL;
    double scale = 1;
    if (*p == '.') {
        p++;
        const char *f = p;
        if (gsm_parse_u64(&p, &fp) < 0 || p - f > 6)
            return -EINVAL;
        for (ptrdiff_t i = 0; i < p - f; i++)
            scale *= 10;
    }
    if (*p)
        return -EINVAL;
    *ret = (double)ip + (double)fp / scale;
    return 0;
}

static int parse_psi_line(const char *line, size_t len, struct gsm_psi_line *ret) {
    struct gsm_psi_line l = {.have = true};
    unsigned seen = 0;
    size_t i = 0;
    while (i < len && line[i] != ' ')
        i++;
    while (i < len) {
        while (i < len && line[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        const char *tok = line + start;
        size_t tl = i - start;
        const char *eq = memchr(tok, '=', tl);
        if (!eq)
            continue;
        size_t kl = (size_t)(eq - tok);
        const char *val = eq + 1;
        size_t vl = tl - kl - 1;
        int r = 0;
        if (kl == 5 && memcmp(tok, "avg10", 5) == 0)
            r = parse_pct(val, vl, &l.avg10_pct), seen |= 1;
        else if (kl == 5 && memcmp(tok, "avg60", 5) == 0)
            r = parse_pct(val, vl, &l.avg60_pct), seen |= 2;
        else if (kl == 6 && memcmp(tok, "avg300", 6) == 0)
            r = parse_pct(val, vl, &l.avg300_pct), seen |= 4;
        else if (kl == 5 && memcmp(tok, "total", 5) == 0)
            r = gsm_parse_cg_u64(val, vl, &l.total_us), seen |= 8;
        if (r < 0)
            return r;
    }
    if (seen != 15)
        return -EINVAL;
    *ret = l;
    return 0;
}

int gsm_parse_cg_pressure(const char *buf, size_t len, struct gsm_cg_pressure *ret) {
    struct gsm_cg_pressure p = {0};
    const char *cur = buf, *end = buf + len, *line;
    size_t llen;
    while ((line = gsm_next_line(&cur, end, &llen))) {
        if (llen > 5 && memcmp(line, "some ", 5) == 0)
            (void)parse_psi_line(line, llen, &p.some);
        else if (llen > 5 && memcmp(line, "full ", 5) == 0)
            (void)parse_psi_line(line, llen, &p.full);
    }
    if (!p.some.have && !p.full.have)
        return -EINVAL;
    p.have = true;
    *ret = p;
    return 0;
}

int gsm_parse_cg_oom_control(const char *buf, size_t len, struct gsm_cg_oom_control *ret) {
    static const char *const names[] = {"oom_kill_disable", "under_oom", "oom_kill"};
    uint64_t v[3] = {0};
    bool have[3] = {false};
    size_t bad = 0;
    int r = parse_kv(buf, len, names, 3, v, have, NULL, NULL, &bad);
    if (r < 0)
        return r;
    if (!have[0] && !have[1])
        return -EINVAL;
    *ret = (struct gsm_cg_oom_control){
        .have = true,
        .oom_kill_disable = have[0] && v[0] != 0,
        .under_oom = have[1] && v[1] != 0,
        .have_oom_kill = have[2],
        .oom_kill = v[2],
    };
    return 0;
}

/* ---- Reading a cgroup directory ------------------------------------------------------ */

enum file_kind { F_VALUE, F_LIMIT };

struct file_spec {
    const char *name;
    enum gsm_cgroup_version version;
    enum file_kind kind;
    size_t offset;
};

#define V2(n, k, f) {n, GSM_CGROUP_V2, k, offsetof(struct gsm_cgroup_memory, f)}
#define V1(n, k, f) {n, GSM_CGROUP_V1, k, offsetof(struct gsm_cgroup_memory, f)}
static const struct file_spec single_files[] = {
    V2("memory.current", F_VALUE, usage_bytes),
    V2("memory.peak", F_VALUE, peak_bytes),
    V2("memory.max", F_LIMIT, max),
    V2("memory.high", F_LIMIT, high),
    V2("memory.low", F_LIMIT, low),
    V2("memory.min", F_LIMIT, min),
    V2("memory.swap.current", F_VALUE, swap_usage_bytes),
    V2("memory.swap.max", F_LIMIT, swap_max),
    V2("memory.swap.peak", F_VALUE, swap_peak_bytes),
    V2("memory.oom.group", F_VALUE, oom_group),
    V1("memory.usage_in_bytes", F_VALUE, usage_bytes),
    V1("memory.max_usage_in_bytes", F_VALUE, peak_bytes),
    V1("memory.limit_in_bytes", F_LIMIT, max),
    V1("memory.soft_limit_in_bytes", F_LIMIT, soft_limit),
    V1("memory.failcnt", F_VALUE, failcnt),
    V1("memory.memsw.usage_in_bytes", F_VALUE, memsw_usage_bytes),
    V1("memory.memsw.limit_in_bytes", F_LIMIT, memsw_limit),
    V1("memory.memsw.max_usage_in_bytes", F_VALUE, memsw_max_usage_bytes),
    V1("memory.memsw.failcnt", F_VALUE, memsw_failcnt),
    V1("memory.kmem.usage_in_bytes", F_VALUE, kmem_usage_bytes),
    V1("memory.kmem.tcp.usage_in_bytes", F_VALUE, kmem_tcp_usage_bytes),
    V1("memory.use_hierarchy", F_VALUE, use_hierarchy),
};
#undef V1
#undef V2

static bool was_unparsable(const struct gsm_cgroup_memory *m, const char *name) {
    for (unsigned i = 0; i < m->n_unparsable && i < ELEMENTSOF(m->unparsable); i++)
        if (strcmp(m->unparsable[i], name) == 0)
            return true;
    return false;
}

size_t gsm_cgroup_memory_absent(const struct gsm_cgroup_memory *m, const char **names, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < ELEMENTSOF(single_files) && n < max; i++) {
        const struct file_spec *f = &single_files[i];
        if (f->version != m->version)
            continue;
        /* struct gsm_cg_value and struct gsm_cg_limit both start with `bool have`. */
        bool have;
        memcpy(&have, (const char *)m + f->offset, sizeof have);
        if (!have && !was_unparsable(m, f->name))
            names[n++] = f->name;
    }
    if (m->version == GSM_CGROUP_V2) {
        if (!m->events.have && n < max && !was_unparsable(m, "memory.events"))
            names[n++] = "memory.events";
        if (!m->events_local.have && n < max && !was_unparsable(m, "memory.events.local"))
            names[n++] = "memory.events.local";
        if (!m->pressure.have && n < max && !was_unparsable(m, "memory.pressure"))
            names[n++] = "memory.pressure";
    } else if (!m->oom_control.have && n < max && !was_unparsable(m, "memory.oom_control"))
        names[n++] = "memory.oom_control";
    if (!m->stat.have && n < max && !was_unparsable(m, "memory.stat"))
        names[n++] = "memory.stat";
    return n;
}

void gsm_cgroup_memory_free(struct gsm_cgroup_memory *m) {
    if (!m)
        return;
    gsm_cg_events_free(&m->events);
    gsm_cg_events_free(&m->events_local);
    gsm_cg_stat_free(&m->stat);
}

/* Every cgroup directory of either version has cgroup.procs: when it is gone, so is the
 * cgroup (rmdir'd under us; kernfs then also answers ENODEV on open files). */
static bool cgroup_gone(int dirfd) {
    struct stat st;
    return fstatat(dirfd, "cgroup.procs", &st, 0) < 0 && (errno == ENOENT || errno == ENODEV);
}

/* Read one file. 0 with *ret_buf set; 1 when the file is absent (older kernel, or
 * unreadable: EACCES, EOPNOTSUPP ...); -ENOENT when the cgroup is gone; -ENOMEM. */
static int read_one(int dirfd, const char *name, char **ret_buf, size_t *ret_len) {
    int r = gsm_read_file_at(dirfd, name, GSM_SMALL_FILE_MAX, ret_buf, ret_len);
    if (r == 0)
        return 0;
    if (r == -ENOMEM)
        return r;
    if (r == -ENODEV || (r == -ENOENT && cgroup_gone(dirfd)))
        return -ENOENT;
    if (r != -ENOENT)
        gsm_debug("cgroup: %s: %s (left absent)", name, strerror(-r));
    return 1;
}

int gsm_cgroup_memory_read_at(int dirfd, enum gsm_cgroup_version version, struct gsm_cgroup_memory *ret) {
    struct gsm_cgroup_memory m = {.version = version};
    int r;

    if (cgroup_gone(dirfd))
        return -ENOENT;

    for (size_t i = 0; i < ELEMENTSOF(single_files); i++) {
        const struct file_spec *f = &single_files[i];
        if (f->version != version)
            continue;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = read_one(dirfd, f->name, &buf, &len);
        if (r < 0)
            goto fail;
        if (r > 0)
            continue;
        void *field = (char *)&m + f->offset;
        if (f->kind == F_VALUE) {
            struct gsm_cg_value *v = field;
            r = gsm_parse_cg_u64(buf, len, &v->value);
            v->have = r == 0;
        } else {
            r = gsm_parse_cg_limit(buf, len, field);
        }
        if (r < 0) {
            gsm_debug("cgroup: %s: unparsable (%s), left absent", f->name, strerror(-r));
            if (m.n_unparsable < ELEMENTSOF(m.unparsable))
                m.unparsable[m.n_unparsable] = f->name;
            m.n_unparsable++;
        }
    }

    /* The key/value files. */
    static const char *const v2_kv[] = {"memory.events", "memory.events.local", "memory.pressure", "memory.stat"};
    static const char *const v1_kv[] = {"memory.oom_control", "memory.stat"};
    const char *const *kv = version == GSM_CGROUP_V2 ? v2_kv : v1_kv;
    size_t n_kv = version == GSM_CGROUP_V2 ? ELEMENTSOF(v2_kv) : ELEMENTSOF(v1_kv);
    for (size_t i = 0; i < n_kv; i++) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = read_one(dirfd, kv[i], &buf, &len);
        if (r < 0)
            goto fail;
        if (r > 0)
            continue;
        if (strcmp(kv[i], "memory.events") == 0)
            r = gsm_parse_cg_events(buf, len, &m.events);
        else if (strcmp(kv[i], "memory.events.local") == 0)
            r = gsm_parse_cg_events(buf, len, &m.events_local);
        else if (strcmp(kv[i], "memory.pressure") == 0)
            r = gsm_parse_cg_pressure(buf, len, &m.pressure);
        else if (strcmp(kv[i], "memory.oom_control") == 0)
            r = gsm_parse_cg_oom_control(buf, len, &m.oom_control);
        else
            r = gsm_parse_cg_stat(buf, len, version, &m.stat);
        if (r == -ENOMEM)
            goto fail;
        if (r < 0) {
            gsm_debug("cgroup: %s: unparsable (%s), left absent", kv[i], strerror(-r));
            if (m.n_unparsable < ELEMENTSOF(m.unparsable))
                m.unparsable[m.n_unparsable] = kv[i];
            m.n_unparsable++;
        }
    }

    /* Removed while we read: the numbers may be half from a dying cgroup; say it is gone. */
    if (cgroup_gone(dirfd)) {
        r = -ENOENT;
        goto fail;
    }
    *ret = m;
    return 0;
fail:
    gsm_cgroup_memory_free(&m);
    return r;
}

int gsm_cgroup_memory_read(const struct gsm_root *root, const struct gsm_cgroup_location *loc,
                           struct gsm_cgroup_memory *ret) {
    _cleanup_close_ int fd = openat(root->fd, loc->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOTDIR || errno == ENODEV ? -ENOENT : -errno;
    return gsm_cgroup_memory_read_at(fd, loc->version, ret);
}

int gsm_cgroup_read_limits_at(int dirfd, enum gsm_cgroup_version version, struct gsm_cg_limit *ret_max,
                              struct gsm_cg_limit *ret_high) {
    struct gsm_cg_limit max = {0}, high = {0};
    const char *names[2] = {version == GSM_CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes",
                            version == GSM_CGROUP_V2 ? "memory.high" : NULL};
    struct gsm_cg_limit *dst[2] = {&max, &high};
    for (size_t i = 0; i < 2; i++) {
        if (!names[i])
            continue;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_one(dirfd, names[i], &buf, &len);
        if (r < 0)
            return r;
        if (r == 0 && gsm_parse_cg_limit(buf, len, dst[i]) < 0)
            *dst[i] = (struct gsm_cg_limit){0};
    }
    *ret_max = max;
    if (ret_high)
        *ret_high = high;
    return 0;
}
