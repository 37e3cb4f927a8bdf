/* Tests for readers/go_pclntab.c: synthetic tables in the 1.2, 1.16, 1.18 and 1.20 layouts (Go
 * 1.19 here writes only 1.18), hostile tables that must fail cleanly (ASan/UBSan build runs these
 * too), and the real Go targets: by section name, and by scanning when the section headers are
 * gone. The comparison with `go tool addr2line` on 1,000 PCs is tests/live/test_symbolize.sh. */
#include "test.h"

#include "readers/go_pclntab.h"
#include "util/cleanup.h"
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- a small table builder ---------------------------------------------------------------
 *
 * Three functions from two files, text at 0x401000 (quantum 1):
 *   main.a   [0x00, 0x20)  a.go    line 10 for [0x00,0x10), 11 for [0x10,0x20)
 *   main.b   [0x20, 0x50)  a.go:20 for [0x20,0x38), b.go:30 for [0x38,0x50)
 *   pkg.c    [0x50, 0x60)  b.go:5
 * (offsets from the text start). Layout: header, funcnametab, cutab, filetab, functab + _func
 * records, pctab last (so a pc-value table can be made to run to the end of the buffer). */

#define TEXT 0x401000u

struct tb {
    uint8_t b[1 << 17];
    size_t n;
    unsigned ver, ptr;
    bool be;
};

static void put(struct tb *t, uint64_t v, unsigned size) {
    for (unsigned i = 0; i < size; i++)
        t->b[t->n + (t->be ? size - 1 - i : i)] = (uint8_t)(v >> (8 * i));
    t->n += size;
}
static void put_at(struct tb *t, size_t at, uint64_t v, unsigned size) {
    size_t save = t->n;
    t->n = at;
    put(t, v, size);
    t->n = save;
}
static void put_bytes(struct tb *t, const void *p, size_t len) {
    memcpy(t->b + t->n, p, len);
    t->n += len;
}
static void put_varint(struct tb *t, uint32_t v) {
    while (v >= 0x80) {
        t->b[t->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t->b[t->n++] = (uint8_t)v;
}
/* A pc-value table: rows of (value, pc end offset relative to the function entry). */
struct row { int32_t val; uint32_t end; };
static void put_pcvalue(struct tb *t, const struct row *rows, size_t n) {
    int32_t prev = -1;
    uint32_t pc = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t d = rows[i].val - prev;
        put_varint(t, d < 0 ? ((uint32_t)~d << 1) | 1 : (uint32_t)d << 1);
        put_varint(t, rows[i].end - pc);
        prev = rows[i].val;
        pc = rows[i].end;
    }
    t->b[t->n++] = 0;
}

struct fn { const char *name; uint32_t start, end; struct row lines[2]; size_t nlines; struct row files[2]; size_t nfiles; };
static const struct fn FUNCS[] = {
    {"main.a", 0x00, 0x20, {{10, 0x10}, {11, 0x20}}, 2, {{0, 0x20}}, 1},
    {"main.b", 0x20, 0x50, {{20, 0x18}, {30, 0x30}}, 2, {{0, 0x18}, {1, 0x30}}, 2},
    {"pkg.c", 0x50, 0x60, {{5, 0x10}}, 1, {{1, 0x10}}, 1},
};
#define NF 3

/* Build a table in format ver (12, 116, 118, 120). For 1.2, file numbers are 1-based indexes of
 * a filetab of Data offsets; for 1.16+ they index the function's compilation unit in cutab. */
static void build(struct tb *t, unsigned ver, unsigned ptr, bool be) {
    memset(t, 0, sizeof *t);
    t->ver = ver, t->ptr = ptr, t->be = be;
    uint32_t magic = ver == 12 ? 0xfffffffb : ver == 116 ? 0xfffffffa : ver == 118 ? 0xfffffff0 : 0xfffffff1;
    put(t, magic, 4);
    uint8_t fixed[4] = {0, 0, 1, (uint8_t)ptr};
    put_bytes(t, fixed, 4);
    unsigned nwords = ver == 12 ? 1 : ver == 116 ? 7 : 8;
    size_t words = t->n;
    for (unsigned i = 0; i < nwords; i++)
        put(t, 0, ptr);
    unsigned fsz = ver >= 118 ? 4 : ptr;        /* functab field */
    unsigned sz0 = ver >= 118 ? 4 : ptr;        /* _func entry field */
    size_t rec = sz0 + 10 * 4;                  /* _func through nfuncdata, roughly */

    if (ver == 12) {
        /* functab right after the header, then the uint32 filetab offset */
        put_at(t, words, NF, ptr);
        size_t ftab = t->n;
        t->n += (2 * NF + 1) * fsz;
        size_t fileoff_at = t->n;
        t->n += 4;
        size_t names[NF], recs[NF], lines[NF], files[NF];
        for (int i = 0; i < NF; i++) {
            names[i] = t->n;
            put_bytes(t, FUNCS[i].name, strlen(FUNCS[i].name) + 1);
        }
        size_t fa = t->n;
        put_bytes(t, "a.go", 5);
        size_t fb = t->n;
        put_bytes(t, "b.go", 5);
        size_t filetab = t->n;
        put(t, 3, 4);            /* nfiletab; slot 0 is this count, file numbers start at 1 */
        put(t, fa, 4);
        put(t, fb, 4);
        for (int i = 0; i < NF; i++) {
            recs[i] = t->n;
            t->n += rec;
        }
        t->b[t->n++] = 0xee;     /* so no table starts at offset 0 */
        for (int i = 0; i < NF; i++) {
            lines[i] = t->n;
            put_pcvalue(t, FUNCS[i].lines, FUNCS[i].nlines);
            files[i] = t->n;
            struct row fr[2];
            for (size_t k = 0; k < FUNCS[i].nfiles; k++)
                fr[k] = (struct row){FUNCS[i].files[k].val + 1, FUNCS[i].files[k].end};
            put_pcvalue(t, fr, FUNCS[i].nfiles);
        }
        for (int i = 0; i < NF; i++) {
            put_at(t, ftab + 2 * i * fsz, TEXT + FUNCS[i].start, fsz);
            put_at(t, ftab + (2 * i + 1) * fsz, recs[i], fsz);
            put_at(t, recs[i], TEXT + FUNCS[i].start, sz0);
            put_at(t, recs[i] + sz0 + 0 * 4, names[i], 4);
            put_at(t, recs[i] + sz0 + 4 * 4, files[i], 4);
            put_at(t, recs[i] + sz0 + 5 * 4, lines[i], 4);
        }
        put_at(t, ftab + 2 * NF * fsz, TEXT + 0x60, fsz);
        put_at(t, fileoff_at, filetab, 4);
        return;
    }

    size_t funcname = t->n, names[NF];
    for (int i = 0; i < NF; i++) {
        names[i] = t->n - funcname;
        put_bytes(t, FUNCS[i].name, strlen(FUNCS[i].name) + 1);
    }
    size_t cutab = t->n;
    put(t, 0, 4);   /* CU 0: file 0 = "a.go" at filetab+0, file 1 = "b.go" at filetab+5 */
    put(t, 5, 4);
    size_t filetab = t->n;
    put_bytes(t, "a.go\0b.go", 10);
    size_t funcdata = t->n;
    t->n += (2 * NF + 1) * fsz;
    size_t recs[NF];
    for (int i = 0; i < NF; i++) {
        recs[i] = t->n - funcdata;
        t->n += rec;
    }
    size_t pctab = t->n, lines[NF], files[NF];
    t->b[t->n++] = 0;   /* offset 0 means "no table" */
    for (int i = 0; i < NF; i++) {
        lines[i] = t->n - pctab;
        put_pcvalue(t, FUNCS[i].lines, FUNCS[i].nlines);
        files[i] = t->n - pctab;
        put_pcvalue(t, FUNCS[i].files, FUNCS[i].nfiles);
    }
    uint64_t w[8];
    size_t k = 0;
    w[k++] = NF;
    w[k++] = 2;
    if (ver >= 118)
        w[k++] = TEXT;
    w[k++] = funcname, w[k++] = cutab, w[k++] = filetab, w[k++] = pctab, w[k++] = funcdata;
    for (size_t i = 0; i < k; i++)
        put_at(t, words + i * ptr, w[i], ptr);
    uint64_t base = ver >= 118 ? 0 : TEXT;   /* 1.18+: offsets from textStart; before: absolute */
    for (int i = 0; i < NF; i++) {
        put_at(t, funcdata + 2 * i * fsz, base + FUNCS[i].start, fsz);
        put_at(t, funcdata + (2 * i + 1) * fsz, recs[i], fsz);
        size_t r = funcdata + recs[i];
        put_at(t, r, base + FUNCS[i].start, sz0);
        put_at(t, r + sz0 + 0 * 4, names[i], 4);    /* nameoff */
        put_at(t, r + sz0 + 4 * 4, files[i], 4);    /* pcfile */
        put_at(t, r + sz0 + 5 * 4, lines[i], 4);    /* pcln */
        put_at(t, r + sz0 + 7 * 4, 0, 4);           /* cuOffset */
    }
    put_at(t, funcdata + 2 * NF * fsz, base + 0x60, fsz);
}

/* Offset of header word i. */
static size_t word(const struct tb *t, unsigned i) { return 8 + (size_t)i * t->ptr; }

static int check_lookups(const struct gsm_pclntab *p) {
    static const struct { uint32_t off; const char *fn, *file; int line; uint32_t entry; } want[] = {
        {0x00, "main.a", "a.go", 10, 0x00}, {0x0f, "main.a", "a.go", 10, 0x00},
        {0x10, "main.a", "a.go", 11, 0x00}, {0x1f, "main.a", "a.go", 11, 0x00},
        {0x20, "main.b", "a.go", 20, 0x20}, {0x37, "main.b", "a.go", 20, 0x20},
        {0x38, "main.b", "b.go", 30, 0x20}, {0x4f, "main.b", "b.go", 30, 0x20},
        {0x50, "pkg.c", "b.go", 5, 0x50},   {0x5f, "pkg.c", "b.go", 5, 0x50},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct gsm_symbol s;
        if (gsm_pclntab_lookup(p, TEXT + want[i].off, &s) != 0)
            return (int)i + 1;
        if (strcmp(s.func, want[i].fn) || strcmp(s.file, want[i].file) || s.line != want[i].line ||
            s.entry != TEXT + want[i].entry) {
            printf("# pc +0x%x: %s %s:%d entry 0x%" PRIx64 "\n", want[i].off, s.func, s.file, s.line, s.entry);
            return (int)i + 1;
        }
    }
    struct gsm_symbol s;
    if (gsm_pclntab_lookup(p, TEXT - 1, &s) != -ENOENT || gsm_pclntab_lookup(p, TEXT + 0x60, &s) != -ENOENT ||
        gsm_pclntab_lookup(p, 0, &s) != -ENOENT || gsm_pclntab_lookup(p, UINT64_MAX, &s) != -ENOENT)
        return 100;
    return 0;
}

/* tests/fuzz/make-corpus.sh sets GSM_FUZZ_SEED_DIR to take these tables as fuzzing seeds. */
static void write_fuzz_seed(const struct tb *t, unsigned ver, unsigned ptr, bool be) {
    const char *dir = getenv("GSM_FUZZ_SEED_DIR");
    char path[4096];
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/synthetic-%u-ptr%u-%s", dir, ver, ptr, be ? "be" : "le");
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(t->b, 1, t->n, f);
        fclose(f);
    }
}

static void run_format(unsigned ver, unsigned ptr, bool be, const char *want_version, int *ret) {
    static struct tb t;
    build(&t, ver, ptr, be);
    write_fuzz_seed(&t, ver, ptr, be);
    struct gsm_pclntab *p = NULL;
    int r = gsm_pclntab_parse(t.b, t.n, 0, &p);
    if (r < 0) {
        *ret = -1000 + r;
        return;
    }
    *ret = strcmp(gsm_pclntab_version(p), want_version) ? 200 : check_lookups(p);
    if (*ret == 0 && gsm_pclntab_nfunc(p) != NF)
        *ret = 300;
    gsm_pclntab_free(p);
}

TEST(pclntab_go116) {
    int r;
    run_format(116, 8, false, "1.16", &r);
    CHECK_EQ_U64(r, 0);
    run_format(116, 4, false, "1.16", &r);
    CHECK_EQ_U64(r, 0);
}

TEST(pclntab_go118) {
    int r;
    run_format(118, 8, false, "1.18", &r);
    CHECK_EQ_U64(r, 0);
    run_format(118, 8, true, "1.18", &r);   /* big endian (ppc64, s390x) */
    CHECK_EQ_U64(r, 0);
}

/* 1.20 changes nothing this reader uses: gosym parses it with the 1.18 code ("case ver118,
 * ver120"); the _func record gained startLine after cuOffset, which sits past the fields read. */
TEST(pclntab_go120) {
    int r;
    run_format(120, 8, false, "1.20", &r);
    CHECK_EQ_U64(r, 0);
    run_format(120, 4, true, "1.20", &r);
    CHECK_EQ_U64(r, 0);
}

TEST(pclntab_go12) {
    int r;
    run_format(12, 8, false, "1.2", &r);
    CHECK_EQ_U64(r, 0);
}

/* 1.18+: an explicit text start (the runtime.text of a relocated image) overrides the header. */
TEST(pclntab_text_start_override) {
    static struct tb t;
    build(&t, 118, 8, false);
    struct gsm_pclntab *p = NULL;
    CHECK(gsm_pclntab_parse(t.b, t.n, 0x10000, &p) == 0);
    struct gsm_symbol s;
    CHECK(gsm_pclntab_lookup(p, 0x10000 + 0x38, &s) == 0);
    CHECK_STREQ(s.func, "main.b");
    CHECK_STREQ(s.file, "b.go");
    CHECK_EQ_U64(s.line, 30);
    CHECK(gsm_pclntab_lookup(p, TEXT + 0x38, &s) == -ENOENT);
    gsm_pclntab_free(p);
}

/* ---- hostile tables --------------------------------------------------------------------- */

static int parse_tb(const struct tb *t, struct gsm_pclntab **p) { return gsm_pclntab_parse(t->b, t->n, 0, p); }

TEST(pclntab_not_a_table) {
    struct gsm_pclntab *p = NULL;
    static const uint8_t zeros[64];
    CHECK(gsm_pclntab_parse(zeros, sizeof zeros, 0, &p) == -ENOEXEC);
    CHECK(gsm_pclntab_parse(zeros, 0, 0, &p) == -EINVAL);
    static struct tb t;
    build(&t, 118, 8, false);
    t.b[6] = 3;   /* pc quantum 3 */
    CHECK(parse_tb(&t, &p) == -EINVAL);
    build(&t, 118, 8, false);
    t.b[7] = 2;   /* pointer size 2 */
    CHECK(parse_tb(&t, &p) == -EINVAL);
    build(&t, 118, 8, false);
    t.b[4] = 1;   /* pad byte */
    CHECK(parse_tb(&t, &p) == -EINVAL);
    CHECK(p == NULL);
}

/* Every prefix of a valid table: parse fails cleanly, or succeeds and every lookup answers 0,
 * -ENOENT or -EINVAL (never a read past the buffer: the ASan build checks that). */
TEST(pclntab_truncated) {
    static const unsigned vers[] = {12, 116, 118, 120};
    for (size_t v = 0; v < 4; v++) {
        static struct tb t;
        build(&t, vers[v], 8, false);
        for (size_t len = 0; len < t.n; len++) {
            uint8_t *copy = malloc(len ? len : 1);   /* exact size, so ASan sees any overread */
            CHECK(copy);
            memcpy(copy, t.b, len);
            struct gsm_pclntab *p = NULL;
            int r = gsm_pclntab_parse(copy, len, 0, &p);
            free(copy);
            if (r < 0) {
                CHECK(r == -EINVAL || r == -ENOEXEC);
                continue;
            }
            for (uint32_t off = 0; off < 0x60; off += 3) {
                struct gsm_symbol s;
                int lr = gsm_pclntab_lookup(p, TEXT + off, &s);
                CHECK(lr == 0 || lr == -ENOENT || lr == -EINVAL);
            }
            gsm_pclntab_free(p);
        }
    }
}

TEST(pclntab_lying_offsets) {
    static struct tb t;
    struct gsm_pclntab *p = NULL;
    for (unsigned w = 3; w <= 7; w++) {   /* funcname, cu, filetab, pctab, pcln of a 1.18 header */
        build(&t, 118, 8, false);
        put_at(&t, word(&t, w), t.n, 8);   /* one past the end */
        CHECK(parse_tb(&t, &p) == -EINVAL);
        put_at(&t, word(&t, w), UINT64_MAX - 3, 8);
        CHECK(parse_tb(&t, &p) == -EINVAL);
        put_at(&t, word(&t, w), 4, 8);     /* inside the header */
        CHECK(parse_tb(&t, &p) == -EINVAL);
    }
    /* A functab entry whose record offset points outside the table. */
    build(&t, 118, 8, false);
    uint64_t funcdata = 0;
    for (unsigned i = 0; i < 8; i++)
        funcdata |= (uint64_t)t.b[word(&t, 7) + i] << (8 * i);
    put_at(&t, funcdata + 4, 0xfffffff0u, 4);
    CHECK(parse_tb(&t, &p) == -EINVAL);
    /* An unsorted functab. */
    build(&t, 118, 8, false);
    put_at(&t, funcdata + 8, 0x5f, 4);
    CHECK(parse_tb(&t, &p) == -EINVAL);
    /* A name offset and a cutab index past the end: the table parses, the lookup says -EINVAL. */
    build(&t, 118, 8, false);
    uint32_t rec0 = 0;
    for (unsigned i = 0; i < 4; i++)
        rec0 |= (uint32_t)t.b[funcdata + 4 + i] << (8 * i);
    put_at(&t, funcdata + rec0 + 4, 0x7fffffff, 4);          /* main.a nameoff */
    put_at(&t, funcdata + rec0 + 4 + 7 * 4, 0x40000000, 4);  /* main.a cuOffset */
    CHECK(parse_tb(&t, &p) == 0);
    struct gsm_symbol s;
    CHECK(gsm_pclntab_lookup(p, TEXT + 1, &s) == -EINVAL);
    CHECK(gsm_pclntab_lookup(p, TEXT + 0x21, &s) == 0);       /* the other functions still work */
    CHECK_STREQ(s.func, "main.b");
    gsm_pclntab_free(p);
}

TEST(pclntab_nfunc_huge) {
    static struct tb t;
    struct gsm_pclntab *p = NULL;
    static const uint64_t bad[] = {0, UINT64_MAX, (uint64_t)1 << 32, (1u << 24) - 1, 4};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        build(&t, 118, 8, false);
        put_at(&t, word(&t, 0), bad[i], 8);
        CHECK(parse_tb(&t, &p) == -EINVAL);
        build(&t, 116, 4, false);
        put_at(&t, word(&t, 0), bad[i], 4);
        CHECK(parse_tb(&t, &p) == -EINVAL);
        build(&t, 12, 8, false);
        put_at(&t, word(&t, 0), bad[i], 8);
        CHECK(parse_tb(&t, &p) == -EINVAL);
    }
}

/* Point main.a's line table at bytes of our choosing, placed at the very end of the buffer. */
static void set_pcln_tail(struct tb *t, const uint8_t *bytes, size_t len) {
    uint64_t funcdata = 0, pctab = 0;
    for (unsigned i = 0; i < 8; i++) {
        funcdata |= (uint64_t)t->b[word(t, 7) + i] << (8 * i);
        pctab |= (uint64_t)t->b[word(t, 6) + i] << (8 * i);
    }
    uint32_t rec0 = 0;
    for (unsigned i = 0; i < 4; i++)
        rec0 |= (uint32_t)t->b[funcdata + 4 + i] << (8 * i);
    put_at(t, funcdata + rec0 + 4 + 5 * 4, t->n - pctab, 4);
    put_bytes(t, bytes, len);
}

TEST(pclntab_varint_overflow) {
    static struct tb t;
    struct gsm_pclntab *p = NULL;
    struct gsm_symbol s;
    /* 6-byte varint; a 5-byte one with bits above 32; a varint cut by the end of the buffer. */
    static const uint8_t v6[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
    static const uint8_t v5[] = {0xff, 0xff, 0xff, 0xff, 0x7f, 0x02};
    static const uint8_t cut[] = {0x02, 0x80, 0x80};
    const struct { const uint8_t *b; size_t n; } cases[] = {{v6, sizeof v6}, {v5, sizeof v5}, {cut, sizeof cut}};
    for (size_t i = 0; i < 3; i++) {
        build(&t, 118, 8, false);
        set_pcln_tail(&t, cases[i].b, cases[i].n);
        CHECK(parse_tb(&t, &p) == 0);
        CHECK(gsm_pclntab_lookup(p, TEXT + 5, &s) == -EINVAL);
        gsm_pclntab_free(p);
    }
}

/* Rows with a zero pc delta never advance: the walk must stop at the end of the buffer. */
TEST(pclntab_pc_table_never_ends) {
    static struct tb t;
    build(&t, 118, 8, false);
    static uint8_t spin[100000];
    for (size_t i = 0; i + 1 < sizeof spin; i += 2)
        spin[i] = 0x02, spin[i + 1] = 0x00;   /* value +1, pc +0, forever */
    set_pcln_tail(&t, spin, sizeof spin);
    struct gsm_pclntab *p = NULL;
    CHECK(parse_tb(&t, &p) == 0);
    struct gsm_symbol s;
    CHECK(gsm_pclntab_lookup(p, TEXT + 5, &s) == -EINVAL);
    gsm_pclntab_free(p);
    /* pc deltas that would wrap the 64-bit pc */
    build(&t, 118, 8, false);
    static uint8_t big[60000];
    size_t n = 0;
    while (n + 7 <= sizeof big) {
        static const uint8_t row[] = {0x02, 0xff, 0xff, 0xff, 0xff, 0x0f};
        memcpy(big + n, row, sizeof row);
        n += sizeof row;
    }
    set_pcln_tail(&t, big, n);
    CHECK(parse_tb(&t, &p) == 0);
    CHECK(gsm_pclntab_lookup(p, TEXT + 5, &s) == 0);   /* the first row already covers +5 */
    CHECK(gsm_pclntab_lookup(p, TEXT + 0x1f, &s) == 0);
    gsm_pclntab_free(p);
}

/* ---- real binaries ---------------------------------------------------------------------- */

static const char *targets_dir(void) {
    const char *d = getenv("GSM_TARGETS_DIR");
    return d && *d ? d : "build/targets";
}

static int open_target(const char *name, struct gsm_pclntab **p) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", targets_dir(), name);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    return gsm_pclntab_open_fd(fd, p);
}

static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

TEST(pclntab_real_targets) {
    static const struct { const char *name, *source; bool pie; } v[] = {
        {"memshape", ".gopclntab", false},
        {"memshape-stripped", ".gopclntab", false},
        {"memshape-pie", ".data.rel.ro.gopclntab", true},
        {"memshape-cgo", ".gopclntab", false},
    };
    for (size_t i = 0; i < 4; i++) {
        struct gsm_pclntab *p = NULL;
        int r = open_target(v[i].name, &p);
        if (r == -ENOENT)
            SKIP("Go targets not built (run tests/targets/build-go.sh build/targets or set GSM_TARGETS_DIR)");
        CHECK(r == 0);
        CHECK_STREQ(gsm_pclntab_version(p), "1.18");   /* Go 1.19 writes the 1.18 format */
        CHECK_STREQ(gsm_pclntab_source(p), v[i].source);
        CHECK(gsm_pclntab_is_pie(p) == v[i].pie);
        CHECK_EQ_U64(gsm_pclntab_link_base(p), 0x400000);
        CHECK(gsm_pclntab_nfunc(p) > 1000);
        uint64_t s, e;
        gsm_pclntab_text_range(p, &s, &e);
        CHECK(s >= 0x401000 && e > s && e - s < (64u << 20));
        /* Every random PC in range symbolizes to a function whose entry is at or below it. */
        uint64_t seed = 0x9e3779b97f4a7c15ull;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int k = 0; k < 100000; k++) {
            uint64_t pc = s + xorshift(&seed) % (e - s);
            struct gsm_symbol sym;
            CHECK(gsm_pclntab_lookup(p, pc, &sym) == 0);
            CHECK(sym.entry <= pc && sym.func[0]);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (getenv("GSM_BENCH"))
            printf("# %s: %.1f us per 1000 lookups\n", v[i].name,
                   ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / 100);
        gsm_pclntab_free(p);
    }
}

/* Without section headers the table is found by scanning the segments, with the same answers. */
TEST(pclntab_scan_without_sections) {
    static const char *const names[] = {"memshape", "memshape-pie", "memshape-cgo"};
    for (size_t i = 0; i < 3; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", targets_dir(), names[i]);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = gsm_read_file_at(AT_FDCWD, path, (size_t)256 << 20, &buf, &len);
        if (r == -ENOENT)
            SKIP("Go targets not built (run tests/targets/build-go.sh build/targets or set GSM_TARGETS_DIR)");
        CHECK(r == 0 && len > 0x40);
        struct gsm_pclntab *ref = NULL, *p = NULL;
        CHECK(open_target(names[i], &ref) == 0);
        /* ELF64: zero e_shoff (0x28), e_shentsize, e_shnum, e_shstrndx (0x3a..0x3f) */
        memset(buf + 0x28, 0, 8);
        memset(buf + 0x3a, 0, 6);
        char tpath[PATH_MAX];
        snprintf(tpath, sizeof tpath, "%s/gsm-pclntab-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        _cleanup_close_ int fd = mkstemp(tpath);
        CHECK(fd >= 0);
        unlink(tpath);
        CHECK(write(fd, buf, len) == (ssize_t)len);
        r = gsm_pclntab_open_fd(fd, &p);
        CHECK(r == 0);
        CHECK_STREQ(gsm_pclntab_source(p), "scan");
        uint64_t s, e, s2, e2;
        gsm_pclntab_text_range(ref, &s, &e);
        gsm_pclntab_text_range(p, &s2, &e2);
        CHECK(s == s2 && e == e2);
        uint64_t seed = 12345;
        for (int k = 0; k < 2000; k++) {
            uint64_t pc = s + xorshift(&seed) % (e - s);
            struct gsm_symbol a, b;
            CHECK(gsm_pclntab_lookup(ref, pc, &a) == 0 && gsm_pclntab_lookup(p, pc, &b) == 0);
            CHECK(strcmp(a.func, b.func) == 0 && strcmp(a.file, b.file) == 0 && a.line == b.line);
        }
        gsm_pclntab_free(ref);
        gsm_pclntab_free(p);
    }
}

/* Not Go, not ELF, empty, a directory. */
TEST(pclntab_not_go) {
    struct gsm_pclntab *p = NULL;
    _cleanup_close_ int sh = open("/bin/sh", O_RDONLY | O_CLOEXEC);
    if (sh >= 0)
        CHECK(gsm_pclntab_open_fd(sh, &p) == -ENOEXEC);
    _cleanup_close_ int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(gsm_pclntab_open_fd(dir, &p) == -EISDIR);
    _cleanup_close_ int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(gsm_pclntab_open_fd(null, &p) == -EINVAL);
    CHECK(p == NULL);
}
