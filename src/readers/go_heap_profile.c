/* Decoding a Go heap profile: zlib inflate under a size cap, protobuf-c unpack under a memory
 * budget, then a checked walk from samples to locations to functions to strings. */
#include "readers/go_heap_profile.h"

#include "proto/profile.pb-c.h"
#include "util/cleanup.h"

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define GZIP_MAGIC0 0x1f
#define GZIP_MAGIC1 0x8b

static bool is_gzip(const unsigned char *p, size_t len) {
    return len >= 2 && p[0] == GZIP_MAGIC0 && p[1] == GZIP_MAGIC1;
}

int gsm_gunzip(const void *data, size_t len, size_t max_out, void **ret_buf, size_t *ret_len) {
    const unsigned char *in = data;
    if (len == 0)
        return -EBADMSG;
    if (max_out == 0)
        max_out = GSM_HEAP_PROFILE_MAX_INFLATED;

    z_stream zs = {0};
    /* 15 + 32: a 32 KiB window, gzip or zlib header detected automatically */
    int zr = inflateInit2(&zs, 15 + 32);
    if (zr != Z_OK)
        return zr == Z_MEM_ERROR ? -ENOMEM : -EIO;

    /* Start near the usual 4-8x ratio of profiles, never above the cap; grow by doubling. */
    size_t cap = len > max_out / 8 ? max_out : len * 8;
    if (cap < 4096)
        cap = max_out < 4096 ? max_out : 4096;
    _cleanup_free_ unsigned char *buf = malloc(cap);
    if (!buf) {
        inflateEnd(&zs);
        return -ENOMEM;
    }
    size_t fed = 0, out_len = 0;
    int r = 0;
    for (;;) {
        if (zs.avail_in == 0 && fed < len) {
            size_t chunk = len - fed > UINT_MAX ? UINT_MAX : len - fed;
            zs.next_in = (unsigned char *)in + fed;   /* zlib's API is not const */
            zs.avail_in = (unsigned)chunk;
            fed += chunk;
        }
        if (out_len == cap && cap < max_out) {
            size_t ncap = cap > max_out / 2 ? max_out : cap * 2;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                r = -ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        /* At the cap, inflate into one scratch byte: any output at all means "too big". */
        unsigned char scratch;
        bool probing = out_len == cap;
        size_t window = probing ? 1 : cap - out_len;
        if (window > UINT_MAX)
            window = UINT_MAX;
        zs.next_out = probing ? &scratch : buf + out_len;
        zs.avail_out = (unsigned)window;
        zr = inflate(&zs, Z_NO_FLUSH);
        size_t produced = window - zs.avail_out;
        if (probing && produced > 0) {
            r = -EFBIG;
            break;
        }
        out_len += produced;
        if (zr == Z_STREAM_END) {
            size_t rest = zs.avail_in + (len - fed);
            if (rest == 0)
                break;
            /* Another gzip member follows (what `cat a.gz b.gz` makes): continue with it.
             * Anything else after the end of the stream is corruption. */
            const unsigned char *next = zs.avail_in ? zs.next_in : in + fed;
            size_t next_len = zs.avail_in ? zs.avail_in : len - fed;
            if (!is_gzip(next, next_len)) {
                r = -EBADMSG;
                break;
            }
            if (inflateReset(&zs) != Z_OK) {
                r = -EIO;
                break;
            }
            continue;
        }
        if (zr == Z_MEM_ERROR) {
            r = -ENOMEM;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {   /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
            r = -EBADMSG;
            break;
        }
        /* No more input and room left for output, but no end of stream: truncated. */
        if (zs.avail_in == 0 && fed == len && zs.avail_out > 0) {
            r = -EBADMSG;
            break;
        }
    }
    inflateEnd(&zs);
    if (r < 0)
        return r;
    *ret_buf = TAKE_PTR(buf);
    *ret_len = out_len;
    return 0;
}

/* protobuf-c allocator that refuses to go over a byte budget, so that a small hostile message
 * (millions of empty sub-messages, each a ~60-byte struct) cannot make us allocate gigabytes. */
struct budget {
    size_t used, limit;
    bool exceeded;
};

#define BUDGET_HDR (alignof(max_align_t) > sizeof(size_t) ? alignof(max_align_t) : sizeof(size_t))

static void *budget_alloc(void *data, size_t size) {
    struct budget *b = data;
    if (size > b->limit - b->used || size > SIZE_MAX - BUDGET_HDR) {
        b->exceeded = true;
        return NULL;
    }
    unsigned char *p = malloc(BUDGET_HDR + size);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    b->used += size;
    return p + BUDGET_HDR;
}

static void budget_free(void *data, void *ptr) {
    struct budget *b = data;
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - BUDGET_HDR;
    size_t size;
    memcpy(&size, p, sizeof size);
    b->used -= size;
    free(p);
}

/* id -> index, by binary search over (id, index) pairs sorted by id */
struct id_index {
    uint64_t id;
    size_t idx;
};

static int cmp_id_index(const void *a, const void *b) {
    const struct id_index *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Sort and check: ids are non-zero and unique (profile.proto's rule). */
static int build_id_index(struct id_index *ix, size_t n) {
    qsort(ix, n, sizeof *ix, cmp_id_index);
    for (size_t i = 0; i < n; i++) {
        if (ix[i].id == 0 || (i > 0 && ix[i].id == ix[i - 1].id))
            return -EBADMSG;
    }
    return 0;
}

static ssize_t lookup_id(const struct id_index *ix, size_t n, uint64_t id) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix[mid].id == id)
            return (ssize_t)ix[mid].idx;
        if (ix[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

struct decode {
    const Perftools__Profiles__Profile *m;
    const char **str;            /* string index -> copy in strings_ */
    struct id_index *loc_ix, *fn_ix;
};

static bool str_ok(const struct decode *d, int64_t i) {
    return i >= 0 && (uint64_t)i < d->m->n_string_table;
}

static int copy_strings(struct decode *d, struct gsm_heap_profile *hp) {
    const Perftools__Profiles__Profile *m = d->m;
    /* string_table[0] must be "" (every unset string field is index 0) */
    if (m->n_string_table == 0 || !m->string_table[0] || m->string_table[0][0] != '\0')
        return -EBADMSG;
    size_t total = 0;
    for (size_t i = 0; i < m->n_string_table; i++)
        total += strlen(m->string_table[i]) + 1;   /* bounded by the inflated size */
    hp->strings_ = malloc(total);
    d->str = calloc(m->n_string_table, sizeof *d->str);
    if (!hp->strings_ || !d->str)
        return -ENOMEM;
    char *w = hp->strings_;
    for (size_t i = 0; i < m->n_string_table; i++) {
        size_t l = strlen(m->string_table[i]) + 1;
        memcpy(w, m->string_table[i], l);
        d->str[i] = w;
        w += l;
    }
    return 0;
}

/* Frames a location contributes: one per line (inlining), one for an unsymbolized location. */
static size_t loc_frames(const Perftools__Profiles__Location *l) {
    return l->n_line ? l->n_line : 1;
}

static int build_model(struct decode *d, struct gsm_heap_profile *hp) {
    const Perftools__Profiles__Profile *m = d->m;
    int r = copy_strings(d, hp);
    if (r < 0)
        return r;

    /* sample types */
    if (m->n_sample_type == 0)
        return -ENOMSG;
    hp->sample_types = calloc(m->n_sample_type, sizeof *hp->sample_types);
    if (!hp->sample_types)
        return -ENOMEM;
    hp->n_sample_types = m->n_sample_type;
    hp->inuse_space_index = hp->inuse_objects_index = -1;
    for (size_t i = 0; i < m->n_sample_type; i++) {
        const Perftools__Profiles__ValueType *vt = m->sample_type[i];
        if (!str_ok(d, vt->type) || !str_ok(d, vt->unit))
            return -EBADMSG;
        hp->sample_types[i].type = d->str[vt->type];
        hp->sample_types[i].unit = d->str[vt->unit];
        if (hp->inuse_space_index < 0 && strcmp(d->str[vt->type], "inuse_space") == 0)
            hp->inuse_space_index = (ssize_t)i;
        if (hp->inuse_objects_index < 0 && strcmp(d->str[vt->type], "inuse_objects") == 0)
            hp->inuse_objects_index = (ssize_t)i;
    }
    if (hp->inuse_space_index < 0)
        return -ENOMSG;

    hp->period_type.type = hp->period_type.unit = d->str[0];
    if (m->period_type) {
        if (!str_ok(d, m->period_type->type) || !str_ok(d, m->period_type->unit))
            return -EBADMSG;
        hp->period_type.type = d->str[m->period_type->type];
        hp->period_type.unit = d->str[m->period_type->unit];
    }
    hp->period = m->period;
    hp->time_nanos = m->time_nanos;
    hp->duration_nanos = m->duration_nanos;

    /* functions: ids unique, string indices in range */
    d->fn_ix = calloc(m->n_function ? m->n_function : 1, sizeof *d->fn_ix);
    d->loc_ix = calloc(m->n_location ? m->n_location : 1, sizeof *d->loc_ix);
    if (!d->fn_ix || !d->loc_ix)
        return -ENOMEM;
    for (size_t i = 0; i < m->n_function; i++) {
        const Perftools__Profiles__Function *f = m->function[i];
        if (!str_ok(d, f->name) || !str_ok(d, f->system_name) || !str_ok(d, f->filename))
            return -EBADMSG;
        d->fn_ix[i] = (struct id_index){f->id, i};
    }
    if ((r = build_id_index(d->fn_ix, m->n_function)) < 0)
        return r;

    /* locations: ids unique, every line's function exists */
    for (size_t i = 0; i < m->n_location; i++) {
        const Perftools__Profiles__Location *l = m->location[i];
        for (size_t j = 0; j < l->n_line; j++) {
            if (lookup_id(d->fn_ix, m->n_function, l->line[j]->function_id) < 0)
                return -EBADMSG;
        }
        d->loc_ix[i] = (struct id_index){l->id, i};
    }
    if ((r = build_id_index(d->loc_ix, m->n_location)) < 0)
        return r;

    /* samples: value count matches, every location exists; count the frames under the cap */
    size_t n_frames = 0;
    for (size_t i = 0; i < m->n_sample; i++) {
        const Perftools__Profiles__Sample *s = m->sample[i];
        if (s->n_value != m->n_sample_type)
            return -EBADMSG;
        for (size_t j = 0; j < s->n_location_id; j++) {
            ssize_t li = lookup_id(d->loc_ix, m->n_location, s->location_id[j]);
            if (li < 0)
                return -EBADMSG;
            n_frames += loc_frames(m->location[li]);
            if (n_frames > GSM_HEAP_PROFILE_MAX_FRAMES)
                return -E2BIG;
        }
    }

    hp->stacks = calloc(m->n_sample ? m->n_sample : 1, sizeof *hp->stacks);
    hp->frames_ = calloc(n_frames ? n_frames : 1, sizeof *hp->frames_);
    hp->values_ = calloc(m->n_sample ? m->n_sample * m->n_sample_type : 1, sizeof *hp->values_);
    if (!hp->stacks || !hp->frames_ || !hp->values_)
        return -ENOMEM;
    hp->n_stacks = m->n_sample;

    struct gsm_heap_frame *fw = hp->frames_;
    for (size_t i = 0; i < m->n_sample; i++) {
        const Perftools__Profiles__Sample *s = m->sample[i];
        struct gsm_heap_stack *st = &hp->stacks[i];
        int64_t *vals = hp->values_ + i * m->n_sample_type;
        memcpy(vals, s->value, m->n_sample_type * sizeof *vals);
        st->values = vals;
        st->inuse_bytes = vals[hp->inuse_space_index];
        if (hp->inuse_objects_index >= 0)
            st->inuse_objects = vals[hp->inuse_objects_index];
        if (__builtin_add_overflow(hp->inuse_bytes_total, st->inuse_bytes, &hp->inuse_bytes_total) ||
            __builtin_add_overflow(hp->inuse_objects_total, st->inuse_objects, &hp->inuse_objects_total))
            return -EBADMSG;
        st->frames = fw;
        for (size_t j = 0; j < s->n_location_id; j++) {
            /* both lookups were checked above */
            const Perftools__Profiles__Location *l =
                m->location[lookup_id(d->loc_ix, m->n_location, s->location_id[j])];
            if (l->n_line == 0) {
                *fw++ = (struct gsm_heap_frame){.function = NULL, .file = d->str[0], .address = l->address};
                continue;
            }
            for (size_t k = 0; k < l->n_line; k++) {
                const Perftools__Profiles__Function *f =
                    m->function[lookup_id(d->fn_ix, m->n_function, l->line[k]->function_id)];
                *fw++ = (struct gsm_heap_frame){
                    .function = d->str[f->name],
                    .file = d->str[f->filename],
                    .line = l->line[k]->line,
                    .address = l->address,
                };
            }
        }
        st->n_frames = (size_t)(fw - st->frames);
    }
    return 0;
}

int gsm_heap_profile_parse(const void *data, size_t len, size_t max_inflated, struct gsm_heap_profile *ret) {
    if (max_inflated == 0)
        max_inflated = GSM_HEAP_PROFILE_MAX_INFLATED;
    _cleanup_free_ void *inflated = NULL;
    const void *pb = data;
    size_t pb_len = len;
    if (is_gzip(data, len)) {
        int r = gsm_gunzip(data, len, max_inflated, &inflated, &pb_len);
        if (r < 0)
            return r;
        pb = inflated;
    } else if (len > max_inflated) {
        return -EFBIG;
    }

    size_t limit = max_inflated > SIZE_MAX / GSM_HEAP_PROFILE_DECODE_FACTOR
                       ? SIZE_MAX : max_inflated * GSM_HEAP_PROFILE_DECODE_FACTOR;
    struct budget bud = {.limit = limit};
    ProtobufCAllocator alloc = {.alloc = budget_alloc, .free = budget_free, .allocator_data = &bud};
    Perftools__Profiles__Profile *m = perftools__profiles__profile__unpack(&alloc, pb_len, pb);
    if (!m)
        return bud.exceeded ? -EFBIG : -EBADMSG;
    free(TAKE_PTR(inflated));   /* the unpacked message owns copies of everything */

    struct gsm_heap_profile hp = {0};
    struct decode d = {.m = m};
    int r = build_model(&d, &hp);
    free(d.str);
    free(d.fn_ix);
    free(d.loc_ix);
    perftools__profiles__profile__free_unpacked(m, &alloc);
    if (r < 0) {
        gsm_heap_profile_free(&hp);
        return r;
    }
    *ret = hp;
    return 0;
}
