/* The dump dir: listing, deleting (ours only, never following a link), quota and rotation, the
 * per-target rate limit, and the pure name helpers. */
#include "recorder/recorder_internal.h"
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

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rec_free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The entries of a directory fd (not "." and ".."), sorted. The fd is not consumed: a fresh
 * description is opened, so readdir offsets never leak between calls. */
int rec_list_dir(int dirfd, char ***ret_names, size_t *ret_n) {
    DIR *d;
    int r = gsm_opendir_at(dirfd, ".", &d);
    if (r < 0)
        return r;
    char **names = NULL;
    size_t n = 0, cap = 0;
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
        rec_free_names(names, n);
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
int rec_rm_tree_at(int parent_fd, const char *name, int depth) {
    _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (int pass = 0; pass < 3; pass++) {
        char **names = NULL;
        size_t n = 0;
        int r = rec_list_dir(fd, &names, &n);
        if (r < 0)
            return r;
        for (size_t i = 0; i < n; i++) {
            struct stat st;
            if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            if (S_ISDIR(st.st_mode)) {
                if (depth < RM_DEPTH_MAX)
                    rec_rm_tree_at(fd, names[i], depth + 1);
            } else {
                unlinkat(fd, names[i], 0);
            }
        }
        rec_free_names(names, n);
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
            return 0;
        if (errno != ENOTEMPTY && errno != EEXIST)
            return -errno;
    }
    return -ENOTEMPTY;
}

/* The apparent size of every regular file below dirfd (depth-limited). */
uint64_t rec_tree_bytes(int dirfd, int depth) {
    char **names = NULL;
    size_t n = 0;
    uint64_t total = 0;
    if (rec_list_dir(dirfd, &names, &n) < 0)
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
                total += rec_tree_bytes(sub, depth + 1);
        }
    }
    rec_free_names(names, n);
    return total;
}

/* Is `name` in the dump dir a real directory owned by us? Fills st. */
bool rec_ours_dir(int dir_fd, const char *name, struct stat *st) {
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
/* ---- rate limit ----------------------------------------------------------------------- */

bool rec_rate_limited(const struct gsm_recorder *r, const char *key, uint64_t now_ms) {
    for (size_t i = 0; i < r->n_rate; i++)
        if (strcmp(r->rate[i].key, key) == 0)
            return now_ms >= r->rate[i].last_ms && now_ms - r->rate[i].last_ms < r->min_interval_ms;
    return false;
}

/* Remember the attempt; entries old enough to constrain nothing are dropped, so targets that
 * come and go do not grow the table. */
void rec_rate_record(struct gsm_recorder *r, const char *key, uint64_t now_ms) {
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

/* A bundle leaves under a temp name: renamed first, then emptied, so a kill in the middle leaves
 * a temp dir (swept once stale, above) and never a partial bundle under its final name
 * (tests/stress/bundle_kill.sh). */
static int rotate_out(struct gsm_recorder *r, const char *name) {
    char tmp[NAME_MAX + 1];
    int w = snprintf(tmp, sizeof tmp, TMP_PREFIX "rm-%s", name);
    if (w < 0 || (size_t)w >= sizeof tmp)
        return -ENAMETOOLONG;
    if (renameat(r->dir_fd, name, r->dir_fd, tmp) < 0)
        return -errno;
    return rec_rm_tree_at(r->dir_fd, tmp, 0);
}

void rec_enforce_limits(struct gsm_recorder *r, const char *keep) {
    char **names = NULL;
    size_t n = 0;
    if (rec_list_dir(r->dir_fd, &names, &n) < 0)
        return;
    struct bundle_info *b = calloc(n ? n : 1, sizeof *b);
    if (!b) {
        rec_free_names(names, n);
        return;
    }
    size_t nb = 0;
    uint64_t total = 0, now = rec_realtime_ms();
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (strncmp(names[i], TMP_PREFIX, STRLEN(TMP_PREFIX)) == 0) {
            if (!rec_ours_dir(r->dir_fd, names[i], &st))
                continue;
            uint64_t mtime_ms = (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000;
            if (now > mtime_ms && now - mtime_ms > GSM_RECORDER_STALE_TMP_MS) {
                int k = rec_rm_tree_at(r->dir_fd, names[i], 0);
                gsm_debug("recorder: removed stale %s: %d", names[i], k);
            }
            continue;
        }
        uint64_t t;
        if (gsm_recorder_parse_bundle_name(names[i], &t) < 0 || !rec_ours_dir(r->dir_fd, names[i], &st))
            continue;   /* a symlink, a file, someone else's: never ours to delete */
        _cleanup_close_ int fd = openat(r->dir_fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        b[nb].name = TAKE_PTR(names[i]);
        b[nb].time_ms = t;
        b[nb].bytes = rec_tree_bytes(fd, 0);
        total += b[nb].bytes;
        nb++;
    }
    rec_free_names(names, n);
    qsort(b, nb, sizeof *b, cmp_bundle);
    size_t count = nb;
    for (size_t i = 0; i < nb && (count > r->max_bundles || total > r->quota_bytes); i++) {
        if (keep && strcmp(b[i].name, keep) == 0)
            continue;
        int k = rotate_out(r, b[i].name);
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

