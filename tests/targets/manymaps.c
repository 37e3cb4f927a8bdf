/* manymaps: a benchmark/test target with N separate, unmergeable mappings.
 *
 * Usage: manymaps [-n N]        (default N = 20000)
 *
 * Maps one anonymous private region of N pages, writes every page (so each
 * page is resident and private-dirty), then mprotects every odd page to
 * PROT_READ. Adjacent VMAs with different protections cannot be merged, so
 * the region becomes exactly N VMAs of one page each, all resident.
 *
 * Prints "READY <pid>" on stdout (flushed) and then blocks reading stdin until
 * EOF (the harness ends it by closing the pipe) or until SIGTERM.
 * Any failure prints a message on stderr and exits 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "manymaps: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void dief(const char *msg)
{
    fprintf(stderr, "manymaps: %s\n", msg);
    exit(1);
}

static long parse_long(const char *s, long lo, long hi, const char *name)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "manymaps: bad %s '%s' (want %ld..%ld)\n", name, s, lo, hi);
        exit(1);
    }
    return v;
}

/* Reads /proc/sys/vm/max_map_count; returns -1 if it cannot be read. */
static long max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
    if (!f)
        return -1;
    long v = -1;
    if (fscanf(f, "%ld", &v) != 1)
        v = -1;
    fclose(f);
    return v;
}

/* Blocks until stdin reaches EOF (or a read error other than EINTR). */
static void wait_for_eof(void)
{
    char buf[256];
    for (;;) {
        ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
        if (r == 0)
            return;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("read stdin");
        }
    }
}

int main(int argc, char **argv)
{
    long n = 20000;
    int opt;
    while ((opt = getopt(argc, argv, "n:h")) != -1) {
        switch (opt) {
        case 'n':
            n = parse_long(optarg, 1, 10000000, "-n");
            break;
        case 'h':
            printf("usage: manymaps [-n N]   (N mappings, default 20000)\n");
            return 0;
        default:
            fprintf(stderr, "usage: manymaps [-n N]\n");
            return 1;
        }
    }
    if (optind != argc)
        dief("unexpected arguments (usage: manymaps [-n N])");

    /* Leave headroom for the loader, libc, stack, vdso, etc. */
    long maxc = max_map_count();
    if (maxc > 0 && n + 256 > maxc) {
        fprintf(stderr,
                "manymaps: -n %ld needs more than vm.max_map_count=%ld allows "
                "(raise it: sysctl -w vm.max_map_count=%ld)\n",
                n, maxc, n + 1024);
        return 1;
    }

    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0)
        die("sysconf(_SC_PAGESIZE)");
    size_t page = (size_t)ps;
    size_t len = (size_t)n * page;

    unsigned char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        die("mmap");

    /* One write per page: every page becomes resident private-dirty. */
    for (long i = 0; i < n; i++)
        base[(size_t)i * page] = (unsigned char)(i | 1);

    /* Alternate protections: rw, r, rw, r, ... -> n unmergeable VMAs. */
    for (long i = 1; i < n; i += 2) {
        if (mprotect(base + (size_t)i * page, page, PROT_READ) != 0) {
            if (errno == ENOMEM)
                fprintf(stderr, "manymaps: mprotect failed at mapping %ld: out of "
                                "memory or vm.max_map_count reached\n", i);
            die("mprotect");
        }
    }

    if (printf("READY %ld\n", (long)getpid()) < 0 || fflush(stdout) != 0)
        die("write stdout");

    wait_for_eof();
    if (munmap(base, len) != 0)
        die("munmap");
    return 0;
}
