#include "util/memtrim.h"
#include "util/cleanup.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21   /* include/uapi/asm-generic/mman-common.h */
#endif

int gsm_release_file_pages(size_t *ret_mappings) {
    _cleanup_fclose_ FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -errno;
    char line[4096 + 128];
    size_t n = 0;
    int first_error = 0;
    while (fgets(line, sizeof line, f)) {
        /* "start-end perms offset dev inode path": a path starting with '/' is a file. */
        unsigned long start, end;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3 || perms[1] == 'w' || !strchr(line, '/'))
            continue;
        if (madvise((void *)start, end - start, MADV_PAGEOUT) == 0)
            n++;
        else if (!first_error)
            first_error = -errno;
    }
    if (ret_mappings)
        *ret_mappings = n;
    return n == 0 && first_error ? first_error : (int)n;
}

void gsm_malloc_tune_for_daemon(void) {
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024);
    mallopt(M_ARENA_MAX, 2);
}
