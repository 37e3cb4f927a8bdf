/* shape: the live-test target, a process with an exactly known memory shape.
 *
 * Usage: shape -f FILE        (FILE: at least 32 MiB, created by the harness)
 *
 * Regions (all sizes exact):
 *   anon    64 MiB anonymous MAP_PRIVATE rw, every page written
 *           (private-dirty, Rss = Pss = 64 MiB). It is placed between two
 *           one-page PROT_NONE guard mappings so the kernel can never merge
 *           it with a neighbouring anonymous mapping: it is exactly one VMA.
 *   file    the first 32 MiB of FILE, MAP_PRIVATE PROT_READ, every page read
 *           (file-backed, clean; Rss = 32 MiB once all pages are cached).
 *   memfd   a 16 MiB memfd ("memfd:gsm-shape"), ftruncated, MAP_SHARED rw,
 *           every page written (shmem, shared-dirty from the kernel's view,
 *           but mapped only by this process so Pss = Rss = 16 MiB).
 *   stack0..stack3
 *           the usable part (without guard) of the default glibc stack of each
 *           of 4 extra pthreads; the threads are blocked on a condition
 *           variable that is never signalled.
 *
 * Output on stdout (flushed once everything is set up and verified):
 *   READY <pid>
 *   REGION anon <start> <end>
 *   REGION file <start> <end>
 *   REGION memfd <start> <end>
 *   REGION stack0 <start> <end>
 *   ... stack1, stack2,
 *   REGION stack3 <start> <end>
 * start/end are lowercase hex without 0x, matching /proc/PID/maps (end is
 * exclusive). Every region is verified against /proc/self/maps to be exactly
 * one VMA before READY is printed. Then the process blocks reading stdin until
 * EOF (the harness closes the pipe) or until SIGTERM.
 * Any failure prints a message on stderr and exits 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)
#define ANON_SIZE (64 * MIB)
#define FILE_SIZE (32 * MIB)
#define MEMFD_SIZE (16 * MIB)
#define NTHREADS 4

struct region {
    char name[16];
    uintptr_t start, end;
};

static struct region regions[3 + NTHREADS];
static int nregions;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started; /* threads that reached their wait */

static void die(const char *what)
{
    fprintf(stderr, "shape: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void die_rc(const char *what, int rc)
{
    fprintf(stderr, "shape: %s: %s\n", what, strerror(rc));
    exit(1);
}

static void add_region(const char *name, const void *start, size_t len)
{
    struct region *r = &regions[nregions++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->start = (uintptr_t)start;
    r->end = (uintptr_t)start + len;
}

static void *thread_main(void *arg)
{
    (void)arg;
    int rc = pthread_mutex_lock(&mu);
    if (rc != 0)
        die_rc("pthread_mutex_lock", rc);
    started++;
    rc = pthread_cond_broadcast(&cv);
    if (rc != 0)
        die_rc("pthread_cond_broadcast", rc);
    for (;;) { /* never signalled for us: block forever */
        rc = pthread_cond_wait(&cv, &mu);
        if (rc != 0)
            die_rc("pthread_cond_wait", rc);
    }
    return NULL;
}

/* Checks that every region is exactly one line of /proc/self/maps. */
static void verify_regions(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        die("/proc/self/maps");
    int found[3 + NTHREADS] = {0};
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) != 2) {
            fprintf(stderr, "shape: unparsable maps line: %s", line);
            exit(1);
        }
        for (int i = 0; i < nregions; i++) {
            if (s == regions[i].start && e == regions[i].end) {
                found[i] = 1;
            } else if (s < regions[i].end && e > regions[i].start) {
                fprintf(stderr, "shape: region %s %lx-%lx is not one VMA (overlaps %lx-%lx)\n",
                        regions[i].name, (unsigned long)regions[i].start,
                        (unsigned long)regions[i].end, s, e);
                exit(1);
            }
        }
    }
    if (ferror(f))
        die("read /proc/self/maps");
    fclose(f);
    for (int i = 0; i < nregions; i++) {
        if (!found[i]) {
            fprintf(stderr, "shape: region %s %lx-%lx not found in /proc/self/maps\n",
                    regions[i].name, (unsigned long)regions[i].start,
                    (unsigned long)regions[i].end);
            exit(1);
        }
    }
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

int main(int argc, char **argv)
{
    const char *path = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "f:h")) != -1) {
        switch (opt) {
        case 'f':
            path = optarg;
            break;
        case 'h':
            printf("usage: shape -f FILE   (FILE of at least 32 MiB)\n");
            return 0;
        default:
            fprintf(stderr, "usage: shape -f FILE\n");
            return 1;
        }
    }
    if (!path || optind != argc) {
        fprintf(stderr, "usage: shape -f FILE   (FILE of at least 32 MiB)\n");
        return 1;
    }

    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0)
        die("sysconf(_SC_PAGESIZE)");
    size_t page = (size_t)ps;

    /* anon: reserve guard + 64 MiB + guard as PROT_NONE, then map the middle rw. */
    unsigned char *resv = mmap(NULL, ANON_SIZE + 2 * page, PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (resv == MAP_FAILED)
        die("mmap anon reservation");
    unsigned char *anon = mmap(resv + page, ANON_SIZE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (anon == MAP_FAILED)
        die("mmap anon");
    for (size_t off = 0; off < ANON_SIZE; off += page)
        anon[off] = (unsigned char)((off / page) | 1);
    add_region("anon", anon, ANON_SIZE);

    /* file: 32 MiB private read-only, every page read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(path);
    struct stat st;
    if (fstat(fd, &st) != 0)
        die("fstat");
    if ((uint64_t)st.st_size < (uint64_t)FILE_SIZE) {
        fprintf(stderr, "shape: %s is %lld bytes, need at least %lu\n", path,
                (long long)st.st_size, (unsigned long)FILE_SIZE);
        return 1;
    }
    unsigned char *fmap = mmap(NULL, FILE_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
    if (fmap == MAP_FAILED)
        die("mmap file");
    if (close(fd) != 0)
        die("close file");
    volatile unsigned sum = 0;
    for (size_t off = 0; off < FILE_SIZE; off += page)
        sum += fmap[off];
    (void)sum;
    add_region("file", fmap, FILE_SIZE);

    /* memfd: 16 MiB shared, fully written. */
    int mfd = memfd_create("gsm-shape", 0);
    if (mfd < 0)
        die("memfd_create");
    if (ftruncate(mfd, (off_t)MEMFD_SIZE) != 0)
        die("ftruncate memfd");
    unsigned char *mem = mmap(NULL, MEMFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (mem == MAP_FAILED)
        die("mmap memfd");
    memset(mem, 0xa5, MEMFD_SIZE);
    add_region("memfd", mem, MEMFD_SIZE);
    /* mfd stays open for the life of the process (shows in /proc/PID/fd too). */

    /* 4 threads with default glibc stacks, blocked on a condition variable. */
    pthread_t tids[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        int rc = pthread_create(&tids[i], NULL, thread_main, NULL);
        if (rc != 0)
            die_rc("pthread_create", rc);
    }
    int rc = pthread_mutex_lock(&mu);
    if (rc != 0)
        die_rc("pthread_mutex_lock", rc);
    while (started < NTHREADS) {
        rc = pthread_cond_wait(&cv, &mu);
        if (rc != 0)
            die_rc("pthread_cond_wait", rc);
    }
    rc = pthread_mutex_unlock(&mu);
    if (rc != 0)
        die_rc("pthread_mutex_unlock", rc);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_attr_t attr;
        rc = pthread_getattr_np(tids[i], &attr);
        if (rc != 0)
            die_rc("pthread_getattr_np", rc);
        void *saddr;
        size_t ssize;
        rc = pthread_attr_getstack(&attr, &saddr, &ssize);
        if (rc != 0)
            die_rc("pthread_attr_getstack", rc);
        rc = pthread_attr_destroy(&attr);
        if (rc != 0)
            die_rc("pthread_attr_destroy", rc);
        char name[16];
        snprintf(name, sizeof name, "stack%d", i);
        add_region(name, saddr, ssize);
    }

    verify_regions();

    if (printf("READY %ld\n", (long)getpid()) < 0)
        die("write stdout");
    for (int i = 0; i < nregions; i++) {
        if (printf("REGION %s %lx %lx\n", regions[i].name, (unsigned long)regions[i].start,
                   (unsigned long)regions[i].end) < 0)
            die("write stdout");
    }
    if (fflush(stdout) != 0)
        die("write stdout");

    wait_for_eof();
    /* Threads are still blocked; exit() ends them with the process. */
    return 0;
}
