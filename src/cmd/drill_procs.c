/* The drill's two children. The leak is a fork of gsmapper itself (no program of its own): it
 * waits until it has been moved into the drill's cgroup and told to go, then touches fresh
 * anonymous pages at the rate asked (small steps, no huge pages) until the kernel kills it.
 * The watch side is `gsmapper watch` through /proc/self/exe: the command users run, its JSON
 * lines on a pipe. Both die with the drill (PR_SET_PDEATHSIG) and sit in process groups of
 * their own, so a terminal's ^C reaches the drill alone and the drill stops them. */
#include "cmd/drill.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t drill_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In a fresh child: default signals, own process group, die with the parent. */
static void child_setup(pid_t parent, int pdeath_sig) {
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGHUP, &dfl, NULL);
    sigaction(SIGPIPE, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, pdeath_sig);
    if (getppid() != parent)
        _exit(1);
}

static void sleep_s(double s) {
    if (s <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* The leak itself (never returns). */
static void leak_run(int go_fd, uint64_t rate, uint64_t cap, volatile uint64_t *shared) {
    prctl(PR_SET_NAME, "gsm-drill-leak");
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {   /* the only member anyway; raising our own score needs no privilege */
        if (write(fd, "1000", 4) < 0) { /* not fatal */ }
        close(fd);
    }
    char c;
    ssize_t n;
    while ((n = read(go_fd, &c, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1)
        _exit(0);   /* the drill went away before the start */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *mem = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        _exit(2);
    madvise(mem, cap, MADV_NOHUGEPAGE);   /* one page at a time: a smooth rate, not 2 MiB steps */
    /* Steps of 1/50 s of the rate (at least a page, at most 1 MiB). */
    uint64_t step = rate / 50;
    if (step > (1u << 20))
        step = 1u << 20;
    step = step < page ? page : step / page * page;
    double t0 = mono_s();
    uint64_t done = 0;
    while (done < cap) {
        double due_at = t0 + (double)(done + step) / (double)rate;
        sleep_s(due_at - mono_s());
        uint64_t end = done + step > cap ? cap : done + step;
        for (uint64_t off = done; off < end; off += page)
            ((volatile char *)mem)[off] = 1;
        done = end;
        __atomic_store_n(shared, done, __ATOMIC_RELAXED);
    }
    for (;;)
        pause();   /* cap reached and still alive (swap?): the drill times out and says so */
}

int drill_leak_start(uint64_t rate, uint64_t cap, struct drill_leak *ret) {
    *ret = (struct drill_leak){.pid = -1, .pidfd = -1, .go_fd = -1};
    ret->shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ret->shared == MAP_FAILED) {
        ret->shared = NULL;
        return -errno;
    }
    ret->shared[0] = 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return -e;
    }
    if (pid == 0) {
        child_setup(parent, SIGKILL);
        /* Keep only the go pipe (as fd 3): no other descriptor of the drill stays open here. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        if (dup2(fds[0], 3) < 0)
            _exit(1);
        syscall(SYS_close_range, 4u, ~0u, 0u);
        leak_run(3, rate, cap, ret->shared);
    }
    close(fds[0]);
    ret->pid = pid;
    ret->go_fd = fds[1];
    ret->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return 0;
}

int drill_leak_go(struct drill_leak *l) {
    ssize_t n = write(l->go_fd, "g", 1);
    return n == 1 ? 0 : -errno;
}

int drill_leak_poll(struct drill_leak *l) {
    if (l->pid <= 0 || l->reaped)
        return 1;
    int st;
    pid_t r = waitpid(l->pid, &st, WNOHANG);
    if (r == l->pid) {
        l->reaped = true;
        l->status = st;
        return 1;
    }
    return 0;
}

uint64_t drill_leak_touched(const struct drill_leak *l) {
    return l->shared ? __atomic_load_n(l->shared, __ATOMIC_RELAXED) : 0;
}

void drill_leak_stop(struct drill_leak *l) {
    if (l->pid > 0 && !l->reaped) {
        kill(l->pid, SIGKILL);   /* our own child, started above */
        int st;
        while (waitpid(l->pid, &st, 0) < 0 && errno == EINTR) {
        }
        l->reaped = true;
        l->status = st;
    }
    if (l->go_fd >= 0)
        close(l->go_fd);
    if (l->pidfd >= 0)
        close(l->pidfd);
    if (l->shared)
        munmap((void *)l->shared, 4096);
    l->go_fd = l->pidfd = -1;
    l->shared = NULL;
}

/* ---- the watch side ------------------------------------------------------------------------ */

int drill_watch_start(const char *cgroup, const char *dump_dir, const char *stderr_path, struct drill_watch *ret) {
    *ret = (struct drill_watch){.pid = -1, .out_fd = -1};
    char *argv[] = {"gsmapper", "watch", "--cgroup", (char *)cgroup, "--dump-dir", (char *)dump_dir,
                    "--emit-samples", "-o", "json", NULL};
    size_t tl = 0;
    for (char **a = argv; *a; a++)
        tl += strlen(*a) + 1;
    ret->argv_text = malloc(tl + 1);
    if (!ret->argv_text)
        return -ENOMEM;
    ret->argv_text[0] = '\0';
    for (char **a = argv; *a; a++) {
        strcat(ret->argv_text, *a);
        if (a[1])
            strcat(ret->argv_text, " ");
    }
    int err_fd = open(stderr_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (err_fd < 0)
        return -errno;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        int e = errno;
        close(err_fd);
        return -e;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(err_fd);
        close(fds[0]);
        close(fds[1]);
        return -e;
    }
    if (pid == 0) {
        child_setup(parent, SIGTERM);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(err_fd, 2) < 0)
            _exit(126);
        execv("/proc/self/exe", argv);
        dprintf(2, "gsmapper: drill: cannot run /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    close(err_fd);
    close(fds[1]);
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    ret->pid = pid;
    ret->out_fd = fds[0];
    return 0;
}

int drill_watch_read(struct drill_watch *w, void (*fn)(const char *line, void *ud), void *ud) {
    if (w->eof || w->out_fd < 0)
        return 1;
    for (;;) {
        if (w->cap - w->len < 4096) {
            size_t nc = w->cap ? w->cap * 2 : 16384;
            char *nb = realloc(w->buf, nc);
            if (!nb)
                return 0;
            w->buf = nb;
            w->cap = nc;
        }
        ssize_t n = read(w->out_fd, w->buf + w->len, w->cap - w->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 0;   /* EAGAIN: all read */
        if (n == 0) {
            w->eof = true;
            return 1;
        }
        w->len += (size_t)n;
        size_t start = 0;
        for (size_t i = w->len - (size_t)n; i < w->len; i++) {
            if (w->buf[i] != '\n')
                continue;
            w->buf[i] = '\0';
            fn(w->buf + start, ud);
            start = i + 1;
        }
        memmove(w->buf, w->buf + start, w->len - start);
        w->len -= start;
        if (w->len > (1u << 20))
            w->len = 0;   /* a line over 1 MiB is not one of watch's: dropped */
    }
}

void drill_watch_stop(struct drill_watch *w) {
    if (w->pid > 0 && !w->reaped) {
        kill(w->pid, SIGTERM);   /* our own child, started above */
        int st = 0;
        for (int i = 0; i < 60; i++) {
            pid_t r = waitpid(w->pid, &st, WNOHANG);
            if (r == w->pid) {
                w->reaped = true;
                break;
            }
            sleep_s(0.05);
        }
        if (!w->reaped) {
            kill(w->pid, SIGKILL);
            while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR) {
            }
            w->reaped = true;
        }
        w->status = st;
    }
    if (w->out_fd >= 0)
        close(w->out_fd);
    w->out_fd = -1;
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}
