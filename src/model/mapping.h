/* One virtual memory area as /proc/PID/smaps describes it (fs/proc/task_mmu.c: show_smap()).
 *
 *   7f3c2a400000-7f3c2a600000 rw-p 00000000 00:00 0                          [heap]
 *   Size:               2048 kB
 *   ...
 *   VmFlags: rd wr mr mw me ac sd
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every field the kernel prints (6.x order). kB fields are stored in bytes. Pss, Pss_Dirty,
 * Pss_Anon/File/Shmem, SwapPss and Locked are proportional: the kernel keeps them with
 * PSS_SHIFT (12) extra bits and truncates when printing, per mapping or once for the rollup. */
#define GSM_SMAPS_FIELDS(X)                                  \
    X(SIZE, "Size", true)                                    \
    X(KERNEL_PAGE_SIZE, "KernelPageSize", true)              \
    X(MMU_PAGE_SIZE, "MMUPageSize", true)                    \
    X(RSS, "Rss", true)                                      \
    X(PSS, "Pss", true)                                      \
    X(PSS_DIRTY, "Pss_Dirty", true)                          \
    X(PSS_ANON, "Pss_Anon", true)                            \
    X(PSS_FILE, "Pss_File", true)                            \
    X(PSS_SHMEM, "Pss_Shmem", true)                          \
    X(SHARED_CLEAN, "Shared_Clean", true)                    \
    X(SHARED_DIRTY, "Shared_Dirty", true)                    \
    X(PRIVATE_CLEAN, "Private_Clean", true)                  \
    X(PRIVATE_DIRTY, "Private_Dirty", true)                  \
    X(REFERENCED, "Referenced", true)                        \
    X(ANONYMOUS, "Anonymous", true)                          \
    X(KSM, "KSM", true)                                      \
    X(LAZYFREE, "LazyFree", true)                            \
    X(ANON_HUGE_PAGES, "AnonHugePages", true)                \
    X(SHMEM_PMD_MAPPED, "ShmemPmdMapped", true)              \
    X(FILE_PMD_MAPPED, "FilePmdMapped", true)                \
    X(SHARED_HUGETLB, "Shared_Hugetlb", true)                \
    X(PRIVATE_HUGETLB, "Private_Hugetlb", true)              \
    X(SWAP, "Swap", true)                                    \
    X(SWAP_PSS, "SwapPss", true)                             \
    X(LOCKED, "Locked", true)                                \
    X(THP_ELIGIBLE, "THPeligible", false)                    \
    X(PROTECTION_KEY, "ProtectionKey", false)

enum gsm_smaps_field {
#define X(id, name, kb) GSM_F_##id,
    GSM_SMAPS_FIELDS(X)
#undef X
    GSM_F__COUNT
};

/* Kernel name of a field ("Pss_Anon") and whether it is printed in kB. */
const char *gsm_smaps_field_name(enum gsm_smaps_field f);
bool gsm_smaps_field_is_kb(enum gsm_smaps_field f);
/* Field by kernel name (exact, with length), or -1, starting the search at *hint and leaving *hint after the match: the kernel prints
 * fields in table order, so the next field is almost always the one expected. */
int gsm_smaps_field_lookup_from(const char *name, size_t len, int *hint);

/* A key the parser did not know (a newer kernel's field): kept verbatim. */
struct gsm_extra_field {
    const char *key;      /* interned */
    uint64_t value;       /* bytes when the line ended in " kB", else the number */
};

enum gsm_class {
    GSM_CLASS_GO_HEAP,
    GSM_CLASS_GO_RUNTIME,
    GSM_CLASS_THREAD_STACK,
    GSM_CLASS_MAIN_STACK,
    GSM_CLASS_NATIVE_HEAP,
    GSM_CLASS_ANON_OTHER,
    GSM_CLASS_BINARY,
    GSM_CLASS_SHARED_LIB,
    GSM_CLASS_FILE_MAPPED,
    GSM_CLASS_SHMEM,
    GSM_CLASS_SPECIAL,
    GSM_CLASS_HUGETLB,
    GSM_CLASS__COUNT
};

/* "go-heap", "thread-stack", ... (the names in PRODUCT.md). */
const char *gsm_class_name(enum gsm_class c);

/* The malloc implementation of a process, from the libraries it maps (analyses/classify). */
enum gsm_allocator {
    GSM_ALLOC_UNKNOWN,      /* none recognised (a static binary, a Go process without libc) */
    GSM_ALLOC_GLIBC,        /* libc.so.6 and no other allocator */
    GSM_ALLOC_MUSL,         /* ld-musl-ARCH.so.1, libc.musl-ARCH.so.1, .../ARCH-linux-musl/libc.so */
    GSM_ALLOC_JEMALLOC,     /* libjemalloc.so* */
    GSM_ALLOC_TCMALLOC,     /* libtcmalloc*.so* (gperftools) */
    GSM_ALLOC_MIMALLOC,     /* libmimalloc*.so* */
    GSM_ALLOC__COUNT
};
/* "glibc", "musl", "jemalloc", "tcmalloc", "mimalloc"; NULL for GSM_ALLOC_UNKNOWN. */
const char *gsm_allocator_name(enum gsm_allocator a);

struct gsm_mapping {
    uint64_t start, end;          /* [start, end) */
    uint64_t offset;              /* file offset */
    uint64_t inode;
    uint32_t dev_major, dev_minor;
    char perms[5];                /* "rw-p" */
    bool deleted;                 /* the path ended in " (deleted)" (stripped from path) */
    const char *path;             /* interned; NULL for an unnamed mapping; "[heap]", "[anon:x]" kept */
    const char *vmflags;          /* interned "rd wr mr mw me ac sd", NULL if absent */
    uint64_t present;             /* bit f set when field f was printed */
    uint64_t f[GSM_F__COUNT];
    struct gsm_extra_field *extra;
    uint32_t n_extra;
    enum gsm_class cls;           /* filled by analyses/classify */
    const char *class_reason;     /* static string: why this class (for --mappings output) */
};

static inline bool gsm_mapping_is_anon(const struct gsm_mapping *m) {
    return m->inode == 0 && (m->path == 0 || m->path[0] == '[');
}

/* True when the two-letter VmFlags code is set ("ht" = hugetlb, "sd" = soft-dirty...). */
bool gsm_mapping_has_vmflag(const struct gsm_mapping *m, const char code[2]);
