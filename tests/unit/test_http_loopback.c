/* The libcurl-free loopback HTTP path (readers/http_loopback.c): its URL parser (what it takes
 * and what it leaves to libcurl) and its response parser on well-formed and hostile responses. */
#include "test.h"
#include "readers/http_loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#define S(lit) lit, sizeof(lit) - 1

TEST(http_loopback_url_parse) {
    struct gsm_http_url u;
    CHECK(gsm_http_url_parse_simple("http://127.0.0.1:6060/debug/vars", &u) == 0);
    CHECK(u.family == AF_INET && u.port == 6060 && !u.localhost);
    CHECK_STREQ(u.path, "/debug/vars");
    CHECK_STREQ(u.hostport, "127.0.0.1:6060");
    CHECK(gsm_http_url_is_loopback_addr(&u));
    CHECK(gsm_http_url_parse_simple("HTTP://[::1]:9090", &u) == 0);
    CHECK(u.family == AF_INET6 && u.port == 9090 && gsm_http_url_is_loopback_addr(&u));
    CHECK_STREQ(u.path, "/");
    CHECK_STREQ(u.hostport, "[::1]:9090");
    CHECK(gsm_http_url_parse_simple("http://localhost/metrics#frag", &u) == 0);
    CHECK(u.localhost && u.port == 80 && gsm_http_url_is_loopback_addr(&u));
    CHECK_STREQ(u.path, "/metrics");
    CHECK(gsm_http_url_parse_simple("http://[::ffff:127.0.0.2]:1/", &u) == 0 && gsm_http_url_is_loopback_addr(&u));
    CHECK(gsm_http_url_parse_simple("http://10.0.0.1:80/", &u) == 0 && !gsm_http_url_is_loopback_addr(&u));
    CHECK(gsm_http_url_parse_simple("http://[::2]/", &u) == 0 && !gsm_http_url_is_loopback_addr(&u));
    /* left to libcurl: names, user info, https, odd ports, spaces, zones */
    static const char *const others[] = {
        "https://127.0.0.1/", "http://example.com/", "http://127.0.0.1.nip.io/", "http://user@127.0.0.1/",
        "http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://127.0.0.1:/", "http://127.0.0.1:80x/",
        "http://127.0.0.1/a b", "http://[fe80::1%eth0]/", "http://127.1/", "http:///x", "ftp://127.0.0.1/",
        "http://127.0.0.1?x", "http://[::1/",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        CHECK(gsm_http_url_parse_simple(others[i], &u) == -EINVAL);
}

static int parse(const char *buf, size_t len, size_t max, long *status, char **body, size_t *blen) {
    *body = NULL;
    return gsm_http_parse_response(buf, len, max, status, body, blen);
}

TEST(http_loopback_response_framings) {
    long st;
    char *b;
    size_t n;
    CHECK(parse(S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), 100, &st, &b, &n) == 0);
    CHECK(st == 200 && n == 5 && strcmp(b, "hello") == 0);
    free(b);
    /* bytes after Content-Length are not the body */
    CHECK(parse(S("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhello"), 100, &st, &b, &n) == 0 && n == 2);
    free(b);
    CHECK(parse(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n"),
                100, &st, &b, &n) == 0);
    CHECK(n == 6 && strcmp(b, "hello!") == 0);
    free(b);
    CHECK(parse(S("HTTP/1.0 200 OK\nServer: x\n\nclose-delimited"), 100, &st, &b, &n) == 0);
    CHECK(n == 15 && strcmp(b, "close-delimited") == 0);
    free(b);
    CHECK(parse(S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"), 100, &st, &b, &n) == 0);
    CHECK(st == 404 && n == 0);
    free(b);
}

TEST(http_loopback_response_hostile) {
    long st;
    char *b;
    size_t n;
    static const struct { const char *text; int want; } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", -EFBIG},          /* over the cap up front */
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", -EPROTO},      /* truncated */
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", -EPROTO},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nx", -EPROTO},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", -EPROTO},   /* no last chunk */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", -EPROTO},  /* the cap counts bytes that came */
        {"HTTP/1.1 2OO OK\r\n\r\n", -EPROTO},
        {"HTTP/2 200\r\n\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", -EPROTO},
        {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", -EPROTO},              /* no blank line */
        {"", -EPROTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int r = parse(cases[i].text, strlen(cases[i].text), 100, &st, &b, &n);
        if (r != cases[i].want)
            fprintf(stderr, "case %zu: %d\n", i, r);
        CHECK(r == cases[i].want);
        if (r == 0)
            free(b);
    }
    /* 1-byte chunks: the decoded size is what the cap counts */
    char big[4096] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t len = strlen(big);
    for (int i = 0; i < 100; i++)
        len += (size_t)snprintf(big + len, sizeof big - len, "1\r\nx\r\n");
    len += (size_t)snprintf(big + len, sizeof big - len, "0\r\n\r\n");
    CHECK(parse(big, len, 100, &st, &b, &n) == 0 && n == 100);
    free(b);
    CHECK(parse(big, len, 99, &st, &b, &n) == -EFBIG);
}
