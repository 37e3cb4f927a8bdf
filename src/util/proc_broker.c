#include "util/proc_broker.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef GSM_HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "util/sanitizer.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

enum { OP_EXE = 1, OP_LINK_FD, OP_LINK_NS_NET, OP_TASK_SYSCALL, OP_CGROUP, OP_ATTACH, OP_OOM_ADJ, OP_THP };

struct req {
    uint32_t op;
    int32_t pid;
    int32_t arg;
};
struct rep {
    int32_t err;
    uint32_t len;
};
#define DATA_MAX 4096
#define MAX_CLIENTS 32

/* The --protect rules (gsm_broker_allow_oom_adj, set before the fork): the only oom_score_adj
 * writes the broker makes. */
static struct gsm_broker_oom_rule oom_rules[GSM_BROKER_OOM_RULES_MAX];
static size_t n_oom_rules;

/* ---- the broker process ------------------------------------------------------------------- */

/* Receives one message and at most one descriptor. Returns its length, 0 at end of file. */
static ssize_t recv_fd(int s, void *buf, size_t len, int *ret_fd) {
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } c;
    struct iovec iov = {buf, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
    *ret_fd = -1;
    ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return -errno;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(ret_fd, CMSG_DATA(h), sizeof(int));
    return n;
}

static int send_fd(int s, const void *a, size_t alen, const void *b, size_t blen, int fd) {
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } c;
    memset(&c, 0, sizeof c);
    struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = blen ? 2 : 1};
    if (fd >= 0) {
        m.msg_control = c.b;
        m.msg_controllen = sizeof c.b;
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &fd, sizeof(int));
    }
    return sendmsg(s, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int read_link(const char *path, char *out, uint32_t *len) {
    ssize_t n = readlinkat(AT_FDCWD, path, out, DATA_MAX - 1);
    if (n < 0)
        return errno;
    out[n] = '\0';
    *len = (uint32_t)n + 1;
    return 0;
}

/* OP_OOM_ADJ: value written to /proc/PID/oom_score_adj, only when a --protect rule names the
 * process's comm with this very value, and only while the pidfd we were passed (the caller's,
 * opened on the process it checked) says its process has not exited: both files were opened
 * before that poll, so they are that process's (a PID is not reused before its process is
 * reaped), and a write through them after it exits fails (ESRCH), it never reaches another
 * process. Returns 0 or an errno. */
static int oom_adj_write(pid_t pid, int value, int pidfd) {
    if (pidfd < 0)
        return ESRCH;   /* no identity to check: not written */
    char path[64], comm[32];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    int cf = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (cf < 0)
        return errno == ENOENT ? ESRCH : errno;
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
    int fd = openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    int err = fd < 0 ? (errno == ENOENT ? ESRCH : errno) : 0;
    struct pollfd pf = {.fd = pidfd, .events = POLLIN};
    if (err == 0 && poll(&pf, 1, 0) != 0)
        err = ESRCH;   /* exited (or not a pidfd): what the PID named may be another process */
    ssize_t n = err ? -1 : read(cf, comm, sizeof comm - 1);
    if (err == 0 && n < 0)
        err = errno;
    if (err == 0) {
        while (n > 0 && comm[n - 1] == '\n')
            n--;
        comm[n] = '\0';
        bool allowed = false;
        for (size_t i = 0; i < n_oom_rules && !allowed; i++)
            allowed = strcmp(oom_rules[i].comm, comm) == 0 && oom_rules[i].adj == value;
        if (!allowed)
            err = EPERM;
    }
    if (err == 0) {
        char buf[16];
        int len = snprintf(buf, sizeof buf, "%d\n", value);
        if (write(fd, buf, (size_t)len) != len)
            err = errno == ENOENT ? ESRCH : errno;
    }
    close(cf);
    if (fd >= 0)
        close(fd);
    return err;
}

/* One request; *add receives a client socket to serve from now on (OP_ATTACH). */
static void answer(int s, const struct req *q, int passed, char *data, int *add) {
    struct rep r = {0};
    char path[96];
    int fd = -1;
    if (q->pid <= 0 || (q->op == OP_OOM_ADJ ? q->arg < -1000 || q->arg > 1000 : q->arg < -1)) {
        r.err = EINVAL;
    } else if (q->op == OP_OOM_ADJ) {
        r.err = oom_adj_write(q->pid, q->arg, passed);
    } else if (q->op == OP_EXE) {
        snprintf(path, sizeof path, "/proc/%d/exe", (int)q->pid);
        if ((fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
            r.err = errno;
        else if (read_link(path, data, &r.len) != 0)
            r.len = 0;   /* the descriptor is what matters; the caller says the path is unknown */
    } else if (q->op == OP_LINK_FD || q->op == OP_LINK_NS_NET) {
        if (q->op == OP_LINK_FD && q->arg >= 0)
            snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)q->pid, (int)q->arg);
        else
            snprintf(path, sizeof path, "/proc/%d/ns/net", (int)q->pid);
        r.err = read_link(path, data, &r.len);
        if (r.err == 0 && q->op == OP_LINK_FD && strncmp(data, "socket:[", 8) != 0)
            r.err = ENOTSOCK, r.len = 0;   /* another process's file names are none of our business */
    } else if (q->op == OP_TASK_SYSCALL && q->arg > 0) {
        snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)q->pid, (int)q->arg);
        int f = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n = f < 0 ? -1 : read(f, data, DATA_MAX);
        r.err = n < 0 ? errno : 0;
        r.len = n < 0 ? 0 : (uint32_t)n;
        if (f >= 0)
            close(f);
    } else if (q->op == OP_CGROUP && passed >= 0 && (q->arg == GSM_BROKER_CG_PRESSURE ||
                                                     q->arg == GSM_BROKER_CG_EVENT_CONTROL)) {
        struct statfs sf;
        if (fstatfs(passed, &sf) < 0)
            r.err = errno;
        else if (sf.f_type != CGROUP2_SUPER_MAGIC && sf.f_type != CGROUP_SUPER_MAGIC)
            r.err = EXDEV;
        else if (q->arg == GSM_BROKER_CG_PRESSURE)
            fd = openat(passed, "memory.pressure", O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        else
            fd = openat(passed, "cgroup.event_control", O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (r.err == 0 && fd < 0)
            r.err = errno;
    } else if (q->op == OP_THP && (q->arg == GSM_BROKER_THP_ENABLED || q->arg == GSM_BROKER_THP_MAX_PTES_NONE)) {
        /* the two THP settings the findings need, by fixed name: the domain never reads
         * /sys/kernel itself */
        const char *f = q->arg == GSM_BROKER_THP_ENABLED ? "/sys/kernel/mm/transparent_hugepage/enabled"
                                                         : "/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none";
        int t = openat(AT_FDCWD, f, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        ssize_t n = t < 0 ? -1 : read(t, data, DATA_MAX);
        r.err = n < 0 ? errno : 0;
        r.len = n < 0 ? 0 : (uint32_t)n;
        if (t >= 0)
            close(t);
    } else if (q->op == OP_ATTACH && passed >= 0) {
        *add = passed;
        passed = -1;
    } else
        r.err = EINVAL;
    if (r.err)
        r.len = 0;
    send_fd(s, &r, sizeof r, data, r.len, fd);
    if (fd >= 0)
        close(fd);
    if (passed >= 0)
        close(passed);
}

#ifdef GSM_HAVE_SECCOMP
/* The broker's own allow-list; anything else fails with ENOSYS. */
static int broker_seccomp(void) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
    if (!ctx)
        return -ENOMEM;
    static const char *const allow[] = {"recvmsg", "sendmsg", "readlinkat", "read", "fstatfs", "close", "poll",
                                        "ppoll", "exit", "exit_group", "rt_sigreturn",
                                        "write",   /* oom_score_adj (--protect): the only file it writes */
#ifdef GSM_ASAN
                                        /* the sanitizer runtime's allocator and reports */
                                        "mmap", "munmap", "madvise", "write", "futex", "sched_yield", "getpid", "gettid", "sigaltstack",
#endif
                                        NULL};
    int r = 0;
    for (size_t i = 0; allow[i] && r == 0; i++) {
        int nr = seccomp_syscall_resolve_name(allow[i]);
        if (nr != __NR_SCMP_ERROR && nr >= 0)
            r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    /* openat: read-only or the two notification files' modes; never creating or truncating */
    const uint64_t bad = O_CREAT | O_TRUNC | O_APPEND | O_PATH | O_TMPFILE | O_DIRECTORY;
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, bad, 0));
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    return r;
}
#endif

static void broker_main(int s, pid_t parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    /* Nothing but the socket (and stdio for a sanitizer's report). */
    if (s != 3) {
        if (dup2(s, 3) < 0)
            _exit(1);
        s = 3;
    }
    if (syscall(SYS_close_range, 4U, ~0U, 0) < 0)
        for (int fd = 4; fd < 1024; fd++)
            close(fd);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
#ifdef GSM_HAVE_SECCOMP
    if (broker_seccomp() < 0)
        _exit(1);
#endif
    static char data[DATA_MAX];
    struct pollfd p[MAX_CLIENTS] = {{.fd = s, .events = POLLIN}};
    nfds_t n = 1;
    for (;;) {
        if (poll(p, n, -1) < 0)
            continue;
        for (nfds_t i = 0; i < n; i++) {
            if (!p[i].revents)
                continue;
            struct req q;
            int passed, add = -1;
            ssize_t got = recv_fd(p[i].fd, &q, sizeof q, &passed);
            if (got == -EINTR || got == -EAGAIN)
                continue;
            if (got <= 0) {   /* that client is gone */
                if (i == 0)
                    _exit(0);
                close(p[i].fd);
                p[i--] = p[--n];
                continue;
            }
            if (got != (ssize_t)sizeof q) {
                q.op = 0;
                q.pid = 0;
            }
            answer(p[i].fd, &q, passed, data, &add);
            if (add >= 0 && n < MAX_CLIENTS)
                p[n++] = (struct pollfd){.fd = add, .events = POLLIN};
            else if (add >= 0)
                close(add);
        }
    }
}

/* ---- the client --------------------------------------------------------------------------- */

static int client = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

bool gsm_broker_active(void) {
    return client >= 0;
}

static int adopt(const char *e) {
    char *end;
    errno = 0;
    long fd = strtol(e, &end, 10);
    unsetenv(GSM_BROKER_FD_ENV);
    int type = 0;
    socklen_t tl = sizeof type;
    if (errno || *end || fd < 3 || fd > 65535 || getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
        type != SOCK_SEQPACKET)
        return -EBADF;
    fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    client = (int)fd;
    return 0;
}

int gsm_broker_start(void) {
    if (client >= 0)
        return 0;
    const char *e = getenv(GSM_BROKER_FD_ENV);
    if (e && adopt(e) == 0)
        return 1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int r = -errno;
        close(sv[0]);
        close(sv[1]);
        return r;
    }
    if (pid == 0) {
        close(sv[0]);
        broker_main(sv[1], parent);
        _exit(0);
    }
    close(sv[1]);
    client = sv[0];
    return 0;
}

/* One request and its answer, under the lock (serve's threads share the socket). */
static int call(uint32_t op, pid_t pid, int arg, int send, char *data, size_t size, int *ret_fd) {
    struct req q = {.op = op, .pid = pid, .arg = arg};
    struct rep r;
    char buf[DATA_MAX];
    struct iovec iov[2] = {{&r, sizeof r}, {buf, sizeof buf}};
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } c;
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = c.b, .msg_controllen = sizeof c.b};
    pthread_mutex_lock(&lock);
    int err = client < 0 ? -EPIPE : send_fd(client, &q, sizeof q, NULL, 0, send);
    ssize_t n = 0;
    if (err == 0) {
        do
            n = recvmsg(client, &m, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        err = n < 0 ? -errno : n < (ssize_t)sizeof r ? -EPIPE : 0;
    }
    if (err == -EPIPE || err == -ECONNRESET) {
        gsm_warn("sandbox: the /proc broker is gone; links of other processes are no longer readable");
        close(client);
        client = -1;
    }
    pthread_mutex_unlock(&lock);
    int fd = -1;
    struct cmsghdr *h = err == 0 ? CMSG_FIRSTHDR(&m) : NULL;
    if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&fd, CMSG_DATA(h), sizeof fd);
    if (err == 0 && r.err)
        err = -r.err;
    size_t len = err == 0 ? (size_t)n - sizeof r : 0;
    if (err == 0 && len > r.len)
        len = r.len;
    if (ret_fd && err == 0)
        *ret_fd = fd;
    else if (fd >= 0)
        close(fd);
    if (err < 0)
        return err;
    if (data && size) {
        if (len > size)
            len = size;
        memcpy(data, buf, len);
    }
    return (int)len;
}

int gsm_broker_exe(pid_t pid, char *link, size_t link_size, int *ret_fd) {
    int fd = -1;
    int n = call(OP_EXE, pid, 0, -1, link, link_size, &fd);
    if (n < 0)
        return n;
    if (link && link_size) {
        if (n == 0 || link[n - 1] != '\0')
            link[0] = '\0';
    }
    if (ret_fd)
        *ret_fd = fd;
    else if (fd >= 0)
        close(fd);
    return 0;
}

int gsm_broker_readlink(pid_t pid, int fd, char *buf, size_t size) {
    int n = call(fd >= 0 ? OP_LINK_FD : OP_LINK_NS_NET, pid, fd, -1, buf, size, NULL);
    if (n <= 0 || buf[n - 1] != '\0')
        return n < 0 ? n : -EIO;
    return n - 1;
}

int gsm_broker_task_syscall(pid_t pid, pid_t tid, char *buf, size_t size) {
    return call(OP_TASK_SYSCALL, pid, tid, -1, buf, size, NULL);
}

int gsm_broker_cgroup_open(int dirfd, enum gsm_broker_cgroup_file which) {
    int fd = -1;
    int r = call(OP_CGROUP, 1, (int)which, dirfd, NULL, 0, &fd);
    if (r < 0)
        return r;
    return fd >= 0 ? fd : -EIO;
}

void gsm_broker_allow_oom_adj(const struct gsm_broker_oom_rule *rules, size_t n) {
    n_oom_rules = 0;
    for (size_t i = 0; i < n && n_oom_rules < GSM_BROKER_OOM_RULES_MAX; i++)
        oom_rules[n_oom_rules++] = rules[i];
}

int gsm_broker_oom_score_adj(pid_t pid, int pidfd, int value) {
    int r = call(OP_OOM_ADJ, pid, value, pidfd, NULL, 0, NULL);
    return r < 0 ? r : 0;
}

int gsm_broker_thp(enum gsm_broker_thp_file which, char *buf, size_t size) {
    return call(OP_THP, 1, (int)which, -1, buf, size, NULL);
}

int gsm_broker_attach_new(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    int r = call(OP_ATTACH, 1, 0, sv[1], NULL, 0, NULL);
    close(sv[1]);
    if (r < 0) {
        close(sv[0]);
        return r;
    }
    return sv[0];
}
