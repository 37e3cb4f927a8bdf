#include "analyses/classify.h"
#include "model/go_build.h"

#include <string.h>

#define MiB (UINT64_C(1) << 20)
/* glibc malloc: HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX = 64 MiB on 64-bit; non-main
 * arenas are mmap'd HEAP_MAX_SIZE-aligned, committed rw-p from the start, PROT_NONE after. */
#define GLIBC_HEAP_MAX_SIZE (64 * MiB)
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

static bool process_maps_libc(const struct gsm_process *p) {
    for (size_t i = 0; i < p->n_maps; i++)
        if (p->maps[i].path && strstr(p->maps[i].path, "/libc.so"))
            return true;
    return false;
}

/* VmFlags strings are interned, and a process has only a handful of distinct ones: remember the
 * answer for the last string seen. */
static bool vmflag_ht(const struct gsm_mapping *m, struct gsm_classifier *c) {
    if (m->vmflags != c->memo_vmflags || !m->vmflags) {
        c->memo_vmflags = m->vmflags;
        c->memo_ht = gsm_mapping_has_vmflag(m, "ht");
    }
    return c->memo_ht;
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
    } else {
        upto = c->is_go || p->n_maps == 0 ? 0 : p->n_maps - 1;
    }
    const bool is_go = c->is_go, has_libc = c->has_libc, go_hints_used = c->go_hints_used;
    const char *goarch = c->goarch;
    for (size_t i = c->done; i < upto; i++) {
        struct gsm_mapping *m = &p->maps[i];
        const struct gsm_mapping *prev = i > 0 ? &p->maps[i - 1] : NULL;
        const char *path = m->path;

        if (c->arena_left > 0) {
            c->arena_left--;
            set(m, GSM_CLASS_NATIVE_HEAP, "glibc malloc arena (64 MiB-aligned reservation)");
            continue;
        }
        if (m->f[GSM_F_KERNEL_PAGE_SIZE] > p->page_size || vmflag_ht(m, c) || has_prefix(path, "/anon_hugepage")) {
            set(m, GSM_CLASS_HUGETLB, "hugetlb pages (VmFlags ht or KernelPageSize above the base page)");
            continue;
        }
        if (path && path[0] == '[' && !has_prefix(path, "[anon")) {
            if (strcmp(path, "[heap]") == 0)
                set(m, GSM_CLASS_NATIVE_HEAP, "[heap]: the brk heap");
            else if (strcmp(path, "[stack]") == 0)
                set(m, GSM_CLASS_MAIN_STACK, "[stack]: the main thread's stack");
            else if (has_prefix(path, "[stack:"))
                set(m, GSM_CLASS_THREAD_STACK, "[stack:TID] (kernels before 4.5 named thread stacks)");
            else
                set(m, GSM_CLASS_SPECIAL, "kernel-provided mapping (vdso, vvar, vsyscall, uprobes)");
            continue;
        }
        /* Named anonymous regions (PR_SET_VMA_ANON_NAME): Go >= 1.25, glibc tunables. */
        if (has_prefix(path, "[anon:")) {
            const char *n = path + 6;
            while (*n == ' ')
                n++;
            if (has_prefix(n, "Go: heap")) {
                set(m, GSM_CLASS_GO_HEAP, "named by the Go runtime");
                continue;
            }
            if (has_prefix(n, "Go:")) {
                set(m, GSM_CLASS_GO_RUNTIME, "named by the Go runtime");
                continue;
            }
            if (has_prefix(n, "glibc: malloc")) {
                set(m, GSM_CLASS_NATIVE_HEAP, "named by glibc malloc");
                continue;
            }
            if (has_prefix(n, "glibc: pthread stack") || has_prefix(n, "stack_and_tls:")) {
                set(m, GSM_CLASS_THREAD_STACK, "named as a thread stack");
                continue;
            }
            if (has_prefix(n, "glibc: pthread stack guard")) {
                set(m, GSM_CLASS_THREAD_STACK, "named as a thread stack guard");
                continue;
            }
        }
        /* Shared memory: memfd, POSIX shm, SysV shm, shared anonymous (shown as /dev/zero). */
        if (has_prefix(path, "/memfd:") || has_prefix(path, "/dev/shm/") || has_prefix(path, "/run/shm/") ||
            has_prefix(path, "/SYSV") || has_prefix(path, "[anon_shmem") ||
            (m->perms[3] == 's' && (path == NULL || strcmp(path, "/dev/zero") == 0))) {
            set(m, GSM_CLASS_SHMEM, "shared memory (memfd, /dev/shm, SysV or shared anonymous)");
            continue;
        }
        if (is_file_backed(m)) {
            if (p->exe_path[0] && strcmp(path, p->exe_path) == 0)
                set(m, GSM_CLASS_BINARY, "a segment of the executable");
            else if (looks_like_shared_lib(path))
                set(m, GSM_CLASS_SHARED_LIB, "a shared library (*.so)");
            else
                set(m, GSM_CLASS_FILE_MAPPED, "a mapped file");
            continue;
        }

        /* Anonymous from here on. The bss of the executable or of a library is the anonymous
         * rw-p mapping right after its last file-backed segment. */
        if (prev && prev->end == m->start && perms_are(m, "rw-p") && is_file_backed(prev) &&
            prev->perms[1] == 'w' && (prev->cls == GSM_CLASS_BINARY || prev->cls == GSM_CLASS_SHARED_LIB)) {
            set(m, prev->cls, prev->cls == GSM_CLASS_BINARY ? "bss of the executable (anonymous, right after its data)"
                                                             : "bss of a shared library (anonymous, right after its data)");
            continue;
        }
        if (is_go && gsm_go_arena_hint_range(m->start, goarch)) {
            set(m, GSM_CLASS_GO_HEAP, "Go heap arena (at the runtime's arena hint addresses)");
            continue;
        }
        if (task_sp_in(p, m)) {
            set(m, GSM_CLASS_THREAD_STACK, "a task's stack pointer is inside (task/TID/syscall)");
            continue;
        }
        if (thread_stack_shape(p, i)) {
            set(m, GSM_CLASS_THREAD_STACK, "thread stack shape (rw-p above a one-page ---p guard)");
            continue;
        }
        if (i + 1 < p->n_maps && thread_stack_shape(p, i + 1) && m->end == p->maps[i + 1].start) {
            set(m, GSM_CLASS_THREAD_STACK, "guard page of a thread stack");
            continue;
        }
        if (has_libc || !is_go) {
            int span = glibc_arena_shape(p, i);
            if (span > 0) {
                c->arena_left = span - 1;
                set(m, GSM_CLASS_NATIVE_HEAP, "glibc malloc arena (64 MiB-aligned reservation)");
                continue;
            }
        }
        if (is_go && !go_hints_used && m->start % GO_ARENA_BYTES == 0 && perms_are(m, "rw-p")) {
            set(m, GSM_CLASS_GO_HEAP, "Go heap arena (64 MiB-aligned, placed off the hints)");
            continue;
        }
        if (is_go) {
            set(m, GSM_CLASS_GO_RUNTIME, "anonymous memory of a Go process outside the arenas (runtime metadata)");
            continue;
        }
        set(m, GSM_CLASS_ANON_OTHER, "anonymous memory (mmap)");
    }
    if (upto > c->done)
        c->done = upto;
    return c->done;
}

void gsm_classify(struct gsm_process *p) {
    struct gsm_classifier c;
    gsm_classifier_init(&c, p);
    gsm_classifier_advance(&c, true);
}
