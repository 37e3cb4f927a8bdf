#include "analyses/topn.h"

#include <errno.h>
#include <stdlib.h>

struct ranked {
    uint64_t value;
    size_t i;
};

static int by_value_desc(const void *a, const void *b) {
    const struct ranked *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? 1 : -1;
    return x->i < y->i ? -1 : x->i > y->i;   /* stable: ties in input order */
}

int gsm_topn_select(struct gsm_topn_item *items, size_t count, const struct gsm_topn_opts *o, uint64_t now_ms) {
    struct ranked *r = malloc((count ? count : 1) * sizeof *r);
    if (!r)
        return -ENOMEM;
    size_t nr = 0, pinned = 0;
    for (size_t i = 0; i < count; i++) {
        if (items[i].pinned) {
            if (!items[i].member)
                items[i].since_ms = now_ms;
            items[i].member = true;
            pinned++;
        } else
            r[nr++] = (struct ranked){items[i].value, i};
    }
    qsort(r, nr, sizeof *r, by_value_desc);
    const size_t n = o->n;
    const double nth = n && nr ? (double)r[(n < nr ? n : nr) - 1].value : 0;
    const double stay_floor = nth * (1.0 - o->margin), enter_above = nth * (1.0 + o->margin);
    size_t members = 0;
    for (size_t k = 0; k < nr; k++) {
        struct gsm_topn_item *it = &items[r[k].i];
        if (!it->member)
            continue;
        bool held = now_ms - it->since_ms < o->hold_ms;
        it->member = it->value > 0 && (k < n || (k < 2 * n && ((double)it->value >= stay_floor || held)));
        members += it->member;
    }
    for (size_t k = 0; k < nr && k < n; k++) {
        struct gsm_topn_item *it = &items[r[k].i];
        if (it->member || it->value == 0)
            continue;
        if (members >= n) {
            if ((double)it->value <= enter_above)
                continue;
            /* the lowest-ranked member at rank >= n that is past its hold time makes room */
            size_t victim = nr;
            for (size_t j = nr; j-- > n;) {
                struct gsm_topn_item *v = &items[r[j].i];
                if (v->member && now_ms - v->since_ms >= o->hold_ms) {
                    victim = j;
                    break;
                }
            }
            if (victim == nr)
                continue;
            items[r[victim].i].member = false;
            members--;
        }
        it->member = true;
        it->since_ms = now_ms;
        members++;
    }
    free(r);
    return (int)(members + pinned);
}
