/* Interned strings: mapping paths and VmFlags repeat (a library has 4-5 mappings; most
 * anonymous mappings share one VmFlags string), so each distinct string is stored once.
 * Strings live until gsm_strpool_free(). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct gsm_strpool {
    char **slots;        /* open addressing over interned strings */
    size_t n_slots, n_used;
    char *arena;         /* bump allocator blocks, chained through their first word */
    size_t arena_left;
    char *arena_pos;
};

void gsm_strpool_init(struct gsm_strpool *p);
void gsm_strpool_free(struct gsm_strpool *p);
/* Intern s[0..len) and return the stable copy, or NULL on allocation failure. */
const char *gsm_strpool_intern(struct gsm_strpool *p, const char *s, size_t len);
