/* grow: a test target whose anonymous memory grows in steps (for cgroup limit / OOM tests).
 *
 * Usage: grow [-s STEP_MIB] [-i INTERVAL_MS] [-m MAX_MIB] [-w]
 *   -s STEP_MIB     anonymous memory added per step (default 8)
 *   -i INTERVAL_MS  pause between steps (default 100)
 *   -m MAX_MIB      stop growing once this much is held (default 0 = unlimited: grow until
 *                   killed, e.g. by a cgroup's OOM killer)
 *   -w              wait for one line on stdin before starting to grow (so the harness can
 *                   move the process into a cgroup first); EOF instead of a line exits 0
 *
 * Prints "READY <pid>" on stdout, then "GREW <total_mib>" after each step (every page of the
 * step written once, so it is resident and charged), each line flushed. With a MAX_MIB, prints
 * "HOLD" on reaching it and blocks until stdin reaches EOF or SIGTERM (both exit 0).
 * Any failure (including mmap failing) prints a message on stderr and exits 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "grow: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long parse_long(const char *s, long lo, long hi, const char *name)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "grow: bad %s '%s' (want %ld..%ld)\n", name, s, lo, hi);
        exit(1);
    }
    return v;
}

static void on_term(int sig)
{
    (void)sig;
    _exit(0);
}

/* Read stdin up to and including a newline. Returns 1 on a line, 0 on EOF first. */
static int wait_for_line(void)
{
    char c;
    for (;;) {
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r == 1) {
            if (c == '\n')
                return 1;
            continue;
        }
        if (r == 0)
            return 0;
        if (errno != EINTR)
            die("read stdin");
    }
}

static void wait_for_eof(void)
{
    char buf[256];
    for (;;) {
        ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
        if (r == 0)
            return;
        if (r < 0 && errno != EINTR)
            die("read stdin");
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
        if (errno != EINTR)
            die("nanosleep");
    }
}

static void usage(FILE *to)
{
    fprintf(to, "usage: grow [-s STEP_MIB] [-i INTERVAL_MS] [-m MAX_MIB] [-w]\n");
}

int main(int argc, char **argv)
{
    long step_mib = 8, interval_ms = 100, max_mib = 0;
    int wait_first = 0, opt;
    while ((opt = getopt(argc, argv, "s:i:m:wh")) != -1) {
        switch (opt) {
        case 's':
            step_mib = parse_long(optarg, 1, 1L << 20, "-s");
            break;
        case 'i':
            interval_ms = parse_long(optarg, 0, 3600L * 1000, "-i");
            break;
        case 'm':
            max_mib = parse_long(optarg, 0, 1L << 30, "-m");
            break;
        case 'w':
            wait_first = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0)
        die("sigaction");

    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;

    printf("READY %ld\n", (long)getpid());
    fflush(stdout);
    if (wait_first && !wait_for_line())
        return 0;

    long total_mib = 0;
    for (;;) {
        long this_mib = step_mib;
        if (max_mib > 0 && total_mib + this_mib > max_mib)
            this_mib = max_mib - total_mib;
        if (this_mib > 0) {
            size_t len = (size_t)this_mib << 20;
            char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                die("mmap");
            for (size_t off = 0; off < len; off += (size_t)page)
                p[off] = 1;
            total_mib += this_mib;
            printf("GREW %ld\n", total_mib);
            fflush(stdout);
        }
        if (max_mib > 0 && total_mib >= max_mib)
            break;
        if (interval_ms > 0)
            sleep_ms(interval_ms);
    }
    printf("HOLD\n");
    fflush(stdout);
    wait_for_eof();
    return 0;
}
