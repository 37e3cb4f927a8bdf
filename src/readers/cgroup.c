#include "readers/cgroup.h"
#include "readers/mountinfo.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <errno.h>
#include <fcntl.h>
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

static int read_mountinfo(const struct gsm_root *root, pid_t pid, struct gsm_mountinfo *ret) {
    /* Our own mount namespace decides where we can open the cgroup directory. */
    int r = gsm_read_mountinfo_at(root->fd, "proc/self/mountinfo", ret);
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

/* The first mount of the right kind whose root contains `path`. */
static int locate_in_mounts(const struct gsm_root *root, const struct gsm_mountinfo *mi,
                            enum gsm_cgroup_version version, const char *path,
                            struct gsm_cgroup_location *ret) {
    int r = -ENOMEDIUM;
    for (size_t nth = 0;; nth++) {
        const struct gsm_mount *m = version == GSM_CGROUP_V1 ? gsm_mountinfo_find_cgroup1(mi, "memory", nth)
                                                             : gsm_mountinfo_find_cgroup2(mi, nth);
        if (!m)
            return r;
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
        *ret = loc;
        return 0;
    }
}

int gsm_cgroup_locate_pid(const struct gsm_root *root, pid_t pid, struct gsm_cgroup_location *ret) {
    _cleanup_close_ int pfd = -1;
    int r = gsm_proc_open(root, pid, &pfd);
    if (r < 0)
        return r;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    r = gsm_read_file_at(pfd, "cgroup", GSM_SMALL_FILE_MAX, &buf, &len);
    if (r < 0)
        return r == -ESRCH ? -ENOENT : r;

    struct gsm_proc_cgroup pc;
    r = gsm_parse_proc_cgroup(buf, len, &pc);
    if (r < 0)
        return r;
    struct gsm_mountinfo mi;
    r = read_mountinfo(root, pid, &mi);
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
    const struct gsm_mount *m = gsm_mountinfo_find_cgroup1(&mi, "memory", 0);
    if (!m) {
        version = GSM_CGROUP_V2;
        for (size_t nth = 0; (m = gsm_mountinfo_find_cgroup2(&mi, nth)); nth++) {
            const char *mp = m->mount_point;
            while (*mp == '/')
                mp++;
            if (v2_has_memory(root->fd, *mp ? mp : "."))
                break;
        }
    }
    if (!m) {
        gsm_mountinfo_free(&mi);
        return -ENOMEDIUM;
    }

    /* An absolute directory below the mount point, or a path relative to the mount. */
    size_t mplen = trimmed_len(m->mount_point);
    const char *rel = path;
    if (mplen > 1 && strncmp(path, m->mount_point, mplen) == 0 && (path[mplen] == '/' || path[mplen] == '\0'))
        rel = path + mplen;
    while (*rel == '/')
        rel++;
    _cleanup_free_ char *cgpath = NULL;
    size_t rlen = trimmed_len(m->root);
    if (asprintf(&cgpath, "%.*s/%s", rlen == 1 ? 0 : (int)rlen, m->root, rel) < 0) {
        gsm_mountinfo_free(&mi);
        return -ENOMEM;
    }
    struct gsm_cgroup_location loc;
    r = gsm_cgroup_location_make(version, m->mount_point, m->root, cgpath, &loc);
    gsm_mountinfo_free(&mi);
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
