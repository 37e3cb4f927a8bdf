#include "analyses/cgroup_report.h"
#include "readers/proc_handle.h"
#include "analyses/classify.h"
#include "readers/proc_snapshot.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>

static int analyse(const struct gsm_root *root, struct gsm_cgroup_report *r) {
    int k = gsm_cgroup_memory_read(root, &r->loc, &r->mem);
    if (k < 0)
        return k;
    if (gsm_cgroup_effective_limits(root, &r->loc, &r->mem, &r->eff) == 0)
        r->have_eff = true;
    if (gsm_cgroup_breakdown(&r->mem, &r->bd) == 0)
        r->have_bd = true;
    gsm_container_identity_parse(r->loc.path, &r->id);
    return 0;
}

int gsm_cgroup_report_for_pid(const struct gsm_root *root, pid_t pid, struct gsm_cgroup_report *ret) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0) {
        memset(ret, 0, sizeof *ret);
        return r;
    }
    return gsm_cgroup_report_for_proc(root, &h, ret);
}

int gsm_cgroup_report_for_proc(const struct gsm_root *root, const struct gsm_proc *h, struct gsm_cgroup_report *ret) {
    memset(ret, 0, sizeof *ret);
    ret->victim = -1;
    int r = gsm_cgroup_locate_proc(root, h, &ret->loc);
    if (r < 0)
        return r;
    r = analyse(root, ret);
    if (r < 0)
        gsm_cgroup_report_free(ret);
    return r;
}

/* PIDs of cgroup.procs in dir and every descendant directory (depth-limited). */
static int collect_pids(int dirfd, unsigned depth, pid_t **pids, size_t *n, size_t *cap) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = gsm_read_file_at(dirfd, "cgroup.procs", 16u << 20, &buf, &len);
    if (r < 0)
        return r == -ENODEV ? -ENOENT : r;
    const char *cursor = buf, *end = buf + len, *line;
    size_t ll;
    while ((line = gsm_next_line(&cursor, end, &ll))) {
        const char *p = line;
        uint64_t v;
        if (gsm_parse_u64(&p, &v) < 0 || v == 0 || v > INT32_MAX)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            pid_t *np = realloc(*pids, nc * sizeof *np);
            if (!np)
                return -ENOMEM;
            *pids = np;
            *cap = nc;
        }
        (*pids)[(*n)++] = (pid_t)v;
    }
    if (depth >= 32)
        return 0;
    int dfd = dup(dirfd);
    if (dfd < 0)
        return -errno;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -errno;
    }
    struct dirent *de;
    r = 0;
    while ((de = readdir(d)) && r >= 0) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        int child = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0)
            continue;   /* removed meanwhile */
        r = collect_pids(child, depth + 1, pids, n, cap);
        if (r == -ENOENT)
            r = 0;      /* a child cgroup removed mid-walk */
        close(child);
    }
    closedir(d);
    return r;
}

/* mm/oom_kill.c, oom_badness(): points = rss + swap entries + page-table pages, plus
 * oom_score_adj * totalpages / 1000, where totalpages is the memcg limit in pages for a memcg
 * OOM. oom_score_adj -1000 is never chosen. */
static void badness(struct gsm_cgroup_member *m, uint64_t limit_pages, uint64_t page) {
    const struct gsm_status *s = &m->proc.status;
    int64_t adj = m->proc.have_oom ? m->proc.oom_score_adj : 0;
    m->unkillable = adj <= -1000;
    int64_t points = (int64_t)((s->rss_anon_bytes + s->rss_file_bytes + s->rss_shmem_bytes + s->vm_swap_bytes +
                                s->vm_pte_bytes) / page);
    points += adj * (int64_t)(limit_pages / 1000);
    m->badness_pages = points > 0 ? (uint64_t)points : 1;
}

static int by_pss_desc(const void *a, const void *b) {
    const struct gsm_cgroup_member *x = a, *y = b;
    uint64_t px = x->have_smaps ? x->totals.all.pss_bytes : x->proc.status.vm_rss_bytes;
    uint64_t py = y->have_smaps ? y->totals.all.pss_bytes : y->proc.status.vm_rss_bytes;
    return px < py ? 1 : px > py ? -1 : x->proc.pid - y->proc.pid;
}

static int read_members(const struct gsm_root *root, struct gsm_cgroup_report *ret) {
    _cleanup_close_ int dirfd = openat(root->fd, ret->loc.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0, cap = 0;
    int r = collect_pids(dirfd, 0, &pids, &n, &cap);
    if (r < 0)
        return r;
    ret->members = calloc(n ? n : 1, sizeof *ret->members);
    if (!ret->members)
        return -ENOMEM;
    uint64_t page = 4096;
    uint64_t limit_pages = 0;
    if (ret->have_eff && ret->eff.max.limited)
        limit_pages = ret->eff.max.bytes / page;
    for (size_t i = 0; i < n; i++) {
        struct gsm_cgroup_member *m = &ret->members[ret->n_members];
        gsm_process_init(&m->proc, pids[i]);
        page = m->proc.page_size;
        struct gsm_read_opts opts = {.smaps = true, .best_effort = true};
        struct gsm_read_error err;
        int k = gsm_process_read_pid(root, pids[i], &opts, &m->proc, &err);
        if (k < 0) {
            /* Exited since cgroup.procs was read (or unreadable): counted, not fatal. */
            gsm_debug("cgroup member %d: %s: %s", (int)pids[i], err.file, strerror(-k));
            gsm_process_free(&m->proc);
            ret->n_members_gone++;
            continue;
        }
        m->have_smaps = m->proc.have_smaps;
        gsm_classify(&m->proc);
        gsm_totals_compute(&m->proc, &m->totals);
        badness(m, limit_pages, page);
        ret->n_members++;
    }
    qsort(ret->members, ret->n_members, sizeof *ret->members, by_pss_desc);
    uint64_t best = 0;
    for (size_t i = 0; i < ret->n_members; i++)
        if (!ret->members[i].unkillable && ret->members[i].badness_pages > best) {
            best = ret->members[i].badness_pages;
            ret->victim = (ssize_t)i;
        }
    return 0;
}

int gsm_cgroup_report_for_path(const struct gsm_root *root, const char *path, struct gsm_cgroup_report *ret) {
    memset(ret, 0, sizeof *ret);
    ret->victim = -1;
    int r = gsm_cgroup_locate_path(root, path, &ret->loc);
    if (r < 0)
        return r;
    r = analyse(root, ret);
    if (r == 0)
        r = read_members(root, ret);
    if (r < 0)
        gsm_cgroup_report_free(ret);
    return r;
}

void gsm_cgroup_report_free(struct gsm_cgroup_report *r) {
    for (size_t i = 0; i < r->n_members; i++)
        gsm_process_free(&r->members[i].proc);
    free(r->members);
    gsm_cg_effective_free(&r->eff);
    gsm_cgroup_memory_free(&r->mem);
    gsm_cgroup_location_free(&r->loc);
    memset(r, 0, sizeof *r);
    r->victim = -1;
}

size_t gsm_cgroup_reconcile(const struct gsm_cgroup_report *r, struct gsm_reconcile_item *items) {
    if (!r->have_bd)
        return 0;
    const struct gsm_cg_breakdown *bd = &r->bd;
    uint64_t procs_anon = 0, procs_file = 0;
    for (size_t i = 0; i < r->n_members; i++) {
        const struct gsm_cgroup_member *m = &r->members[i];
        if (m->have_smaps) {
            /* Anonymous counts private anonymous pages; shmem is reported by the cgroup apart. */
            procs_anon += m->totals.all.anon_bytes;
            procs_file += m->totals.all.file_bytes;
        } else {
            procs_anon += m->proc.status.rss_anon_bytes;
            procs_file += m->proc.status.rss_file_bytes;
        }
    }
    uint64_t cg_anon = bd->parts[GSM_CG_PART_ANON].bytes;
    uint64_t file = bd->parts[GSM_CG_PART_FILE_ACTIVE].bytes + bd->parts[GSM_CG_PART_FILE_INACTIVE].bytes;
    uint64_t kernel = 0;
    for (int p = 0; p < GSM_CG_PART__COUNT; p++)
        if (bd->parts[p].kernel)
            kernel += bd->parts[p].bytes;
    uint64_t shmem = bd->parts[GSM_CG_PART_SHMEM].bytes;
    uint64_t anon_listed = procs_anon < cg_anon ? procs_anon : cg_anon;
    size_t n = 0;
    items[n++] = (struct gsm_reconcile_item){"processes_anon", anon_listed,
                                             "private anonymous memory of the listed processes (smaps Anonymous)"};
    items[n++] = (struct gsm_reconcile_item){"anon_not_in_processes", cg_anon - anon_listed,
                                             "anonymous memory charged to the cgroup but not mapped by a listed "
                                             "process (exited or moved processes, unreadable smaps)"};
    items[n++] = (struct gsm_reconcile_item){"page_cache", file,
                                             "file pages (active + inactive); of these the processes map "
                                             "file_mapped_by_processes"};
    items[n++] = (struct gsm_reconcile_item){"shmem", shmem, "tmpfs, memfd and shared anonymous pages"};
    items[n++] = (struct gsm_reconcile_item){"kernel", kernel,
                                             "slab, sockets, page tables, kernel stacks, percpu, vmalloc"};
    items[n++] = (struct gsm_reconcile_item){"other", bd->parts[GSM_CG_PART_OTHER].bytes,
                                             "usage not explained by memory.stat (stats are flushed lazily)"};
    items[n++] = (struct gsm_reconcile_item){"file_mapped_by_processes", procs_file,
                                             "part of page_cache: mapped by the listed processes (not added)"};
    return n;
}
