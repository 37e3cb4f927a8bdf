/* Shared by the libFuzzer harnesses (tests/fuzz/README.md). Each harness copies libFuzzer's
 * input into a heap buffer of exactly its size, NOT NUL-terminated: the kernel's reads and the
 * streaming reader's chunks are not, so a parser that reads one byte past `len` must trip ASan
 * here rather than find a terminator by luck. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_copy(const uint8_t *data, size_t size) {
    char *p = malloc(size ? size : 1);
    if (p && size)
        memcpy(p, data, size);
    return p;
}

/* For the few APIs that take a C string (documented as such): the input NUL-terminated. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *p = malloc(size + 1);
    if (p) {
        memcpy(p, data, size);
        p[size] = '\0';
    }
    return p;
}

/* A harness's own invariant broke: crash so libFuzzer keeps the input. */
#define FUZZ_ASSERT(x)          \
    do {                        \
        if (!(x))               \
            __builtin_trap();   \
    } while (0)
