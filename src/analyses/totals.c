#include "analyses/totals.h"

#include <string.h>

/* Sums saturate at UINT64_MAX instead of wrapping: no real process comes near 2^64 bytes, so a
 * sum that would is malformed input (a hostile --root tree, issue 12); the totals say so. */
static void sat_add(uint64_t *acc, uint64_t v, bool *saturated) {
    if (__builtin_add_overflow(*acc, v, acc)) {
        *acc = UINT64_MAX;
        *saturated = true;
    }
}

static void add(struct gsm_class_totals *c, const struct gsm_mapping *m, bool *sat) {
    bool shm = m->cls == GSM_CLASS_SHMEM;
    uint64_t rss = m->f[GSM_F_RSS], anon = m->f[GSM_F_ANONYMOUS];
    sat_add(&c->size_bytes, m->end - m->start, sat);
    sat_add(&c->rss_bytes, rss, sat);
    sat_add(&c->pss_bytes, m->f[GSM_F_PSS], sat);
    sat_add(&c->anon_bytes, anon, sat);
    if (shm)
        sat_add(&c->shmem_bytes, rss, sat);
    else
        sat_add(&c->file_bytes, rss > anon ? rss - anon : 0, sat);
    sat_add(&c->swap_bytes, m->f[GSM_F_SWAP], sat);
    sat_add(&c->swap_pss_bytes, m->f[GSM_F_SWAP_PSS], sat);
    sat_add(&c->lazyfree_bytes, m->f[GSM_F_LAZYFREE], sat);
    sat_add(&c->anon_huge_bytes, m->f[GSM_F_ANON_HUGE_PAGES], sat);
    sat_add(&c->private_dirty_bytes, m->f[GSM_F_PRIVATE_DIRTY], sat);
    sat_add(&c->locked_bytes, m->f[GSM_F_LOCKED], sat);
    sat_add(&c->uss_bytes, m->f[GSM_F_PRIVATE_CLEAN], sat);
    sat_add(&c->uss_bytes, m->f[GSM_F_PRIVATE_DIRTY], sat);
    c->n_mappings++;
}

/* gsm_class_totals is uint64_t members only: moved as an array. */
#define CLASS_TOTALS_WORDS (sizeof(struct gsm_class_totals) / sizeof(uint64_t))
_Static_assert(sizeof(struct gsm_class_totals) % sizeof(uint64_t) == 0, "gsm_class_totals holds uint64_t only");

void gsm_totals_move(struct gsm_totals *t, const struct gsm_mapping *m, enum gsm_class from) {
    enum gsm_class to = m->cls < GSM_CLASS__COUNT ? m->cls : GSM_CLASS_ANON_OTHER;
    if (from >= GSM_CLASS__COUNT)
        from = GSM_CLASS_ANON_OTHER;
    if (from == to)
        return;
    struct gsm_class_totals one = {0};
    bool sat = false;
    add(&one, m, &sat);
    uint64_t w[CLASS_TOTALS_WORDS], *src = (uint64_t *)&t->cls[from], *dst = (uint64_t *)&t->cls[to];
    memcpy(w, &one, sizeof w);
    for (size_t k = 0; k < CLASS_TOTALS_WORDS; k++) {
        src[k] = src[k] >= w[k] ? src[k] - w[k] : 0;   /* only short after saturation */
        sat_add(&dst[k], w[k], &t->saturated);
    }
}

void gsm_totals_compute(const struct gsm_process *p, struct gsm_totals *ret) {
    memset(ret, 0, sizeof *ret);
    gsm_totals_add(ret, p, 0, p->n_maps);
}

/* Insertion into the sorted prefix: most mappings are smaller than the smallest kept and cost
 * one comparison. */
static void rank(struct gsm_totals *t, const struct gsm_process *p, size_t i) {
    uint64_t rss = p->maps[i].f[GSM_F_RSS];
    if (rss == 0)
        return;
    size_t pos = t->n_top;
    while (pos > 0 && p->maps[t->top[pos - 1]].f[GSM_F_RSS] < rss)
        pos--;
    if (pos >= GSM_TOP_MAPPINGS_MAX)
        return;
    size_t last = t->n_top < GSM_TOP_MAPPINGS_MAX ? t->n_top : GSM_TOP_MAPPINGS_MAX - 1;
    memmove(&t->top[pos + 1], &t->top[pos], (last - pos) * sizeof t->top[0]);
    t->top[pos] = i;
    if (t->n_top < GSM_TOP_MAPPINGS_MAX)
        t->n_top++;
}

void gsm_totals_add(struct gsm_totals *ret, const struct gsm_process *p, size_t from, size_t to) {
    for (size_t i = from; i < to && i < p->n_maps; i++) {
        const struct gsm_mapping *m = &p->maps[i];
        rank(ret, p, i);
        add(&ret->cls[m->cls < GSM_CLASS__COUNT ? m->cls : GSM_CLASS_ANON_OTHER], m, &ret->saturated);
        add(&ret->all, m, &ret->saturated);
    }
}

static bool is_proportional(enum gsm_smaps_field f) {
    return f == GSM_F_PSS || f == GSM_F_PSS_DIRTY || f == GSM_F_SWAP_PSS || f == GSM_F_LOCKED;
}

static bool per_mapping_only(enum gsm_smaps_field f) {
    return f == GSM_F_SIZE || f == GSM_F_KERNEL_PAGE_SIZE || f == GSM_F_MMU_PAGE_SIZE ||
           f == GSM_F_THP_ELIGIBLE || f == GSM_F_PROTECTION_KEY;
}

size_t gsm_reconcile_rollup(const struct gsm_process *p, const struct gsm_totals *t,
                            struct gsm_reconcile_row *rows, bool *ret_ok) {
    (void)t;
    /* The per-field sums, here and only when a rollup was read (--rollup): not per mapping
     * while smaps streams in. Saturated like the totals. */
    uint64_t field_sum[GSM_F__COUNT] = {0};
    bool saturated = false;
    for (size_t i = 0; i < p->n_maps; i++)
        for (int f = 0; f < GSM_F__COUNT; f++)
            sat_add(&field_sum[f], p->maps[i].f[f], &saturated);
    size_t n = 0;
    bool all_ok = true;
    for (int f = 0; f < GSM_F__COUNT; f++) {
        if (per_mapping_only(f) || !(p->rollup.present & (UINT64_C(1) << f)))
            continue;
        /* Pss_Anon/File/Shmem exist only in the rollup: nothing to compare. */
        if (f == GSM_F_PSS_ANON || f == GSM_F_PSS_FILE || f == GSM_F_PSS_SHMEM)
            continue;
        struct gsm_reconcile_row *r = &rows[n++];
        r->field = f;
        r->mappings_sum_bytes = field_sum[f];
        r->rollup_bytes = p->rollup.f[f];
        r->proportional = is_proportional(f);
        if (r->proportional)
            r->ok = r->rollup_bytes >= r->mappings_sum_bytes &&
                    r->rollup_bytes - r->mappings_sum_bytes < (p->n_maps > 0 ? p->n_maps : 1) * 1024;
        else
            r->ok = r->rollup_bytes == r->mappings_sum_bytes;
        all_ok = all_ok && r->ok;
    }
    *ret_ok = all_ok;
    return n;
}
