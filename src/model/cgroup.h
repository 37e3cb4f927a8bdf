/* The memory cgroup of a process, and everything the kernel says about it, in one model.
 *
 * /proc/PID/cgroup (kernel/cgroup/cgroup.c: proc_cgroup_show()), one line per hierarchy:
 *
 *   4:memory:/process_api/0723faa0          v1: hierarchy id, controllers, path
 *   1:name=systemd:/user.slice              v1 named hierarchy (no controller)
 *   0::/kubepods.slice/kubepods-pod1.slice  v2: id 0, empty controller list
 *
 * A hybrid host (systemd "hybrid", this machine) has both: v1 lines for the controllers and
 * "0::/path" for the unified hierarchy, which then has no memory controller. Paths are
 * relative to the reader's cgroup namespace root. The memory cgroup's directory is
 * mount point + (path - mount root) of a cgroupfs mount in the mount table of the root
 * (proc/self/mountinfo, or proc/1/mountinfo under a --root that is not our "/").
 *
 * Cgroup namespaces (kernel/cgroup/cgroup.c): proc_cgroup_show() prints each path with
 * cgroup_path_ns_locked() relative to the cgroup-namespace root of the process *reading*
 * the file, and cgroup_show_path() prints a cgroupfs mount's root (mountinfo field 4) the
 * same way. kernfs_path_from_node() writes "/.." once per level from that root up to the
 * common ancestor, then the names down: a process in another pod, read from inside a pod,
 * shows as "0::/../../kubepods-burstable-podX.slice/cri-containerd-Y.scope", the host's
 * cgroupfs bind-mounted into the pod has root "/../../../.." and the pod's own cgroupfs has
 * root "/". See gsm_cgroup_locate_pid() for how such paths are resolved.
 *
 * Files (Documentation/admin-guide/cgroup-v2.rst, mm/memcontrol.c, mm/memcontrol-v1.c):
 *   v2  memory.current, memory.peak (5.19+), memory.max, memory.high, memory.low,
 *       memory.min: one number or "max"; memory.swap.current, memory.swap.max,
 *       memory.swap.peak; memory.events, memory.events.local: "key N" lines;
 *       memory.stat: "key N" lines (bytes, or event counts); memory.pressure: PSI lines;
 *       memory.oom.group: 0/1.
 *   v1  memory.usage_in_bytes, limit_in_bytes, max_usage_in_bytes, failcnt,
 *       soft_limit_in_bytes, memsw.{usage,limit,max_usage}_in_bytes, memsw.failcnt,
 *       kmem.usage_in_bytes, kmem.tcp.usage_in_bytes: one number; "unlimited" is printed
 *       as PAGE_COUNTER_MAX * PAGE_SIZE = 9223372036854771712 on x86-64;
 *       memory.stat: local keys, hierarchical_memory_limit/_memsw_limit, total_* keys;
 *       memory.oom_control: "oom_kill_disable 0 / under_oom 0 / oom_kill 0" (oom_kill 4.13+);
 *       memory.use_hierarchy: 0/1 (reads 1 since the non-hierarchical mode was removed in 5.x).
 *
 * A file an older kernel lacks leaves its item absent (have == false), never an error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum gsm_cgroup_version {
    GSM_CGROUP_V1 = 1,
    GSM_CGROUP_V2 = 2,
};

/* ---- /proc/PID/cgroup ---------------------------------------------------------------- */

struct gsm_proc_cgroup_entry {
    unsigned hierarchy_id;    /* 0 for the v2 line */
    char *controllers;        /* "memory", "cpu,cpuacct", "name=systemd", "" for v2 */
    char *path;               /* "/kubepods.slice/..." as the kernel prints it */
};

struct gsm_proc_cgroup {
    struct gsm_proc_cgroup_entry *entries;
    size_t n_entries;
    size_t n_bad_lines;       /* lines without "ID:CONTROLLERS:/PATH" (skipped) */
};

void gsm_proc_cgroup_free(struct gsm_proc_cgroup *pc);

/* The path of the v1 hierarchy carrying `controller` ("memory"), or NULL. */
const char *gsm_proc_cgroup_v1_path(const struct gsm_proc_cgroup *pc, const char *controller);
/* The path on the "0::" line (v2 / unified), or NULL. */
const char *gsm_proc_cgroup_v2_path(const struct gsm_proc_cgroup *pc);

/* ---- Where the memory cgroup lives --------------------------------------------------- */

struct gsm_cgroup_location {
    enum gsm_cgroup_version version;
    char *path;            /* cgroup path relative to the hierarchy root we can see: "/a/b" */
    char *ns_path;         /* the path as /proc/PID/cgroup printed it, relative to our cgroup
                            * namespace root ("/../../x"), when it differs from path; else NULL */
    char *mount_point;     /* "/sys/fs/cgroup/memory" (absolute, unescaped) */
    char *mount_root;      /* mountinfo field 4: "/" unless a sub-tree is mounted; "/" also for
                            * a mount whose root lies above our cgroup namespace root (printed
                            * "/../.."): path is then relative to that mount's root */
    char *dir;             /* the directory relative to root->fd: "sys/fs/cgroup/memory/a/b" */
    char *top_dir;         /* the mount point relative to root->fd: the highest level we can
                            * read ("sys/fs/cgroup/memory") */
    bool top_is_root;      /* top_dir is the real hierarchy root: mount_root is "/" (and, on
                            * v2, top_dir has no cgroup.type, which every cgroup but the root
                            * has), or an ancestor mount's top looks like the root */
};

void gsm_cgroup_location_free(struct gsm_cgroup_location *loc);

/* ---- The memory model ---------------------------------------------------------------- */

/* One number from a file: have == false when the file does not exist or did not parse. */
struct gsm_cg_value {
    bool have;
    uint64_t value;
};

/* A limit: "max" (v2) or >= GSM_CG1_UNLIMITED_BYTES (v1) is unlimited, bytes = UINT64_MAX. */
struct gsm_cg_limit {
    bool have;
    bool unlimited;
    uint64_t bytes;
    bool malformed;         /* the file is there but did not parse (have false): the limit is
                             * unknown, which is not "no limit" */
};

/* PAGE_COUNTER_MAX * PAGE_SIZE: LONG_MAX rounded down to a page, what v1 prints for "no
 * limit" with 4 KiB pages. Any value at or above it is unlimited (64 KiB pages print more). */
#define GSM_CG1_UNLIMITED_BYTES UINT64_C(9223372036854771712)

/* A key this version of gsmapper does not know (a newer kernel's), kept verbatim. */
struct gsm_cg_kv {
    char *key;
    uint64_t value;
};

/* v2 memory.stat keys (6.x names; kernel_stack etc. are bytes; workingset_*, pg*, thp_* are
 * event counts). Keys not listed here go to gsm_cg_stat.extra. */
#define GSM_CG2_STAT_KEYS(X)                                                     \
    X(ANON, "anon") X(FILE, "file") X(KERNEL, "kernel")                          \
    X(KERNEL_STACK, "kernel_stack") X(PAGETABLES, "pagetables")                  \
    X(SEC_PAGETABLES, "sec_pagetables") X(PERCPU, "percpu") X(SOCK, "sock")      \
    X(VMALLOC, "vmalloc") X(SHMEM, "shmem") X(ZSWAP, "zswap")                    \
    X(ZSWAPPED, "zswapped") X(FILE_MAPPED, "file_mapped")                        \
    X(FILE_DIRTY, "file_dirty") X(FILE_WRITEBACK, "file_writeback")              \
    X(SWAPCACHED, "swapcached") X(ANON_THP, "anon_thp") X(FILE_THP, "file_thp")  \
    X(SHMEM_THP, "shmem_thp") X(INACTIVE_ANON, "inactive_anon")                  \
    X(ACTIVE_ANON, "active_anon") X(INACTIVE_FILE, "inactive_file")              \
    X(ACTIVE_FILE, "active_file") X(UNEVICTABLE, "unevictable")                  \
    X(SLAB_RECLAIMABLE, "slab_reclaimable")                                      \
    X(SLAB_UNRECLAIMABLE, "slab_unreclaimable") X(SLAB, "slab")                  \
    X(HUGETLB, "hugetlb")                                                        \
    X(WORKINGSET_REFAULT_ANON, "workingset_refault_anon")                        \
    X(WORKINGSET_REFAULT_FILE, "workingset_refault_file")                        \
    X(WORKINGSET_ACTIVATE_ANON, "workingset_activate_anon")                      \
    X(WORKINGSET_ACTIVATE_FILE, "workingset_activate_file")                      \
    X(WORKINGSET_RESTORE_ANON, "workingset_restore_anon")                        \
    X(WORKINGSET_RESTORE_FILE, "workingset_restore_file")                        \
    X(WORKINGSET_NODERECLAIM, "workingset_nodereclaim")                          \
    X(PGSCAN, "pgscan") X(PGSTEAL, "pgsteal") X(PGFAULT, "pgfault")              \
    X(PGMAJFAULT, "pgmajfault") X(PGREFILL, "pgrefill")                          \
    X(PGACTIVATE, "pgactivate") X(PGDEACTIVATE, "pgdeactivate")                  \
    X(PGLAZYFREE, "pglazyfree") X(PGLAZYFREED, "pglazyfreed")                    \
    X(THP_FAULT_ALLOC, "thp_fault_alloc") X(THP_COLLAPSE_ALLOC, "thp_collapse_alloc")

/* v1 memory.stat keys; each also exists as "total_<key>" (this cgroup and its descendants). */
#define GSM_CG1_STAT_KEYS(X)                                                     \
    X(CACHE, "cache") X(RSS, "rss") X(RSS_HUGE, "rss_huge") X(SHMEM, "shmem")    \
    X(MAPPED_FILE, "mapped_file") X(DIRTY, "dirty") X(WRITEBACK, "writeback")    \
    X(WORKINGSET_REFAULT_ANON, "workingset_refault_anon")                        \
    X(WORKINGSET_REFAULT_FILE, "workingset_refault_file")                        \
    X(SWAP, "swap") X(SWAPCACHED, "swapcached") X(PGPGIN, "pgpgin")              \
    X(PGPGOUT, "pgpgout") X(PGFAULT, "pgfault") X(PGMAJFAULT, "pgmajfault")      \
    X(INACTIVE_ANON, "inactive_anon") X(ACTIVE_ANON, "active_anon")              \
    X(INACTIVE_FILE, "inactive_file") X(ACTIVE_FILE, "active_file")              \
    X(UNEVICTABLE, "unevictable")

enum gsm_cg2_stat {
#define X(id, name) GSM_CG2_##id,
    GSM_CG2_STAT_KEYS(X)
#undef X
    GSM_CG2__COUNT
};

enum gsm_cg1_stat {
#define X(id, name) GSM_CG1_##id,
    GSM_CG1_STAT_KEYS(X)
#undef X
#define X(id, name) GSM_CG1_TOTAL_##id,
    GSM_CG1_STAT_KEYS(X)
#undef X
    GSM_CG1_HIERARCHICAL_MEMORY_LIMIT,
    GSM_CG1_HIERARCHICAL_MEMSW_LIMIT,
    GSM_CG1__COUNT
};

extern const char *const gsm_cg2_stat_names[GSM_CG2__COUNT];
extern const char *const gsm_cg1_stat_names[GSM_CG1__COUNT];
const char *gsm_cg2_stat_name(enum gsm_cg2_stat k);   /* "inactive_file" */
const char *gsm_cg1_stat_name(enum gsm_cg1_stat k);   /* "total_inactive_file" */

struct gsm_cg_stat {
    bool have;                          /* memory.stat was read */
    enum gsm_cgroup_version version;    /* which of the two tables is filled */
    uint64_t v2[GSM_CG2__COUNT];
    bool have_v2[GSM_CG2__COUNT];
    uint64_t v1[GSM_CG1__COUNT];
    bool have_v1[GSM_CG1__COUNT];
    struct gsm_cg_kv *extra;            /* unknown keys, in file order */
    size_t n_extra;
    size_t n_bad_lines;                 /* lines without "key <u64>" (e.g. a 25-digit value) */
};

/* Any key by its kernel name, known or extra. Returns true and sets *ret when present. */
bool gsm_cg_stat_get(const struct gsm_cg_stat *s, const char *key, uint64_t *ret);
void gsm_cg_stat_free(struct gsm_cg_stat *s);

/* memory.events / memory.events.local (v2): counts of times each boundary was hit. */
#define GSM_CG_EVENT_KEYS(X)                                                     \
    X(LOW, "low") X(HIGH, "high") X(MAX, "max") X(OOM, "oom")                    \
    X(OOM_KILL, "oom_kill") X(OOM_GROUP_KILL, "oom_group_kill")                  \
    X(SOCK_THROTTLED, "sock_throttled")

enum gsm_cg_event {
#define X(id, name) GSM_CG_EV_##id,
    GSM_CG_EVENT_KEYS(X)
#undef X
    GSM_CG_EV__COUNT
};

extern const char *const gsm_cg_event_names[GSM_CG_EV__COUNT];
const char *gsm_cg_event_name(enum gsm_cg_event e);

struct gsm_cg_events {
    bool have;
    uint64_t count[GSM_CG_EV__COUNT];
    bool have_key[GSM_CG_EV__COUNT];    /* oom_group_kill is 5.17+, sock_throttled newer */
    struct gsm_cg_kv *extra;
    size_t n_extra;
    size_t n_bad_lines;
};

void gsm_cg_events_free(struct gsm_cg_events *e);

/* memory.pressure (kernel/sched/psi.c: psi_show()):
 *   some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * avg* are percentages of wall time stalled, total is microseconds. */
struct gsm_psi_line {
    bool have;
    double avg10_pct, avg60_pct, avg300_pct;
    uint64_t total_us;
};

struct gsm_cg_pressure {
    bool have;
    struct gsm_psi_line some, full;
};

/* memory.oom_control (v1). */
struct gsm_cg_oom_control {
    bool have;
    bool oom_kill_disable;
    bool under_oom;
    bool have_oom_kill;     /* 4.13+ */
    uint64_t oom_kill;
};

struct gsm_cgroup_memory {
    enum gsm_cgroup_version version;
    /* Normalised: the same meaning on both versions, where the kernel has it.
     *                                        v2                      v1 */
    struct gsm_cg_value usage_bytes;       /* memory.current          memory.usage_in_bytes */
    struct gsm_cg_value peak_bytes;        /* memory.peak (5.19+)     memory.max_usage_in_bytes */
    struct gsm_cg_limit max;               /* memory.max              memory.limit_in_bytes */
    struct gsm_cg_limit high;              /* memory.high             - */
    struct gsm_cg_limit low;               /* memory.low              - */
    struct gsm_cg_limit min;               /* memory.min              - */
    struct gsm_cg_limit soft_limit;        /* -                       memory.soft_limit_in_bytes */
    struct gsm_cg_value failcnt;           /* -                       memory.failcnt */
    struct gsm_cg_value swap_usage_bytes;  /* memory.swap.current     - (see memsw) */
    struct gsm_cg_limit swap_max;          /* memory.swap.max         - */
    struct gsm_cg_value swap_peak_bytes;   /* memory.swap.peak        - */
    struct gsm_cg_value memsw_usage_bytes; /* -                       memory.memsw.usage_in_bytes */
    struct gsm_cg_limit memsw_limit;       /* -                       memory.memsw.limit_in_bytes */
    struct gsm_cg_value memsw_max_usage_bytes; /*                     memory.memsw.max_usage_in_bytes */
    struct gsm_cg_value memsw_failcnt;     /* -                       memory.memsw.failcnt */
    struct gsm_cg_value kmem_usage_bytes;  /* -                       memory.kmem.usage_in_bytes */
    struct gsm_cg_value kmem_tcp_usage_bytes; /*                      memory.kmem.tcp.usage_in_bytes */
    struct gsm_cg_value oom_group;         /* memory.oom.group        - */
    struct gsm_cg_value use_hierarchy;     /* -                       memory.use_hierarchy */
    struct gsm_cg_events events;           /* memory.events           - */
    struct gsm_cg_events events_local;     /* memory.events.local     - */
    struct gsm_cg_pressure pressure;       /* memory.pressure         - */
    struct gsm_cg_oom_control oom_control; /* -                       memory.oom_control */
    struct gsm_cg_stat stat;               /* memory.stat             memory.stat */
    unsigned n_unparsable;                 /* files present but unparsable (left absent) */
    const char *unparsable[24];            /* their names (static strings), first 24 */
};

void gsm_cgroup_memory_free(struct gsm_cgroup_memory *m);

/* Names of the files this kernel did not provide (those present but malformed are in
 * m->unparsable instead), for "said so" output: "memory.peak", "memory.memsw.usage_in_bytes" ... Returns how many were written. */
size_t gsm_cgroup_memory_absent(const struct gsm_cgroup_memory *m, const char **names, size_t max);

/* One level of the walk from a cgroup up its hierarchy (gsm_cg_effective_from_levels():
 * index 0 is the cgroup itself, 1 its parent, ...). */
struct gsm_cg_level {
    const char *path;               /* cgroup path of the level ("/a/b", "/" at the top) */
    struct gsm_cg_limit max;        /* v2 memory.max, v1 memory.limit_in_bytes */
    struct gsm_cg_limit high;       /* v2 memory.high; absent on v1 */
};

/* The limits of a cgroup's ancestors, parent first, up to the top of the hierarchy we can see
 * (loc->top_dir). Each level's path is owned. */
struct gsm_cg_ancestry {
    struct gsm_cg_level *levels;
    size_t n;
    bool reached_top;               /* the walk got to loc->top_dir */
};

void gsm_cg_ancestry_free(struct gsm_cg_ancestry *a);

/* Whose container a cgroup is (analyses/cgroup_analysis.c: gsm_container_identity_parse()). */
enum gsm_k8s_qos {
    GSM_QOS_NONE = 0,               /* not a Kubernetes pod */
    GSM_QOS_GUARANTEED,
    GSM_QOS_BURSTABLE,
    GSM_QOS_BESTEFFORT,
};

enum gsm_container_runtime {
    GSM_RUNTIME_NONE = 0,
    GSM_RUNTIME_UNKNOWN,            /* a bare container id, runtime not named by the path */
    GSM_RUNTIME_DOCKER,
    GSM_RUNTIME_CONTAINERD,
    GSM_RUNTIME_CRIO,
    GSM_RUNTIME_PODMAN,
};

struct gsm_container_identity {
    bool in_kubernetes;
    char pod_uid[64];               /* "1a2b...-..." (36 chars; static pods: 32 hex) or "" */
    enum gsm_k8s_qos qos;
    enum gsm_container_runtime runtime;
    char container_id[72];          /* 64 hex usually, "" when none */
    bool runtime_helper;            /* conmon scope (crio-conmon-, libpod-conmon-), not the container */
    char unit[256];                 /* innermost *.service or *.scope, "" when none */
    char slice[256];                /* innermost *.slice, "" when none */
};

/* The one-number and limit files of the model, which field each fills (data shared by the
 * reader, cgroup_memory.c, and gsm_cgroup_memory_absent()). */
enum gsm_cg_file_kind { GSM_CG_FILE_VALUE, GSM_CG_FILE_LIMIT };

struct gsm_cg_file_spec {
    const char *name;
    enum gsm_cgroup_version version;
    enum gsm_cg_file_kind kind;
    size_t offset;                  /* of a struct gsm_cg_value or gsm_cg_limit in gsm_cgroup_memory */
};

extern const struct gsm_cg_file_spec gsm_cg_memory_files[];
extern const size_t gsm_cg_n_memory_files;
