/* GET through libcurl with the limits of http_client.h. */
#include "readers/http_client.h"
#include "readers/http_body.h"
#include "readers/http_loopback.h"
#include "util/cleanup.h"
#include "util/errbuf.h"
#include "util/log.h"

#include <arpa/inet.h>
#include "readers/curl_dl.h"
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static bool addr_is_loopback(int family, const void *addr) {
    if (family == AF_INET) {
        const unsigned char *b = addr;
        return b[0] == 127;
    }
    if (family == AF_INET6) {
        const struct in6_addr *a = addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

static void curlu_freep(CURLU **u) {
    if (*u)
        curl_url_cleanup(*u);
}
static void curl_freep(char **p) {
    if (*p)
        curl_free(*p);
}

int gsm_http_url_port(const char *url, uint16_t *ret_port) {
    struct gsm_http_url su;
    if (gsm_http_url_parse_simple(url, &su) == 0) {
        *ret_port = su.port;
        return 0;
    }
    if (!gsm_curl_load())
        return -ENOSYS;
    _cleanup_(curlu_freep) CURLU *u = curl_url();
    if (!u)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        return -EINVAL;
    _cleanup_(curl_freep) char *port = NULL;
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK || !port)
        return -EINVAL;
    char *end;
    unsigned long v = strtoul(port, &end, 10);
    if (*end || v == 0 || v > 65535)
        return -EINVAL;
    *ret_port = (uint16_t)v;
    return 0;
}

int gsm_http_url_is_loopback(const char *url) {
    struct gsm_http_url su;
    if (gsm_http_url_parse_simple(url, &su) == 0)
        return gsm_http_url_is_loopback_addr(&su);
    if (!gsm_curl_load())
        return -ENOSYS;   /* libcurl's URL parser is what decides; without it, refuse */
    _cleanup_(curlu_freep) CURLU *u = curl_url();
    if (!u)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        return -EINVAL;
    _cleanup_(curl_freep) char *scheme = NULL;
    _cleanup_(curl_freep) char *host = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0))
        return -EINVAL;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host)
        return -EINVAL;
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    unsigned char a[16];
    size_t hl = strlen(host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        char h6[64];
        if (hl - 2 >= sizeof h6)
            return 0;
        memcpy(h6, host + 1, hl - 2);
        h6[hl - 2] = '\0';
        char *zone = strchr(h6, '%');
        if (zone)
            *zone = '\0';
        return inet_pton(AF_INET6, h6, a) == 1 && addr_is_loopback(AF_INET6, a);
    }
    return inet_pton(AF_INET, host, a) == 1 && addr_is_loopback(AF_INET, a);
}

struct xfer {
    struct gsm_http_body body;
    bool too_big;
    bool refused_addr;
    bool allow_non_loopback;
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
    struct xfer *x = userdata;
    size_t n = size * nmemb;          /* curl guarantees size == 1 */
    int r = gsm_http_body_put(&x->body, data, n);
    x->too_big = r == -EFBIG;
    return r == 0 ? n : 0;            /* != n: curl aborts with CURLE_WRITE_ERROR */
}

/* Defence in depth behind the URL check: the address curl is about to connect to. */
static curl_socket_t on_opensocket(void *userdata, curlsocktype purpose, struct curl_sockaddr *a) {
    struct xfer *x = userdata;
    (void)purpose;
    if (!x->allow_non_loopback) {
        const void *ip = NULL;
        if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in))
            ip = &((const struct sockaddr_in *)(const void *)&a->addr)->sin_addr;
        else if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6))
            ip = &((const struct sockaddr_in6 *)(const void *)&a->addr)->sin6_addr;
        if (!ip || !addr_is_loopback(a->family, ip)) {
            x->refused_addr = true;
            return CURL_SOCKET_BAD;
        }
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void curl_easy_freep(CURL **c) {
    if (*c)
        curl_easy_cleanup(*c);
}

static int http_get(const char *url, const struct gsm_http_opts *o, const char *accept, char **ret_body,
                    size_t *ret_len, char *errbuf, size_t errlen) {
    if (!gsm_curl_load()) {
        gsm_seterr(errbuf, errlen, "libcurl (libcurl.so.4) could not be loaded");
        return -ENOSYS;
    }

    int lb = gsm_http_url_is_loopback(url);
    if (lb < 0) {
        gsm_seterr(errbuf, errlen, "%s: not an http(s) URL", url);
        return lb == -ENOMEM ? -ENOMEM : -EINVAL;
    }
    if (lb == 0 && !o->allow_non_loopback) {
        gsm_seterr(errbuf, errlen, "%s: refusing a non-loopback host", url);
        return -EPERM;
    }

    _cleanup_(curl_easy_freep) CURL *c = curl_easy_init();
    if (!c)
        return -ENOMEM;
    struct xfer x = {.body = {.max = o->max_body_bytes}, .allow_non_loopback = o->allow_non_loopback};
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    if (accept)
        hdrs = curl_slist_append(hdrs, accept);

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);              /* threads: no SIGALRM for DNS */
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");                  /* ignore http_proxy & co */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->total_timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body_bytes); /* by Content-Length */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "gsmapper/" GSM_VERSION);
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (o->accept_gzip) {
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
        curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 1L);
    } else {
        /* No Accept-Encoding; a body gzipped anyway stays compressed and fails to parse. */
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);
        curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    }

    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        free(x.body.buf);
        int r;
        if (x.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            r = gsm_http_body_too_big(url, o->max_body_bytes, errbuf, errlen);
        } else if (x.refused_addr) {
            gsm_seterr(errbuf, errlen, "%s: refusing a non-loopback address", url);
            r = -EPERM;
        } else if (cc == CURLE_OPERATION_TIMEDOUT) {
            gsm_seterr(errbuf, errlen, "%s: timed out: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
            r = -ETIMEDOUT;
        } else if (cc == CURLE_COULDNT_CONNECT) {
            gsm_seterr(errbuf, errlen, "%s: connection refused", url);
            r = -ECONNREFUSED;
        } else if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL) {
            gsm_seterr(errbuf, errlen, "%s: %s", url, curl_easy_strerror(cc));
            r = -EINVAL;
        } else if (cc == CURLE_OUT_OF_MEMORY) {
            r = -ENOMEM;
        } else {
            gsm_seterr(errbuf, errlen, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(cc));
            r = -EPROTO;
        }
        gsm_debug("GET %s: curl %d: %s", url, (int)cc, cerr);
        return r;
    }
    return gsm_http_body_finish(&x.body, url, status, ret_body, ret_len, errbuf, errlen);
}

struct gsm_http_opts gsm_http_opts_or_defaults(const struct gsm_http_opts *opts) {
    struct gsm_http_opts o = opts ? *opts : (struct gsm_http_opts){0};
    if (!o.connect_timeout_ms)
        o.connect_timeout_ms = GSM_HTTP_CONNECT_TIMEOUT_MS_DEFAULT;
    if (!o.total_timeout_ms)
        o.total_timeout_ms = GSM_HTTP_TOTAL_TIMEOUT_MS_DEFAULT;
    if (!o.max_body_bytes)
        o.max_body_bytes = GSM_HTTP_MAX_BODY_DEFAULT;
    return o;
}

int gsm_http_get_with(const char *url, const struct gsm_http_opts *opts, const char *header, char **ret_body,
                      size_t *ret_len, char *errbuf, size_t errlen) {
    struct gsm_http_opts o = gsm_http_opts_or_defaults(opts);
    /* A plain http:// URL with a literal address (or localhost) needs no libcurl: the common
     * case (a Go debug port on loopback) stays clear of its 5-15 ms load. gzip is libcurl's. */
    struct gsm_http_url su;
    if (!o.accept_gzip && gsm_http_url_parse_simple(url, &su) == 0) {
        if (!gsm_http_url_is_loopback_addr(&su) && !o.allow_non_loopback) {
            gsm_seterr(errbuf, errlen, "%s: refusing a non-loopback host", url);
            return -EPERM;
        }
        return gsm_http_loopback_get(url, &su, &o, header, ret_body, ret_len, errbuf, errlen);
    }
    return http_get(url, &o, header, ret_body, ret_len, errbuf, errlen);
}

int gsm_http_get(const char *url, const struct gsm_http_opts *opts, char **ret_body, size_t *ret_len,
                 char *errbuf, size_t errlen) {
    return gsm_http_get_with(url, opts, NULL, ret_body, ret_len, errbuf, errlen);
}
