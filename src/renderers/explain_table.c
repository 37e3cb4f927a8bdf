#include "renderers/explain_render.h"
#include "model/go_build.h"
#include "util/units.h"

#include <errno.h>
#include <string.h>

#define B(i, x) gsm_fmt_bytes((x), bufs[i], sizeof bufs[i])

static void row(FILE *out, const char *name, const struct gsm_class_totals *c) {
    char bufs[8][16];
    fprintf(out, "%-14s %10s %10s %10s %10s %10s %10s %10s %10s %6llu\n", name, B(0, c->rss_bytes), B(1, c->pss_bytes),
            B(7, c->uss_bytes), B(2, c->anon_bytes), B(3, c->file_bytes), B(4, c->shmem_bytes), B(5, c->swap_bytes),
            B(6, c->lazyfree_bytes), (unsigned long long)c->n_mappings);
}

int gsm_explain_print_table(const struct gsm_explain_view *v, FILE *out) {
    const struct gsm_process *p = v->proc;
    const struct gsm_totals *t = v->totals;
    char bufs[8][16];

    fprintf(out, "PID %d  %s", (int)p->pid, p->have_status ? p->status.name : "?");
    if (p->exe_path[0])
        fprintf(out, "  %s%s", p->exe_path, p->exe_deleted ? " (deleted)" : "");
    fputc('\n', out);
    if (p->go)
        fprintf(out, "Go %s%s%s%s%s\n", p->go->go_version, p->go->goarch[0] ? " " : "", p->go->goarch,
                p->go->main_path[0] ? "  package " : "", p->go->main_path);
    if (p->go_build) {
        const struct gsm_go_buildinfo *bi = p->go_build;
        if (bi->main.path && bi->main.path[0])
            fprintf(out, "module %s %s  (%zu dependencies)\n", bi->main.path, bi->main.version, bi->n_deps);
        /* The settings that change memory behaviour or identify the build. */
        static const char *const keys[] = {"CGO_ENABLED", "GOARCH", "GOAMD64", "GOARM64", "-ldflags", "-race",
                                            "vcs.revision", "vcs.modified"};
        bool any = false;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const char *val = gsm_go_buildinfo_setting(bi, keys[i]);
            if (!val)
                continue;
            fprintf(out, "%s%s=%s", any ? " " : "build: ", keys[i], val);
            any = true;
        }
        if (any)
            fputc('\n', out);
    }
    if (p->have_status)
        fprintf(out, "RSS %s (anon %s, file %s, shmem %s)  swap %s  threads %llu  page tables %s\n",
                B(0, p->status.vm_rss_bytes), B(1, p->status.rss_anon_bytes), B(2, p->status.rss_file_bytes),
                B(3, p->status.rss_shmem_bytes), B(4, p->status.vm_swap_bytes), (unsigned long long)p->status.threads,
                B(5, p->status.vm_pte_bytes));
    if (p->have_oom)
        fprintf(out, "oom_score %lld  oom_score_adj %lld\n", (long long)p->oom_score, (long long)p->oom_score_adj);
    if (p->n_missing) {
        fprintf(out, "INCOMPLETE: not readable:");
        for (size_t i = 0; i < p->n_missing; i++)
            fprintf(out, " %s", p->missing[i]);
        fputc('\n', out);
    }
    if (!p->have_smaps)
        return ferror(out) ? -EIO : 0;

    fputc('\n', out);
    fprintf(out, "%-14s %10s %10s %10s %10s %10s %10s %10s %10s %6s\n", "CLASS", "RSS", "PSS", "USS", "ANON", "FILE",
            "SHMEM", "SWAP", "LAZYFREE", "MAPS");
    /* Classes by RSS, largest first. */
    int order[GSM_CLASS__COUNT], n = 0;
    for (int c = 0; c < GSM_CLASS__COUNT; c++) {
        if (t->cls[c].n_mappings == 0)
            continue;
        int pos = n++;
        while (pos > 0 && t->cls[order[pos - 1]].rss_bytes < t->cls[c].rss_bytes) {
            order[pos] = order[pos - 1];
            pos--;
        }
        order[pos] = c;
    }
    for (int i = 0; i < n; i++)
        row(out, gsm_class_name(order[i]), &t->cls[order[i]]);
    row(out, "total", &t->all);
    if (t->cls[GSM_CLASS_NATIVE_HEAP].n_mappings && gsm_allocator_name(p->allocator))
        fprintf(out, "native-heap allocator: %s (from the libraries mapped)\n", gsm_allocator_name(p->allocator));
    if (t->saturated)
        fprintf(out, "SATURATED: a sum passed 2^64 - 1 bytes and is shown at that ceiling (malformed input)\n");

    const size_t *idx = t->top, k = gsm_explain_top_count(v);
    if (k) {
        fprintf(out, "\nLARGEST MAPPINGS (by RSS)\n%-25s %-4s %10s %10s %-13s %s\n", "ADDRESS", "PERM", "RSS", "SIZE",
                "CLASS", "PATH");
        for (size_t i = 0; i < k; i++) {
            const struct gsm_mapping *m = &p->maps[idx[i]];
            char addr[40];
            snprintf(addr, sizeof addr, "%llx-%llx", (unsigned long long)m->start, (unsigned long long)m->end);
            fprintf(out, "%-25s %-4s %10s %10s %-13s %s%s\n", addr, m->perms, B(0, m->f[GSM_F_RSS]),
                    B(1, m->end - m->start), gsm_class_name(m->cls), m->path ? m->path : "", m->deleted ? " (deleted)" : "");
        }
    }
    if (p->have_rollup) {
        struct gsm_reconcile_row rows[GSM_F__COUNT];
        bool ok;
        gsm_reconcile_rollup(p, t, rows, &ok);
        fprintf(out, "\nsmaps_rollup: %s (Rss %s, Pss %s)\n",
                ok ? "agrees with the per-mapping sums" : "differs from the per-mapping sums (the process, or the processes sharing its pages, changed between the two reads)",
                B(0, p->rollup.f[GSM_F_RSS]), B(1, p->rollup.f[GSM_F_PSS]));
    }
    return ferror(out) ? -EIO : 0;
}
