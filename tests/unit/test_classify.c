#include "test.h"
#include "analyses/classify.h"
#include "analyses/totals.h"
#include "readers/elf_go.h"
#include "readers/proc_smaps.h"
#include "util/cleanup.h"

#include <stdlib.h>

static void load(struct gsm_process *p, const char *maps) {
    struct gsm_parse_error err = {0};
    gsm_smaps_parse(p, maps, strlen(maps), false, &err);
}

static const char *cls(const struct gsm_process *p, size_t i) {
    return gsm_class_name(p->maps[i].cls);
}

static const char c_maps[] =
        "5600000000-5600001000 r--p 00000000 08:01 10 /usr/bin/app\n"
        "5600001000-5600002000 r-xp 00001000 08:01 10 /usr/bin/app\n"
        "5600002000-5600003000 rw-p 00002000 08:01 10 /usr/bin/app\n"
        "5600003000-5600004000 rw-p 00000000 00:00 0\n"                       /* bss */
        "5600100000-5600200000 rw-p 00000000 00:00 0 [heap]\n"
        "7f0000000000-7f0000021000 rw-p 00000000 00:00 0\n"                   /* glibc arena: committed */
        "7f0000021000-7f0004000000 ---p 00000000 00:00 0\n"                   /* ... and reserved */
        "7f1000000000-7f1000001000 ---p 00000000 00:00 0\n"                   /* guard */
        "7f1000001000-7f1000801000 rw-p 00000000 00:00 0\n"                   /* pthread stack */
        "7f2000000000-7f2000100000 rw-p 00000000 00:00 0\n"                   /* plain mmap */
        "7f3000000000-7f3000028000 r--p 00000000 08:01 20 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7f3000028000-7f3000030000 rw-p 00028000 08:01 20 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7f3000030000-7f3000038000 rw-p 00000000 00:00 0\n"                   /* libc bss */
        "7f4000000000-7f4001000000 rw-s 00000000 00:01 30 /memfd:cache (deleted)\n"
        "7f5000000000-7f5000100000 r--p 00000000 08:01 40 /var/data/file.bin\n"
        "7f6000000000-7f6000100000 rw-s 00000000 00:01 50 /dev/zero (deleted)\n"
        "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]\n"
        "7ffc10000000-7ffc10002000 r-xp 00000000 00:00 0 [vdso]\n"
        "7ffc20000000-7ffc20200000 rw-p 00000000 00:0f 60 /anon_hugepage (deleted)\n";

TEST(classify_c_process) {
    const char *maps = c_maps;
    struct gsm_process p;
    gsm_process_init(&p, 1);
    load(&p, maps);
    snprintf(p.exe_path, sizeof p.exe_path, "/usr/bin/app");
    gsm_classify(&p);
    const char *want[] = {"binary", "binary", "binary", "binary", "native-heap", "native-heap", "native-heap",
                          "thread-stack", "thread-stack", "anon-other", "shared-lib", "shared-lib", "shared-lib",
                          "shmem", "file-mapped", "shmem", "main-stack", "special", "hugetlb"};
    CHECK_EQ_U64(p.n_maps, ELEMENTSOF(want));
    for (size_t i = 0; i < ELEMENTSOF(want); i++) {
        if (strcmp(cls(&p, i), want[i]) != 0) {
            char m[128];
            snprintf(m, sizeof m, "mapping %zu: %s != %s", i, cls(&p, i), want[i]);
            gsm_test_fail(__FILE__, __LINE__, m);
            gsm_process_free(&p);
            return;
        }
    }
    gsm_process_free(&p);
}

static const char go_maps[] =
        "00400000-00500000 r-xp 00000000 08:01 10 /srv/gosvc\n"
        "00500000-00600000 r--p 00100000 08:01 10 /srv/gosvc\n"
        "00600000-00610000 rw-p 00200000 08:01 10 /srv/gosvc\n"
        "00610000-00640000 rw-p 00000000 00:00 0\n"                 /* bss, noptrbss */
        "c000000000-c000400000 rw-p 00000000 00:00 0\n"             /* arena, committed */
        "c000400000-c004000000 ---p 00000000 00:00 0\n"             /* arena, reserved */
        "7f0000000000-7f0000800000 rw-p 00000000 00:00 0\n"         /* runtime metadata */
        "7f0010000000-7f0034000000 ---p 00000000 00:00 0\n"         /* page allocator reservation */
        "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]\n";

TEST(classify_go_process) {
    const char *maps = go_maps;
    struct gsm_process p;
    gsm_process_init(&p, 1);
    load(&p, maps);
    snprintf(p.exe_path, sizeof p.exe_path, "/srv/gosvc");
    p.go = calloc(1, sizeof *p.go);
    snprintf(p.go->goarch, sizeof p.go->goarch, "amd64");
    gsm_classify(&p);
    CHECK_STREQ(cls(&p, 3), "binary");
    CHECK_STREQ(cls(&p, 4), "go-heap");
    CHECK_STREQ(cls(&p, 5), "go-heap");
    CHECK_STREQ(cls(&p, 6), "go-runtime");
    CHECK_STREQ(cls(&p, 7), "go-runtime");
    CHECK_STREQ(cls(&p, 8), "main-stack");
    gsm_process_free(&p);
}

TEST(classify_task_sp_confirms_stack) {
    static const char maps[] =
        "7f2000000000-7f2000100000 rw-p 00000000 00:00 0\n";
    struct gsm_process p;
    gsm_process_init(&p, 1);
    load(&p, maps);
    gsm_classify(&p);
    CHECK_STREQ(cls(&p, 0), "anon-other");
    p.tasks = calloc(1, sizeof *p.tasks);
    p.n_tasks = 1;
    p.tasks[0].sp = 0x7f20000ffe00;
    gsm_classify(&p);
    CHECK_STREQ(cls(&p, 0), "thread-stack");
    gsm_process_free(&p);
}

TEST(go_arena_hints) {
    CHECK(gsm_go_arena_hint_range(0xc000000000, "amd64"));
    CHECK(gsm_go_arena_hint_range(0x1c000000000, "amd64"));
    CHECK(!gsm_go_arena_hint_range(0x7f0000000000, "amd64"));
    /* low 40 bits 0xda1c50f000 look like a hint window, but this is the mmap area (seen live) */
    CHECK(!gsm_go_arena_hint_range(0x7fda1c50f000, "amd64"));
    CHECK(gsm_go_arena_hint_range(0x4000000000, "arm64"));
    CHECK(!gsm_go_arena_hint_range(0xc000000000, "arm64"));
}

TEST(classify_guarded_mapping_is_not_a_stack) {
    /* 64 MiB between two guard pages (what a careful allocator does) is not a thread stack:
     * its size is not the default stack size and no thread's stack pointer is inside. */
    static const char maps[] =
        "7f1000000000-7f1000001000 ---p 00000000 00:00 0\n"
        "7f1000001000-7f1004001000 rw-p 00000000 00:00 0\n"
        "7f1004001000-7f1004002000 ---p 00000000 00:00 0\n";
    struct gsm_process p;
    gsm_process_init(&p, 1);
    load(&p, maps);
    p.have_stack_rlimit = true;
    p.stack_rlimit_bytes = 8 << 20;
    gsm_classify(&p);
    CHECK_STREQ(cls(&p, 1), "anon-other");
    gsm_process_free(&p);
}

/* explain classifies while smaps streams in (gsm_classifier_advance after each part): the result
 * must be the same as classifying the whole list at once, whatever the split. */
static void move_totals(void *arg, const struct gsm_mapping *m, enum gsm_class from) {
    gsm_totals_move(arg, m, from);
}

static void check_incremental(const char *maps, const char *exe, bool go) {
    struct gsm_process whole, inc;
    gsm_process_init(&whole, 1);
    gsm_process_init(&inc, 1);
    load(&whole, maps);
    snprintf(whole.exe_path, sizeof whole.exe_path, "%s", exe);
    snprintf(inc.exe_path, sizeof inc.exe_path, "%s", exe);
    if (go) {
        whole.go = calloc(1, sizeof *whole.go);
        inc.go = calloc(1, sizeof *inc.go);
        snprintf(whole.go->goarch, sizeof whole.go->goarch, "amd64");
        snprintf(inc.go->goarch, sizeof inc.go->goarch, "amd64");
    }
    gsm_classify(&whole);

    struct gsm_parse_error err = {0};
    struct gsm_smaps_parser ps;
    gsm_smaps_parser_init(&ps, &inc, false, &err);
    struct gsm_classifier c;
    gsm_classifier_init(&c, &inc);
    /* Totals added as mappings are classified, as explain does; moved when a class changes. */
    struct gsm_totals inc_totals = {0};
    c.reclassed = move_totals;
    c.reclassed_arg = &inc_totals;
    size_t advanced_early = 0;
    for (const char *s = maps, *nl; (nl = strchr(s, '\n')); s = nl + 1) {
        CHECK_EQ_U64(gsm_smaps_parser_line(&ps, s, (size_t)(nl - s)), 0);
        size_t before = c.done, done = gsm_classifier_advance(&c, false);
        CHECK(done < inc.n_maps);                 /* never the mapping still being filled */
        gsm_totals_add(&inc_totals, &inc, before, done);
        advanced_early = done;
    }
    /* A non-Go process is classified as it arrives; a Go process waits for the whole list. */
    if (go)
        CHECK_EQ_U64(advanced_early, 0);
    else
        CHECK_EQ_U64(advanced_early, inc.n_maps - 1);
    size_t before = c.done;
    CHECK_EQ_U64(gsm_classifier_advance(&c, true), inc.n_maps);
    gsm_totals_add(&inc_totals, &inc, before, inc.n_maps);
    CHECK_EQ_U64(inc.n_maps, whole.n_maps);
    CHECK(inc.allocator == whole.allocator);
    struct gsm_totals whole_totals;
    gsm_totals_compute(&whole, &whole_totals);
    for (int k = 0; k < GSM_CLASS__COUNT; k++)
        CHECK(memcmp(&inc_totals.cls[k], &whole_totals.cls[k], sizeof inc_totals.cls[k]) == 0);
    CHECK(memcmp(&inc_totals.all, &whole_totals.all, sizeof inc_totals.all) == 0);
    for (size_t i = 0; i < whole.n_maps && i < inc.n_maps; i++) {
        CHECK_STREQ(cls(&inc, i), cls(&whole, i));
        CHECK_STREQ(inc.maps[i].class_reason, whole.maps[i].class_reason);
    }
    gsm_process_free(&whole);
    gsm_process_free(&inc);
}

/* jemalloc's extents sit in the mmap area below the libraries, so they arrive before
 * libjemalloc.so does: classified anon-other while streaming, then native-heap. */
static const char je_maps[] =
        "5600000000-5600001000 r--p 00000000 08:01 10 /usr/bin/kv\n"
        "5600001000-5600002000 rw-p 00001000 08:01 10 /usr/bin/kv\n"
        "7f0000000000-7f0000c00000 rw-p 00000000 00:00 0\nRss: 8192 kB\nPrivate_Dirty: 8192 kB\n"  /* 12 MiB: extents */
        "7f0004000000-7f0008000000 rw-p 00000000 00:00 0\nRss: 4096 kB\n"     /* 64 MiB-aligned, 64 MiB: also glibc's arena shape */
        "7f0010000000-7f0010007000 rw-p 00000000 00:00 0\nRss: 28 kB\n"       /* 28 KiB: not an extent size */
        "7f3000000000-7f3000028000 r--p 00000000 08:01 20 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\nRss: 100 kB\n"
        "7f3100000000-7f3100028000 r--p 00000000 08:01 21 /usr/lib/x86_64-linux-gnu/libc.so.6\nRss: 100 kB\n"
        "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]\n";

static const char mi_maps[] =
        "5600000000-5600001000 r--p 00000000 08:01 10 /usr/bin/app\n"
        "5600100000-5600200000 rw-p 00000000 00:00 0 [heap]\nRss: 64 kB\n"
        "20000000000-20002000000 rw-p 00000000 00:00 0\nRss: 16384 kB\n"     /* 32 MiB-aligned segment */
        "7f0000001000-7f0000201000 rw-p 00000000 00:00 0\nRss: 2048 kB\n"    /* page-aligned: the program's */
        "7f3000000000-7f3000028000 r--p 00000000 08:01 20 /usr/lib/x86_64-linux-gnu/libmimalloc.so.2.0\n"
        "7f3100000000-7f3100028000 r--p 00000000 08:01 21 /usr/lib/x86_64-linux-gnu/libc.so.6\n";

static const char musl_maps[] =
        "5600000000-5600001000 r--p 00000000 08:01 10 /usr/bin/app\n"
        "7f0000001000-7f0004201000 rw-p 00000000 00:00 0\nRss: 65536 kB\n"
        "7f3000000000-7f3000028000 r-xp 00000000 08:01 20 /usr/lib/x86_64-linux-musl/libc.so\n";

TEST(classify_incremental_matches_whole) {
    check_incremental(c_maps, "/usr/bin/app", false);
    check_incremental(go_maps, "/srv/gosvc", true);
    check_incremental(je_maps, "/usr/bin/kv", false);
    check_incremental(mi_maps, "/usr/bin/app", false);
    check_incremental(musl_maps, "/usr/bin/app", false);
}

TEST(classify_allocators) {
    struct gsm_process p;
    gsm_process_init(&p, 1);
    load(&p, je_maps);
    snprintf(p.exe_path, sizeof p.exe_path, "/usr/bin/kv");
    gsm_classify(&p);
    CHECK(p.allocator == GSM_ALLOC_JEMALLOC);
    CHECK_STREQ(gsm_allocator_name(p.allocator), "jemalloc");
    CHECK_STREQ(cls(&p, 2), "native-heap");
    CHECK(strstr(p.maps[2].class_reason, "jemalloc") != NULL);
    CHECK_STREQ(cls(&p, 3), "native-heap");
    CHECK(strstr(p.maps[3].class_reason, "jemalloc") != NULL);   /* not called a glibc arena */
    CHECK_STREQ(cls(&p, 4), "anon-other");
    gsm_process_free(&p);

    gsm_process_init(&p, 1);
    load(&p, mi_maps);
    gsm_classify(&p);
    CHECK(p.allocator == GSM_ALLOC_MIMALLOC);
    CHECK_STREQ(cls(&p, 2), "native-heap");
    CHECK(strstr(p.maps[2].class_reason, "mimalloc") != NULL);
    CHECK_STREQ(cls(&p, 3), "anon-other");
    gsm_process_free(&p);

    gsm_process_init(&p, 1);
    load(&p, musl_maps);
    gsm_classify(&p);
    CHECK(p.allocator == GSM_ALLOC_MUSL);
    CHECK_STREQ(cls(&p, 1), "native-heap");
    gsm_process_free(&p);

    /* glibc alone: its own arena shapes only; a plain mmap stays anon-other. */
    gsm_process_init(&p, 1);
    load(&p, c_maps);
    snprintf(p.exe_path, sizeof p.exe_path, "/usr/bin/app");
    gsm_classify(&p);
    CHECK(p.allocator == GSM_ALLOC_GLIBC);
    CHECK_STREQ(cls(&p, 9), "anon-other");
    gsm_process_free(&p);

    /* Preloaded or linked, tcmalloc wins over the libc it sits beside. */
    static const char tc[] = "7f2000000000-7f2000200000 rw-p 00000000 00:00 0\n"
                             "7f3000000000-7f3000028000 r--p 00000000 08:01 21 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
                             "7f3100000000-7f3100028000 r--p 00000000 08:01 20 /usr/lib/libtcmalloc_minimal.so.4.5.10\n";
    gsm_process_init(&p, 1);
    load(&p, tc);
    gsm_classify(&p);
    CHECK(p.allocator == GSM_ALLOC_TCMALLOC);
    CHECK_STREQ(cls(&p, 0), "native-heap");
    gsm_process_free(&p);
}
