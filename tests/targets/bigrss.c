/* bigrss: a benchmark/test target with a large anonymous RSS.
 *
 * Usage: bigrss [-m MIB] [-f FILE [-F MIB]]
 *   -m MIB   anonymous private memory to map and touch (default 4096)
 *   -f FILE  also mmap FILE (MAP_PRIVATE, read-only) and read one byte per page
 *   -F MIB   how much of FILE to map (default: the whole file; must not exceed it)
 *
 * Every anonymous page gets exactly one write (page-stride), so it is resident
 * and private-dirty. No MADV_HUGEPAGE is applied: with THP in "madvise" mode
 * the region is backed by 4 KiB pages (with "always" the kernel may use THPs).
 *
 * Prints "READY <pid>" on stdout (flushed) and then blocks reading stdin until
 * EOF (the harness ends it by closing the pipe) or until SIGTERM.
 * Any failure prints a message on stderr and exits 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "bigrss: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long parse_long(const char *s, long lo, long hi, const char *name)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "bigrss: bad %s '%s' (want %ld..%ld)\n", name, s, lo, hi);
        exit(1);
    }
    return v;
}

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

static void usage(FILE *to)
{
    fprintf(to, "usage: bigrss [-m MIB] [-f FILE [-F MIB]]\n");
}

int main(int argc, char **argv)
{
    long anon_mib = 4096, file_mib = -1;
    const char *path = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "m:f:F:h")) != -1) {
        switch (opt) {
        case 'm':
            anon_mib = parse_long(optarg, 0, 1L << 24, "-m");
            break;
        case 'f':
            path = optarg;
            break;
        case 'F':
            file_mib = parse_long(optarg, 1, 1L << 24, "-F");
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind != argc || (file_mib >= 0 && !path)) {
        usage(stderr);
        return 1;
    }

    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0)
        die("sysconf(_SC_PAGESIZE)");
    size_t page = (size_t)ps;

    size_t anon_len = (size_t)anon_mib << 20;
    unsigned char *anon = NULL;
    if (anon_len > 0) {
        anon = mmap(NULL, anon_len, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (anon == MAP_FAILED)
            die("mmap anonymous");
        for (size_t off = 0; off < anon_len; off += page)
            anon[off] = (unsigned char)((off / page) | 1);
    }

    unsigned char *fmap = NULL;
    size_t file_len = 0;
    if (path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die(path);
        struct stat st;
        if (fstat(fd, &st) != 0)
            die("fstat");
        if (file_mib < 0) {
            file_len = (size_t)st.st_size;
        } else {
            file_len = (size_t)file_mib << 20;
            if ((uint64_t)st.st_size < (uint64_t)file_len) {
                fprintf(stderr, "bigrss: %s is %lld bytes, smaller than -F %ld MiB\n",
                        path, (long long)st.st_size, file_mib);
                return 1;
            }
        }
        if (file_len == 0) {
            fprintf(stderr, "bigrss: %s is empty\n", path);
            return 1;
        }
        fmap = mmap(NULL, file_len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (fmap == MAP_FAILED)
            die("mmap file");
        if (close(fd) != 0)
            die("close");
        volatile unsigned sum = 0;
        for (size_t off = 0; off < file_len; off += page)
            sum += fmap[off];
        (void)sum;
    }

    if (printf("READY %ld\n", (long)getpid()) < 0 || fflush(stdout) != 0)
        die("write stdout");

    wait_for_eof();
    if (anon && munmap(anon, anon_len) != 0)
        die("munmap anonymous");
    if (fmap && munmap(fmap, file_len) != 0)
        die("munmap file");
    return 0;
}
