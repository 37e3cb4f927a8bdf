/* What the cgroup numbers mean: the limit that binds, where the usage goes, and whose
 * container this is. Inputs are the model (model/cgroup.h); the identity part is
 * pure string work over a cgroup path. */
#pragma once

#include "model/cgroup.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- (a) Effective limit --------------------------------------------------------------
 * A charge must fit under every ancestor's limit (mm/page_counter.c: page_counter_try_charge()
 * walks leaf to root), so the limit that binds is the smallest on the path to the root; on a
 * tie the nearest level binds (it is checked first). v2: memory.max and memory.high of every
 * level. v1: the kernel's own answer, memory.stat hierarchical_memory_limit; the binding level
 * is the nearest whose memory.limit_in_bytes equals it. */

struct gsm_cg_binding {
    bool limited;                   /* some level has a finite value */
    uint64_t bytes;                 /* the smallest, UINT64_MAX when !limited */
    size_t level;                   /* 0 = the cgroup itself, 1 = its parent ... */
    char *path;                     /* that level's cgroup path; NULL when !limited, or on v1
                                     * when no visible level's limit equals the kernel's */
    bool unknown;                   /* a level's file was malformed: a smaller limit may be set
                                     * there, so !limited does not mean "no limit" */
};

struct gsm_cg_effective {
    struct gsm_cg_binding max;      /* hard limit: OOM kill beyond it */
    struct gsm_cg_binding high;     /* v2 throttle point; never limited on v1 */
    size_t n_levels;                /* levels read, the cgroup itself included */
    bool complete;                  /* the walk reached the real hierarchy root (false inside
                                     * a container that mounts only its own sub-tree) */
};

/* Pure: the binding levels of `levels[0..n)`. When v1_hierarchical is non-NULL (v1), it is
 * the kernel's hierarchical_memory_limit and only the binding level is searched for. */
int gsm_cg_effective_from_levels(const struct gsm_cg_level *levels, size_t n,
                                 const struct gsm_cg_limit *v1_hierarchical, struct gsm_cg_effective *ret);

/* Pure: the effective limits of the cgroup at `loc`: `mem` gives its own values, `anc` its
 * ancestors' (gsm_cgroup_read_ancestors()). Returns 0, -ENOMEM. */
int gsm_cgroup_effective_limits(const struct gsm_cgroup_location *loc, const struct gsm_cgroup_memory *mem,
                                const struct gsm_cg_ancestry *anc, struct gsm_cg_effective *ret);

void gsm_cg_effective_free(struct gsm_cg_effective *e);

/* ---- (b) Breakdown that adds up --------------------------------------------------------
 * usage = anon + file_active + file_inactive + shmem + slab_* + sock + pagetables +
 *         kernel_stack + percpu + vmalloc + kernel_other + other
 * where "other" is the remainder (floor 0). Swap is outside usage on v2 (memory.current
 * excludes it) and reported beside it. v1 uses the total_* (hierarchical) keys since
 * usage_in_bytes includes descendants; v1 has no kernel split, only kmem.usage_in_bytes. */

#define GSM_CG_PARTS(X)                                                          \
    X(ANON, "anon")                                                              \
    X(FILE_ACTIVE, "file_active")                                                \
    X(FILE_INACTIVE, "file_inactive")                                            \
    X(SHMEM, "shmem")                                                            \
    X(SLAB_RECLAIMABLE, "slab_reclaimable")                                      \
    X(SLAB_UNRECLAIMABLE, "slab_unreclaimable")                                  \
    X(SOCK, "sock")                                                              \
    X(PAGETABLES, "pagetables")                                                  \
    X(KERNEL_STACK, "kernel_stack")                                              \
    X(PERCPU, "percpu")                                                          \
    X(VMALLOC, "vmalloc")                                                        \
    X(KERNEL_OTHER, "kernel_other")                                              \
    X(OTHER, "other")

enum gsm_cg_part {
#define X(id, name) GSM_CG_PART_##id,
    GSM_CG_PARTS(X)
#undef X
    GSM_CG_PART__COUNT
};

struct gsm_cg_part_item {
    const char *name;               /* stable id: "file_inactive" */
    bool have;                      /* the kernel gave the inputs (else bytes is 0) */
    bool reclaimable;               /* the kernel can free it without swap */
    bool kernel;                    /* kernel memory (slab, sock, page tables, stacks ...) */
    uint64_t bytes;
    const char *formula;            /* how it was computed, in the kernel's key names */
};

struct gsm_cg_breakdown {
    enum gsm_cgroup_version version;
    uint64_t usage_bytes;
    const char *usage_formula;
    struct gsm_cg_part_item parts[GSM_CG_PART__COUNT];   /* sum == usage_bytes, unless overcounted */
    bool overcounted;               /* the named parts exceed usage (stats are flushed lazily):
                                     * other = 0 and the parts sum to usage + excess_bytes */
    uint64_t excess_bytes;          /* 0 when saturated */
    bool saturated;                 /* a sum of parts reached 2^64 - 1 and was held there (only
                                     * malformed input: 16 EiB); excess_bytes is then 0 */
    struct gsm_cg_value swap_bytes; /* v2 memory.swap.current; v1 total_swap or memsw - usage */
    const char *swap_formula;
    uint64_t working_set_bytes;     /* kubelet / cAdvisor: usage - inactive_file, floor 0 */
    const char *working_set_formula;
    uint64_t reclaimable_bytes;     /* file LRU + reclaimable slab: freed under pressure */
    const char *reclaimable_formula;
    uint64_t unreclaimable_bytes;   /* usage - reclaimable: what a limit really has to hold */
    uint64_t anon_swappable_bytes;  /* anon + shmem: reclaimable only by swapping */
};

/* Returns 0, -ENODATA when usage or memory.stat is absent. */
int gsm_cgroup_breakdown(const struct gsm_cgroup_memory *m, struct gsm_cg_breakdown *ret);

/* ---- (c) Container identity from a cgroup path ----------------------------------------
 *   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/
 *       cri-containerd-<id>.scope                         systemd driver (uid '_' -> '-')
 *   /kubepods/besteffort/pod<uid>/<id>                    cgroupfs driver
 *   /system.slice/docker-<id>.scope, /docker/<id>         docker (systemd / cgroupfs)
 *   crio-<id>.scope, libpod-<id>.scope, cri-containerd-<id>.scope  cri-o, podman, containerd */

/* Pure. Always succeeds for an absolute path (fields stay empty when nothing matches);
 * -EINVAL when path is NULL or not absolute. */
int gsm_container_identity_parse(const char *cgroup_path, struct gsm_container_identity *ret);

const char *gsm_k8s_qos_name(enum gsm_k8s_qos q);                 /* "burstable", "" for none */
const char *gsm_container_runtime_name(enum gsm_container_runtime r); /* "containerd", "" */
