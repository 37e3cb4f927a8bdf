#include "test.h"
#include "readers/proc_smaps.h"
#include "analyses/totals.h"
#include "util/cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Captured from this machine (kernel 6.18), trimmed to two mappings. */
static const char two_maps[] =
    "55d0c7a00000-55d0c7a21000 rw-p 00000000 00:00 0                          [heap]\n"
    "Size:                132 kB\n"
    "KernelPageSize:        4 kB\n"
    "MMUPageSize:           4 kB\n"
    "Rss:                   8 kB\n"
    "Pss:                   8 kB\n"
    "Pss_Dirty:             8 kB\n"
    "Shared_Clean:          0 kB\n"
    "Shared_Dirty:          0 kB\n"
    "Private_Clean:         0 kB\n"
    "Private_Dirty:         8 kB\n"
    "Referenced:            8 kB\n"
    "Anonymous:             8 kB\n"
    "KSM:                   0 kB\n"
    "LazyFree:              0 kB\n"
    "AnonHugePages:         0 kB\n"
    "ShmemPmdMapped:        0 kB\n"
    "FilePmdMapped:         0 kB\n"
    "Shared_Hugetlb:        0 kB\n"
    "Private_Hugetlb:       0 kB\n"
    "Swap:                  0 kB\n"
    "SwapPss:               0 kB\n"
    "Locked:                0 kB\n"
    "THPeligible:           0\n"
    "VmFlags: rd wr mr mw me ac sd \n"
    "7f1e2a000000-7f1e2a022000 r--p 00000000 fd:01 1311   /usr/lib/my dir/libc.so.6 (deleted)\n"
    "Size:                136 kB\n"
    "Rss:                 136 kB\n"
    "Pss:                  13 kB\n"
    "FutureField:          42 kB\n"
    "FutureCount:          7\n"
    "VmFlags: rd mr mw me sd\n";

TEST(smaps_parses_fields_and_paths) {
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    CHECK(gsm_smaps_parse(&p, two_maps, sizeof two_maps - 1, false, &err) == 0);
    CHECK_EQ_U64(p.n_maps, 2);
    const struct gsm_mapping *h = &p.maps[0], *l = &p.maps[1];
    CHECK_EQ_U64(h->start, 0x55d0c7a00000);
    CHECK_EQ_U64(h->end, 0x55d0c7a21000);
    CHECK_STREQ(h->perms, "rw-p");
    CHECK_STREQ(h->path, "[heap]");
    CHECK_EQ_U64(h->f[GSM_F_SIZE], 132 * 1024);
    CHECK_EQ_U64(h->f[GSM_F_PRIVATE_DIRTY], 8192);
    CHECK_EQ_U64(h->f[GSM_F_THP_ELIGIBLE], 0);
    CHECK(h->present & (1ULL << GSM_F_LOCKED));
    CHECK_STREQ(h->vmflags, "rd wr mr mw me ac sd");
    CHECK(gsm_mapping_has_vmflag(h, "ac"));
    CHECK(!gsm_mapping_has_vmflag(h, "ht"));
    CHECK_STREQ(l->path, "/usr/lib/my dir/libc.so.6");
    CHECK(l->deleted);
    CHECK_EQ_U64(l->dev_major, 0xfd);
    CHECK_EQ_U64(l->inode, 1311);
    CHECK_EQ_U64(l->f[GSM_F_PSS], 13 * 1024);
    CHECK_EQ_U64(l->n_extra, 2);
    CHECK_STREQ(l->extra[0].key, "FutureField");
    CHECK_EQ_U64(l->extra[0].value, 42 * 1024);
    CHECK_EQ_U64(l->extra[1].value, 7);
    CHECK(!(l->present & (1ULL << GSM_F_SWAP)));
    gsm_process_free(&p);
}

TEST(smaps_rollup_parses) {
    static const char rollup[] =
        "55d0c7a00000-7ffc1b3fe000 ---p 00000000 00:00 0                          [rollup]\n"
        "Rss:                1884 kB\n"
        "Pss:                 321 kB\n"
        "Pss_Anon:            120 kB\n"
        "Pss_File:            201 kB\n"
        "Pss_Shmem:             0 kB\n";
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    CHECK(gsm_smaps_parse(&p, rollup, sizeof rollup - 1, true, &err) == 0);
    CHECK(p.have_rollup);
    CHECK_EQ_U64(p.n_maps, 0);
    CHECK_EQ_U64(p.rollup.f[GSM_F_PSS_FILE], 201 * 1024);
    CHECK_STREQ(p.rollup.path, "[rollup]");
    gsm_process_free(&p);
}

TEST(smaps_name_up_to_path_max) {
    char *buf = malloc(8192);
    int n = snprintf(buf, 8192, "7f0000000000-7f0000001000 r--p 00000000 08:01 99 /");
    for (int i = 0; i < 4090; i++)
        buf[n++] = 'a' + i % 26;
    n += snprintf(buf + n, 8192 - (size_t)n, "\nRss: 4 kB\n");
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    CHECK(gsm_smaps_parse(&p, buf, (size_t)n, false, &err) == 0);
    CHECK_EQ_U64(strlen(p.maps[0].path), 4091);
    gsm_process_free(&p);
    free(buf);
}

static int parse_expect_error(const char *text, size_t *ret_line) {
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    int r = gsm_smaps_parse(&p, text, strlen(text), false, &err);
    *ret_line = err.line;
    gsm_process_free(&p);
    return r;
}

TEST(smaps_hostile_inputs) {
    size_t line;
    /* field before any header */
    CHECK(parse_expect_error("Rss: 4 kB\n", &line) == -EBADMSG && line == 1);
    /* 25-digit value */
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0\nRss: 1234567890123456789012345 kB\n", &line) == -EBADMSG && line == 2);
    /* kB overflow after multiplying */
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0\nRss: 18446744073709551615 kB\n", &line) == -EBADMSG);
    /* garbage line */
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0\nthis is not smaps\n", &line) == -EBADMSG && line == 2);
    /* bad permission characters: not a header, and not a field */
    CHECK(parse_expect_error("00400000-00401000 rzxp 00000000 00:00 0\n", &line) == -EBADMSG);
    /* end below start */
    CHECK(parse_expect_error("00401000-00400000 r--p 00000000 00:00 0\n", &line) == -EBADMSG);
    /* missing number */
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0\nRss:    kB\n", &line) == -EBADMSG);
    /* unit where none belongs, and none where one does */
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0\nTHPeligible: 1 kB\n", &line) == -EBADMSG);
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0\nRss: 4\n", &line) == -EBADMSG);
    /* empty line in the middle */
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0\n\nRss: 4 kB\n", &line) == -EBADMSG && line == 2);
    /* an empty file is fine (kernel thread) */
    CHECK(parse_expect_error("", &line) == 0);
    /* a header with no trailing newline at EOF is fine */
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0", &line) == 0);
}

/* Issue 12: the streaming reader hands the parser chunks that are not NUL-terminated. A text
 * that stops inside a header ("a-b", exactly 3 bytes of heap) must be parsed within its bounds:
 * before the fix the hex parser read the byte after "b" (ASan: heap-buffer-overflow). */
TEST(smaps_unterminated_header_stays_in_bounds) {
    static const char *const texts[] = {"a-b", "00400000-00401000", "00400000-00401000 r--p 0", "00400000-00401000 r--p 00000000 fd:0"};
    for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
        size_t n = strlen(texts[i]);
        char *buf = malloc(n);
        CHECK(buf != NULL);
        memcpy(buf, texts[i], n);
        struct gsm_process p;
        gsm_process_init(&p, 1);
        struct gsm_parse_error err = {0};
        CHECK(gsm_smaps_parse(&p, buf, n, false, &err) == -EBADMSG);
        CHECK_EQ_U64(err.line, 1);
        gsm_process_free(&p);
        free(buf);
    }
}

/* Issue 12: per-mapping values that are each valid but whose sum passes 2^64 - 1: the totals
 * hold UINT64_MAX and say "saturated" (before: rss_bytes wrapped to 9223372036854749184). */
TEST(totals_saturate_instead_of_wrapping) {
    static const char big[] =
        "00400000-00401000 rw-p 00000000 00:00 0\nRss: 9007199254740991 kB\nPrivate_Dirty: 9007199254740991 kB\n"
        "00500000-00501000 rw-p 00000000 00:00 0\nRss: 9007199254740991 kB\nPrivate_Dirty: 9007199254740991 kB\n"
        "00600000-00601000 rw-p 00000000 00:00 0\nRss: 9007199254740991 kB\nPrivate_Dirty: 9007199254740991 kB\n";
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    CHECK(gsm_smaps_parse(&p, big, sizeof big - 1, false, &err) == 0);
    struct gsm_totals t;
    gsm_totals_compute(&p, &t);
    CHECK(t.saturated);
    CHECK_EQ_U64(t.all.rss_bytes, UINT64_MAX);
    CHECK_EQ_U64(t.all.private_dirty_bytes, UINT64_MAX);
    CHECK_EQ_U64(t.all.n_mappings, 3);
    gsm_process_free(&p);
    /* Control: two of them fit (2 x (2^63 - 1024) < 2^64) and are exact. */
    gsm_process_init(&p, 1);
    CHECK(gsm_smaps_parse(&p, big, (sizeof big - 1) * 2 / 3, false, &err) == 0);
    gsm_totals_compute(&p, &t);
    CHECK(!t.saturated);
    CHECK_EQ_U64(t.all.rss_bytes, UINT64_C(9007199254740991) * 1024 * 2);
    gsm_process_free(&p);
    /* Negative values are not numbers. */
    size_t line;
    CHECK(parse_expect_error("00400000-00401000 r--p 00000000 00:00 0\nRss: -4 kB\n", &line) == -EBADMSG && line == 2);
}

TEST(smaps_header_without_name_and_reordered_fields) {
    static const char text[] =
        "7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n"
        "VmFlags: rd wr\n"
        "Swap:  8 kB\n"
        "Rss:   12 kB\n";
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    CHECK(gsm_smaps_parse(&p, text, sizeof text - 1, false, &err) == 0);
    CHECK(p.maps[0].path == NULL);
    CHECK_EQ_U64(p.maps[0].f[GSM_F_RSS], 12288);
    CHECK_EQ_U64(p.maps[0].f[GSM_F_SWAP], 8192);
    gsm_process_free(&p);
}

TEST(reconcile_rule) {
    /* Two mappings whose Pss truncated to 13 and 20 kB; the rollup (one truncation) says 34. */
    static const char text[] =
        "00400000-00420000 r--p 00000000 08:01 5 /bin/x\nRss: 128 kB\nPss: 13 kB\n"
        "00420000-00440000 r--p 00020000 08:01 5 /bin/x\nRss: 128 kB\nPss: 20 kB\n";
    static const char rollup[] = "00400000-00440000 ---p 00000000 00:00 0 [rollup]\nRss: 256 kB\nPss: 34 kB\n";
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    CHECK(gsm_smaps_parse(&p, text, sizeof text - 1, false, &err) == 0);
    CHECK(gsm_smaps_parse(&p, rollup, sizeof rollup - 1, true, &err) == 0);
    struct gsm_totals t;
    gsm_totals_compute(&p, &t);
    struct gsm_reconcile_row rows[GSM_F__COUNT];
    bool ok;
    size_t n = gsm_reconcile_rollup(&p, &t, rows, &ok);
    CHECK_EQ_U64(n, 2);
    CHECK(ok);
    /* A proportional difference of 2 kB with 2 mappings breaks the rule. */
    p.rollup.f[GSM_F_PSS] = 35 * 1024;
    gsm_reconcile_rollup(&p, &t, rows, &ok);
    CHECK(!ok);
    /* Rss must match exactly. */
    p.rollup.f[GSM_F_PSS] = 34 * 1024;
    p.rollup.f[GSM_F_RSS] = 260 * 1024;
    gsm_reconcile_rollup(&p, &t, rows, &ok);
    CHECK(!ok);
    gsm_process_free(&p);
}

/* The parser's fast path takes lines in the kernel's exact layout (a 16-column key, an 8-column
 * value) for the field it expects next; everything else goes through the general path. Both
 * must give the same answer, and the fast path must never accept what the general one rejects. */
TEST(smaps_fast_path_matches_general_path) {
    /* two_maps in the kernel's layout vs. the same text with single blanks (general path only) */
    char *plain = malloc(sizeof two_maps), *w = plain;
    for (const char *r = two_maps, *nl; (nl = strchr(r, '\n')); r = nl + 1) {
        const char *k = r;
        while (k < nl && (*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z')))
            k++;
        if (k > r && *k == ':') {          /* "Key:<blanks>value" -> "Key: value" */
            const char *v = k + 1;
            while (*v == ' ')
                v++;
            w += sprintf(w, "%.*s: %.*s\n", (int)(k - r), r, (int)(nl - v), v);
        } else
            w += sprintf(w, "%.*s\n", (int)(nl - r), r);
    }
    *w = '\0';
    CHECK(strstr(plain, "Size: 132 kB\n") != NULL);
    struct gsm_process a, b;
    gsm_process_init(&a, 1);
    gsm_process_init(&b, 1);
    struct gsm_parse_error err = {0};
    CHECK_EQ_U64(gsm_smaps_parse(&a, two_maps, strlen(two_maps), false, &err), 0);
    CHECK_EQ_U64(gsm_smaps_parse(&b, plain, strlen(plain), false, &err), 0);
    CHECK_EQ_U64(a.n_maps, 2);
    CHECK_EQ_U64(b.n_maps, 2);
    for (size_t i = 0; i < 2 && i < a.n_maps && i < b.n_maps; i++) {
        CHECK_EQ_U64(a.maps[i].present, b.maps[i].present);
        CHECK_EQ_U64(a.maps[i].n_extra, b.maps[i].n_extra);
        for (int f = 0; f < GSM_F__COUNT; f++)
            CHECK_EQ_U64(a.maps[i].f[f], b.maps[i].f[f]);
    }
    CHECK_EQ_U64(a.maps[0].f[GSM_F_SIZE], 132 * 1024);
    CHECK_EQ_U64(a.maps[0].f[GSM_F_THP_ELIGIBLE], 0);
    gsm_process_free(&a);
    gsm_process_free(&b);
    free(plain);

    size_t line;
    const char *hdr = "00400000-00401000 r--p 00000000 00:00 0\n";
    char text[256];
    /* trailing junk after " kB" in the kernel's layout */
    snprintf(text, sizeof text, "%sSize:                  4 kBx\n", hdr);
    CHECK(parse_expect_error(text, &line) == -EBADMSG && line == 2);
    /* a unit on a count, and no unit on a size, in the kernel's layout */
    snprintf(text, sizeof text, "%sSize:                  4 kB\nKernelPageSize:        4\n", hdr);
    CHECK(parse_expect_error(text, &line) == -EBADMSG && line == 3);
    /* no digits */
    snprintf(text, sizeof text, "%sSize:                   kB\n", hdr);
    CHECK(parse_expect_error(text, &line) == -EBADMSG && line == 2);
    /* 20 digits overflow even in the kernel's layout */
    snprintf(text, sizeof text, "%sSize:            99999999999999999999 kB\n", hdr);
    CHECK(parse_expect_error(text, &line) == -EBADMSG && line == 2);
    /* the last line without its newline at EOF */
    snprintf(text, sizeof text, "%sSize:                  4 kB", hdr);
    CHECK(parse_expect_error(text, &line) == 0);

    /* 17 digits: longer than the fast path reads, still parsed exactly */
    struct gsm_process p;
    gsm_process_init(&p, 1);
    snprintf(text, sizeof text, "%sSize:            12345678901234567 kB\nKernelPageSize:        4 kB\n", hdr);
    CHECK_EQ_U64(gsm_smaps_parse(&p, text, strlen(text), false, &err), 0);
    CHECK_EQ_U64(p.maps[0].f[GSM_F_SIZE], UINT64_C(12345678901234567) * 1024);
    CHECK_EQ_U64(p.maps[0].f[GSM_F_KERNEL_PAGE_SIZE], 4096);
    gsm_process_free(&p);
}

/* After one mapping in the kernel's exact layout, the next mappings' fields are matched as one
 * block (fast_block()). Mappings that differ from the learned block (a value wider than 8
 * columns, a field missing, one more field, reordered fields) must still come out exactly as
 * the general path, line by line, reads them. */
static void put_field(char **w, const char *key, unsigned long long v, bool kb) {
    char k[32];
    snprintf(k, sizeof k, "%s:", key);
    *w += sprintf(*w, "%-16s%8llu%s\n", k, v, kb ? " kB" : "");
}

TEST(smaps_block_path_matches_general_path) {
    static const char *const keys[] = {"Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty",
                                       "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
                                       "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages",
                                       "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb",
                                       "Swap", "SwapPss", "Locked"};
    const size_t nk = sizeof keys / sizeof keys[0];
    char *text = malloc(64 * 1024), *w = text;
    for (unsigned m = 0; m < 9; m++) {
        w += sprintf(w, "%08x-%08x rw-p 00000000 00:00 0\n", 0x10000u * (m + 1), 0x10000u * (m + 1) + 0x1000u);
        for (size_t k = 0; k < nk; k++) {
            if (m == 4 && k == 5)          /* a field missing */
                continue;
            unsigned long long v = (m * 31 + k * 7) % 13 * 4;
            if (m == 3 && k == 0)          /* 9 digits: wider than the 8 value columns */
                v = 123456789;
            if (m == 5 && k == 3)          /* the largest 8-column value */
                v = 99999999;
            if (m == 6 && k == 1) {        /* two fields swapped */
                put_field(&w, keys[2], 4, true);
                put_field(&w, keys[1], 4, true);
                k++;
                continue;
            }
            put_field(&w, keys[k], v, true);
        }
        if (m == 7)
            put_field(&w, "FutureField", 5, true);   /* one more field */
        put_field(&w, "THPeligible", m & 1, false);
        w += sprintf(w, "VmFlags: rd wr mr mw me ac sd \n");
    }
    struct gsm_process a, b;
    gsm_process_init(&a, 1);
    gsm_process_init(&b, 1);
    struct gsm_parse_error err = {0};
    CHECK_EQ_U64(gsm_smaps_parse(&a, text, (size_t)(w - text), false, &err), 0);
    struct gsm_smaps_parser ps;
    gsm_smaps_parser_init(&ps, &b, false, &err);
    for (char *r = text, *nl; (nl = strchr(r, '\n')); r = nl + 1)
        CHECK_EQ_U64(gsm_smaps_parser_line(&ps, r, (size_t)(nl - r)), 0);
    CHECK_EQ_U64(a.n_maps, 9);
    CHECK_EQ_U64(b.n_maps, 9);
    for (size_t i = 0; i < a.n_maps && i < b.n_maps; i++) {
        CHECK_EQ_U64(a.maps[i].start, b.maps[i].start);
        CHECK_EQ_U64(a.maps[i].present, b.maps[i].present);
        CHECK_EQ_U64(a.maps[i].n_extra, b.maps[i].n_extra);
        CHECK(a.maps[i].vmflags && b.maps[i].vmflags && strcmp(a.maps[i].vmflags, b.maps[i].vmflags) == 0);
        for (int f = 0; f < GSM_F__COUNT; f++)
            CHECK_EQ_U64(a.maps[i].f[f], b.maps[i].f[f]);
    }
    CHECK_EQ_U64(a.maps[3].f[GSM_F_SIZE], UINT64_C(123456789) * 1024);
    CHECK_EQ_U64(a.maps[5].f[GSM_F_RSS], UINT64_C(99999999) * 1024);
    CHECK_EQ_U64(a.maps[4].present & (UINT64_C(1) << GSM_F_PSS_DIRTY), 0);
    CHECK_EQ_U64(a.maps[7].n_extra, 1);
    CHECK_EQ_U64(a.maps[8].f[GSM_F_THP_ELIGIBLE], 0);
    CHECK_EQ_U64(a.maps[7].f[GSM_F_THP_ELIGIBLE], 1);
    gsm_process_free(&a);
    gsm_process_free(&b);
    free(text);
}

/* Totals rank the largest mappings as they are added; adding in parts (explain does, while
 * smaps streams in) gives the same totals and ranking as adding everything at once. */
TEST(totals_rank_largest_mappings_incrementally) {
    char text[8192] = "", *w = text;
    static const unsigned rss_kb[] = {4, 0, 64, 8, 64, 128, 4, 0, 32};
    for (size_t i = 0; i < ELEMENTSOF(rss_kb); i++)
        w += sprintf(w, "%llx-%llx rw-p 00000000 00:00 0\nRss: %u kB\n", 0x10000ULL * (i + 1),
                     0x10000ULL * (i + 1) + 0x1000, rss_kb[i]);
    struct gsm_process p;
    gsm_process_init(&p, 1);
    struct gsm_parse_error err = {0};
    CHECK_EQ_U64(gsm_smaps_parse(&p, text, strlen(text), false, &err), 0);
    struct gsm_totals whole, parts = {0};
    gsm_totals_compute(&p, &whole);
    gsm_totals_add(&parts, &p, 0, 4);
    gsm_totals_add(&parts, &p, 4, p.n_maps);
    /* largest first; the two 64 kB mappings in address order; the two empty ones left out */
    static const size_t want[] = {5, 2, 4, 8, 3, 0, 6};
    CHECK_EQ_U64(whole.n_top, ELEMENTSOF(want));
    for (size_t i = 0; i < ELEMENTSOF(want) && i < whole.n_top; i++) {
        CHECK_EQ_U64(whole.top[i], want[i]);
        CHECK_EQ_U64(parts.top[i], want[i]);
    }
    CHECK(memcmp(&whole, &parts, sizeof whole) == 0);
    CHECK_EQ_U64(whole.all.rss_bytes, (4 + 64 + 8 + 64 + 128 + 4 + 32) * 1024);
    gsm_process_free(&p);
}
