#include "readers/go_discover.h"
#include "readers/proc_handle.h"
#include "readers/proc_priv.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/errbuf.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Exactly `digits` hex digits at s into *ret. */
static bool hex_fixed(const char *s, size_t digits, uint32_t *ret) {
    uint32_t v = 0;
    for (size_t i = 0; i < digits; i++) {
        int d = hexval(s[i]);
        if (d < 0)
            return false;
        v = (v << 4) | (uint32_t)d;
    }
    *ret = v;
    return true;
}

/* The whitespace-separated fields of [p, end): up to max, returns how many. */
static size_t split_fields(const char *p, const char *end, const char **f, size_t *fl, size_t max) {
    size_t n = 0;
    while (p < end && n < max) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end)
            break;
        f[n] = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        fl[n] = (size_t)(p - f[n]);
        n++;
    }
    return n;
}

int gsm_parse_proc_net_tcp(const char *buf, size_t len, int family, struct gsm_tcp_listener **listeners,
                           size_t *n, char *errbuf, size_t errlen) {
    const size_t addr_hex = family == AF_INET6 ? 32 : 8;
    if (family != AF_INET && family != AF_INET6)
        return -EINVAL;
    const char *p = buf, *end = buf + len;
    size_t lineno = 0, cap = *n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *line = p;
        p = nl ? nl + 1 : end;
        lineno++;
        const char *f[10];
        size_t fl[10];
        size_t nf = split_fields(line, le, f, fl, 10);
        if (nf == 0)
            continue;
        if (lineno == 1 && fl[0] == 2 && memcmp(f[0], "sl", 2) == 0)
            continue;                               /* the header line */
        if (nf < 10 || fl[0] < 2 || f[0][fl[0] - 1] != ':') {
            gsm_seterr(errbuf, errlen, "line %zu: expected \"N: local remote st ... inode\"", lineno);
            return -EBADMSG;
        }
        /* local "ADDR:PORT" */
        uint32_t st, port;
        if (fl[1] != addr_hex + 5 || f[1][addr_hex] != ':' || !hex_fixed(f[1] + addr_hex + 1, 4, &port) ||
            fl[3] != 2 || !hex_fixed(f[3], 2, &st)) {
            gsm_seterr(errbuf, errlen, "line %zu: bad local address or state", lineno);
            return -EBADMSG;
        }
        struct gsm_tcp_listener l = {.family = family, .port = (uint16_t)port};
        for (size_t w = 0; w < addr_hex / 8; w++) {
            uint32_t word;
            if (!hex_fixed(f[1] + 8 * w, 8, &word)) {
                gsm_seterr(errbuf, errlen, "line %zu: bad local address", lineno);
                return -EBADMSG;
            }
            memcpy(l.addr + 4 * w, &word, 4);       /* host-order word -> the original bytes */
        }
        /* inode: decimal, field 10 */
        uint64_t ino = 0;
        if (fl[9] == 0 || fl[9] > 20) {
            gsm_seterr(errbuf, errlen, "line %zu: bad inode", lineno);
            return -EBADMSG;
        }
        for (size_t i = 0; i < fl[9]; i++) {
            char c = f[9][i];
            if (c < '0' || c > '9' || ino > (UINT64_MAX - (uint64_t)(c - '0')) / 10) {
                gsm_seterr(errbuf, errlen, "line %zu: bad inode", lineno);
                return -EBADMSG;
            }
            ino = ino * 10 + (uint64_t)(c - '0');
        }
        l.inode = ino;
        if (st != 0x0A || ino == 0)                 /* TCP_LISTEN; 0 = no owner (time-wait) */
            continue;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct gsm_tcp_listener *nl2 = realloc(*listeners, ncap * sizeof **listeners);
            if (!nl2)
                return -ENOMEM;
            *listeners = nl2;
            cap = ncap;
        }
        (*listeners)[(*n)++] = l;
    }
    return 0;
}

int gsm_tcp_listener_loopback_host(const struct gsm_tcp_listener *l, char *host, size_t size) {
    static const uint8_t zero[16], v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const uint8_t *v4 = NULL;
    if (l->family == AF_INET)
        v4 = l->addr;
    else if (memcmp(l->addr, v4mapped, 12) == 0)
        v4 = l->addr + 12;
    if (v4) {
        if (v4[0] == 127)
            snprintf(host, size, "%u.%u.%u.%u", v4[0], v4[1], v4[2], v4[3]);
        else if (memcmp(v4, zero, 4) == 0)
            snprintf(host, size, "127.0.0.1");
        else
            return -EADDRNOTAVAIL;
        return 0;
    }
    if (memcmp(l->addr, lo6, 16) == 0 || memcmp(l->addr, zero, 16) == 0) {
        snprintf(host, size, "[::1]");
        return 0;
    }
    return -EADDRNOTAVAIL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The socket inodes among procfd's fd/ links, sorted. */
static int read_socket_inodes(int procfd, uint64_t **ret, size_t *ret_n) {
    DIR *d;
    int r = gsm_opendir_at(procfd, "fd", &d);
    if (r < 0)
        return r;
    _cleanup_free_ uint64_t *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char link[64], name[300];
        snprintf(name, sizeof name, "fd/%s", de->d_name);
        int ll = gsm_proc_readlink(procfd, name, link, sizeof link);
        if (ll < 0) {
            if (ll == -ENOENT || ll == -ENOTSOCK)   /* closed meanwhile: a normal race; not a socket */
                continue;
            r = ll;
            break;
        }
        /* "socket:[35263]" */
        if (strncmp(link, "socket:[", 8) != 0)
            continue;
        char *e;
        errno = 0;
        unsigned long long ino = strtoull(link + 8, &e, 10);
        if (errno || e == link + 8 || *e != ']')
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            uint64_t *nv = realloc(v, ncap * sizeof *v);
            if (!nv) {
                r = -ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        v[n++] = ino;
    }
    closedir(d);
    if (r < 0)
        return r;
    if (n)
        qsort(v, n, sizeof *v, cmp_u64);
    *ret = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

/* 16 MiB of net/tcp is ~100k sockets (150 bytes a line): more is a host we should not scan. */
#define NET_TCP_MAX ((size_t)16 << 20)

/* The listening TCP sockets of our own network namespace from the kernel's sock_diag netlink
 * interface (inet_diag, states = LISTEN): only the listeners, where /proc/PID/net/tcp formats
 * every socket of the namespace (~4 ms here with 400 sockets, most of a Go explain's cost). */
static int netlink_listeners(struct gsm_tcp_listener **ls, size_t *n) {
    _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0)
        return -errno;
    struct timeval tv = {.tv_sec = 1};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t cap = *n;
    static const int families[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < ELEMENTSOF(families); f++) {
        struct {
            struct nlmsghdr nh;
            struct inet_diag_req_v2 req;
        } msg = {
            .nh = {.nlmsg_len = sizeof msg, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                   .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = (uint32_t)f + 1},
            .req = {.sdiag_family = (uint8_t)families[f], .sdiag_protocol = IPPROTO_TCP,
                    .idiag_states = 1u << 10 /* TCP_LISTEN */},
        };
        if (send(fd, &msg, sizeof msg, 0) != (ssize_t)sizeof msg)
            return -errno;
        for (bool done = false; !done;) {
            long buf[8192 / sizeof(long)];
            ssize_t len = recv(fd, buf, sizeof buf, 0);
            if (len < 0)
                return -errno;
            if (len == 0)
                return -EPROTO;
            for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
                if (h->nlmsg_type == NLMSG_DONE) {
                    done = true;
                    break;
                }
                if (h->nlmsg_type == NLMSG_ERROR)
                    return -EPROTO;
                if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
                    continue;
                const struct inet_diag_msg *m = NLMSG_DATA(h);
                if (m->idiag_state != 10 || m->idiag_inode == 0)
                    continue;
                if (*n == cap) {
                    size_t ncap = cap ? cap * 2 : 16;
                    struct gsm_tcp_listener *nl = realloc(*ls, ncap * sizeof *nl);
                    if (!nl)
                        return -ENOMEM;
                    *ls = nl;
                    cap = ncap;
                }
                struct gsm_tcp_listener *l = &(*ls)[(*n)++];
                memset(l, 0, sizeof *l);
                l->family = m->idiag_family;
                memcpy(l->addr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
                l->port = ntohs(m->id.idiag_sport);
                l->inode = m->idiag_inode;
            }
        }
    }
    return 0;
}

static int file_listeners(int procfd, struct gsm_tcp_listener **ls, size_t *n_ls) {
    int r;
    static const struct { const char *path; int family; } tables[] = {
        {"net/tcp", AF_INET}, {"net/tcp6", AF_INET6},
    };
    for (size_t t = 0; t < ELEMENTSOF(tables); t++) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = gsm_read_file_at(procfd, tables[t].path, NET_TCP_MAX, &buf, &len);
        if (r == -ENOENT && tables[t].family == AF_INET6)
            continue;                               /* no IPv6 in this kernel */
        if (r < 0)
            return r;
        char err[128];
        r = gsm_parse_proc_net_tcp(buf, len, tables[t].family, ls, n_ls, err, sizeof err);
        if (r < 0) {
            gsm_debug("%s: %s", tables[t].path, err);
            return r;
        }
    }
    return 0;
}

/* The process's own listeners: its socket inodes against the listeners (netlink, in our own
 * namespace, or its net/tcp{,6} files). */
static int discover(int procfd, bool netlink, struct gsm_go_ports *ret) {
    _cleanup_free_ uint64_t *inodes = NULL;
    size_t n_inodes = 0;
    int r = read_socket_inodes(procfd, &inodes, &n_inodes);
    if (r < 0)
        return r;
    _cleanup_free_ struct gsm_tcp_listener *ls = NULL;
    size_t n_ls = 0;
    if (netlink) {
        r = netlink_listeners(&ls, &n_ls);
        if (r < 0) {
            gsm_debug("sock_diag: %s; reading net/tcp", strerror(-r));
            n_ls = 0;
        }
    }
    if (!netlink || r < 0) {
        r = file_listeners(procfd, &ls, &n_ls);
        if (r < 0)
            return r;
    }

    struct gsm_go_ports out = {.same_netns = -1};
    for (size_t i = 0; i < n_ls && out.n < GSM_GO_MAX_PORTS; i++) {
        if (n_inodes == 0 || !bsearch(&ls[i].inode, inodes, n_inodes, sizeof *inodes, cmp_u64))
            continue;
        char host[48];
        if (gsm_tcp_listener_loopback_host(&ls[i], host, sizeof host) < 0)
            continue;
        bool dup = false;
        for (size_t j = 0; j < out.n && !dup; j++)
            dup = out.ep[j].port == ls[i].port;
        if (dup)
            continue;
        snprintf(out.ep[out.n].host, sizeof out.ep[out.n].host, "%s", host);
        out.ep[out.n].port = ls[i].port;
        out.n++;
    }
    *ret = out;
    return 0;
}

int gsm_go_discover(const struct gsm_root *root, pid_t pid, struct gsm_go_ports *ret) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0)
        return r;
    return gsm_go_discover_proc(root, &h, ret);
}

int gsm_go_discover_at(int procfd, struct gsm_go_ports *ret) {
    return discover(procfd, false, ret);
}

int gsm_go_discover_proc(const struct gsm_root *root, const struct gsm_proc *h, struct gsm_go_ports *ret) {
    const int procfd = h->dirfd;
    /* "net:[4026531840]": the same text means the same namespace */
    char mine[64], theirs[64];
    int same_netns = -1;
    ssize_t a = readlinkat(root->fd, "proc/self/ns/net", mine, sizeof mine - 1);
    ssize_t b = gsm_proc_readlink(procfd, "ns/net", theirs, sizeof theirs);
    if (a > 0 && b > 0) {
        mine[a] = theirs[b] = '\0';
        same_netns = strcmp(mine, theirs) == 0;
    }
    /* netlink answers for our own namespace only: the live system, the target's namespace */
    struct gsm_go_ports out;
    int r = discover(procfd, root->is_host && same_netns == 1, &out);
    if (r < 0)
        return r;
    out.same_netns = same_netns;
    /* The ports were read from fd/ and net/tcp: were they this process's? */
    if ((r = gsm_proc_handle_check(h)) < 0)
        return r;
    *ret = out;
    return 0;
}
