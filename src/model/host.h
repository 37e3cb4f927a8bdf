/* Host-wide memory settings (filled by readers/host.c, which says where each comes from). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct gsm_host_info {
    bool have_thp;
    char thp_enabled[16];               /* "always" | "madvise" | "never": the bracketed word */
    bool have_max_ptes_none;
    uint64_t khugepaged_max_ptes_none;  /* of 512 subpages, how many may be unmapped for
                                         * khugepaged to still collapse the range */
    bool have_swap;                     /* SwapTotal and SwapFree both parsed */
    uint64_t swap_total_bytes, swap_free_bytes;
    bool have_mem_total;
    uint64_t mem_total_bytes;
    bool have_max_map_count;
    uint64_t max_map_count;             /* vm.max_map_count: the VMA limit per process */
    uint64_t page_size;                 /* sysconf(_SC_PAGESIZE) of the machine we run on */
};

/* /proc/meminfo, the keys we use. */
struct gsm_meminfo {
    bool have_mem_total, have_swap_total, have_swap_free;
    uint64_t mem_total_bytes, swap_total_bytes, swap_free_bytes;
};
