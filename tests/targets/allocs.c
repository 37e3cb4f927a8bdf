/* allocs: allocate a known amount through malloc (whichever allocator is linked or preloaded:
 * glibc, jemalloc, tcmalloc, mimalloc, musl) and keep it live, for the allocator tests
 * (tests/live/test_allocators.sh).
 *
 * Usage: allocs [-m MIB] [-b KIB] [-t THREADS]
 *   -m MIB      total to allocate (default 64)
 *   -b KIB      block size (default 1024: 1 MiB blocks)
 *   -t THREADS  allocate from this many threads, MIB each split evenly (default 1: the main
 *               thread; more makes glibc use non-main arenas)
 *
 * Every block is written once per page, so all of it is resident and private-dirty.
 * Prints "READY <pid> <bytes allocated>" and then blocks reading stdin until EOF.
 * Any failure prints a message on stderr and exits 1. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t block_bytes = 1024 * 1024, per_thread_bytes;

static void *alloc_part(void *arg) {
    (void)arg;
    long page = sysconf(_SC_PAGESIZE);
    for (size_t done = 0; done < per_thread_bytes; done += block_bytes) {
        char *b = malloc(block_bytes);
        if (!b) {
            fprintf(stderr, "allocs: malloc(%zu) failed\n", block_bytes);
            exit(1);
        }
        for (size_t o = 0; o < block_bytes; o += (size_t)page)
            b[o] = 1;
        b[block_bytes - 1] = 1;
    }
    return NULL;   /* the blocks stay allocated: never freed */
}

int main(int argc, char **argv) {
    long mib = 64, kib = 1024, threads = 1;
    int c;
    while ((c = getopt(argc, argv, "m:b:t:")) != -1) {
        switch (c) {
        case 'm': mib = atol(optarg); break;
        case 'b': kib = atol(optarg); break;
        case 't': threads = atol(optarg); break;
        default: fprintf(stderr, "usage: allocs [-m MIB] [-b KIB] [-t THREADS]\n"); return 2;
        }
    }
    if (mib <= 0 || kib <= 0 || threads <= 0 || threads > 64) {
        fprintf(stderr, "allocs: bad arguments\n");
        return 2;
    }
    block_bytes = (size_t)kib * 1024;
    per_thread_bytes = (size_t)mib * 1024 * 1024 / (size_t)threads;
    if (threads == 1)
        alloc_part(NULL);
    else {
        pthread_t th[64];
        for (long i = 0; i < threads; i++)
            if (pthread_create(&th[i], NULL, alloc_part, NULL) != 0) {
                fprintf(stderr, "allocs: pthread_create failed\n");
                return 1;
            }
        for (long i = 0; i < threads; i++)
            pthread_join(th[i], NULL);
    }
    printf("READY %d %zu\n", (int)getpid(), per_thread_bytes * (size_t)threads);
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    return 0;
}
