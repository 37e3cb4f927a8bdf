/* Level 2 of attribution: give every mapping a runtime class (PRODUCT.md, "Classes").
 *
 * Needs: the mappings (address order), the exe path, whether the process is Go (and its
 * GOARCH), and the tasks' stack pointers when readable. Writes mapping->cls and ->class_reason. */
#pragma once

#include "model/process.h"

void gsm_classify(struct gsm_process *p);

/* The same, incrementally, while smaps is still streaming in (gsm_smaps_progress): classifying
 * 20,000 mappings costs ~2 ms, which this hides behind the kernel's formatting of the rest. */
struct gsm_classifier {
    struct gsm_process *p;
    /* Called for a mapping that was classified earlier and changes class when the whole list is
     * known (an allocator's anonymous memory seen before its library: libraries sit above the
     * mmap area, i.e. after it in address order). Lets incremental totals move it. Optional. */
    void (*reclassed)(void *arg, const struct gsm_mapping *m, enum gsm_class from);
    void *reclassed_arg;
    enum gsm_allocator allocator; /* known once advanced with complete true */
    bool allocator_known;
    size_t done;                  /* maps[0, done) have their class */
    int arena_left;               /* mappings still covered by a glibc arena found earlier */
    const char *memo_vmflags[2];  /* the last VmFlags strings seen, and whether they had "ht" */
    bool memo_ht[2];
    unsigned memo_next;
    bool is_go, has_libc, go_hints_used;
    const char *goarch;
};
void gsm_classifier_init(struct gsm_classifier *c, struct gsm_process *p);
/* Classifies what can be classified now and returns `done`. With complete false (more mappings
 * may follow; the last one may still receive fields) a non-Go process advances to its
 * last-but-one mapping and a Go process waits; with complete true, everything. */
size_t gsm_classifier_advance(struct gsm_classifier *c, bool complete);

/* The allocator a process uses, from the libraries it maps: jemalloc, tcmalloc or mimalloc
 * (linked or preloaded: they replace malloc) before musl before glibc. */
enum gsm_allocator gsm_allocator_detect(const struct gsm_process *p);

/* Exposed for unit tests. Go's heap arena hints (runtime/malloc.go, mallocinit): on amd64 the
 * i-th hint is i<<40 | 0x00c0<<32 (0xc000000000, 0x1c000000000, ...); on arm64 i<<40 | 0x0040<<32.
 * True when addr lies in the arena range that the hints describe for that architecture. */
bool gsm_go_arena_hint_range(uint64_t addr, const char *goarch);
