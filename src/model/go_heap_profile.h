/* A Go heap profile (profile.proto of /debug/pprof/heap) as a small model: the sample types,
 * and per sample (one per allocation stack) its values and its frames. Decoded by
 * readers/go_heap_profile.h; the in-use values are as of the last completed GC unless the
 * profile was asked for with ?gc=1. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gsm_heap_frame {
    const char *function;      /* "main.main"; NULL for an unsymbolized location */
    const char *file;          /* "/src/app/main.go"; "" when unknown */
    int64_t line;              /* 0 when unknown */
    uint64_t address;          /* the location's address (for unsymbolized frames) */
};

struct gsm_heap_stack {
    int64_t inuse_bytes;       /* value of inuse_space (0 when the profile lacks it) */
    int64_t inuse_objects;     /* value of inuse_objects (0 when the profile lacks it) */
    const int64_t *values;     /* all n_sample_types values, in sample-type order */
    const struct gsm_heap_frame *frames;   /* leaf (allocation site) first */
    size_t n_frames;
};

struct gsm_heap_value_type {
    const char *type;          /* "inuse_space" */
    const char *unit;          /* "bytes" */
};

/* How a fetched profile relates to the heap now (filled by whoever fetched it; zero after a
 * parse). Without a forced GC the in-use figures are those of the end of the last GC. */
struct gsm_heap_profile_as_of {
    bool forced_gc;            /* fetched with ?gc=1: the target ran a GC right before */
    uint64_t last_gc_ms;       /* end of the GC the in-use figures are from, Unix ms (0: unknown) */
    uint64_t taken_ms;         /* when the profile was fetched, Unix ms */
};

struct gsm_heap_profile {
    struct gsm_heap_value_type *sample_types;
    size_t n_sample_types;
    ssize_t inuse_space_index;     /* index into sample_types, always >= 0 after a parse */
    ssize_t inuse_objects_index;   /* -1 when absent */

    struct gsm_heap_stack *stacks; /* one per sample, in file order (zero in-use included) */
    size_t n_stacks;

    struct gsm_heap_value_type period_type;   /* {"space", "bytes"} for Go */
    int64_t period;                /* MemProfileRate for Go heap profiles */
    int64_t time_nanos;            /* when the profile was taken, ns since the epoch */
    int64_t duration_nanos;

    int64_t inuse_bytes_total;     /* sum of inuse_bytes over stacks */
    int64_t inuse_objects_total;

    struct gsm_heap_profile_as_of as_of;

    /* storage (owned): the strings, the frames and the values the pointers above point into */
    char *strings_;
    struct gsm_heap_frame *frames_;
    int64_t *values_;
};

/* Frees what hp holds (not hp itself) and clears it. NULL is fine. */
void gsm_heap_profile_free(struct gsm_heap_profile *hp);
