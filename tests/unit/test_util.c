#include "test.h"
#include "util/fileio.h"
#include "util/parse.h"
#include "util/units.h"
#include "util/cleanup.h"
#include "util/memtrim.h"
#include "model/strpool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

TEST(parse_u64_plain) {
    const char *s = "  12345 kB";
    uint64_t v;
    CHECK(gsm_parse_u64(&s, &v) == 0);
    CHECK_EQ_U64(v, 12345);
    CHECK_STREQ(s, " kB");
}

TEST(parse_u64_max_and_overflow) {
    const char *s = "18446744073709551615";
    uint64_t v;
    CHECK(gsm_parse_u64(&s, &v) == 0);
    CHECK_EQ_U64(v, UINT64_MAX);
    s = "18446744073709551616";
    CHECK(gsm_parse_u64(&s, &v) == -ERANGE);
    s = "1234567890123456789012345";   /* 25 digits */
    CHECK(gsm_parse_u64(&s, &v) == -ERANGE);
    s = "kB";
    CHECK(gsm_parse_u64(&s, &v) == -EINVAL);
}

TEST(parse_i64_signs) {
    const char *s = "-1000";
    int64_t v;
    CHECK(gsm_parse_i64(&s, &v) == 0 && v == -1000);
    s = "-9223372036854775808";
    CHECK(gsm_parse_i64(&s, &v) == 0 && v == INT64_MIN);
    s = "9223372036854775808";
    CHECK(gsm_parse_i64(&s, &v) == -ERANGE);
}

TEST(parse_hex) {
    const char *s = "7fffd000-";
    uint64_t v;
    CHECK(gsm_parse_hex64(&s, s + strlen(s), &v) == 0);
    CHECK_EQ_U64(v, 0x7fffd000);
    CHECK(*s == '-');
    s = "11234567890abcdef";
    CHECK(gsm_parse_hex64(&s, s + strlen(s), &v) == -ERANGE);
    /* end is honoured: "abcd" with end after "ab" stops there (issue 12: the parser read past
     * the end of a chunk that is not NUL-terminated). */
    s = "abcd";
    CHECK(gsm_parse_hex64(&s, s + 2, &v) == 0);
    CHECK_EQ_U64(v, 0xab);
    s = "abcd";
    CHECK(gsm_parse_hex64(&s, s, &v) == -EINVAL);
}

/* Exactly 3 bytes "a-b" in a heap buffer with no NUL after it: ASan names any read past it.
 * (gcc takes the one-past-the-end pointer for a read of uninitialised memory.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
TEST(parse_hex_heap_exact) {
    char *buf = malloc(3);
    CHECK(buf != NULL);
    if (!buf)
        return;
    memcpy(buf, "a-b", 3);
    const char *p = buf + 2, *end = buf + 3;
    uint64_t v = 0;
    CHECK(gsm_parse_hex64(&p, end, &v) == 0);
    CHECK_EQ_U64(v, 0xb);
    CHECK(p == end);
    free(buf);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

TEST(fmt_bytes) {
    char b[16];
    CHECK_STREQ(gsm_fmt_bytes(0, b, sizeof b), "0 B");
    CHECK_STREQ(gsm_fmt_bytes(1023, b, sizeof b), "1023 B");
    CHECK_STREQ(gsm_fmt_bytes(1536, b, sizeof b), "1.50 KiB");
    CHECK_STREQ(gsm_fmt_bytes(64ULL << 20, b, sizeof b), "64.0 MiB");
    CHECK_STREQ(gsm_fmt_bytes(3ULL << 30, b, sizeof b), "3.00 GiB");
}

TEST(strpool_interns_once) {
    struct gsm_strpool p;
    gsm_strpool_init(&p);
    const char *a = gsm_strpool_intern(&p, "/usr/lib/libc.so.6xyz", 18);
    const char *b = gsm_strpool_intern(&p, "/usr/lib/libc.so.6", 18);
    CHECK(a && a == b);
    CHECK_STREQ(a, "/usr/lib/libc.so.6");
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CHECK(gsm_strpool_intern(&p, key, strlen(key)) != NULL);
    }
    CHECK(gsm_strpool_intern(&p, "/usr/lib/libc.so.6", 18) == a);
    CHECK_EQ_U64(p.n_used, 5001);
    gsm_strpool_free(&p);
}

TEST(read_file_cap_and_nofollow) {
    char dir[] = "/tmp/gsm-test-XXXXXX";
    CHECK(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    char block[10000];
    memset(block, 'x', sizeof block);
    CHECK(write(fd, block, sizeof block) == (ssize_t)sizeof block);
    close(fd);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    char *buf = NULL;
    size_t len = 0;
    CHECK(gsm_read_file_at(dfd, "f", 1 << 20, &buf, &len) == 0);
    CHECK_EQ_U64(len, sizeof block);
    CHECK(buf[len] == '\0');
    free(buf);
    buf = NULL;
    CHECK(gsm_read_file_at(dfd, "f", 5000, &buf, &len) == -EFBIG);
    CHECK(buf == NULL);
    CHECK(symlinkat("f", dfd, "link") == 0);
    CHECK(gsm_read_file_at(dfd, "link", 1 << 20, &buf, &len) == -ELOOP);
    CHECK(gsm_read_file_at(dfd, "missing", 1 << 20, &buf, &len) == -ENOENT);
    unlinkat(dfd, "link", 0);
    unlinkat(dfd, "f", 0);
    close(dfd);
    rmdir(dir);
}

TEST(write_file_atomic_leaves_nothing_on_failure) {
    char dir[] = "/tmp/gsm-test-XXXXXX";
    CHECK(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/out.json", dir);
    CHECK(gsm_write_file_atomic(path, "{}\n", 3) == 0);
    char *buf = NULL;
    size_t len;
    CHECK(gsm_read_file_at(AT_FDCWD, path, 100, &buf, &len) == 0);
    CHECK_EQ_U64(len, 3);
    free(buf);
    /* A target directory that does not exist: error, nothing created. */
    snprintf(path, sizeof path, "%s/nodir/out.json", dir);
    CHECK(gsm_write_file_atomic(path, "{}\n", 3) == -ENOENT);
    snprintf(path, sizeof path, "%s/out.json", dir);
    unlink(path);
    CHECK(rmdir(dir) == 0);   /* empty: no temp file left behind */
}

static long rss_file_kib(void) {
    FILE *f = fopen("/proc/self/status", "re");
    char l[256];
    long v = -1;
    while (f && fgets(l, sizeof l, f))
        if (strncmp(l, "RssFile:", 8) == 0)
            v = atol(l + 8);
    if (f)
        fclose(f);
    return v;
}

/* serve gives back the library pages it touched only while starting (util/memtrim.h): at least
 * the pages of this test binary's own libraries that no other process maps must go. */
TEST(release_file_pages_lowers_rss_file) {
    long before = rss_file_kib();
    size_t n = 0;
    int r = gsm_release_file_pages(&n);
    long after = rss_file_kib();
    if (r == -EINVAL)
        SKIP("the kernel has no MADV_PAGEOUT (Linux < 5.4)");
    CHECK(r > 0);
    CHECK_EQ_U64(n, (uint64_t)r);
    CHECK(before > 0 && after >= 0 && after < before);
}

/* Command-line seconds (--interval, --ring, --dump-min-interval...): whole argument, in range. */
TEST(parse_seconds_arg) {
    double v = -1;
    CHECK(gsm_parse_seconds_arg("2", 0.1, 3600, &v) == 0 && v == 2);
    CHECK(gsm_parse_seconds_arg("0.5", 0.1, 3600, &v) == 0 && v == 0.5);
    CHECK(gsm_parse_seconds_arg("3600", 0.1, 3600, &v) == 0 && v == 3600);
    static const char *const bad[] = {"", " ", "abc", "1x", "2 ", "0.05", "3601", "-1", "nan", "inf",
                                      "1e400", "--1"};
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        v = -7;
        CHECK(gsm_parse_seconds_arg(bad[i], 0.1, 3600, &v) == -EINVAL);
        CHECK(v == -7);   /* nothing written on a refusal */
    }
}
