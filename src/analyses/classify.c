#include "analyses/classify.h"
#include "model/go_build.h"

#include <string.h>

#define MiB (UINT64_C(1) << 20)
/* glibc malloc: HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB on 64-bit; non-main
 * arenas are mmap'd HEAP_MAX_SIZE-aligned, committed rw-p from the start, PROT_NONE after. */
#define GLIBC_HEAP_MAX_SIZE (64 * MiB)
static const char GLIBC_ARENA_REASON[] = "glibc malloc arena (64 MiB-aligned reservation)";
/* Go: heapArenaBytes = 64 MiB on 64-bit Linux (runtime/malloc.go). */
#define GO_ARENA_BYTES (64 * MiB)
/* Largest guard below a thread stack we accept: glibc uses one page by default; some runtimes
 * and pthread_attr_setguardsize use more. */
#define MAX_GUARD_BYTES (64 * 1024)

bool gsm_go_arena_hint_range(uint64_t addr, const char *goarch) {
    uint64_t low40 = addr & ((UINT64_C(1) << 40) - 1);
    /* The runtime tries hint 0 first and moves on only when an mmap at a hint fails, so real
     * heaps sit at the first hints. The last hints (0x7fc000000000...) overlap the kernel's
     * top-down mmap area (mmap_base is randomised by up to 16 TiB below 0x7fff...), so only
     * hints below 0x4000_0000_0000 (i < 64, i.e. up to 64 x 256 GiB of heap) are trusted. */
    if (addr >= (UINT64_C(0x40) << 40))
        return false;
    if (goarch && strcmp(goarch, "arm64") == 0)
        return low40 >= (UINT64_C(0x40) << 32) && low40 < (UINT64_C(0x80) << 32);
    if (!goarch || strcmp(goarch, "amd64") == 0)
        return low40 >= (UINT64_C(0xc0) << 32);
    return false;
}

static bool has_prefix(const char *s, const char *prefix) {
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "libc.so.6", "libfoo.so", "ld-linux-x86-64.so.2" */
static bool looks_like_shared_lib(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *so = strstr(base, ".so");
    while (so) {
        if (so[3] == '\0' || so[3] == '.')
            return true;
        so = strstr(so + 3, ".so");
    }
    return false;
}

/* perms is always 4 characters and a NUL: one 32-bit compare, not a strcmp call (classify runs
 * over every mapping; 20,000 of them must cost well under a millisecond). */
static bool perms_are(const struct gsm_mapping *m, const char want[5]) {
    return memcmp(m->perms, want, 4) == 0;
}

static bool is_file_backed(const struct gsm_mapping *m) {
    return m->path && m->path[0] == '/';
}

static bool is_unnamed_anon(const struct gsm_mapping *m) {
    return m->inode == 0 && (m->path == NULL || has_prefix(m->path, "[anon:"));
}

static bool task_sp_in(const struct gsm_process *p, const struct gsm_mapping *m) {
    for (size_t i = 0; i < p->n_tasks; i++)
        if (p->tasks[i].sp >= m->start && p->tasks[i].sp < m->end)
            return true;
    return false;
}

/* glibc's default pthread stack size (guard included): the soft RLIMIT_STACK, or
 * ARCH_STACK_DEFAULT_SIZE (32 MiB on x86_64 and arm64) when unlimited (nptl-stack.c,
 * __pthread_initialize_minimal). Go's cgo threads use the same default. */
static uint64_t default_thread_stack_bytes(const struct gsm_process *p) {
    if (p->have_stack_rlimit && p->stack_rlimit_bytes > 0)
        return p->stack_rlimit_bytes;
    return p->have_stack_rlimit ? 32 * MiB : 8 * MiB;
}

/* rw-p directly above a small ---p guard, the two together the default stack size: the shape
 * of a pthread (and cgo thread) stack. Stacks of other sizes are found by their threads' stack
 * pointers instead; a mapping that merely has a guard page is not taken for a stack. */
static bool thread_stack_shape(const struct gsm_process *p, size_t i) {
    const struct gsm_mapping *m = &p->maps[i];
    if (i == 0 || !perms_are(m, "rw-p") || !is_unnamed_anon(m))
        return false;
    const struct gsm_mapping *g = &p->maps[i - 1];
    uint64_t glen = g->end - g->start, total = m->end - g->start;
    uint64_t want = default_thread_stack_bytes(p);
    return g->end == m->start && perms_are(g, "---p") && is_unnamed_anon(g) &&
           glen >= p->page_size && glen <= MAX_GUARD_BYTES && (total == want || m->end - m->start == want);
}

/* A glibc non-main malloc arena: starts 64 MiB-aligned, rw-p then optionally ---p, ending
 * exactly 64 MiB later. Returns the number of mappings (1 or 2) the arena spans, 0 if none. */
static int glibc_arena_shape(const struct gsm_process *p, size_t i) {
    const struct gsm_mapping *m = &p->maps[i];
    if (m->start % GLIBC_HEAP_MAX_SIZE != 0 || !perms_are(m, "rw-p") || !is_unnamed_anon(m))
        return 0;
    if (m->end - m->start == GLIBC_HEAP_MAX_SIZE)
        return 1;
    if (i + 1 < p->n_maps) {
        const struct gsm_mapping *n = &p->maps[i + 1];
        if (n->start == m->end && perms_are(n, "---p") && is_unnamed_anon(n) &&
            n->end == m->start + GLIBC_HEAP_MAX_SIZE)
            return 2;
    }
    return 0;
}

static const char *basename_of(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

enum gsm_allocator gsm_allocator_detect(const struct gsm_process *p) {
    bool seen[GSM_ALLOC__COUNT] = {false};
    const char *last = NULL;   /* paths are interned: a library's segments share one pointer */
    for (size_t i = 0; i < p->n_maps; i++) {
        const char *path = p->maps[i].path;
        if (!path || path == last || path[0] != '/')
            continue;
        last = path;
        const char *b = basename_of(path);
        if (has_prefix(b, "libjemalloc.so"))
            seen[GSM_ALLOC_JEMALLOC] = true;
        else if (has_prefix(b, "libtcmalloc") && strstr(b, ".so"))
            seen[GSM_ALLOC_TCMALLOC] = true;
        else if (has_prefix(b, "libmimalloc") && strstr(b, ".so"))
            seen[GSM_ALLOC_MIMALLOC] = true;
        else if (has_prefix(b, "ld-musl-") || has_prefix(b, "libc.musl-") ||
                 (has_prefix(b, "libc.so") && strstr(path, "musl")))   /* Debian: /usr/lib/x86_64-linux-musl/libc.so */
            seen[GSM_ALLOC_MUSL] = true;
        else if (has_prefix(b, "libc.so.6") || has_prefix(b, "libc-2."))
            seen[GSM_ALLOC_GLIBC] = true;
    }
    static const enum gsm_allocator order[] = {GSM_ALLOC_JEMALLOC, GSM_ALLOC_TCMALLOC, GSM_ALLOC_MIMALLOC,
                                               GSM_ALLOC_MUSL, GSM_ALLOC_GLIBC};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        if (seen[order[k]])
            return order[k];
    return GSM_ALLOC_UNKNOWN;
}

/* An unnamed anonymous rw-p mapping that nothing else claimed, in a process whose malloc is
 * `a`: the reason it is that allocator's memory, or NULL when its shape does not fit. */
static const char *allocator_anon_reason(enum gsm_allocator a, const struct gsm_mapping *m) {
    if (!perms_are(m, "rw-p") || m->path)
        return NULL;
    uint64_t size = m->end - m->start;
    switch (a) {
    case GSM_ALLOC_JEMALLOC:
        /* jemalloc 5 maps extents in a growing series of page size classes from 2 MiB
         * (exp_grow_init: sz_psz2ind(HUGEPAGE)); classes from 2 MiB up are multiples of 512 KiB,
         * it retains what it mapped (opt_retain), and its metadata (base) is mapped in 2 MiB
         * blocks: every VMA it makes, merged or not, is a multiple of 512 KiB. */
        return size % (512 * 1024) == 0 ? "anonymous rw-p, a multiple of 512 KiB (jemalloc's extent sizes), jemalloc mapped"
                                         : NULL;
    case GSM_ALLOC_MIMALLOC:
        /* mimalloc segments are aligned to their size: 4 MiB in v1, 32 MiB in v2
         * (MI_SEGMENT_ALIGN); its arenas likewise. */
        return m->start % (4 * MiB) == 0 ? "anonymous rw-p, 4 MiB-aligned or more (mimalloc's segment alignment), mimalloc mapped"
                                          : NULL;
    case GSM_ALLOC_TCMALLOC:
        /* gperftools grows its page heap by at least kMinSystemAlloc = 1 MiB per system
         * allocation (sbrk first, the [heap]; mmap when sbrk fails or is skipped). */
        return size >= MiB ? "anonymous rw-p of 1 MiB or more (tcmalloc grows its page heap by 1 MiB or more), tcmalloc mapped"
                           : NULL;
    case GSM_ALLOC_MUSL:
        /* musl's mallocng takes its groups and every large block with mmap; nothing in the
         * mapping tells them from the program's own mmaps. */
        return "anonymous rw-p, musl libc mapped (musl's malloc takes memory with mmap; the program's own mmaps look the same)";
    default:
        return NULL;
    }
}

/* The brk heap, said of the allocator that grows it. */
static const char *brk_heap_reason(enum gsm_allocator a) {
    switch (a) {
    case GSM_ALLOC_GLIBC: return "[heap]: the brk heap (glibc malloc's main arena)";
    case GSM_ALLOC_TCMALLOC: return "[heap]: the brk heap (tcmalloc grows with sbrk first), tcmalloc mapped";
    case GSM_ALLOC_JEMALLOC: return "[heap]: the brk heap, jemalloc mapped (jemalloc uses sbrk only as a secondary source)";
    case GSM_ALLOC_MIMALLOC: return "[heap]: the brk heap, mimalloc mapped";
    case GSM_ALLOC_MUSL: return "[heap]: the brk heap (musl's malloc keeps its metadata there), musl libc mapped";
    default: return "[heap]: the brk heap";
    }
}

static bool process_maps_libc(const struct gsm_process *p) {
    for (size_t i = 0; i < p->n_maps; i++)
        if (p->maps[i].path && strstr(p->maps[i].path, "/libc.so"))
            return true;
    return false;
}

/* VmFlags strings are interned, and a process has only a handful of distinct ones: remember the
 * answer for the last string seen. */
static bool vmflag_ht(const struct gsm_mapping *m, struct gsm_classifier *c) {
    if (!m->vmflags)
        return false;
    for (int k = 0; k < 2; k++)
        if (m->vmflags == c->memo_vmflags[k])
            return c->memo_ht[k];
    int k = c->memo_next++ & 1;   /* two entries: code and data mappings alternate */
    c->memo_vmflags[k] = m->vmflags;
    c->memo_ht[k] = gsm_mapping_has_vmflag(m, "ht");
    return c->memo_ht[k];
}

static void set(struct gsm_mapping *m, enum gsm_class c, const char *why) {
    m->cls = c;
    m->class_reason = why;
}

void gsm_classifier_init(struct gsm_classifier *c, struct gsm_process *p) {
    memset(c, 0, sizeof *c);
    c->p = p;
    c->is_go = p->go != NULL;
    c->goarch = c->is_go && p->go->goarch[0] ? p->go->goarch : NULL;
}

/* What a Go process's classes depend on across the whole list. */
static void scan_go_globals(struct gsm_classifier *c) {
    const struct gsm_process *p = c->p;
    c->has_libc = process_maps_libc(p);
    /* The runtime places arenas off the hints only when every hint failed (runtime/malloc.go,
     * sysReserve(nil, ...) in (*mheap).sysAlloc); then no anonymous mapping sits at a hint. */
    c->go_hints_used = false;
    for (size_t i = 0; i < p->n_maps; i++)
        if (is_unnamed_anon(&p->maps[i]) && gsm_go_arena_hint_range(p->maps[i].start, c->goarch))
            c->go_hints_used = true;
}

/* With the whole list: which allocator, and the anonymous mappings classified before it was
 * known (while smaps streamed in) that are its memory. */
static void know_allocator(struct gsm_classifier *c) {
    struct gsm_process *p = c->p;
    c->allocator = p->allocator = gsm_allocator_detect(p);
    c->allocator_known = true;
    if (c->is_go)
        return;   /* a Go process's anonymous memory is the runtime's (go-runtime) */
    for (size_t i = 0; i < c->done; i++) {
        struct gsm_mapping *m = &p->maps[i];
        const char *why;
        if (m->cls == GSM_CLASS_NATIVE_HEAP && m->path && strcmp(m->path, "[heap]") == 0)
            m->class_reason = brk_heap_reason(c->allocator);   /* the class stays */
        /* glibc's arena shape (64 MiB, 64 MiB-aligned) taken before another allocator was known:
         * still native-heap, said of the allocator in use. */
        if (m->class_reason == GLIBC_ARENA_REASON && (why = allocator_anon_reason(c->allocator, m)))
            m->class_reason = why;
        why = m->cls == GSM_CLASS_ANON_OTHER ? allocator_anon_reason(c->allocator, m) : NULL;
        if (!why)
            continue;
        set(m, GSM_CLASS_NATIVE_HEAP, why);
        if (c->reclassed)
            c->reclassed(c->reclassed_arg, m, GSM_CLASS_ANON_OTHER);
    }
}

/* What the mapping's name, page size or sharing says: returns false for an unnamed private
 * mapping (anonymous memory), which classify_anon() places. */
static bool classify_named(struct gsm_classifier *c, size_t i) {
    struct gsm_process *p = c->p;
    struct gsm_mapping *m = &p->maps[i];
    const char *path = m->path;

    if (c->arena_left > 0) {
        c->arena_left--;
        set(m, GSM_CLASS_NATIVE_HEAP, GLIBC_ARENA_REASON);
        return true;
    }
    if (m->f[GSM_F_KERNEL_PAGE_SIZE] > p->page_size || vmflag_ht(m, c) || has_prefix(path, "/anon_hugepage")) {
        set(m, GSM_CLASS_HUGETLB, "hugetlb pages (VmFlags ht or KernelPageSize above the base page)");
        return true;
    }
    if (path && path[0] == '[' && !has_prefix(path, "[anon")) {
        if (strcmp(path, "[heap]") == 0)
            set(m, GSM_CLASS_NATIVE_HEAP, brk_heap_reason(c->allocator));
        else if (strcmp(path, "[stack]") == 0)
            set(m, GSM_CLASS_MAIN_STACK, "[stack]: the main thread's stack");
        else if (has_prefix(path, "[stack:"))
            set(m, GSM_CLASS_THREAD_STACK, "[stack:TID] (kernels before 4.5 named thread stacks)");
        else
            set(m, GSM_CLASS_SPECIAL, "kernel-provided mapping (vdso, vvar, vsyscall, uprobes)");
        return true;
    }
    /* Named anonymous regions (PR_SET_VMA_ANON_NAME): Go >= 1.25, glibc tunables. */
    if (has_prefix(path, "[anon:")) {
        const char *n = path + 6;
        while (*n == ' ')
            n++;
        if (has_prefix(n, "Go: heap")) {
            set(m, GSM_CLASS_GO_HEAP, "named by the Go runtime");
            return true;
        }
        if (has_prefix(n, "Go:")) {
            set(m, GSM_CLASS_GO_RUNTIME, "named by the Go runtime");
            return true;
        }
        if (has_prefix(n, "glibc: malloc")) {
            set(m, GSM_CLASS_NATIVE_HEAP, "named by glibc malloc");
            return true;
        }
        if (has_prefix(n, "glibc: pthread stack") || has_prefix(n, "stack_and_tls:")) {
            set(m, GSM_CLASS_THREAD_STACK, "named as a thread stack");
            return true;
        }
        if (has_prefix(n, "glibc: pthread stack guard")) {
            set(m, GSM_CLASS_THREAD_STACK, "named as a thread stack guard");
            return true;
        }
    }
    /* Shared memory: memfd, POSIX shm, SysV shm, shared anonymous (shown as /dev/zero). */
    if (has_prefix(path, "/memfd:") || has_prefix(path, "/dev/shm/") || has_prefix(path, "/run/shm/") ||
        has_prefix(path, "/SYSV") || has_prefix(path, "[anon_shmem") ||
        (m->perms[3] == 's' && (path == NULL || strcmp(path, "/dev/zero") == 0))) {
        set(m, GSM_CLASS_SHMEM, "shared memory (memfd, /dev/shm, SysV or shared anonymous)");
        return true;
    }
    if (is_file_backed(m)) {
        if (p->exe_path[0] && strcmp(path, p->exe_path) == 0)
            set(m, GSM_CLASS_BINARY, "a segment of the executable");
        else if (looks_like_shared_lib(path))
            set(m, GSM_CLASS_SHARED_LIB, "a shared library (*.so)");
        else
            set(m, GSM_CLASS_FILE_MAPPED, "a mapped file");
        return true;
    }

    return false;
}

/* Anonymous private memory: bss, Go arenas, stacks, allocator memory, or anon-other. */
static void classify_anon(struct gsm_classifier *c, size_t i) {
    struct gsm_process *p = c->p;
    struct gsm_mapping *m = &p->maps[i];
    const struct gsm_mapping *prev = i > 0 ? &p->maps[i - 1] : NULL;
    const bool is_go = c->is_go, has_libc = c->has_libc, go_hints_used = c->go_hints_used;
    const char *goarch = c->goarch;
    /* Anonymous from here on. The bss of the executable or of a library is the anonymous
     * rw-p mapping right after its last file-backed segment. */
    if (prev && prev->end == m->start && perms_are(m, "rw-p") && is_file_backed(prev) &&
        prev->perms[1] == 'w' && (prev->cls == GSM_CLASS_BINARY || prev->cls == GSM_CLASS_SHARED_LIB)) {
        set(m, prev->cls, prev->cls == GSM_CLASS_BINARY ? "bss of the executable (anonymous, right after its data)"
                                                         : "bss of a shared library (anonymous, right after its data)");
        return;
    }
    if (is_go && gsm_go_arena_hint_range(m->start, goarch)) {
        set(m, GSM_CLASS_GO_HEAP, "Go heap arena (at the runtime's arena hint addresses)");
        return;
    }
    if (task_sp_in(p, m)) {
        set(m, GSM_CLASS_THREAD_STACK, "a task's stack pointer is inside (task/TID/syscall)");
        return;
    }
    if (thread_stack_shape(p, i)) {
        set(m, GSM_CLASS_THREAD_STACK, "thread stack shape (rw-p above a one-page ---p guard)");
        return;
    }
    if (i + 1 < p->n_maps && thread_stack_shape(p, i + 1) && m->end == p->maps[i + 1].start) {
        set(m, GSM_CLASS_THREAD_STACK, "guard page of a thread stack");
        return;
    }
    const char *alloc_why = c->allocator_known && !is_go ? allocator_anon_reason(c->allocator, m) : NULL;
    if (alloc_why && c->allocator != GSM_ALLOC_GLIBC) {
        set(m, GSM_CLASS_NATIVE_HEAP, alloc_why);
        return;
    }
    if (has_libc || !is_go) {
        int span = glibc_arena_shape(p, i);
        if (span > 0) {
            c->arena_left = span - 1;
            set(m, GSM_CLASS_NATIVE_HEAP, GLIBC_ARENA_REASON);
            return;
        }
    }
    if (is_go && !go_hints_used && m->start % GO_ARENA_BYTES == 0 && perms_are(m, "rw-p")) {
        set(m, GSM_CLASS_GO_HEAP, "Go heap arena (64 MiB-aligned, placed off the hints)");
        return;
    }
    if (is_go) {
        set(m, GSM_CLASS_GO_RUNTIME, "anonymous memory of a Go process outside the arenas (runtime metadata)");
        return;
    }
    set(m, GSM_CLASS_ANON_OTHER, "anonymous memory (mmap)");
}

size_t gsm_classifier_advance(struct gsm_classifier *c, bool complete) {
    struct gsm_process *p = c->p;
    /* A Go process's rules look at the whole list (is any mapping at an arena hint? is libc
     * mapped?), so it waits for all of it. A non-Go process's rules look one mapping back
     * (bss after data) and one ahead (a stack's guard, an arena's PROT_NONE tail), whose header
     * is all they read: up to the last-but-one mapping is safe while more text arrives. */
    size_t upto;
    if (complete) {
        upto = p->n_maps;
        if (c->is_go && c->done == 0)
            scan_go_globals(c);
        if (!c->allocator_known)
            know_allocator(c);
    } else {
        upto = c->is_go || p->n_maps == 0 ? 0 : p->n_maps - 1;
    }
    for (size_t i = c->done; i < upto; i++)
        if (!classify_named(c, i))
            classify_anon(c, i);
    if (upto > c->done)
        c->done = upto;
    return c->done;
}

void gsm_classify(struct gsm_process *p) {
    struct gsm_classifier c;
    gsm_classifier_init(&c, p);
    gsm_classifier_advance(&c, true);
}
