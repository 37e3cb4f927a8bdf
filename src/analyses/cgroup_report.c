#include "analyses/cgroup_report.h"
#include "analyses/classify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int gsm_cgroup_report_analyse(struct gsm_cgroup_report *r, const struct gsm_cg_ancestry *anc) {
    int k;
    if (anc && (k = gsm_cgroup_effective_limits(&r->loc, &r->mem, anc, &r->eff)) == 0)
        r->have_eff = true;
    else if (anc && k == -ENOMEM)
        return k;
    if (gsm_cgroup_breakdown(&r->mem, &r->bd) == 0)
        r->have_bd = true;
    gsm_container_identity_parse(r->loc.path, &r->id);
    return 0;
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

static void sat_add(uint64_t *acc, uint64_t v, bool *sat) {
    if (__builtin_add_overflow(*acc, v, acc)) {
        *acc = UINT64_MAX;
        *sat = true;
    }
}

/* The member's share of the file pages it maps: per non-shmem mapping, Pss less its private
 * anonymous (COW) pages, which count in Pss whole. A page mapped by k processes adds 1/k to
 * each, so shared binaries and libraries count once over the cgroup, as Pss_File of
 * smaps_rollup does (fs/proc/task_mmu.c: smaps_account() splits pss by page type). */
static void member_sums(struct gsm_cgroup_member *m) {
    bool sat = false;
    m->file_pss_bytes = 0;
    for (size_t i = 0; i < m->proc.n_maps; i++) {
        const struct gsm_mapping *mp = &m->proc.maps[i];
        if (mp->cls != GSM_CLASS_SHMEM && mp->f[GSM_F_PSS] > mp->f[GSM_F_ANONYMOUS])
            sat_add(&m->file_pss_bytes, mp->f[GSM_F_PSS] - mp->f[GSM_F_ANONYMOUS], &sat);
    }
    m->totals.saturated = m->totals.saturated || sat;
}

void gsm_cgroup_report_rank(struct gsm_cgroup_report *r) {
    /* totalpages of oom_badness(), in 4 KiB pages */
    uint64_t limit_pages = r->have_eff && r->eff.max.limited ? r->eff.max.bytes / 4096 : 0;
    for (size_t i = 0; i < r->n_members; i++) {
        struct gsm_cgroup_member *m = &r->members[i];
        uint64_t page = m->proc.page_size ? m->proc.page_size : 4096;
        m->have_smaps = m->proc.have_smaps;
        gsm_classify(&m->proc);
        gsm_totals_compute(&m->proc, &m->totals);
        if (m->have_smaps)
            member_sums(m);
        badness(m, limit_pages, page);
    }
    qsort(r->members, r->n_members, sizeof *r->members, by_pss_desc);
    uint64_t best = 0;
    r->victim = -1;
    for (size_t i = 0; i < r->n_members; i++)
        if (!r->members[i].unkillable && r->members[i].badness_pages > best) {
            best = r->members[i].badness_pages;
            r->victim = (ssize_t)i;
        }
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

size_t gsm_cgroup_reconcile(const struct gsm_cgroup_report *r, struct gsm_reconcile_item *items, bool *ret_saturated) {
    if (!r->have_bd)
        return 0;
    const struct gsm_cg_breakdown *bd = &r->bd;
    bool sat = bd->saturated;
    uint64_t procs_anon = 0, procs_file = 0;
    size_t n_by_status = 0;
    for (size_t i = 0; i < r->n_members; i++) {
        const struct gsm_cgroup_member *m = &r->members[i];
        if (m->have_smaps) {
            /* Anonymous counts private anonymous pages; shmem is reported by the cgroup apart. */
            sat_add(&procs_anon, m->totals.all.anon_bytes, &sat);
            sat_add(&procs_file, m->file_pss_bytes, &sat);
        } else {
            /* No smaps: status RssFile is all the file pages it maps, shared ones whole. */
            sat_add(&procs_anon, m->proc.status.rss_anon_bytes, &sat);
            sat_add(&procs_file, m->proc.status.rss_file_bytes, &sat);
            n_by_status++;
        }
    }
    uint64_t cg_anon = bd->parts[GSM_CG_PART_ANON].bytes, file = bd->parts[GSM_CG_PART_FILE_ACTIVE].bytes, kernel = 0;
    sat_add(&file, bd->parts[GSM_CG_PART_FILE_INACTIVE].bytes, &sat);
    for (int p = 0; p < GSM_CG_PART__COUNT; p++)
        if (bd->parts[p].kernel)
            sat_add(&kernel, bd->parts[p].bytes, &sat);
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
    items[n++] = (struct gsm_reconcile_item){
        "file_mapped_by_processes", procs_file,
        n_by_status ? "part of page_cache: mapped by the listed processes, by PSS (sum of Pss - Anonymous over "
                      "their file mappings: a shared page counts once); for processes without smaps their "
                      "whole status RssFile (not added)"
                    : "part of page_cache: mapped by the listed processes, by PSS (sum of Pss - Anonymous over "
                      "their file mappings: a shared page counts once) (not added)"};
    if (ret_saturated)
        *ret_saturated = sat;
    return n;
}
