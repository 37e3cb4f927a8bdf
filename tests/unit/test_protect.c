/* --protect NAME=ADJ: what parses, and the one-line errors for what does not. */
#include "test.h"

#include "engine/watch.h"

#include <errno.h>

TEST(protect_rule_parse) {
    struct gsm_protect_rule r;
    char err[256];
    CHECK(gsm_protect_rule_parse("postgres=-500", &r, err, sizeof err) == 0);
    CHECK_STREQ(r.comm, "postgres");
    CHECK(r.adj == -500);
    CHECK(gsm_protect_rule_parse("a=b=1000", &r, err, sizeof err) == 0);   /* the last '=' splits */
    CHECK_STREQ(r.comm, "a=b");
    CHECK(r.adj == 1000);
    CHECK(gsm_protect_rule_parse("x=+7", &r, err, sizeof err) == 0 && r.adj == 7);
    CHECK(gsm_protect_rule_parse("x=-1000", &r, err, sizeof err) == 0 && r.adj == -1000);
    CHECK(gsm_protect_rule_parse("fifteen-bytes-x=0", &r, err, sizeof err) == 0);
    const char *bad[] = {"x", "=1", "x=", "x=-", "x=1001", "x=-1001", "x= 1", "x=1x", "sixteen-bytes-xx=0",
                         "x=99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CHECK(gsm_protect_rule_parse(bad[i], &r, err, sizeof err) == -EINVAL);
        CHECK(strncmp(err, "--protect '", 11) == 0 && !strchr(err, '\n'));
    }
}
