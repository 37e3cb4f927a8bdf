/* A snapshot of one process: what the /proc readers filled in, what the analyses derived.
 * Data flows one way: readers -> this model -> analyses -> renderers. */
#pragma once

#include "model/mapping.h"
#include "model/strpool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* /proc/PID/status, the memory-related keys (kB values in bytes). */
struct gsm_status {
    char name[64];                 /* Name: (escaped by the kernel, up to 15/64 chars) */
    char state;                    /* first letter of State: */
    pid_t tgid, ppid;
    uint32_t uid_real, uid_effective;
    uint64_t vm_peak_bytes, vm_size_bytes, vm_lck_bytes, vm_pin_bytes, vm_hwm_bytes, vm_rss_bytes;
    uint64_t rss_anon_bytes, rss_file_bytes, rss_shmem_bytes;
    uint64_t vm_data_bytes, vm_stk_bytes, vm_exe_bytes, vm_lib_bytes, vm_pte_bytes, vm_swap_bytes;
    uint64_t hugetlb_pages_bytes;
    uint64_t threads;
    bool has_rss_split;            /* RssAnon/RssFile/RssShmem present (Linux >= 4.5) */
};

/* /proc/PID/stat: fields after the comm, parsed from the last ')'. */
struct gsm_stat {
    char comm[64];                 /* between the first '(' and the last ')' */
    char state;
    pid_t ppid;
    uint64_t flags;                /* field 9: the kernel's PF_* flags (GSM_PF_KTHREAD) */
    uint64_t minflt, majflt;
    uint64_t utime_ticks, stime_ticks;
    int64_t num_threads;
    uint64_t starttime_ticks;      /* field 22: identifies the process across PID reuse */
    uint64_t vsize_bytes;
    uint64_t rss_pages;
};

/* A kernel thread (include/linux/sched.h): no memory of its own, never OOM-killed. */
#define GSM_PF_KTHREAD 0x00200000u

/* /proc/PID/statm, in pages. */
struct gsm_statm {
    uint64_t size, resident, shared, text, lib, data, dt;
};

/* A task's stack pointer from /proc/PID/task/TID/syscall (0 when unknown). */
struct gsm_task {
    pid_t tid;
    uint64_t sp;
};

struct gsm_go_info;       /* model/go_build.h */
struct gsm_go_buildinfo;  /* model/go_build.h */

struct gsm_process {
    pid_t pid;
    struct gsm_strpool pool;       /* interned paths, VmFlags, extra keys */

    struct gsm_mapping *maps;      /* in address order */
    size_t n_maps, cap_maps;
    size_t maps_mapped_bytes;      /* maps is an mmap of this length (large arrays); 0: malloc */
    bool maps_have_extra;          /* some maps[i].extra is allocated (freed one by one) */
    /* Set by a caller that holds one process at a time (explain): the array moves to its huge-page
     * reserve from 64 KiB (~210 mappings) instead of 512 KiB, saving ~100 4 KiB faults and the
     * realloc copies at 20,000 mappings. A caller holding many processes leaves it false. */
    bool maps_reserve_early;
    bool have_smaps;

    struct gsm_mapping rollup;     /* smaps_rollup, when read */
    bool have_rollup;

    struct gsm_status status;
    bool have_status;
    struct gsm_stat stat;
    bool have_stat;
    struct gsm_statm statm;
    bool have_statm;
    int64_t oom_score, oom_score_adj;
    bool have_oom;

    uint64_t stack_rlimit_bytes;   /* soft RLIMIT_STACK from limits; 0 = unlimited or unknown */
    bool have_stack_rlimit;

    struct gsm_task *tasks;
    size_t n_tasks;

    char exe_path[4096];           /* readlink of /proc/PID/exe, "" when unreadable */
    bool exe_deleted;
    struct gsm_go_info *go;        /* NULL when the executable is not Go (or unreadable) */
    struct gsm_go_buildinfo *go_build;   /* go->modinfo parsed; NULL when absent or malformed */
    uint64_t page_size;
    enum gsm_allocator allocator;  /* set by analyses/classify from the mapped libraries */

    const char *missing[16];       /* names of sources that could not be read (best effort) */
    size_t n_missing;
};

void gsm_process_init(struct gsm_process *p, pid_t pid);
void gsm_process_free(struct gsm_process *p);
/* Append a zeroed mapping; returns it or NULL on allocation failure. */
struct gsm_mapping *gsm_process_add_mapping(struct gsm_process *p);
void gsm_process_note_missing(struct gsm_process *p, const char *what);
