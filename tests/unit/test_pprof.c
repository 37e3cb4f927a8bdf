/* pprof: the heap-profile decoder (readers/go_heap_profile.c) on profiles built here with
 * protobuf-c, hostile ones too (truncated gzip, gzip bombs, garbage, out-of-range ids, huge
 * varint lengths, amplification), and the writer (renderers/pprof_writer.c): build -> gzip ->
 * gunzip -> protobuf-c unpack -> check samples and strings; folded output; the explain tree
 * with Go frames under go-heap. */
#include "test.h"
#include "proto/profile.pb-c.h"
#include "readers/go_heap_profile.h"
#include "renderers/pprof_writer.h"
#include "util/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <zlib.h>

#define MiB ((size_t)1 << 20)

/* ---- helpers ------------------------------------------------------------------------------ */

static void *pack(const Perftools__Profiles__Profile *p, size_t *ret_len) {
    size_t len = perftools__profiles__profile__get_packed_size(p);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf)
        perftools__profiles__profile__pack(p, buf);
    *ret_len = len;
    return buf;
}

/* gzip `len` bytes of `in`, or, when in is NULL, `len` zero bytes (a bomb), streaming. */
static void *gzip_bytes(const void *in, size_t len, size_t *ret_len) {
    z_stream zs = {0};
    if (deflateInit2(&zs, in ? 9 : 1, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&zs, len > (64 << 20) ? (64 << 20) : len) + 4096, out_len = 0;
    unsigned char *out = malloc(cap);
    static unsigned char zeros[1 << 16];
    size_t fed = 0;
    int zr;
    do {
        if (zs.avail_in == 0 && fed < len) {
            size_t chunk = len - fed > sizeof zeros ? sizeof zeros : len - fed;
            zs.next_in = in ? (unsigned char *)in + fed : zeros;
            zs.avail_in = (unsigned)chunk;
            fed += chunk;
        }
        if (out_len == cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        zs.next_out = out + out_len;
        zs.avail_out = (unsigned)(cap - out_len);
        zr = deflate(&zs, fed == len && zs.avail_in == 0 ? Z_FINISH : Z_NO_FLUSH);
        out_len = cap - zs.avail_out;
    } while (zr != Z_STREAM_END);
    deflateEnd(&zs);
    *ret_len = out_len;
    return out;
}

/* A Go-like heap profile, with ids deliberately not dense and one inlined location:
 *   functions 7 main.leaf, 8 main.mid, 9 main.main, 11 main.inl (all in /src/main.go)
 *   locations 10 [leaf:10], 20 [inl:5, mid:20] (inl inlined into mid), 30 [main:30],
 *             40 (no lines, address 0x1234)
 *   samples  [10,20,30] in-use 1 MiB / 1 object; [40,30] in-use 0; [20,30] 3000 B / 3 objects */
struct tprof {
    Perftools__Profiles__Profile p;
    Perftools__Profiles__ValueType vt[4], *vtp[4], period_type;
    Perftools__Profiles__Function fn[4], *fnp[4];
    Perftools__Profiles__Line ln[4], *lnp[4];
    Perftools__Profiles__Location loc[4], *locp[4];
    Perftools__Profiles__Sample s[3], *sp[3];
    uint64_t ids0[3], ids1[2], ids2[2];
    int64_t v0[4], v1[4], v2[4];
    char *strs[16];
};

static const char *const tstrings[] = {
    "", "alloc_objects", "count", "alloc_space", "bytes", "inuse_objects", "inuse_space", "space",
    "main.leaf", "main.mid", "main.main", "main.inl", "/src/main.go",
};

static void tprof_init(struct tprof *t) {
    memset(t, 0, sizeof *t);
    perftools__profiles__profile__init(&t->p);
    for (size_t i = 0; i < ELEMENTSOF(tstrings); i++)
        t->strs[i] = (char *)tstrings[i];
    t->p.n_string_table = ELEMENTSOF(tstrings);
    t->p.string_table = t->strs;
    static const int64_t vts[4][2] = {{1, 2}, {3, 4}, {5, 2}, {6, 4}};
    for (int i = 0; i < 4; i++) {
        perftools__profiles__value_type__init(&t->vt[i]);
        t->vt[i].type = vts[i][0];
        t->vt[i].unit = vts[i][1];
        t->vtp[i] = &t->vt[i];
    }
    t->p.n_sample_type = 4;
    t->p.sample_type = t->vtp;
    perftools__profiles__value_type__init(&t->period_type);
    t->period_type.type = 7;
    t->period_type.unit = 4;
    t->p.period_type = &t->period_type;
    t->p.period = 524288;
    t->p.time_nanos = 1700000000123456789;

    static const uint64_t fids[4] = {7, 8, 9, 11};
    for (int i = 0; i < 4; i++) {
        perftools__profiles__function__init(&t->fn[i]);
        t->fn[i].id = fids[i];
        t->fn[i].name = t->fn[i].system_name = 8 + i;
        t->fn[i].filename = 12;
        t->fnp[i] = &t->fn[i];
    }
    t->p.n_function = 4;
    t->p.function = t->fnp;

    static const struct { uint64_t fid; int64_t line; } lines[4] = {{7, 10}, {11, 5}, {8, 20}, {9, 30}};
    for (int i = 0; i < 4; i++) {
        perftools__profiles__line__init(&t->ln[i]);
        t->ln[i].function_id = lines[i].fid;
        t->ln[i].line = lines[i].line;
        t->lnp[i] = &t->ln[i];
    }
    for (int i = 0; i < 4; i++) {
        perftools__profiles__location__init(&t->loc[i]);
        t->loc[i].id = (uint64_t)(i + 1) * 10;
        t->locp[i] = &t->loc[i];
    }
    t->loc[0].n_line = 1, t->loc[0].line = &t->lnp[0];
    t->loc[1].n_line = 2, t->loc[1].line = &t->lnp[1];
    t->loc[2].n_line = 1, t->loc[2].line = &t->lnp[3];
    t->loc[3].address = 0x1234;
    t->p.n_location = 4;
    t->p.location = t->locp;

    uint64_t *ids[3] = {t->ids0, t->ids1, t->ids2};
    int64_t *vals[3] = {t->v0, t->v1, t->v2};
    static const uint64_t sids[3][3] = {{10, 20, 30}, {40, 30}, {20, 30}};
    static const size_t nids[3] = {3, 2, 2};
    static const int64_t svals[3][4] = {{1, 1 << 20, 1, 1 << 20}, {2, 200, 0, 0}, {5, 5000, 3, 3000}};
    for (int i = 0; i < 3; i++) {
        perftools__profiles__sample__init(&t->s[i]);
        memcpy(ids[i], sids[i], nids[i] * sizeof(uint64_t));
        memcpy(vals[i], svals[i], sizeof svals[i]);
        t->s[i].n_location_id = nids[i];
        t->s[i].location_id = ids[i];
        t->s[i].n_value = 4;
        t->s[i].value = vals[i];
        t->sp[i] = &t->s[i];
    }
    t->p.n_sample = 3;
    t->p.sample = t->sp;
}

/* Pack (and gzip when asked) and parse with a cap; returns the parser's result. */
static int parse_tprof(const struct tprof *t, bool gz, size_t cap, struct gsm_heap_profile *ret) {
    size_t len;
    _cleanup_free_ void *raw = pack(&t->p, &len);
    if (!gz)
        return gsm_heap_profile_parse(raw, len, cap, ret);
    size_t zlen;
    _cleanup_free_ void *z = gzip_bytes(raw, len, &zlen);
    return gsm_heap_profile_parse(z, zlen, cap, ret);
}

static int parse_tprof_expect_fail(const struct tprof *t) {
    struct gsm_heap_profile hp;
    int r = parse_tprof(t, true, 0, &hp);
    if (r == 0)
        gsm_heap_profile_free(&hp);
    return r;
}

/* ---- the decoder --------------------------------------------------------------------------- */

TEST(heap_profile_parse_model) {
    struct tprof t;
    tprof_init(&t);
    for (int gz = 0; gz < 2; gz++) {
        struct gsm_heap_profile hp;
        CHECK(parse_tprof(&t, gz, 0, &hp) == 0);
        CHECK_EQ_U64(hp.n_sample_types, 4);
        CHECK_STREQ(hp.sample_types[3].type, "inuse_space");
        CHECK_STREQ(hp.sample_types[3].unit, "bytes");
        CHECK_STREQ(hp.sample_types[0].unit, "count");
        CHECK(hp.inuse_space_index == 3 && hp.inuse_objects_index == 2);
        CHECK_STREQ(hp.period_type.type, "space");
        CHECK_EQ_U64(hp.period, 524288);
        CHECK_EQ_U64(hp.time_nanos, 1700000000123456789);
        CHECK_EQ_U64(hp.n_stacks, 3);
        CHECK_EQ_U64(hp.inuse_bytes_total, (1 << 20) + 3000);
        CHECK_EQ_U64(hp.inuse_objects_total, 4);
        /* leaf first, the inlined function before the one it was inlined into */
        const struct gsm_heap_stack *s = &hp.stacks[0];
        CHECK_EQ_U64(s->n_frames, 4);
        CHECK_STREQ(s->frames[0].function, "main.leaf");
        CHECK_EQ_U64(s->frames[0].line, 10);
        CHECK_STREQ(s->frames[1].function, "main.inl");
        CHECK_STREQ(s->frames[2].function, "main.mid");
        CHECK_EQ_U64(s->frames[2].line, 20);
        CHECK_STREQ(s->frames[3].function, "main.main");
        CHECK_STREQ(s->frames[3].file, "/src/main.go");
        CHECK_EQ_U64(s->inuse_bytes, 1 << 20);
        CHECK_EQ_U64(s->values[1], 1 << 20);
        /* an unsymbolized location is one frame without a function, with its address */
        CHECK(hp.stacks[1].frames[0].function == NULL);
        CHECK_EQ_U64(hp.stacks[1].frames[0].address, 0x1234);
        CHECK_EQ_U64(hp.stacks[2].inuse_objects, 3);
        gsm_heap_profile_free(&hp);
    }
}

TEST(heap_profile_gzip_multimember_and_boundary) {
    /* exactly at the cap is fine, one byte over is -EFBIG */
    _cleanup_free_ char *data = malloc(MiB + 1);
    memset(data, 'x', MiB + 1);
    size_t zl;
    _cleanup_free_ void *z = gzip_bytes(data, MiB, &zl);
    void *out;
    size_t out_len;
    CHECK(gsm_gunzip(z, zl, MiB, &out, &out_len) == 0);
    CHECK_EQ_U64(out_len, MiB);
    free(out);
    _cleanup_free_ void *z1 = gzip_bytes(data, MiB + 1, &zl);
    CHECK(gsm_gunzip(z1, zl, MiB, &out, &out_len) == -EFBIG);
    /* two members concatenated (what `cat a.gz b.gz` makes) are joined */
    size_t la, lb;
    _cleanup_free_ void *a = gzip_bytes("hello ", 6, &la);
    _cleanup_free_ void *b = gzip_bytes("world", 5, &lb);
    _cleanup_free_ char *ab = malloc(la + lb + 3);
    memcpy(ab, a, la);
    memcpy(ab + la, b, lb);
    CHECK(gsm_gunzip(ab, la + lb, 0, &out, &out_len) == 0);
    CHECK(out_len == 11 && memcmp(out, "hello world", 11) == 0);
    free(out);
    /* trailing garbage after the stream is corruption */
    memcpy(ab + la, "junk", 4);
    CHECK(gsm_gunzip(ab, la + 4, 0, &out, &out_len) == -EBADMSG);
}

TEST(heap_profile_truncated_gzip) {
    struct tprof t;
    tprof_init(&t);
    size_t len, zl;
    _cleanup_free_ void *raw = pack(&t.p, &len);
    _cleanup_free_ unsigned char *z = gzip_bytes(raw, len, &zl);
    struct gsm_heap_profile hp;
    /* every proper prefix (but the empty one) of the gzip stream is refused */
    for (size_t cut = 1; cut < zl; cut++)
        CHECK(gsm_heap_profile_parse(z, cut, 0, &hp) == -EBADMSG);
    CHECK(gsm_heap_profile_parse(z, 0, 0, &hp) == -EBADMSG);
    /* a flipped byte in the deflate data or the CRC */
    z[zl - 6] ^= 0xff;
    CHECK(gsm_heap_profile_parse(z, zl, 0, &hp) == -EBADMSG);
}

TEST(heap_profile_gzip_bomb) {
    /* 128 MiB of zeros gzip to ~128 KiB; with a 1 MiB cap the parser stops after 1 MiB of
     * output and never holds more than that: the peak RSS does not grow by the bomb's size. */
    size_t zl;
    _cleanup_free_ void *z = gzip_bytes(NULL, 128 * MiB, &zl);
    CHECK(z && zl < 2 * MiB);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    struct gsm_heap_profile hp;
    CHECK(gsm_heap_profile_parse(z, zl, MiB, &hp) == -EFBIG);
    getrusage(RUSAGE_SELF, &after);
    CHECK((uint64_t)(after.ru_maxrss - before.ru_maxrss) * 1024 < 32 * MiB);
    /* and with the default 64 MiB cap */
    CHECK(gsm_heap_profile_parse(z, zl, 0, &hp) == -EFBIG);
    /* a plain (not gzipped) buffer over the cap is refused too */
    _cleanup_free_ char *big = calloc(1, MiB + 1);
    CHECK(gsm_heap_profile_parse(big, MiB + 1, MiB, &hp) == -EFBIG);
}

TEST(heap_profile_garbage) {
    struct gsm_heap_profile hp;
    static const unsigned char ff[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(gsm_heap_profile_parse(ff, sizeof ff, 0, &hp) == -EBADMSG);
    /* HTML where a profile was expected */
    static const char html[] = "<html><body>404 page not found</body></html>\n";
    CHECK(gsm_heap_profile_parse(html, sizeof html - 1, 0, &hp) < 0);
    /* gzip of garbage */
    size_t zl;
    _cleanup_free_ void *z = gzip_bytes(ff, sizeof ff, &zl);
    CHECK(gsm_heap_profile_parse(z, zl, 0, &hp) == -EBADMSG);
    /* deterministic pseudo-random buffers: never a crash, always an error or a valid model */
    unsigned char buf[512];
    uint32_t x = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + round % sizeof buf;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245 + 12345;
            buf[i] = (unsigned char)(x >> 16);
        }
        if (gsm_heap_profile_parse(buf, n, 0, &hp) == 0)
            gsm_heap_profile_free(&hp);
    }
}

TEST(heap_profile_huge_varint_lengths) {
    struct gsm_heap_profile hp;
    /* field 2 (sample), wire type 2, length 2^64-1 in a 10-byte varint, then 3 bytes */
    static const unsigned char l64[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 2, 3};
    CHECK(gsm_heap_profile_parse(l64, sizeof l64, 0, &hp) == -EBADMSG);
    /* field 6 (string_table), length 2^31 with 4 bytes following */
    static const unsigned char l31[] = {0x32, 0x80, 0x80, 0x80, 0x80, 0x08, 'a', 'b', 'c', 'd'};
    CHECK(gsm_heap_profile_parse(l31, sizeof l31, 0, &hp) == -EBADMSG);
    /* a varint that never ends (11 continuation bytes) */
    static const unsigned char vinf[] = {0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(gsm_heap_profile_parse(vinf, sizeof vinf, 0, &hp) == -EBADMSG);
    /* a length that runs past the end by one byte */
    static const unsigned char past[] = {0x32, 0x05, 'a', 'b', 'c', 'd'};
    CHECK(gsm_heap_profile_parse(past, sizeof past, 0, &hp) == -EBADMSG);
}

TEST(heap_profile_bad_indices) {
    struct tprof t;
    /* string index out of range: function name, filename, sample type, period type; negative */
    tprof_init(&t);
    t.fn[1].name = 13;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    tprof_init(&t);
    t.fn[2].filename = -1;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    tprof_init(&t);
    t.vt[0].unit = 1000000;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    tprof_init(&t);
    t.period_type.type = 99;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    /* a sample naming a location that does not exist; a line naming a missing function */
    tprof_init(&t);
    t.ids0[1] = 21;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    tprof_init(&t);
    t.ln[2].function_id = 10;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    /* duplicate and zero ids */
    tprof_init(&t);
    t.loc[3].id = 30;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    tprof_init(&t);
    t.fn[0].id = 0;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    /* values that do not match the sample types */
    tprof_init(&t);
    t.s[2].n_value = 3;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    /* string_table[0] must be "" */
    tprof_init(&t);
    t.strs[0] = (char *)"x";
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    tprof_init(&t);
    t.p.n_string_table = 0;
    CHECK(parse_tprof_expect_fail(&t) == -EBADMSG);
    /* not a heap profile: no inuse_space */
    tprof_init(&t);
    t.vt[3].type = 3;
    CHECK(parse_tprof_expect_fail(&t) == -ENOMSG);
    /* and the untouched one still parses */
    tprof_init(&t);
    CHECK(parse_tprof_expect_fail(&t) == 0);
}

TEST(heap_profile_decode_budget) {
    /* 512 Ki empty Sample messages (2 bytes each: tag 0x12, length 0) are 1 MiB on the wire
     * but ~45 MiB as protobuf-c structs: over the 4 x 1 MiB budget, refused without using it */
    size_t n = MiB;
    _cleanup_free_ unsigned char *buf = malloc(n);
    for (size_t i = 0; i < n; i += 2)
        buf[i] = 0x12, buf[i + 1] = 0;
    struct gsm_heap_profile hp;
    CHECK(gsm_heap_profile_parse(buf, n, MiB, &hp) == -EFBIG);
}

TEST(heap_profile_frame_amplification) {
    /* one location with 4096 lines, one sample naming it 1024 times: 4 Mi frames from ~20 KiB */
    struct tprof t;
    tprof_init(&t);
    size_t nl = 4096, ns = 1024;
    _cleanup_free_ Perftools__Profiles__Line **lines = calloc(nl, sizeof *lines);
    _cleanup_free_ uint64_t *ids = calloc(ns, sizeof *ids);
    for (size_t i = 0; i < nl; i++)
        lines[i] = &t.ln[0];
    for (size_t i = 0; i < ns; i++)
        ids[i] = 10;
    t.loc[0].n_line = nl;
    t.loc[0].line = lines;
    t.s[0].n_location_id = ns;
    t.s[0].location_id = ids;
    CHECK(parse_tprof_expect_fail(&t) == -E2BIG);
}

/* ---- the writer ---------------------------------------------------------------------------- */

static Perftools__Profiles__Profile *unpack_written(const struct gsm_pprof_builder *b) {
    void *gz;
    size_t gzl;
    if (gsm_pprof_encode_gzip(b, &gz, &gzl) < 0)
        return NULL;
    void *raw;
    size_t rawl;
    int r = gsm_gunzip(gz, gzl, 0, &raw, &rawl);
    free(gz);
    if (r < 0)
        return NULL;
    Perftools__Profiles__Profile *p = perftools__profiles__profile__unpack(NULL, rawl, raw);
    free(raw);
    return p;
}

/* Function name of a sample's location j (leaf first), by ids. */
static const char *frame_name(const Perftools__Profiles__Profile *p, const Perftools__Profiles__Sample *s, size_t j) {
    uint64_t lid = s->location_id[j];
    if (lid == 0 || lid > p->n_location || p->location[lid - 1]->id != lid || p->location[lid - 1]->n_line != 1)
        return NULL;
    uint64_t fid = p->location[lid - 1]->line[0]->function_id;
    if (fid == 0 || fid > p->n_function || p->function[fid - 1]->id != fid)
        return NULL;
    int64_t si = p->function[fid - 1]->name;
    return si >= 0 && (size_t)si < p->n_string_table ? p->string_table[si] : NULL;
}

TEST(pprof_roundtrip) {
    struct gsm_pprof_builder *b = gsm_pprof_builder_new();
    CHECK(b);
    const char *s1[] = {"/k8s/pod", "app[42]", "go-heap", "anon@c000000000"};
    const char *s2[] = {"/k8s/pod", "app[42]", "shared-lib", "/usr/lib/libc.so.6"};
    struct gsm_pprof_frame s3[] = {{"app[42]", NULL, 0}, {"go-heap", NULL, 0}, {"main.main", "/src/main.go", 30},
                                   {"main.leaf", "/src/main.go", 10}};
    CHECK(gsm_pprof_add_sample(b, s1, 4, 1000, 900) == 0);
    CHECK(gsm_pprof_add_sample(b, s2, 4, 300, 100) == 0);
    CHECK(gsm_pprof_add_sample(b, s2, 4, 200, 50) == 0);     /* same stack: merged */
    CHECK(gsm_pprof_add_sample_frames(b, s3, 4, 7, 6) == 0);
    CHECK(gsm_pprof_add_sample(b, s1, 0, 1, 1) == -EINVAL);
    CHECK(gsm_pprof_add_comment(b, "gsmapper test") == 0);
    gsm_pprof_set_time_nanos(b, 1234567890);
    CHECK_EQ_U64(gsm_pprof_sample_count(b), 3);
    CHECK_EQ_U64(gsm_pprof_total_rss(b), 1507);
    CHECK_EQ_U64(gsm_pprof_total_pss(b), 1056);

    Perftools__Profiles__Profile *p = unpack_written(b);
    gsm_pprof_builder_free(b);
    CHECK(p);
    /* strings: [0] is "", no duplicates */
    CHECK(p->n_string_table > 1);
    CHECK_STREQ(p->string_table[0], "");
    for (size_t i = 0; i < p->n_string_table; i++)
        for (size_t j = i + 1; j < p->n_string_table; j++)
            CHECK(strcmp(p->string_table[i], p->string_table[j]) != 0);
    CHECK_EQ_U64(p->n_sample_type, 2);
    CHECK_STREQ(p->string_table[p->sample_type[0]->type], "rss");
    CHECK_STREQ(p->string_table[p->sample_type[0]->unit], "bytes");
    CHECK_STREQ(p->string_table[p->sample_type[1]->type], "pss");
    CHECK_STREQ(p->string_table[p->default_sample_type], "rss");
    CHECK_EQ_U64(p->time_nanos, 1234567890);
    CHECK(p->n_comment == 1 && strcmp(p->string_table[p->comment[0]], "gsmapper test") == 0);
    /* ids are 1-based and dense; one mapping that has everything */
    for (size_t i = 0; i < p->n_location; i++)
        CHECK(p->location[i]->id == i + 1 && p->location[i]->mapping_id == 1);
    for (size_t i = 0; i < p->n_function; i++)
        CHECK_EQ_U64(p->function[i]->id, i + 1);
    CHECK(p->n_mapping == 1 && p->mapping[0]->id == 1 && p->mapping[0]->has_functions);
    /* 12 frames, 8 distinct: "/k8s/pod", "app[42]" and "go-heap" repeat across samples */
    CHECK_EQ_U64(p->n_function, 8);
    CHECK_EQ_U64(p->n_sample, 3);
    const Perftools__Profiles__Sample *a = p->sample[0], *c = p->sample[1], *d = p->sample[2];
    CHECK(a->n_location_id == 4 && a->n_value == 2 && a->value[0] == 1000 && a->value[1] == 900);
    CHECK_STREQ(frame_name(p, a, 0), "anon@c000000000");   /* leaf first */
    CHECK_STREQ(frame_name(p, a, 3), "/k8s/pod");
    CHECK(c->value[0] == 500 && c->value[1] == 150);
    CHECK_STREQ(frame_name(p, c, 0), "/usr/lib/libc.so.6");
    CHECK(d->n_location_id == 4 && d->value[0] == 7);
    CHECK_STREQ(frame_name(p, d, 0), "main.leaf");
    const Perftools__Profiles__Location *leaf = p->location[d->location_id[0] - 1];
    CHECK_EQ_U64(leaf->line[0]->line, 10);
    CHECK_STREQ(p->string_table[p->function[leaf->line[0]->function_id - 1]->filename], "/src/main.go");
    perftools__profiles__profile__free_unpacked(p, NULL);
}

TEST(pprof_folded_sanitised) {
    struct gsm_pprof_builder *b = gsm_pprof_builder_new();
    CHECK(b);
    const char *s1[] = {"p[1]", "file-mapped", "/tmp/a;b\nc d"};
    const char *s2[] = {"p[1]", "anon-other", "anon@1000"};
    CHECK(gsm_pprof_add_sample(b, s1, 3, 4096, 2048) == 0);
    CHECK(gsm_pprof_add_sample(b, s2, 3, 0, 0) == 0);   /* zero RSS: not printed */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f);
    int r = gsm_pprof_write_folded(b, f);
    fclose(f);
    gsm_pprof_builder_free(b);
    CHECK(r == 0);
    CHECK_STREQ(text, "p[1];file-mapped;/tmp/a_b_c d 4096\n");
    free(text);
}

/* ---- the explain tree ------------------------------------------------------------------------ */

static struct gsm_mapping *add_map(struct gsm_process *p, uint64_t start, const char *path, enum gsm_class cls,
                                   uint64_t rss, uint64_t pss) {
    struct gsm_mapping *m = gsm_process_add_mapping(p);
    if (!m)
        return NULL;
    m->start = start;
    m->end = start + (64 << 20);
    m->path = path;
    m->cls = cls;
    m->f[GSM_F_RSS] = rss;
    m->f[GSM_F_PSS] = pss;
    return m;
}

/* Sum of RSS (or PSS) over folded lines / pprof samples whose stack contains `frame`. */
static int64_t sum_under(const Perftools__Profiles__Profile *p, const char *frame, int vi) {
    int64_t sum = 0;
    for (size_t i = 0; i < p->n_sample; i++) {
        for (size_t j = 0; j < p->sample[i]->n_location_id; j++) {
            const char *n = frame_name(p, p->sample[i], j);
            if (n && strcmp(n, frame) == 0) {
                sum += p->sample[i]->value[vi];
                break;
            }
        }
    }
    return sum;
}

static void proc_fixture(struct gsm_process *p) {
    gsm_process_init(p, 4242);
    p->have_status = true;
    snprintf(p->status.name, sizeof p->status.name, "memshape");
    add_map(p, 0x400000, "/app/memshape", GSM_CLASS_BINARY, 2 << 20, 2 << 20);
    add_map(p, 0xc000000000, NULL, GSM_CLASS_GO_HEAP, 3 << 20, 3 << 20);
    add_map(p, 0xc004000000, NULL, GSM_CLASS_GO_HEAP, 1 << 20, 1 << 19);
    add_map(p, 0x7f0000000000, NULL, GSM_CLASS_GO_RUNTIME, 0, 0);   /* no RSS: no sample */
    add_map(p, 0x7f0000100000, NULL, GSM_CLASS_GO_RUNTIME, 12345, 12345);
}

TEST(pprof_explain_tree_with_heap) {
    struct tprof t;
    tprof_init(&t);
    struct gsm_heap_profile hp;
    CHECK(parse_tprof(&t, true, 0, &hp) == 0);
    struct gsm_process p;
    proc_fixture(&p);
    struct gsm_pprof_builder *b = gsm_pprof_builder_new();
    CHECK(b);
    int r = gsm_explain_build_tree(b, "/sys/fs/cgroup/app", &p, &hp);
    Perftools__Profiles__Profile *pp = r == 0 ? unpack_written(b) : NULL;
    int64_t total = gsm_pprof_total_rss(b);
    gsm_pprof_builder_free(b);
    CHECK(r == 0 && pp);
    /* the whole is the process's RSS; the go-heap node is still the class's RSS (4 MiB);
     * the profile's 1 MiB + 3000 B hang under it once, unscaled, with no mapping level (the
     * arena mappings are not in the tree), the rest is "(heap not in profile)" */
    CHECK_EQ_U64(total, (2 << 20) + (4 << 20) + 12345);
    CHECK_EQ_U64(sum_under(pp, "/sys/fs/cgroup/app", 0), total);
    CHECK_EQ_U64(sum_under(pp, "memshape[4242] uss_bytes=0", 0), total);   /* no Private_* in the fixture */
    CHECK_EQ_U64(sum_under(pp, "go-heap", 0), 4 << 20);
    CHECK_EQ_U64(sum_under(pp, "go-heap", 1), (3 << 20) + (1 << 19));
    CHECK_EQ_U64(sum_under(pp, "main.main", 0), (1 << 20) + 3000);
    CHECK_EQ_U64(sum_under(pp, "main.leaf", 0), 1 << 20);
    CHECK_EQ_U64(sum_under(pp, "anon@c004000000", 0), 0);
    CHECK_EQ_U64(sum_under(pp, "anon@c000000000", 0), 0);
    CHECK_EQ_U64(sum_under(pp, GSM_PPROF_HEAP_NOT_IN_PROFILE, 0), (4 << 20) - (1 << 20) - 3000);
    CHECK_EQ_U64(sum_under(pp, "go-runtime", 0), 12345);
    /* a Go frame's leaf is the allocation site: main.leaf sits below main.inl and main.mid */
    bool found = false;
    for (size_t i = 0; i < pp->n_sample; i++) {
        const Perftools__Profiles__Sample *s = pp->sample[i];
        const char *leaf = frame_name(pp, s, 0);
        if (leaf && strcmp(leaf, "main.leaf") == 0) {
            CHECK(!found);   /* one sample per stack: not one per arena mapping */
            found = s->n_location_id == 7 && strcmp(frame_name(pp, s, 1), "main.inl") == 0 &&
                    strcmp(frame_name(pp, s, 2), "main.mid") == 0 && strcmp(frame_name(pp, s, 3), "main.main") == 0 &&
                    strcmp(frame_name(pp, s, 4), "go-heap") == 0 && strcmp(frame_name(pp, s, 6), "/sys/fs/cgroup/app") == 0;
        }
    }
    CHECK(found);
    perftools__profiles__profile__free_unpacked(pp, NULL);
    gsm_process_free(&p);
    gsm_heap_profile_free(&hp);
}

TEST(pprof_main_file_names_the_target) {
    struct gsm_pprof_builder *b = gsm_pprof_builder_new();
    CHECK(b);
    const char *st[] = {"a"};
    CHECK(gsm_pprof_add_sample(b, st, 1, 1, 1) == 0);
    CHECK(gsm_pprof_set_main_file(b, "/usr/bin/memshape") == 0);
    Perftools__Profiles__Profile *pp = unpack_written(b);
    gsm_pprof_builder_free(b);
    CHECK(pp && pp->n_mapping == 1);
    CHECK_STREQ(pp->string_table[pp->mapping[0]->filename], "/usr/bin/memshape");
    CHECK(pp->mapping[0]->has_functions);
    perftools__profiles__profile__free_unpacked(pp, NULL);
}

TEST(pprof_explain_tree_heap_larger_than_rss) {
    /* the profile claims 64 MiB + 64 MiB in use, the arena has 4 MiB resident: scaled down,
     * the go-heap node still totals 4 MiB, nothing is left over for "(heap not in profile)" */
    struct tprof t;
    tprof_init(&t);
    t.v0[3] = 64 << 20;
    t.v2[3] = 64 << 20;
    struct gsm_heap_profile hp;
    CHECK(parse_tprof(&t, false, 0, &hp) == 0);
    struct gsm_process p;
    proc_fixture(&p);
    struct gsm_pprof_builder *b = gsm_pprof_builder_new();
    CHECK(b);
    int r = gsm_explain_build_tree(b, NULL, &p, &hp);
    Perftools__Profiles__Profile *pp = r == 0 ? unpack_written(b) : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f);
    int fr = gsm_pprof_write_folded(b, f);
    fclose(f);
    gsm_pprof_builder_free(b);
    CHECK(r == 0 && pp && fr == 0);
    CHECK_EQ_U64(sum_under(pp, "go-heap", 0), 4 << 20);
    CHECK_EQ_U64(sum_under(pp, "go-heap", 1), (3 << 20) + (1 << 19));
    CHECK_EQ_U64(sum_under(pp, "main.leaf", 0), 2 << 20);
    CHECK_EQ_U64(sum_under(pp, GSM_PPROF_HEAP_NOT_IN_PROFILE, 0), 0);
    /* folded lines add up to the same total, root first, frames without ';' */
    uint64_t sum = 0;
    size_t lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *sp = strrchr(line, ' ');
        CHECK(sp);
        sum += strtoull(sp + 1, NULL, 10);
        CHECK(strncmp(line, "memshape[4242] uss_bytes=0;", 27) == 0);
        lines++;
    }
    CHECK_EQ_U64(sum, (2 << 20) + (4 << 20) + 12345);
    CHECK_EQ_U64(lines, pp->n_sample);
    free(text);
    perftools__profiles__profile__free_unpacked(pp, NULL);
    gsm_process_free(&p);
    gsm_heap_profile_free(&hp);
}

TEST(pprof_explain_tree_without_heap) {
    struct gsm_process p;
    proc_fixture(&p);
    struct gsm_pprof_builder *b = gsm_pprof_builder_new();
    CHECK(b);
    int r = gsm_explain_build_tree(b, NULL, &p, NULL);
    size_t n = gsm_pprof_sample_count(b);
    int64_t total = gsm_pprof_total_rss(b);
    gsm_pprof_builder_free(b);
    gsm_process_free(&p);
    CHECK(r == 0);
    CHECK_EQ_U64(n, 4);
    CHECK_EQ_U64(total, (2 << 20) + (4 << 20) + 12345);
}
