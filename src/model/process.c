#include "model/process.h"
#include "model/go_build.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The mapping array of a process with many mappings is large (20,000 x ~312 bytes = 6 MiB) and
 * written once, front to back. From 2 MiB up it lives in its own anonymous mapping with
 * MADV_HUGEPAGE (honoured with THP "madvise" or "always"): a few 2 MiB faults instead of ~1,500
 * 4 KiB ones (bench/explain.sh: a fault costs ~1 us here, the whole read ~25 ms), grown with
 * mremap (no copy). Arrays under 512 KiB (~1,700 mappings) stay on malloc; from there a 64 MiB
 * region is reserved at once (address space only: pages exist once written), so that it stays
 * 2 MiB-aligned and is not moved by every doubling (~200,000 mappings before it grows). */
#define MAPS_RESERVE_BYTES ((size_t)64 << 20)
#define MAPS_BIG_BYTES ((size_t)512 << 10)
#define MAPS_BIG_BYTES_EARLY ((size_t)64 << 10)
#define HUGE_PAGE_BYTES ((size_t)2 << 20)

static size_t round_big(size_t n) {
    return (n + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
}

static int grow_maps(struct gsm_process *p, size_t n) {
    size_t bytes = n * sizeof *p->maps;
    if (bytes < (p->maps_reserve_early ? MAPS_BIG_BYTES_EARLY : MAPS_BIG_BYTES) && !p->maps_mapped_bytes) {
        struct gsm_mapping *m = realloc(p->maps, bytes);
        if (!m)
            return -1;
        p->maps = m;
        return 0;
    }
    size_t len = round_big(bytes);
    void *m;
    if (p->maps_mapped_bytes) {
        m = mremap(p->maps, p->maps_mapped_bytes, len, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            return -1;
    } else {
        len = len > MAPS_RESERVE_BYTES ? len : MAPS_RESERVE_BYTES;
        m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return -1;
        /* advice before the first write, or the first 2 MiB get 4 KiB pages */
        (void)madvise(m, len, MADV_HUGEPAGE);   /* advice only: EINVAL without THP is fine */
        memcpy(m, p->maps, p->n_maps * sizeof *p->maps);
        free(p->maps);
    }
    p->maps = m;
    p->maps_mapped_bytes = len;
    return 0;
}

void gsm_process_init(struct gsm_process *p, pid_t pid) {
    memset(p, 0, sizeof *p);
    p->pid = pid;
    gsm_strpool_init(&p->pool);
    long ps = sysconf(_SC_PAGESIZE);
    p->page_size = ps > 0 ? (uint64_t)ps : 4096;
}

void gsm_process_free(struct gsm_process *p) {
    for (size_t i = 0; p->maps_have_extra && i < p->n_maps; i++)
        free(p->maps[i].extra);
    free(p->rollup.extra);
    if (p->maps_mapped_bytes)
        munmap(p->maps, p->maps_mapped_bytes);
    else
        free(p->maps);
    free(p->tasks);
    if (p->go) {
        gsm_go_info_free(p->go);
        free(p->go);
    }
    if (p->go_build) {
        gsm_go_buildinfo_free(p->go_build);
        free(p->go_build);
    }
    gsm_strpool_free(&p->pool);
    memset(p, 0, sizeof *p);
}

struct gsm_mapping *gsm_process_add_mapping(struct gsm_process *p) {
    if (p->n_maps == p->cap_maps) {
        size_t n = p->cap_maps ? p->cap_maps * 2 : 64;
        if (grow_maps(p, n) < 0)
            return NULL;
        p->cap_maps = p->maps_mapped_bytes ? p->maps_mapped_bytes / sizeof *p->maps : n;
    }
    struct gsm_mapping *m = &p->maps[p->n_maps++];
    memset(m, 0, sizeof *m);
    return m;
}

void gsm_process_note_missing(struct gsm_process *p, const char *what) {
    for (size_t i = 0; i < p->n_missing; i++)
        if (strcmp(p->missing[i], what) == 0)
            return;
    if (p->n_missing < sizeof p->missing / sizeof p->missing[0])
        p->missing[p->n_missing++] = what;
}
