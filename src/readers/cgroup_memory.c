#include "readers/cgroup.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Reading a cgroup directory ------------------------------------------------------ */

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

/* Reads of a cgroup's memory files by this process (serve exports it: a test proves nothing is
 * read twice per tick). One thread reads (the engine's). */
static uint64_t memory_reads;
uint64_t gsm_cgroup_memory_reads(void) {
    return memory_reads;
}

int gsm_cgroup_memory_read_at(int dirfd, enum gsm_cgroup_version version, struct gsm_cgroup_memory *ret) {
    struct gsm_cgroup_memory m = {.version = version};
    int r;

    memory_reads++;
    if (cgroup_gone(dirfd))
        return -ENOENT;

    for (size_t i = 0; i < gsm_cg_n_memory_files; i++) {
        const struct gsm_cg_file_spec *f = &gsm_cg_memory_files[i];
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
        if (f->kind == GSM_CG_FILE_VALUE) {
            struct gsm_cg_value *v = field;
            r = gsm_parse_cg_u64(buf, len, &v->value);
            v->have = r == 0;
        } else if ((r = gsm_parse_cg_limit(buf, len, field)) < 0) {
            struct gsm_cg_limit *l = field;
            l->malformed = true;    /* unknown, not "no limit" */
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
        if (r == 0 && gsm_parse_cg_limit(buf, len, dst[i]) < 0) {
            gsm_debug("cgroup: %s: unparsable, the limit is unknown", names[i]);
            *dst[i] = (struct gsm_cg_limit){.malformed = true};
        }
    }
    *ret_max = max;
    if (ret_high)
        *ret_high = high;
    return 0;
}

/* The number of levels from loc->dir up to loc->top_dir (the walk's bound), or -EINVAL when
 * dir is not below top_dir. */
static ssize_t ancestor_bound(const struct gsm_cgroup_location *loc) {
    size_t top_len = strlen(loc->top_dir), dir_len = strlen(loc->dir);
    if (dir_len < top_len || strncmp(loc->dir, loc->top_dir, top_len) != 0)
        return -EINVAL;
    size_t cap = 1;
    for (size_t i = top_len; i < dir_len; i++)
        if (loc->dir[i] == '/')
            cap++;
    if (strcmp(loc->top_dir, ".") == 0)  /* mount point "/" (fixtures only): dir has no "./" prefix */
        for (size_t i = 0; i < dir_len; i++)
            if (loc->dir[i] == '/')
                cap++;
    return (ssize_t)cap;
}

int gsm_cgroup_read_ancestors(const struct gsm_root *root, const struct gsm_cgroup_location *loc,
                              struct gsm_cg_ancestry *ret) {
    ssize_t bound = ancestor_bound(loc);
    if (bound < 0)
        return (int)bound;
    size_t cap = (size_t)bound, top_len = strlen(loc->top_dir);
    struct gsm_cg_ancestry a = {.levels = calloc(cap, sizeof *a.levels)};
    _cleanup_free_ char *dir = strdup(loc->dir);
    _cleanup_free_ char *path = strdup(loc->path);
    if (!a.levels || !dir || !path) {
        free(a.levels);
        return -ENOMEM;
    }
    int r = 0;
    a.reached_top = strcmp(dir, loc->top_dir) == 0 || strcmp(loc->dir, ".") == 0;
    while (!a.reached_top && a.n < cap) {
        char *slash = strrchr(dir, '/');
        if (slash && (size_t)(slash - dir) >= top_len)
            *slash = '\0';
        else if (strcmp(loc->top_dir, ".") == 0)
            strcpy(dir, ".");
        else
            break;
        a.reached_top = strcmp(dir, loc->top_dir) == 0;

        char *ps = strrchr(path, '/');
        if (ps && ps != path)
            *ps = '\0';
        else
            strcpy(path, "/");

        _cleanup_close_ int fd = openat(root->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            r = errno == ENOENT || errno == ENODEV ? -ENOENT : -errno;
            break;
        }
        struct gsm_cg_level *l = &a.levels[a.n];
        r = gsm_cgroup_read_limits_at(fd, loc->version, &l->max, loc->version == GSM_CGROUP_V2 ? &l->high : NULL);
        if (r < 0)
            break;
        if (!(l->path = strdup(path))) {
            r = -ENOMEM;
            break;
        }
        a.n++;
    }
    if (r < 0) {
        gsm_cg_ancestry_free(&a);
        return r;
    }
    *ret = a;
    return 0;
}
