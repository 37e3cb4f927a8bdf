/* util/text: UTF-8 repair. Expected outputs are Python 3's bytes.decode("utf-8", "replace")
 * (the Unicode "maximal subpart" practice), computed outside gsmapper. */
#include "test.h"
#include "util/text.h"

#include <stdlib.h>

#define R GSM_UTF8_REPLACEMENT

static bool repaired_is(const char *in, size_t len, const char *want) {
    size_t n;
    char *got = gsm_utf8_repair(in, len, &n);
    bool ok = got && n == strlen(want) && memcmp(got, want, n) == 0 && got[n] == '\0';
    if (!ok)
        fprintf(stderr, "repair: got \"%s\" want \"%s\"\n", got ? got : "(null)", want);
    free(got);
    return ok;
}
#define REPAIRED(lit, want) repaired_is(lit, sizeof lit - 1, want)

TEST(utf8_valid_kept) {
    CHECK(REPAIRED("plain ascii", "plain ascii"));
    CHECK(REPAIRED("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK(REPAIRED("\xed\x9f\xbf", "\xed\x9f\xbf"));            /* U+D7FF, last before surrogates */
    CHECK(REPAIRED("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"));    /* U+10FFFF */
    CHECK(gsm_utf8_valid("\xef\xbf\xbd", 3));
    CHECK(gsm_utf8_valid("", 0));
}

TEST(utf8_prctl_name) {
    CHECK(!gsm_utf8_valid("\xff\xfe\"bad\n", 7));
    CHECK(REPAIRED("\xff\xfe\"bad\n", R R "\"bad\n"));
}

TEST(utf8_overlong) {
    CHECK(REPAIRED("\xc0\xaf", R R));                      /* '/' in two bytes */
    CHECK(REPAIRED("\xc1\xbf", R R));
    CHECK(REPAIRED("\xe0\x80\xaf", R R R));                /* '/' in three bytes */
    CHECK(REPAIRED("\xf0\x80\x80\xaf", R R R R));
    CHECK(REPAIRED("\xf8\x88\x80\x80\x80", R R R R R));    /* five-byte form */
}

TEST(utf8_surrogates_and_range) {
    CHECK(REPAIRED("\xed\xa0\x80", R R R));                /* U+D800 */
    CHECK(REPAIRED("\xed\xbf\xbf", R R R));                /* U+DFFF */
    CHECK(REPAIRED("\xf4\x90\x80\x80", R R R R));          /* U+110000 */
    CHECK(REPAIRED("\xf5\x80", R R));
}

TEST(utf8_truncated) {
    CHECK(REPAIRED("\xc2", R));
    CHECK(REPAIRED("\xe2\x82", R));                        /* one subpart, one replacement */
    CHECK(REPAIRED("a\xe2\x82", "a" R));
    CHECK(REPAIRED("\xf0\x9f\x98", R));
    CHECK(REPAIRED("\xf0\x9f\x98" "A", R "A"));
    CHECK(REPAIRED("\x80\x80", R R));                      /* lone continuation bytes */
    CHECK(REPAIRED("\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", R R R R "A"));
    /* A sequence cut by the buffer's end is not read past it (ASan checks the read). */
    char *cut = malloc(2);
    memcpy(cut, "\xe2\x82", 2);
    CHECK(!gsm_utf8_valid(cut, 2));
    size_t bad = 0;
    CHECK(gsm_utf8_seq((const unsigned char *)cut, 2, &bad) == 0 && bad == 2);
    free(cut);
}

TEST(utf8_nul) {
    CHECK(!gsm_utf8_valid("a\0b", 3));
    CHECK(REPAIRED("a\0b", "a" R "b"));
}

static char *written(void (*fn)(FILE *, const char *), const char *s) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    fn(f, s);
    fclose(f);
    return buf;
}

TEST(label_value_escaped) {
    char *got = written(gsm_text_write_label_value, "\xff\xfe\"bad\n\\x");
    CHECK_STREQ(got, R R "\\\"bad\\n\\\\x");
    free(got);
}

TEST(printable_controls) {
    char buf[64];
    CHECK_STREQ(gsm_text_printable("a\x1b[31m\n\x7f\xc2\x85z", false, buf, sizeof buf), "a\\x1b[31m\\x0a\\x7f\\xc2\\x85z");
    CHECK_STREQ(gsm_text_printable("lib;x\xff", true, buf, sizeof buf), "lib\\x3bx" R);
    CHECK_STREQ(gsm_text_printable("lib;x", false, buf, sizeof buf), "lib;x");
    CHECK_STREQ(gsm_text_printable(NULL, false, buf, sizeof buf), "");
    /* Truncation keeps whole characters: "ab" + U+00E9 does not fit in 4 bytes with the NUL. */
    CHECK_STREQ(gsm_text_printable("ab\xc3\xa9", false, buf, 4), "ab");
    CHECK_STREQ(gsm_text_printable("a\n", false, buf, 4), "a");
}

TEST(lines_keep_newlines) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    const char in[] = "PID 1  \x1b]0;x\x07\xff\n\tnext\n";
    CHECK(gsm_text_write_lines(f, in, sizeof in - 1) == 0);
    fclose(f);
    CHECK_STREQ(buf, "PID 1  \\x1b]0;x\\x07" R "\n\tnext\n");
    free(buf);
}
