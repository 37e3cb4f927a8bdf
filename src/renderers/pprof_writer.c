/* pprof and folded output from one sample stream; see pprof_writer.h for the tree and the
 * proto layout. Deduplication uses small open-addressing hash tables of indices. */
#include "renderers/pprof_writer.h"

#include "proto/profile.pb-c.h"
#include "util/cleanup.h"
#include "util/gzip.h"
#include "util/text.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fn {
    int64_t name, file;          /* string indices */
};
struct loc {
    uint64_t fn_id;              /* 1-based */
    int64_t line;
};
struct sample {
    size_t off, n;               /* location ids in b->locs[off..off+n), leaf first */
    int64_t v[2];                /* rss, pss */
};

/* Open addressing over indices: slot holds index + 1, 0 = empty. Capacity a power of two. */
struct htab {
    size_t *slot;
    size_t cap, n;
};

enum kind { K_STR, K_FN, K_LOC, K_SAMPLE };

struct gsm_pprof_builder {
    char **str;
    size_t n_str, cap_str;
    struct fn *fn;
    size_t n_fn, cap_fn;
    struct loc *loc;
    size_t n_loc, cap_loc;
    struct sample *smp;
    size_t n_smp, cap_smp;
    uint64_t *locs;
    size_t n_locs, cap_locs;
    int64_t *comments;
    size_t n_comments, cap_comments;
    struct htab h[4];
    int64_t s_rss, s_pss, s_bytes, s_mapping;   /* interned at creation */
    int64_t time_nanos;
    int64_t total_rss, total_pss;
};

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static uint64_t hash_bytes(const char *s) {
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static uint64_t hash_locs(const uint64_t *ids, size_t n) {
    uint64_t h = n;
    for (size_t i = 0; i < n; i++)
        h = mix(h, ids[i]);
    return h;
}

static uint64_t hash_of(const struct gsm_pprof_builder *b, enum kind k, size_t idx) {
    switch (k) {
    case K_STR: return hash_bytes(b->str[idx]);
    case K_FN: return mix(mix(0, (uint64_t)b->fn[idx].name), (uint64_t)b->fn[idx].file);
    case K_LOC: return mix(mix(1, b->loc[idx].fn_id), (uint64_t)b->loc[idx].line);
    case K_SAMPLE: return hash_locs(b->locs + b->smp[idx].off, b->smp[idx].n);
    }
    return 0;
}

/* A key being looked up, in the shape of the stored items. */
struct key {
    const char *s;
    struct fn f;
    struct loc l;
    const uint64_t *ids;
    size_t n;
};

static bool equal(const struct gsm_pprof_builder *b, enum kind k, size_t idx, const struct key *key) {
    switch (k) {
    case K_STR: return strcmp(b->str[idx], key->s) == 0;
    case K_FN: return b->fn[idx].name == key->f.name && b->fn[idx].file == key->f.file;
    case K_LOC: return b->loc[idx].fn_id == key->l.fn_id && b->loc[idx].line == key->l.line;
    case K_SAMPLE:
        return b->smp[idx].n == key->n && memcmp(b->locs + b->smp[idx].off, key->ids, key->n * sizeof *key->ids) == 0;
    }
    return false;
}

/* Index of the item equal to key, or SIZE_MAX; *ret_slot is where to insert it. */
static size_t ht_find(const struct gsm_pprof_builder *b, enum kind k, uint64_t hash, const struct key *key,
                      size_t *ret_slot) {
    const struct htab *t = &b->h[k];
    *ret_slot = 0;
    if (t->cap == 0)
        return SIZE_MAX;
    size_t i = hash & (t->cap - 1);
    for (; t->slot[i]; i = (i + 1) & (t->cap - 1)) {
        if (equal(b, k, t->slot[i] - 1, key))
            return t->slot[i] - 1;
    }
    *ret_slot = i;
    return SIZE_MAX;
}

/* Make room for one more entry (load <= 1/2), rehashing. */
static int ht_reserve(struct gsm_pprof_builder *b, enum kind k) {
    struct htab *t = &b->h[k];
    if ((t->n + 1) * 2 <= t->cap)
        return 0;
    size_t ncap = t->cap ? t->cap * 2 : 64;
    size_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i])
            continue;
        size_t j = hash_of(b, k, t->slot[i] - 1) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = ns;
    t->cap = ncap;
    return 0;
}

/* Grow a vector to hold `need` elements. */
static int grow(void **v, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return -ENOMEM;
        ncap *= 2;
    }
    void *nv = realloc(*v, ncap * elem);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}
#define GROW(vec, cap, need) grow((void **)&(vec), &(cap), (need), sizeof *(vec))

static int64_t intern_valid(struct gsm_pprof_builder *b, const char *s);

/* Strings are interned as valid UTF-8 (util/text.h): profile.proto's strings must be, and the
 * folded output is written from the same table. */
static int64_t intern(struct gsm_pprof_builder *b, const char *s) {
    if (!s)
        s = "";
    size_t len = strlen(s);
    if (gsm_utf8_valid(s, len))
        return intern_valid(b, s);
    char *fixed = gsm_utf8_repair(s, len, NULL);
    if (!fixed)
        return -ENOMEM;
    int64_t r = intern_valid(b, fixed);
    free(fixed);
    return r;
}

static int64_t intern_valid(struct gsm_pprof_builder *b, const char *s) {
    struct key key = {.s = s};
    uint64_t h = hash_bytes(s);
    size_t slot;
    size_t idx = ht_find(b, K_STR, h, &key, &slot);
    if (idx != SIZE_MAX)
        return (int64_t)idx;
    int r = ht_reserve(b, K_STR);
    if (r < 0 || (r = GROW(b->str, b->cap_str, b->n_str + 1)) < 0)
        return r;
    char *copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    b->str[b->n_str] = copy;
    (void)ht_find(b, K_STR, h, &key, &slot);   /* the table may have been rehashed */
    b->h[K_STR].slot[slot] = ++b->n_str;
    b->h[K_STR].n++;
    return (int64_t)(b->n_str - 1);
}

/* 1-based function id for (name, file). */
static int64_t function_id(struct gsm_pprof_builder *b, const struct gsm_pprof_frame *f) {
    int64_t name = intern(b, f->name), file = intern(b, f->file);
    if (name < 0 || file < 0)
        return name < 0 ? name : file;
    struct key key = {.f = {name, file}};
    uint64_t h = mix(mix(0, (uint64_t)name), (uint64_t)file);
    size_t slot;
    size_t idx = ht_find(b, K_FN, h, &key, &slot);
    if (idx != SIZE_MAX)
        return (int64_t)idx + 1;
    int r = ht_reserve(b, K_FN);
    if (r < 0 || (r = GROW(b->fn, b->cap_fn, b->n_fn + 1)) < 0)
        return r;
    b->fn[b->n_fn] = key.f;
    (void)ht_find(b, K_FN, h, &key, &slot);
    b->h[K_FN].slot[slot] = ++b->n_fn;
    b->h[K_FN].n++;
    return (int64_t)b->n_fn;
}

/* 1-based location id for (function, line). */
static int64_t location_id(struct gsm_pprof_builder *b, const struct gsm_pprof_frame *f) {
    int64_t fid = function_id(b, f);
    if (fid < 0)
        return fid;
    struct key key = {.l = {(uint64_t)fid, f->line}};
    uint64_t h = mix(mix(1, (uint64_t)fid), (uint64_t)f->line);
    size_t slot;
    size_t idx = ht_find(b, K_LOC, h, &key, &slot);
    if (idx != SIZE_MAX)
        return (int64_t)idx + 1;
    int r = ht_reserve(b, K_LOC);
    if (r < 0 || (r = GROW(b->loc, b->cap_loc, b->n_loc + 1)) < 0)
        return r;
    b->loc[b->n_loc] = key.l;
    (void)ht_find(b, K_LOC, h, &key, &slot);
    b->h[K_LOC].slot[slot] = ++b->n_loc;
    b->h[K_LOC].n++;
    return (int64_t)b->n_loc;
}

struct gsm_pprof_builder *gsm_pprof_builder_new(void) {
    struct gsm_pprof_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    /* string_table[0] must be "" */
    if (intern(b, "") != 0 || (b->s_rss = intern(b, "rss")) < 0 || (b->s_pss = intern(b, "pss")) < 0 ||
        (b->s_bytes = intern(b, "bytes")) < 0 || (b->s_mapping = intern(b, "gsmapper")) < 0) {
        gsm_pprof_builder_free(b);
        return NULL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    b->time_nanos = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return b;
}

void gsm_pprof_builder_free(struct gsm_pprof_builder *b) {
    if (!b)
        return;
    for (size_t i = 0; i < b->n_str; i++)
        free(b->str[i]);
    free(b->str);
    free(b->fn);
    free(b->loc);
    free(b->smp);
    free(b->locs);
    free(b->comments);
    for (size_t k = 0; k < ELEMENTSOF(b->h); k++)
        free(b->h[k].slot);
    free(b);
}

int gsm_pprof_add_sample_frames(struct gsm_pprof_builder *b, const struct gsm_pprof_frame *frames_root_first,
                                size_t n, int64_t rss_bytes, int64_t pss_bytes) {
    if (n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!frames_root_first[i].name)
            return -EINVAL;
    }
    /* The new stack goes at the end of b->locs, leaf first (pprof's order); if an equal
     * sample exists the values are added to it and the tail is dropped again. */
    if (n > SIZE_MAX - b->n_locs)
        return -ENOMEM;
    int r = GROW(b->locs, b->cap_locs, b->n_locs + n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        int64_t id = location_id(b, &frames_root_first[n - 1 - i]);
        if (id < 0)
            return (int)id;
        b->locs[b->n_locs + i] = (uint64_t)id;
    }
    struct key key = {.ids = b->locs + b->n_locs, .n = n};
    uint64_t h = hash_locs(key.ids, n);
    size_t slot;
    size_t idx = ht_find(b, K_SAMPLE, h, &key, &slot);
    if (idx == SIZE_MAX) {
        if ((r = ht_reserve(b, K_SAMPLE)) < 0 || (r = GROW(b->smp, b->cap_smp, b->n_smp + 1)) < 0)
            return r;
        b->smp[b->n_smp] = (struct sample){.off = b->n_locs, .n = n};
        (void)ht_find(b, K_SAMPLE, h, &key, &slot);
        b->h[K_SAMPLE].slot[slot] = b->n_smp + 1;
        b->h[K_SAMPLE].n++;
        idx = b->n_smp++;
        b->n_locs += n;
    }
    b->smp[idx].v[0] += rss_bytes;
    b->smp[idx].v[1] += pss_bytes;
    b->total_rss += rss_bytes;
    b->total_pss += pss_bytes;
    return 0;
}

int gsm_pprof_add_sample(struct gsm_pprof_builder *b, const char *const *frames_root_first, size_t n,
                         int64_t rss_bytes, int64_t pss_bytes) {
    if (n == 0 || n > SIZE_MAX / sizeof(struct gsm_pprof_frame))
        return -EINVAL;
    _cleanup_free_ struct gsm_pprof_frame *f = calloc(n, sizeof *f);
    if (!f)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        f[i].name = frames_root_first[i];
    return gsm_pprof_add_sample_frames(b, f, n, rss_bytes, pss_bytes);
}

size_t gsm_pprof_sample_count(const struct gsm_pprof_builder *b) { return b->n_smp; }
int64_t gsm_pprof_total_rss(const struct gsm_pprof_builder *b) { return b->total_rss; }
int64_t gsm_pprof_total_pss(const struct gsm_pprof_builder *b) { return b->total_pss; }

int gsm_pprof_set_main_file(struct gsm_pprof_builder *b, const char *file) {
    int64_t s = intern(b, file);
    if (s < 0)
        return (int)s;
    b->s_mapping = s;
    return 0;
}

int gsm_pprof_add_comment(struct gsm_pprof_builder *b, const char *comment) {
    int64_t s = intern(b, comment);
    if (s < 0)
        return (int)s;
    int r = GROW(b->comments, b->cap_comments, b->n_comments + 1);
    if (r < 0)
        return r;
    b->comments[b->n_comments++] = s;
    return 0;
}

void gsm_pprof_set_time_nanos(struct gsm_pprof_builder *b, int64_t time_nanos) { b->time_nanos = time_nanos; }

int gsm_pprof_encode_gzip(const struct gsm_pprof_builder *b, void **ret_buf, size_t *ret_len) {
    Perftools__Profiles__Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
    Perftools__Profiles__ValueType vt[2] = {PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
                                            PERFTOOLS__PROFILES__VALUE_TYPE__INIT};
    Perftools__Profiles__ValueType *vtp[2] = {&vt[0], &vt[1]};
    vt[0].type = b->s_rss;
    vt[0].unit = b->s_bytes;
    vt[1].type = b->s_pss;
    vt[1].unit = b->s_bytes;
    prof.n_sample_type = 2;
    prof.sample_type = vtp;
    prof.default_sample_type = b->s_rss;

    /* One mapping for every location: it "has" functions, files and lines, so pprof does not
     * look for a binary to symbolize with. */
    Perftools__Profiles__Mapping map = PERFTOOLS__PROFILES__MAPPING__INIT;
    Perftools__Profiles__Mapping *mapp = &map;
    map.id = 1;
    map.filename = b->s_mapping;
    map.has_functions = map.has_filenames = map.has_line_numbers = true;
    prof.n_mapping = 1;
    prof.mapping = &mapp;

    size_t n_s = b->n_smp, n_l = b->n_loc, n_f = b->n_fn;
    _cleanup_free_ Perftools__Profiles__Sample *ss = calloc(n_s + 1, sizeof *ss);
    _cleanup_free_ Perftools__Profiles__Sample **ssp = calloc(n_s + 1, sizeof *ssp);
    _cleanup_free_ Perftools__Profiles__Location *ls = calloc(n_l + 1, sizeof *ls);
    _cleanup_free_ Perftools__Profiles__Location **lsp = calloc(n_l + 1, sizeof *lsp);
    _cleanup_free_ Perftools__Profiles__Line *lines = calloc(n_l + 1, sizeof *lines);
    _cleanup_free_ Perftools__Profiles__Line **linesp = calloc(n_l + 1, sizeof *linesp);
    _cleanup_free_ Perftools__Profiles__Function *fs = calloc(n_f + 1, sizeof *fs);
    _cleanup_free_ Perftools__Profiles__Function **fsp = calloc(n_f + 1, sizeof *fsp);
    if (!ss || !ssp || !ls || !lsp || !lines || !linesp || !fs || !fsp)
        return -ENOMEM;

    for (size_t i = 0; i < n_s; i++) {
        perftools__profiles__sample__init(&ss[i]);
        ss[i].n_location_id = b->smp[i].n;
        ss[i].location_id = b->locs + b->smp[i].off;
        ss[i].n_value = 2;
        ss[i].value = (int64_t *)b->smp[i].v;   /* packing only reads */
        ssp[i] = &ss[i];
    }
    for (size_t i = 0; i < n_l; i++) {
        perftools__profiles__location__init(&ls[i]);
        perftools__profiles__line__init(&lines[i]);
        lines[i].function_id = b->loc[i].fn_id;
        lines[i].line = b->loc[i].line;
        linesp[i] = &lines[i];
        ls[i].id = i + 1;
        ls[i].mapping_id = 1;
        ls[i].n_line = 1;
        ls[i].line = &linesp[i];
        lsp[i] = &ls[i];
    }
    for (size_t i = 0; i < n_f; i++) {
        perftools__profiles__function__init(&fs[i]);
        fs[i].id = i + 1;
        fs[i].name = fs[i].system_name = b->fn[i].name;
        fs[i].filename = b->fn[i].file;
        fsp[i] = &fs[i];
    }
    prof.n_sample = n_s;
    prof.sample = ssp;
    prof.n_location = n_l;
    prof.location = lsp;
    prof.n_function = n_f;
    prof.function = fsp;
    prof.n_string_table = b->n_str;
    prof.string_table = b->str;
    prof.n_comment = b->n_comments;
    prof.comment = b->comments;
    prof.time_nanos = b->time_nanos;

    size_t len = perftools__profiles__profile__get_packed_size(&prof);
    _cleanup_free_ uint8_t *raw = malloc(len ? len : 1);
    if (!raw)
        return -ENOMEM;
    if (perftools__profiles__profile__pack(&prof, raw) != len)
        return -EIO;
    return gsm_gzip(raw, len, -1, 8, ret_buf, ret_len);   /* zlib's defaults, as Go writes profiles */
}

int gsm_pprof_write_gzip(const struct gsm_pprof_builder *b, FILE *out) {
    _cleanup_free_ void *buf = NULL;
    size_t len;
    int r = gsm_pprof_encode_gzip(b, &buf, &len);
    if (r < 0)
        return r;
    if (fwrite(buf, 1, len, out) != len || ferror(out))
        return -EIO;
    return 0;
}

/* A folded frame: no ';' (the separator) and no control characters (a newline ends a line). */
static void folded_frame(FILE *out, const char *s) {
    for (; *s; s++)
        fputc(*s == ';' || (unsigned char)*s < 0x20 || *s == 0x7f ? '_' : *s, out);
}

int gsm_pprof_write_folded(const struct gsm_pprof_builder *b, FILE *out) {
    for (size_t i = 0; i < b->n_smp; i++) {
        const struct sample *s = &b->smp[i];
        if (s->v[0] <= 0)
            continue;
        for (size_t j = s->n; j-- > 0;) {   /* stored leaf first; folded is root first */
            const struct loc *l = &b->loc[b->locs[s->off + j] - 1];
            folded_frame(out, b->str[b->fn[l->fn_id - 1].name]);
            if (j)
                fputc(';', out);
        }
        fprintf(out, " %lld\n", (long long)s->v[0]);
    }
    return ferror(out) ? -EIO : 0;
}

/* ---- the explain tree ---- */

static const char *process_name(const struct gsm_process *p) {
    if (p->have_status && p->status.name[0])
        return p->status.name;
    if (p->have_stat && p->stat.comm[0])
        return p->stat.comm;
    return "pid";
}

static uint64_t clamp_u64(long double x, uint64_t max) {
    if (!(x > 0))
        return 0;
    if (x >= (long double)max)
        return max;
    return (uint64_t)x;
}

/* The Go frames of the heap profile under the go-heap class node of one process (frames
 * fr[0..base) lead to it); see the header for the rule. */
static int add_go_heap(struct gsm_pprof_builder *b, struct gsm_pprof_frame *fr, size_t base, uint64_t class_rss,
                       uint64_t class_pss, const struct gsm_heap_profile *heap, uint64_t heap_total) {
    uint64_t attributed = heap_total < class_rss ? heap_total : class_rss;   /* H or R */
    /* a stack of v bytes gets v * (attributed / H) of the RSS, and that times P / R of the PSS */
    long double k_rss = (long double)attributed / heap_total;
    long double k_pss = k_rss * ((long double)class_pss / class_rss);
    uint64_t left_rss = class_rss, left_pss = class_pss;
    char addr[32];
    for (size_t i = 0; i < heap->n_stacks; i++) {
        const struct gsm_heap_stack *st = &heap->stacks[i];
        if (st->inuse_bytes <= 0)
            continue;
        uint64_t x = clamp_u64(floorl((long double)st->inuse_bytes * k_rss), left_rss);
        uint64_t y = clamp_u64(floorl((long double)st->inuse_bytes * k_pss), left_pss);
        if (x == 0 && y == 0)
            continue;
        size_t n = base;
        for (size_t j = st->n_frames; j-- > 0;) {   /* leaf first in the profile */
            const struct gsm_heap_frame *hf = &st->frames[j];
            fr[n].name = hf->function;
            if (!fr[n].name) {
                /* unsymbolized: named by its address, interned so the name outlives addr */
                snprintf(addr, sizeof addr, "0x%llx", (unsigned long long)hf->address);
                int64_t id = intern(b, addr);
                if (id < 0)
                    return (int)id;
                fr[n].name = b->str[id];
            }
            fr[n].file = hf->file;
            fr[n].line = hf->line;
            n++;
        }
        int r = gsm_pprof_add_sample_frames(b, fr, n, (int64_t)x, (int64_t)y);
        if (r < 0)
            return r;
        left_rss -= x;
        left_pss -= y;
    }
    if (left_rss > 0 || left_pss > 0) {
        fr[base] = (struct gsm_pprof_frame){.name = GSM_PPROF_HEAP_NOT_IN_PROFILE};
        return gsm_pprof_add_sample_frames(b, fr, base + 1, (int64_t)left_rss, (int64_t)left_pss);
    }
    return 0;
}

int gsm_explain_build_tree(struct gsm_pprof_builder *b, const char *cgroup_path, const struct gsm_process *p,
                           const struct gsm_heap_profile *heap) {
    uint64_t class_rss = 0, class_pss = 0, heap_total = 0;
    size_t max_frames = 0;
    for (size_t i = 0; i < p->n_maps; i++) {
        if (p->maps[i].cls == GSM_CLASS_GO_HEAP) {
            class_rss += p->maps[i].f[GSM_F_RSS];
            class_pss += p->maps[i].f[GSM_F_PSS];
        }
    }
    if (heap) {
        for (size_t i = 0; i < heap->n_stacks; i++) {
            if (heap->stacks[i].inuse_bytes > 0) {
                if (__builtin_add_overflow(heap_total, (uint64_t)heap->stacks[i].inuse_bytes, &heap_total))
                    heap_total = UINT64_MAX;
                if (heap->stacks[i].n_frames > max_frames)
                    max_frames = heap->stacks[i].n_frames;
            }
        }
    }
    bool split = heap && heap_total > 0 && class_rss > 0;
    if (split) {
        /* say how the Go frames were set against the arena (`go tool pprof -comments`) */
        char note[320];
        snprintf(note, sizeof note,
                 "%s[%d] go-heap: heap profile in-use %llu bytes (%s) set against class RSS %llu bytes (%s); "
                 "the rest is \"" GSM_PPROF_HEAP_NOT_IN_PROFILE "\"",
                 process_name(p), (int)p->pid, (unsigned long long)heap_total,
                 heap->as_of.forced_gc ? "after a forced GC" : "as of the last GC", (unsigned long long)class_rss,
                 heap_total <= class_rss ? "unscaled" : "scaled down to the RSS");
        int r = gsm_pprof_add_comment(b, note);
        if (r < 0)
            return r;
    }
    _cleanup_free_ struct gsm_pprof_frame *fr = calloc(4 + (split ? max_frames : 0), sizeof *fr);
    if (!fr)
        return -ENOMEM;

    /* USS (Private_Clean + Private_Dirty: what goes away with the process) in the process frame:
     * the samples below it are RSS, so it cannot be a sample of its own. */
    uint64_t uss = 0;
    for (size_t i = 0; i < p->n_maps; i++)
        if (__builtin_add_overflow(uss, p->maps[i].f[GSM_F_PRIVATE_CLEAN], &uss) ||
            __builtin_add_overflow(uss, p->maps[i].f[GSM_F_PRIVATE_DIRTY], &uss))
            uss = UINT64_MAX;   /* malformed input: held, not wrapped (as the totals) */
    char pname[128], mname[40];
    snprintf(pname, sizeof pname, "%s[%d] uss_bytes=%llu", process_name(p), (int)p->pid, (unsigned long long)uss);
    size_t n = 0;
    if (cgroup_path)
        fr[n++] = (struct gsm_pprof_frame){.name = cgroup_path};
    fr[n++] = (struct gsm_pprof_frame){.name = pname};
    const size_t base = n;   /* the class frame goes here */
    for (size_t i = 0; i < p->n_maps; i++) {
        const struct gsm_mapping *m = &p->maps[i];
        if (m->f[GSM_F_RSS] == 0 || (split && m->cls == GSM_CLASS_GO_HEAP))
            continue;   /* with a heap profile the go-heap node holds the Go frames, once */
        n = base;
        fr[n++] = (struct gsm_pprof_frame){.name = gsm_class_name(m->cls)};
        if (m->path) {
            fr[n++] = (struct gsm_pprof_frame){.name = m->path};
        } else {
            snprintf(mname, sizeof mname, "anon@%llx", (unsigned long long)m->start);
            fr[n++] = (struct gsm_pprof_frame){.name = mname};
        }
        int r = gsm_pprof_add_sample_frames(b, fr, n, (int64_t)m->f[GSM_F_RSS], (int64_t)m->f[GSM_F_PSS]);
        if (r < 0)
            return r;
    }
    if (split) {
        fr[base] = (struct gsm_pprof_frame){.name = gsm_class_name(GSM_CLASS_GO_HEAP)};
        return add_go_heap(b, fr, base + 1, class_rss, class_pss, heap, heap_total);
    }
    return 0;
}
