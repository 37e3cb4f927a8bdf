#include "util/memtrim.h"
#include "util/cleanup.h"

#include <errno.h>
#include <stdbool.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21   /* include/uapi/asm-generic/mman-common.h */
#endif

/* One read-only file mapping: unmapped from our page tables when none of its pages is private
 * (Anonymous: 0: never written, so the file has every byte), else paged out (the relocated
 * pages of a RELRO segment are private copies: dropping them would lose the relocations). */
static int release_one(unsigned long start, unsigned long end, bool has_private) {
    void *a = (void *)start;
    size_t len = end - start;
    if (has_private)
        return madvise(a, len, MADV_PAGEOUT) == 0 ? 0 : -errno;
    /* A page serve uses again comes back with its neighbours in the same 64 KiB (fault-around:
     * MADV_RANDOM does not turn that off; measured on 6.18, one page touched maps 16 with or
     * without it), so what stays resident is every 64 KiB window serve still uses. */
    return madvise(a, len, MADV_DONTNEED) == 0 ? 0 : -errno;
}

int gsm_release_file_pages(size_t *ret_mappings) {
    _cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
    if (!f)
        return -errno;
    char line[4096 + 128];
    size_t n = 0;
    int first_error = 0;
    unsigned long start = 0, end = 0;
    bool pending = false;   /* the current mapping is one to release, its Anonymous line not seen yet */
    while (fgets(line, sizeof line, f)) {
        unsigned long s0, e0;
        char perms[5];
        /* A header: "start-end perms offset dev inode path"; a path starting with '/' is a file. */
        if (sscanf(line, "%lx-%lx %4s", &s0, &e0, perms) == 3 && strchr(line, ' ')) {
            pending = perms[1] != 'w' && strchr(line, '/');
            start = s0;
            end = e0;
            continue;
        }
        unsigned long anon_kb;
        if (!pending || sscanf(line, "Anonymous: %lu kB", &anon_kb) != 1)
            continue;
        pending = false;
        int r = release_one(start, end, anon_kb > 0);
        if (r == 0)
            n++;
        else if (!first_error)
            first_error = r;
    }
    if (ret_mappings)
        *ret_mappings = n;
    return n == 0 && first_error ? first_error : (int)n;
}

void gsm_malloc_tune_for_daemon(void) {
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024);
    mallopt(M_ARENA_MAX, 1);
}

void gsm_malloc_trim(void) {
    malloc_trim(0);
}
