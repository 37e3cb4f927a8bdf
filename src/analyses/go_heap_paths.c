#include "analyses/go_heap_paths.h"
#include "util/cleanup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool is_runtime(const struct gsm_heap_frame *f) {
    return f->function && strncmp(f->function, "runtime.", 8) == 0;
}

/* One stack's contribution to a site, for sorting and summing equal sites. */
struct part {
    const struct gsm_heap_frame *frame;
    uint64_t bytes, objects;
};

static int cmp_str(const char *a, const char *b) {
    return a == b ? 0 : !a ? -1 : !b ? 1 : strcmp(a, b);
}

static int cmp_part(const void *a, const void *b) {
    const struct gsm_heap_frame *x = ((const struct part *)a)->frame, *y = ((const struct part *)b)->frame;
    int c = cmp_str(x->function, y->function);
    if (c == 0)
        c = cmp_str(x->file, y->file);
    if (c == 0)
        c = x->line < y->line ? -1 : x->line > y->line;
    if (c == 0 && !x->function)
        c = x->address < y->address ? -1 : x->address > y->address;
    return c;
}

/* Sum the parts by site (function, file, line) and keep the largest. */
static struct gsm_go_heap_site largest(struct part *parts, size_t n) {
    struct gsm_go_heap_site best = {0};
    qsort(parts, n, sizeof *parts, cmp_part);
    for (size_t i = 0; i < n;) {
        struct gsm_go_heap_site s = {.function = parts[i].frame->function, .file = parts[i].frame->file,
                                     .line = parts[i].frame->line};
        size_t j = i;
        for (; j < n && cmp_part(&parts[i], &parts[j]) == 0; j++) {
            s.inuse_bytes += parts[j].bytes;
            s.inuse_objects += parts[j].objects;
        }
        if (s.inuse_bytes > best.inuse_bytes)
            best = s;
        i = j;
    }
    return best;
}

int gsm_go_heap_paths_compute(const struct gsm_heap_profile *hp, struct gsm_go_heap_paths *ret) {
    _cleanup_free_ struct part *sites = calloc(hp->n_stacks + 1, sizeof *sites);
    _cleanup_free_ struct part *news = calloc(hp->n_stacks + 1, sizeof *news);
    if (!sites || !news)
        return -ENOMEM;
    struct gsm_go_heap_paths out = {0};
    size_t n_sites = 0, n_news = 0;
    for (size_t i = 0; i < hp->n_stacks; i++) {
        const struct gsm_heap_stack *st = &hp->stacks[i];
        if (st->inuse_bytes <= 0 || st->n_frames == 0)
            continue;
        uint64_t b = (uint64_t)st->inuse_bytes, o = st->inuse_objects > 0 ? (uint64_t)st->inuse_objects : 0;
        out.total_bytes += b;
        size_t k = 0;
        while (k + 1 < st->n_frames && is_runtime(&st->frames[k]))
            k++;
        sites[n_sites++] = (struct part){&st->frames[k], b, o};
        for (size_t g = 1; g < st->n_frames; g++) {   /* frames[g - 1] is what Get called: New */
            const char *fn = st->frames[g].function;
            if (fn && strcmp(fn, GSM_GO_POOL_GET) == 0) {
                out.pool_bytes += b;
                out.pool_objects += o;
                news[n_news++] = (struct part){&st->frames[g - 1], b, o};
                break;
            }
        }
    }
    if (out.total_bytes == 0)
        return -ENODATA;
    out.top = largest(sites, n_sites);
    out.pool_new = largest(news, n_news);
    *ret = out;
    return 0;
}
