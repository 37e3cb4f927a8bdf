#include "readers/cgroup_internal.h"
#include "readers/proc_handle.h"
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

/* ---- Location ------------------------------------------------------------------------ */

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
        return gsm_cgroup_procs_has(dirfd, s->sub, s->self) ? 1 : 0;
    DIR *d;
    if (gsm_opendir_at(dirfd, ".", &d) < 0)
        return 0;
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
        if (d >= 0 && gsm_cgroup_procs_has(d, sub, self)) {
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
    size_t order;           /* position in the table, for a stable sort */
};
static int by_levels_desc(const void *x, const void *y) {
    const struct ancestor_mount *a = x, *b = y;
    if (a->levels != b->levels)
        return a->levels < b->levels ? 1 : -1;
    return a->order < b->order ? -1 : a->order > b->order;
}
static int ancestor_mounts(const struct gsm_mountinfo *mi, enum gsm_cgroup_version version,
                           struct ancestor_mount **ret, size_t *ret_n) {
    struct ancestor_mount *a = calloc(mi->n_mounts ? mi->n_mounts : 1, sizeof *a);
    if (!a)
        return -ENOMEM;
    size_t n = 0;
    const struct gsm_mount *m;
    for (size_t nth = 0; (m = nth_mount(mi, version, nth)); nth++) {
        size_t levels = mount_ancestor_levels(m);
        if (levels > 0)
            a[n++] = (struct ancestor_mount){m, levels, nth};
    }
    qsort(a, n, sizeof *a, by_levels_desc);   /* O(n log n): a hostile table has 80k of them */
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

static int locate_proc(struct gsm_cgroup_mounts *cm, const struct gsm_root *root, const struct gsm_proc *h,
                       struct gsm_cgroup_location *ret) {
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
    const struct gsm_mountinfo *mi;
    r = gsm_cgroup_mounts_get(cm, root, h->pid, &mi);
    if (r < 0) {
        gsm_proc_cgroup_free(&pc);
        return r;
    }

    struct gsm_cgroup_location loc;
    r = -ENOMEDIUM;
    const char *p1 = gsm_proc_cgroup_v1_path(&pc, "memory");
    if (p1 && gsm_mountinfo_find_cgroup1(mi, "memory", 0))
        r = locate_in_mounts(root, mi, GSM_CGROUP_V1, p1, &loc);
    const char *p2 = gsm_proc_cgroup_v2_path(&pc);
    if (r < 0 && r != -ENOMEM && p2 && !gsm_mountinfo_find_cgroup1(mi, "memory", 0))
        r = locate_in_mounts(root, mi, GSM_CGROUP_V2, p2, &loc);
    gsm_cgroup_mounts_put(cm);
    if (r == -ENOMEDIUM && pc.n_bad_lines > 0) {
        /* Not "no memory controller": the line that names it may be the malformed one. */
        gsm_debug("cgroup: proc/%d/cgroup: %zu malformed line(s), no memory cgroup found", (int)h->pid,
                  pc.n_bad_lines);
        r = -EBADMSG;
    }
    gsm_proc_cgroup_free(&pc);
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

static int locate_pid(struct gsm_cgroup_mounts *cm, const struct gsm_root *root, pid_t pid,
                      struct gsm_cgroup_location *ret) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0)
        return r;
    return locate_proc(cm, root, &h, ret);
}

int gsm_cgroup_locate_pid_in(struct gsm_cgroup_mounts *cm, pid_t pid, struct gsm_cgroup_location *ret) {
    return locate_pid(cm, cm->root, pid, ret);
}

int gsm_cgroup_locate_proc_in(struct gsm_cgroup_mounts *cm, const struct gsm_proc *h,
                              struct gsm_cgroup_location *ret) {
    return locate_proc(cm, cm->root, h, ret);
}

int gsm_cgroup_locate_pid(const struct gsm_root *root, pid_t pid, struct gsm_cgroup_location *ret) {
    return locate_pid(gsm_cgroup_mounts_shared(), root, pid, ret);
}

int gsm_cgroup_locate_proc(const struct gsm_root *root, const struct gsm_proc *h, struct gsm_cgroup_location *ret) {
    return locate_proc(gsm_cgroup_mounts_shared(), root, h, ret);
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

/* The location of `path` through the table's memory hierarchy: its widest mount. */
static int locate_path_in_table(const struct gsm_root *root, const struct gsm_mountinfo *mi, const char *path,
                                struct gsm_cgroup_location *ret) {
    enum gsm_cgroup_version version = GSM_CGROUP_V1;
    size_t levels = 0;
    const struct gsm_mount *m = gsm_mountinfo_find_cgroup1(mi, "memory", 0) ? widest_mount(root, mi, version, &levels)
                                                                            : NULL;
    if (!m) {
        version = GSM_CGROUP_V2;
        m = widest_mount(root, mi, version, &levels);
    }
    if (!m)
        return -ENOMEDIUM;
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
    if (asprintf(&cgpath, "%.*s/%s", rlen == 1 ? 0 : (int)rlen, mount_root, rel) < 0)
        return -ENOMEM;
    struct gsm_cgroup_location loc;
    int r = gsm_cgroup_location_make(version, m->mount_point, mount_root, cgpath, &loc);
    if (r < 0)
        return r;
    loc.top_is_root = loc.top_is_root && mount_top_is_root(root->fd, version, loc.top_dir, levels > 0);
    *ret = loc;
    return 0;
}

static int locate_path(struct gsm_cgroup_mounts *cm, const struct gsm_root *root, const char *path,
                       struct gsm_cgroup_location *ret) {
    if (!path || !*path)
        return -EINVAL;
    if (has_dot_component(path))
        return -EINVAL;
    const struct gsm_mountinfo *mi;
    int r = gsm_cgroup_mounts_get(cm, root, 0, &mi);
    if (r < 0)
        return r;
    struct gsm_cgroup_location loc;
    r = locate_path_in_table(root, mi, path, &loc);
    gsm_cgroup_mounts_put(cm);
    if (r < 0)
        return r;
    r = dir_exists(root->fd, loc.dir);
    if (r < 0) {
        gsm_cgroup_location_free(&loc);
        return r == -ENOTDIR ? -ENOENT : r;
    }
    *ret = loc;
    return 0;
}

int gsm_cgroup_locate_path_in(struct gsm_cgroup_mounts *cm, const char *path, struct gsm_cgroup_location *ret) {
    return locate_path(cm, cm->root, path, ret);
}

int gsm_cgroup_locate_path(const struct gsm_root *root, const char *path, struct gsm_cgroup_location *ret) {
    return locate_path(gsm_cgroup_mounts_shared(), root, path, ret);
}
