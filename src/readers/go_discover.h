/* Finding a Go process's own debug HTTP endpoint from its PID: the loopback (or any-address)
 * TCP listeners in /proc/PID/net/tcp{,6} whose socket inodes belong to the process's own
 * /proc/PID/fd/N links ("socket:[INODE]"). /proc/PID/net shows the whole network namespace, so
 * the inode filter is what makes a port "its own". All reads are relative to a /proc/PID fd. */
#pragma once

#include "model/go_stats.h"
#include "util/root.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One listening socket of a net/tcp or net/tcp6 table. */
struct gsm_tcp_listener {
    int family;            /* AF_INET or AF_INET6 */
    uint8_t addr[16];      /* network byte order (4 bytes used for AF_INET) */
    uint16_t port;
    uint64_t inode;
};

/* Parse /proc/net/tcp (family AF_INET) or tcp6 (AF_INET6), keeping sockets in state 0A (LISTEN).
 *   "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 35263 1 ..."
 * The kernel prints each 32-bit word of the address with %08X in host byte order
 * (net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv6/tcp_ipv6.c get_tcp6_sock), so 127.0.0.1 reads
 * "0100007F" on little-endian machines; the port is already in host order. Appends to
 * *listeners (malloc'd, grown) and *n. Returns 0 or -EBADMSG (errbuf filled), -ENOMEM. */
int gsm_parse_proc_net_tcp(const char *buf, size_t len, int family, struct gsm_tcp_listener **listeners,
                           size_t *n, char *errbuf, size_t errlen);

/* Where to reach a listener from here: 127.x.y.z and [::1] as they are; 0.0.0.0 via 127.0.0.1
 * and [::] via [::1]; IPv4-mapped forms as IPv4. Returns 0, or -EADDRNOTAVAIL for a listener
 * bound to a non-loopback address (not reachable on loopback, and we only talk to loopback). */
int gsm_tcp_listener_loopback_host(const struct gsm_tcp_listener *l, char *host, size_t size);

#define GSM_GO_MAX_PORTS 32

struct gsm_go_endpoint {
    char host[48];         /* "127.0.0.1", "[::1]" */
    uint16_t port;
};

struct gsm_go_ports {
    struct gsm_go_endpoint ep[GSM_GO_MAX_PORTS];
    size_t n;              /* unique ports, in table order, IPv4 first */
    int same_netns;        /* 1: the target shares our network namespace; 0: it does not (its
                            * loopback is not ours: do not connect); -1: unknown */
};

/* Listening loopback ports owned by the process whose /proc/PID directory is procfd. Needs
 * ptrace-read access for fd/ (same user or CAP_SYS_PTRACE): -EACCES/-EPERM otherwise; -ENOENT
 * or -ESRCH when it is gone. */
int gsm_go_discover_at(int procfd, struct gsm_go_ports *ret);

/* Same for PID under root, also comparing the target's ns/net with root's proc/self/ns/net. */
int gsm_go_discover(const struct gsm_root *root, pid_t pid, struct gsm_go_ports *ret);
/* Same through an open process handle; -ESRCH when the handle's process is gone after the read. */
struct gsm_proc;
int gsm_go_discover_proc(const struct gsm_root *root, const struct gsm_proc *h, struct gsm_go_ports *ret);
