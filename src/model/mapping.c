#include "model/mapping.h"

#include <string.h>

static const struct {
    const char *name;
    uint8_t len;
    bool kb;
} fields[GSM_F__COUNT] = {
#define X(id, n, k) [GSM_F_##id] = {n, sizeof(n) - 1, k},
    GSM_SMAPS_FIELDS(X)
#undef X
};

const char *gsm_smaps_field_name(enum gsm_smaps_field f) {
    return (unsigned)f < GSM_F__COUNT ? fields[f].name : "?";
}

bool gsm_smaps_field_is_kb(enum gsm_smaps_field f) {
    return (unsigned)f < GSM_F__COUNT && fields[f].kb;
}

int gsm_smaps_field_lookup_from(const char *name, size_t len, int *hint) {
    /* 27 names; a scan filtered by length and first byte, starting at the expected entry. */
    int start = *hint >= 0 && *hint < GSM_F__COUNT ? *hint : 0;
    for (int k = 0, i = start; k < GSM_F__COUNT; k++, i = i + 1 == GSM_F__COUNT ? 0 : i + 1) {
        const char *n = fields[i].name;
        if (fields[i].len == len && n[0] == name[0] && memcmp(n, name, len) == 0) {
            *hint = i + 1;
            return i;
        }
    }
    return -1;
}

static const char *const class_names[GSM_CLASS__COUNT] = {
    [GSM_CLASS_GO_HEAP] = "go-heap",
    [GSM_CLASS_GO_RUNTIME] = "go-runtime",
    [GSM_CLASS_THREAD_STACK] = "thread-stack",
    [GSM_CLASS_MAIN_STACK] = "main-stack",
    [GSM_CLASS_NATIVE_HEAP] = "native-heap",
    [GSM_CLASS_ANON_OTHER] = "anon-other",
    [GSM_CLASS_BINARY] = "binary",
    [GSM_CLASS_SHARED_LIB] = "shared-lib",
    [GSM_CLASS_FILE_MAPPED] = "file-mapped",
    [GSM_CLASS_SHMEM] = "shmem",
    [GSM_CLASS_SPECIAL] = "special",
    [GSM_CLASS_HUGETLB] = "hugetlb",
};

const char *gsm_class_name(enum gsm_class c) {
    return (unsigned)c < GSM_CLASS__COUNT ? class_names[c] : "?";
}

bool gsm_mapping_has_vmflag(const struct gsm_mapping *m, const char code[2]) {
    /* "VmFlags: rd wr mr mw me ac sd": two-letter codes separated by single spaces. */
    const char *s = m->vmflags;
    if (!s)
        return false;
    while (*s) {
        while (*s == ' ')
            s++;
        if (s[0] == code[0] && s[1] == code[1] && (s[2] == ' ' || s[2] == '\0'))
            return true;
        while (*s && *s != ' ')
            s++;
    }
    return false;
}

const char *gsm_allocator_name(enum gsm_allocator a) {
    static const char *const names[GSM_ALLOC__COUNT] = {
        [GSM_ALLOC_GLIBC] = "glibc", [GSM_ALLOC_MUSL] = "musl", [GSM_ALLOC_JEMALLOC] = "jemalloc",
        [GSM_ALLOC_TCMALLOC] = "tcmalloc", [GSM_ALLOC_MIMALLOC] = "mimalloc",
    };
    return (unsigned)a < GSM_ALLOC__COUNT ? names[a] : NULL;
}
