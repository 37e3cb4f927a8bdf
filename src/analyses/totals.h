/* Sums per class and for the whole process, and the reconciliation with smaps_rollup.
 *
 * The rollup rule (fs/proc/task_mmu.c, verified on this kernel by tests/cli/test_rollup.sh):
 * show_smaps_rollup() accumulates the same per-page statistics over every VMA into one
 * mem_size_stats and prints it once. Fields counted in whole pages (Rss, Shared_*, Private_*,
 * Referenced, Anonymous, KSM, LazyFree, *HugePages/PmdMapped, *_Hugetlb, Swap) therefore sum
 * exactly. Proportional fields (Pss, Pss_Dirty, SwapPss, Locked) are kept with PSS_SHIFT = 12
 * fractional bits and truncated to kB when printed: per mapping each loses < 1 kB, the rollup
 * loses < 1 kB once, so 0 <= rollup - sum(mappings) < number of mappings (in kB).
 * Pss_Anon, Pss_File and Pss_Shmem are printed only in the rollup. Size, KernelPageSize,
 * MMUPageSize, THPeligible, ProtectionKey and VmFlags are per-mapping only. */
#pragma once

#include "model/process.h"

struct gsm_class_totals {
    uint64_t size_bytes, rss_bytes, pss_bytes;
    uint64_t anon_bytes;      /* Anonymous: private anonymous pages (incl. COW of files) */
    uint64_t file_bytes;      /* Rss - Anonymous of non-shmem mappings: page cache mapped */
    uint64_t shmem_bytes;     /* Rss of shared-memory mappings */
    uint64_t swap_bytes, swap_pss_bytes, lazyfree_bytes, anon_huge_bytes;
    uint64_t private_dirty_bytes, locked_bytes;
    uint64_t uss_bytes;       /* Private_Clean + Private_Dirty: what goes away if the process exits */
    uint64_t n_mappings;
};

#define GSM_TOP_MAPPINGS_MAX 64

struct gsm_totals {
    struct gsm_class_totals cls[GSM_CLASS__COUNT];
    struct gsm_class_totals all;
    /* Indices of the largest mappings by RSS (RSS > 0), largest first, ties in address order. */
    size_t top[GSM_TOP_MAPPINGS_MAX];
    size_t n_top;
    /* A sum would have passed 2^64 - 1: it is held at UINT64_MAX (never wrapped) and the output
     * says "saturated". Only malformed input gets here (2^64 bytes is 16 EiB). */
    bool saturated;
};

void gsm_totals_compute(const struct gsm_process *p, struct gsm_totals *ret);
/* Adds maps[from, to) (classified) to totals that start zeroed: the incremental form. */
void gsm_totals_add(struct gsm_totals *ret, const struct gsm_process *p, size_t from, size_t to);
/* A mapping already added under class `from` now has class m->cls: move its figures between
 * the two class rows (the process total and the field sums do not change). */
void gsm_totals_move(struct gsm_totals *t, const struct gsm_mapping *m, enum gsm_class from);

struct gsm_reconcile_row {
    enum gsm_smaps_field field;
    uint64_t mappings_sum_bytes, rollup_bytes;
    bool proportional;     /* truncated per mapping: a difference below n_mappings kB is expected */
    bool ok;
};

/* Compare every field the rollup printed with the per-mapping sums under the rule above.
 * Returns the number of rows written (at most GSM_F__COUNT); *ret_ok is true when every row
 * follows the rule. Needs p->have_rollup. */
size_t gsm_reconcile_rollup(const struct gsm_process *p, const struct gsm_totals *t,
                            struct gsm_reconcile_row *rows, bool *ret_ok);
