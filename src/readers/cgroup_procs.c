/* cgroup.procs (kernel/cgroup/cgroup.c: cgroup_procs_show()): one PID per line, as the
 * reader's PID namespace numbers them (task_pid_vnr()), in no particular order. */
#include "readers/cgroup.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A cgroup of 100k processes is ~700 KiB; allow more. */
#define PROCS_MAX_BYTES (16 * GSM_SMALL_FILE_MAX)
#define TREE_MAX_DEPTH 32

static int push_pid(struct gsm_pid_list *l, pid_t pid) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        pid_t *np = realloc(l->pids, nc * sizeof *np);
        if (!np)
            return -ENOMEM;
        l->pids = np;
        l->cap = nc;
    }
    l->pids[l->n++] = pid;
    return 0;
}

void gsm_pid_list_free(struct gsm_pid_list *l) {
    if (!l)
        return;
    free(l->pids);
    *l = (struct gsm_pid_list){0};
}

/* Append the PIDs of buf to l, at most max in all (0: no bound). */
static int parse_into(const char *buf, size_t len, size_t max, struct gsm_pid_list *l) {
    const char *cur = buf, *end = buf + len, *line;
    size_t ll;
    while ((line = gsm_next_line(&cur, end, &ll)) && (max == 0 || l->n < max)) {
        const char *p = line;
        uint64_t v;
        if (ll == 0 || gsm_parse_u64(&p, &v) < 0 || p != line + ll || v == 0 || v > INT32_MAX)
            continue;
        if (push_pid(l, (pid_t)v) < 0)
            return -ENOMEM;
    }
    return 0;
}

int gsm_parse_cgroup_procs(const char *buf, size_t len, size_t max, struct gsm_pid_list *ret) {
    struct gsm_pid_list l = {0};
    int r = parse_into(buf, len, max, &l);
    if (r < 0) {
        gsm_pid_list_free(&l);
        return r;
    }
    *ret = l;
    return 0;
}

static int read_into(int dirfd, const char *name, size_t max, struct gsm_pid_list *l) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = gsm_read_file_at(dirfd, name, PROCS_MAX_BYTES, &buf, &len);
    if (r < 0)
        return r == -ENODEV ? -ENOENT : r;
    return parse_into(buf, len, max, l);
}

int gsm_cgroup_procs_read_at(int dirfd, size_t max, struct gsm_pid_list *ret) {
    struct gsm_pid_list l = {0};
    int r = read_into(dirfd, "cgroup.procs", max, &l);
    if (r < 0) {
        gsm_pid_list_free(&l);
        return r;
    }
    *ret = l;
    return 0;
}

bool gsm_cgroup_procs_has(int dirfd, const char *sub, pid_t pid) {
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s%scgroup.procs", sub, *sub ? "/" : "") >= sizeof path)
        return false;
    struct gsm_pid_list l = {0};
    bool found = false;
    if (read_into(dirfd, path, 0, &l) == 0)
        for (size_t i = 0; i < l.n && !found; i++)
            found = l.pids[i] == pid;
    gsm_pid_list_free(&l);
    return found;
}

static int read_tree(int dirfd, unsigned depth, struct gsm_pid_list *l) {
    int r = read_into(dirfd, "cgroup.procs", 0, l);
    if (r < 0 || depth >= TREE_MAX_DEPTH)
        return r;
    DIR *d;
    int rd = gsm_opendir_at(dirfd, ".", &d);
    if (rd < 0)
        return rd;
    struct dirent *de;
    while ((de = readdir(d)) && r >= 0) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        int child = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0)
            continue;   /* removed meanwhile */
        r = read_tree(child, depth + 1, l);
        if (r == -ENOENT)
            r = 0;      /* a child cgroup removed mid-walk */
        close(child);
    }
    closedir(d);
    return r;
}

int gsm_cgroup_procs_read_tree(int dirfd, struct gsm_pid_list *ret) {
    struct gsm_pid_list l = {0};
    int r = read_tree(dirfd, 0, &l);
    if (r < 0) {
        gsm_pid_list_free(&l);
        return r;
    }
    *ret = l;
    return 0;
}
