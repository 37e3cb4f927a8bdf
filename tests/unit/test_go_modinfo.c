#include "test.h"
#include "readers/go_modinfo.h"

#include <errno.h>
#include <stdlib.h>

TEST(go_modinfo_full) {
    static const char text[] =
        "path\texample.com/svc/cmd/svc\n"
        "mod\texample.com/svc\tv1.2.3\th1:abc=\n"
        "dep\tgolang.org/x/sys\tv0.5.0\th1:sys=\n"
        "dep\texample.com/local\tv0.0.0-00010101000000-000000000000\n"
        "=>\t../local\t\t\n"
        "build\t-compiler=gc\n"
        "build\t-ldflags=\"-X main.version=1.2 -s -w\"\n"
        "build\tCGO_ENABLED=0\n"
        "build\tvcs.revision=4f1c2d\n"
        "build\t\"we ird\"=`raw value`\n"
        "unterminated\tline";
    struct gsm_go_buildinfo bi;
    size_t line = 0;
    CHECK(gsm_go_modinfo_parse(text, &bi, &line) == 0);
    CHECK_STREQ(bi.path, "example.com/svc/cmd/svc");
    CHECK_STREQ(bi.main.path, "example.com/svc");
    CHECK_STREQ(bi.main.version, "v1.2.3");
    CHECK_STREQ(bi.main.sum, "h1:abc=");
    CHECK_EQ_U64(bi.n_deps, 2);
    CHECK(bi.deps[0].replace == NULL);
    CHECK(bi.deps[1].replace != NULL);
    CHECK_STREQ(bi.deps[1].replace->path, "../local");
    CHECK_STREQ(bi.deps[1].sum, "");
    CHECK_EQ_U64(bi.n_settings, 5);
    CHECK_STREQ(gsm_go_buildinfo_setting(&bi, "-ldflags"), "-X main.version=1.2 -s -w");
    CHECK_STREQ(bi.settings[1].raw, "\"-X main.version=1.2 -s -w\"");
    CHECK_STREQ(gsm_go_buildinfo_setting(&bi, "CGO_ENABLED"), "0");
    CHECK_STREQ(gsm_go_buildinfo_setting(&bi, "we ird"), "raw value");
    CHECK(gsm_go_buildinfo_setting(&bi, "GOARCH") == NULL);
    gsm_go_buildinfo_free(&bi);
}

static int parse_err(const char *text, size_t *line) {
    struct gsm_go_buildinfo bi;
    int r = gsm_go_modinfo_parse(text, &bi, line);
    if (r == 0)
        gsm_go_buildinfo_free(&bi);
    return r;
}

TEST(go_modinfo_hostile) {
    size_t line = 0;
    CHECK(parse_err("=>\ta\tb\tc\n", &line) == -EBADMSG && line == 1);             /* replace with no module */
    CHECK(parse_err("mod\tonly\n", &line) == -EBADMSG);                           /* 1 column */
    CHECK(parse_err("dep\ta\tb\tc\td\n", &line) == -EBADMSG);                      /* 4 columns */
    CHECK(parse_err("path\tx\nbuild\t=v\n", &line) == -EBADMSG && line == 2);       /* missing key */
    CHECK(parse_err("build\tnoequals\n", &line) == -EBADMSG);
    CHECK(parse_err("build\tk=\"unterminated\n", &line) == -EBADMSG);
    CHECK(parse_err("build\tk=has space\n", &line) == -EBADMSG);                  /* must be quoted */
    CHECK(parse_err("build\tk=\"\\q\"\n", &line) == -EBADMSG);                     /* bad escape */
    CHECK(parse_err("", &line) == 0);
}

TEST(go_unquote) {
    size_t n;
    char *s = gsm_go_unquote_prefix("\"a\\tb\\x41\\u00e9\\101\\\"\" rest", &n);
    CHECK(s != NULL);
    CHECK_STREQ(s, "a\tbA\xc3\xa9" "A\"");
    CHECK_EQ_U64(n, 22);
    free(s);
    CHECK(gsm_go_unquote_prefix("\"\\ud800\"", &n) == NULL);
    CHECK(gsm_go_unquote_prefix("\"abc", &n) == NULL);
}
