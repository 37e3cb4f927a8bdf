/* Host-wide memory settings the findings need: THP mode, khugepaged's max_ptes_none, swap,
 * total memory and vm.max_map_count. All read below --root; a file the kernel lacks (no THP
 * support, CONFIG_TRANSPARENT_HUGEPAGE=n, a fixture without it) leaves its have_* false.
 *
 *   sys/kernel/mm/transparent_hugepage/enabled               "always [madvise] never"
 *   sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none  "511"
 *   proc/meminfo                                             "SwapTotal:  2097148 kB"
 *   proc/sys/vm/max_map_count                                "65530"
 *
 * (mm/huge_memory.c: enabled_show() prints every mode with the active one in brackets;
 * mm/khugepaged.c: max_ptes_none defaults to HPAGE_PMD_NR - 1 = 511 on x86-64;
 * fs/proc/meminfo.c: meminfo_proc_show() prints "Key:<spaces>N kB".) */
#pragma once

#include "model/host.h"
#include "util/root.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pure: the bracketed word of a THP "enabled" file into ret (size ret_size >= 2). Returns 0,
 * -EINVAL when there is no "[word]" of lowercase letters, or it does not fit. */
int gsm_parse_thp_enabled(const char *buf, size_t len, char *ret, size_t ret_size);

/* Pure: MemTotal, SwapTotal, SwapFree from /proc/meminfo (kB -> bytes). A line whose number
 * does not parse or overflows (a 25-digit value) leaves that key absent. Returns 0, or
 * -EINVAL when none of the three keys parsed. */
int gsm_parse_meminfo(const char *buf, size_t len, struct gsm_meminfo *ret);

/* proc/meminfo below root: the engine's MemTotal (the limit of last resort) and the host
 * info's. Returns 0, -EINVAL (none of the keys parsed), -errno of the read. */
int gsm_meminfo_read(const struct gsm_root *root, struct gsm_meminfo *ret);

/* Pure: a one-number sysfs/sysctl file ("511\n"). Returns 0, -EINVAL, -ERANGE. */
int gsm_parse_host_u64(const char *buf, size_t len, uint64_t *ret);

/* Read all of the above below root. Missing or unparsable files leave have_* false; only
 * -ENOMEM is an error. Returns 0 or -ENOMEM. */
int gsm_host_info_read(const struct gsm_root *root, struct gsm_host_info *ret);
