/* Plain HTTP/1.1 GET to a loopback literal address, without libcurl: the common case of
 * http_client.c (a Go process's debug port on 127.0.0.1 or [::1]) done with one socket, so that
 * an explain does not pay libcurl's load (5-15 ms here: it pulls in TLS, LDAP, Kerberos ...).
 * The same limits as the libcurl path: connect and total timeouts, a body cap on the decoded
 * bytes (Content-Length, chunked and close-delimited framing), headers at most 64 KiB, no
 * redirects (any status but 200 is -EPROTO), no content decoding. Private to http_client.c
 * (and its unit tests). */
#pragma once

#include "readers/http_client.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GSM_HTTP_MAX_HEADER_BYTES (64 * 1024)

struct gsm_http_url {
    int family;                  /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } addr;
    bool localhost;              /* written "localhost": 127.0.0.1, then [::1] */
    uint16_t port;
    char hostport[64];           /* the Host header */
    char path[1024];             /* "/..." ("/" when none), without a fragment */
};

/* Parse "http://HOST[:PORT][/PATH]" where HOST is a dotted IPv4 address, a bracketed IPv6
 * address or "localhost", with no user info and a path of printable ASCII. Returns 0, or
 * -EINVAL for anything else (https, names, odd forms: the libcurl path decides those). */
int gsm_http_url_parse_simple(const char *url, struct gsm_http_url *ret);

/* Is the parsed address loopback (127.0.0.0/8, ::1, ::ffff:127.x.y.z, localhost)? */
bool gsm_http_url_is_loopback_addr(const struct gsm_http_url *u);

/* GET over one connection with o's limits (o already has its defaults filled in). The return
 * codes and messages are those of gsm_http_get(). */
int gsm_http_loopback_get(const char *url, const struct gsm_http_url *u, const struct gsm_http_opts *o,
                          const char *header, char **ret_body, size_t *ret_len, char *errbuf, size_t errlen);

/* The pure half: parse one response in [buf, buf + len) that is complete (the peer closed).
 * For tests and the reader above. *ret_status, and the body decoded into a malloc'd copy. */
int gsm_http_parse_response(const char *buf, size_t len, size_t max_body, long *ret_status, char **ret_body,
                            size_t *ret_len);
