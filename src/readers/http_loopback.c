/* The libcurl-free GET of http_loopback.h. One non-blocking socket, poll() against one deadline,
 * a response read into a 64 KiB header buffer and a body sink that never holds more than the
 * cap; chunked framing decoded as it arrives (a chunk-size line is at most 256 bytes). */
#include "readers/http_loopback.h"
#include "readers/http_body.h"
#include "util/cleanup.h"
#include "util/errbuf.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_LINE_MAX 256

/* ---- the URL ---- */

int gsm_http_url_parse_simple(const char *url, struct gsm_http_url *ret) {
    struct gsm_http_url u = {0};
    if (strncasecmp(url, "http://", 7) != 0)
        return -EINVAL;
    const char *h = url + 7, *he;
    char host[64];
    if (*h == '[') {
        he = strchr(h, ']');
        if (!he || (size_t)(he - h - 1) >= sizeof host)
            return -EINVAL;
        memcpy(host, h + 1, (size_t)(he - h - 1));
        host[he - h - 1] = '\0';
        if (inet_pton(AF_INET6, host, &u.addr.v6) != 1)
            return -EINVAL;          /* also a zone ("%eth0"): curl's business */
        u.family = AF_INET6;
        he++;
    } else {
        he = h + strcspn(h, ":/?#");
        if ((size_t)(he - h) >= sizeof host || he == h)
            return -EINVAL;
        memcpy(host, h, (size_t)(he - h));
        host[he - h] = '\0';
        if (strcasecmp(host, "localhost") == 0) {
            u.localhost = true;
            u.family = AF_INET;
            u.addr.v4.s_addr = htonl(INADDR_LOOPBACK);
        } else if (inet_pton(AF_INET, host, &u.addr.v4) == 1)
            u.family = AF_INET;
        else
            return -EINVAL;          /* a name (or user@host): curl resolves and checks it */
    }
    unsigned long port = 80;
    const char *p = he;
    if (*p == ':') {
        char *end;
        p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        port = strtoul(p, &end, 10);
        if (port == 0 || port > 65535 || end - p > 5)
            return -EINVAL;
        p = end;
    }
    if (*p && *p != '/')
        return -EINVAL;
    size_t pl = strcspn(p, "#");
    if (pl >= sizeof u.path)
        return -EINVAL;
    for (size_t i = 0; i < pl; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
            return -EINVAL;
    if (pl == 0)
        snprintf(u.path, sizeof u.path, "/");
    else {
        memcpy(u.path, p, pl);
        u.path[pl] = '\0';
    }
    u.port = (uint16_t)port;
    snprintf(u.hostport, sizeof u.hostport, "%.*s:%lu", (int)(he - h), h, port);
    *ret = u;
    return 0;
}

bool gsm_http_url_is_loopback_addr(const struct gsm_http_url *u) {
    if (u->localhost)
        return true;
    if (u->family == AF_INET)
        return (ntohl(u->addr.v4.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&u->addr.v6) ||
           (IN6_IS_ADDR_V4MAPPED(&u->addr.v6) && u->addr.v6.s6_addr[12] == 127);
}

/* ---- the response ---- */

struct head {
    long status;
    bool chunked, have_length;
    uint64_t length;
};

/* Status line and headers in [buf, end) (the blank line excluded). */
static int parse_head(const char *buf, const char *end, struct head *ret, const char **why) {
    struct head h = {0};
    const char *eol = memchr(buf, '\n', (size_t)(end - buf));
    const char *le = eol ? eol : end;
    if (le - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' ||
        buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9' || (le - buf > 12 && buf[12] != ' ' && buf[12] != '\r')) {
        *why = "bad status line";
        return -EPROTO;
    }
    h.status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    for (const char *p = eol ? eol + 1 : end; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (e > line && e[-1] == '\r')
            e--;
        const char *colon = memchr(line, ':', (size_t)(e - line));
        if (!colon || colon == line) {
            *why = "bad header line";
            return -EPROTO;
        }
        const char *v = colon + 1;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        size_t kl = (size_t)(colon - line), vl = (size_t)(e - v);
        if (kl == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            uint64_t n = 0;
            if (vl == 0 || vl > 19) {
                *why = "bad Content-Length";
                return -EPROTO;
            }
            for (size_t i = 0; i < vl; i++) {
                if (v[i] < '0' || v[i] > '9') {
                    *why = "bad Content-Length";
                    return -EPROTO;
                }
                n = n * 10 + (uint64_t)(v[i] - '0');
            }
            if (h.have_length && n != h.length) {
                *why = "two different Content-Length headers";
                return -EPROTO;
            }
            h.have_length = true;
            h.length = n;
        } else if (kl == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
            /* chunked must be the last coding (RFC 9112 6.1); others are not supported */
            h.chunked = vl >= 7 && strncasecmp(v + vl - 7, "chunked", 7) == 0;
            if (!h.chunked || (vl > 7 && strcspn(v, ",") < vl - 7)) {
                *why = "unsupported Transfer-Encoding";
                return -EPROTO;
            }
        }
    }
    *ret = h;
    return 0;
}

/* Where the header block ends: the index just past the blank line, or 0 when not yet there. */
static size_t head_end(const char *buf, size_t len, size_t *ret_head_len) {
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n') {
            *ret_head_len = i;
            return i + 2;
        }
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') {
            *ret_head_len = i;
            return i + 3;
        }
    }
    return 0;
}

enum { C_SIZE, C_DATA, C_DATA_END, C_TRAILER, C_DONE };
struct chunker {
    int phase;
    uint64_t left;
    char line[CHUNK_LINE_MAX];
    size_t line_len;
};

/* One complete line (CR stripped) in the phases that read lines. */
static int chunk_line(struct chunker *c, const char **why) {
    char *l = c->line;
    size_t n = c->line_len;
    if (n && l[n - 1] == '\r')
        n--;
    c->line_len = 0;
    if (c->phase == C_DATA_END) {
        if (n != 0) {
            *why = "chunk data longer than its size";
            return -EPROTO;
        }
        c->phase = C_SIZE;
        return 0;
    }
    if (c->phase == C_TRAILER) {
        if (n == 0)
            c->phase = C_DONE;
        return 0;
    }
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n; i++) {
        char ch = l[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0)
            break;
        if (v >> 60) {
            *why = "chunk size out of range";
            return -EPROTO;
        }
        v = v << 4 | (uint64_t)d;
    }
    if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t')) {
        *why = "bad chunk size";
        return -EPROTO;
    }
    c->left = v;
    c->phase = v ? C_DATA : C_TRAILER;
    return 0;
}

/* Feed raw bytes; data goes to the sink. */
static int chunk_feed(struct chunker *c, const char *p, size_t n, struct gsm_http_body *out, const char **why) {
    while (n > 0 && c->phase != C_DONE) {
        if (c->phase == C_DATA) {
            size_t k = c->left < n ? (size_t)c->left : n;
            int r = gsm_http_body_put(out, p, k);
            if (r < 0)
                return r;
            p += k, n -= k;
            c->left -= k;
            if (c->left == 0)
                c->phase = C_DATA_END;
            continue;
        }
        char ch = *p++;
        n--;
        if (ch == '\n') {
            int r = chunk_line(c, why);
            if (r < 0)
                return r;
            continue;
        }
        if (c->line_len + 1 >= sizeof c->line) {
            *why = "chunk line too long";
            return -EPROTO;
        }
        c->line[c->line_len++] = ch;
    }
    return 0;
}

/* The body's framing, fed as bytes arrive: 1 when complete, 0 for more, -errno. */
struct body {
    struct head h;
    struct chunker ck;
    struct gsm_http_body out;
};

static int body_feed(struct body *b, const char *p, size_t n, const char **why) {
    if (b->h.chunked) {
        int r = chunk_feed(&b->ck, p, n, &b->out, why);
        return r < 0 ? r : b->ck.phase == C_DONE;
    }
    if (b->h.have_length) {
        uint64_t left = b->h.length - b->out.len;
        int r = gsm_http_body_put(&b->out, p, n < left ? n : (size_t)left);
        return r < 0 ? r : b->out.len == b->h.length;
    }
    return gsm_http_body_put(&b->out, p, n);   /* close-delimited: complete at EOF */
}

static int body_start(struct body *b, const struct head *h, size_t max) {
    *b = (struct body){.h = *h, .out = {.max = max}};
    if (h->have_length && !h->chunked && h->length > max)
        return -EFBIG;                 /* as curl's CURLOPT_MAXFILESIZE */
    return 0;
}

/* At EOF: is what came a whole body? */
static int body_eof(const struct body *b, const char **why) {
    if ((b->h.chunked && b->ck.phase != C_DONE) || (!b->h.chunked && b->h.have_length && b->out.len != b->h.length)) {
        *why = "connection closed before the end of the body";
        return -EPROTO;
    }
    return 0;
}

int gsm_http_parse_response(const char *buf, size_t len, size_t max_body, long *ret_status, char **ret_body,
                            size_t *ret_len) {
    const char *why = "";
    size_t hl, at = 0;
    struct head h;
    for (;;) {                         /* 1xx interim responses come before the real one */
        size_t e = head_end(buf + at, len - at, &hl);
        if (!e)
            return -EPROTO;
        int r = parse_head(buf + at, buf + at + hl, &h, &why);
        if (r < 0)
            return r;
        at += e;
        if (h.status >= 200)
            break;
    }
    struct body b;
    int r = body_start(&b, &h, max_body);
    if (r == 0)
        r = body_feed(&b, buf + at, len - at, &why);
    if (r == 0)
        r = body_eof(&b, &why);
    if (r < 0) {
        free(b.out.buf);
        return r;
    }
    *ret_status = h.status;
    return gsm_http_body_take(&b.out, ret_body, ret_len);
}

/* ---- the socket ---- */

static uint64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, uint64_t deadline) {
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= deadline)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, (int)(deadline - now));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n > 0)
            return 1;
    }
}

static int connect_to(const struct gsm_http_url *u, int family, uint64_t deadline, int *ret_fd) {
    struct sockaddr_storage sa = {0};
    socklen_t sl;
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(u->port);
        s4->sin_addr = u->family == AF_INET ? u->addr.v4 : (struct in_addr){htonl(INADDR_LOOPBACK)};
        sl = sizeof *s4;
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(u->port);
        s6->sin6_addr = u->family == AF_INET6 ? u->addr.v6 : in6addr_loopback;
        sl = sizeof *s6;
    }
    _cleanup_close_ int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sl) < 0) {
        if (errno != EINPROGRESS)
            return -errno;
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r <= 0)
            return r == 0 ? -ETIMEDOUT : r;
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            return -errno;
        if (err)
            return -err;
    }
    *ret_fd = TAKE_FD(fd);
    return 0;
}

static int send_all(int fd, const char *p, size_t n, uint64_t deadline) {
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            int r = wait_fd(fd, POLLOUT, deadline);
            if (r <= 0)
                return r == 0 ? -ETIMEDOUT : r;
            continue;
        }
        if (k < 0)
            return -errno;
        p += k, n -= (size_t)k;
    }
    return 0;
}

/* Read the response: the header block into hdr (at most 64 KiB), the body into b. */
static int receive(int fd, uint64_t deadline, size_t max_body, long *ret_status, struct body *b, const char **why) {
    _cleanup_free_ char *hdr = malloc(GSM_HTTP_MAX_HEADER_BYTES);
    if (!hdr)
        return -ENOMEM;
    size_t hlen = 0;
    bool in_body = false;
    char buf[64 * 1024];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            int r = wait_fd(fd, POLLIN, deadline);
            if (r <= 0)
                return r == 0 ? -ETIMEDOUT : r;
            continue;
        }
        if (n < 0)
            return -errno;
        if (n == 0) {
            if (!in_body) {
                *why = "connection closed before the end of the headers";
                return -EPROTO;
            }
            return body_eof(b, why);
        }
        const char *p = buf;
        size_t left = (size_t)n;
        while (!in_body && left > 0) {
            size_t k = left < GSM_HTTP_MAX_HEADER_BYTES - hlen ? left : GSM_HTTP_MAX_HEADER_BYTES - hlen;
            memcpy(hdr + hlen, p, k);
            hlen += k, p += k, left -= k;
            size_t hl, e = head_end(hdr, hlen, &hl);
            if (!e) {
                if (hlen == GSM_HTTP_MAX_HEADER_BYTES) {
                    *why = "headers larger than 64 KiB";
                    return -EPROTO;
                }
                continue;
            }
            struct head h;
            int r = parse_head(hdr, hdr + hl, &h, why);
            if (r < 0)
                return r;
            /* bytes after the blank line that were copied into hdr go back in front */
            size_t extra = hlen - e;
            p -= extra, left += extra;
            hlen = 0;
            if (h.status < 200)
                continue;              /* an interim response: the real one follows */
            *ret_status = h.status;
            if (h.status != 200)
                return 0;              /* the body is not wanted */
            r = body_start(b, &h, max_body);
            if (r < 0)
                return r;
            in_body = true;
        }
        if (in_body && left > 0) {
            int r = body_feed(b, p, left, why);
            if (r != 0)
                return r < 0 ? r : 0;
        } else if (in_body && b->h.have_length && !b->h.chunked && b->out.len == b->h.length)
            return 0;
    }
}

int gsm_http_loopback_get(const char *url, const struct gsm_http_url *u, const struct gsm_http_opts *o,
                          const char *header, char **ret_body, size_t *ret_len, char *errbuf, size_t errlen) {
    uint64_t start = mono_ms(), deadline = start + o->total_timeout_ms;
    uint64_t cdeadline = start + (o->connect_timeout_ms < o->total_timeout_ms ? o->connect_timeout_ms
                                                                               : o->total_timeout_ms);
    int fd = -1;
    int r = connect_to(u, u->family, cdeadline, &fd);
    if (r == -ECONNREFUSED && u->localhost)
        r = connect_to(u, AF_INET6, cdeadline, &fd);   /* localhost is [::1] too */
    if (r < 0) {
        if (r == -ETIMEDOUT)
            gsm_seterr(errbuf, errlen, "%s: timed out: no connection after %u ms", url, o->connect_timeout_ms);
        else if (r == -ECONNREFUSED)
            gsm_seterr(errbuf, errlen, "%s: connection refused", url);
        else
            gsm_seterr(errbuf, errlen, "%s: %s", url, strerror(-r));
        return r == -ETIMEDOUT || r == -ECONNREFUSED || r == -ENOMEM ? r : -ECONNREFUSED;
    }
    _cleanup_close_ int sock = fd;
    char req[1400];
    int rl = snprintf(req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gsmapper/" GSM_VERSION "\r\n%s\r\n"
                      "Connection: close\r\n\r\n",
                      u->path, u->hostport, header ? header : "Accept: */*");
    if (rl < 0 || (size_t)rl >= sizeof req) {
        gsm_seterr(errbuf, errlen, "%s: request too long", url);
        return -EINVAL;
    }
    const char *why = "";
    long status = 0;
    struct body b = {0};
    r = send_all(sock, req, (size_t)rl, deadline);
    if (r == 0)
        r = receive(sock, deadline, o->max_body_bytes, &status, &b, &why);
    if (r < 0) {
        free(b.out.buf);
        if (r == -EFBIG)
            gsm_http_body_too_big(url, o->max_body_bytes, errbuf, errlen);
        else if (r == -ETIMEDOUT)
            gsm_seterr(errbuf, errlen, "%s: timed out after %u ms", url, o->total_timeout_ms);
        else if (r == -EPROTO)
            gsm_seterr(errbuf, errlen, "%s: malformed response: %s", url, why);
        else
            gsm_seterr(errbuf, errlen, "%s: %s", url, strerror(-r));
        gsm_debug("GET %s: %s", url, strerror(-r));
        return r == -EFBIG || r == -ETIMEDOUT || r == -ENOMEM ? r : -EPROTO;
    }
    return gsm_http_body_finish(&b.out, url, status, ret_body, ret_len, errbuf, errlen);
}
