/* A string -> pointer hash table (open addressing, linear probing, FNV-1a), for lookups that
 * would otherwise be a linear search per sample (the history writer's targets). The keys are
 * borrowed: each must stay valid while its entry is in the table (usually the value owns it).
 * No removal: callers that drop entries call gsm_strmap_clear() and put the survivors back. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct gsm_strmap {
    struct gsm_strmap_slot {
        const char *key;
        uint64_t hash;
        void *value;
    } *slots;
    size_t n, cap;                    /* cap is 0 or a power of two; n <= cap / 2 */
};

uint64_t gsm_strmap_hash(const char *key);
/* The value stored under key, or NULL. */
void *gsm_strmap_get(const struct gsm_strmap *m, const char *key);
/* Stores value under key (replacing an existing entry's value). 0 or -ENOMEM. */
int gsm_strmap_put(struct gsm_strmap *m, const char *key, void *value);
/* Forgets every entry, keeping the slots. */
void gsm_strmap_clear(struct gsm_strmap *m);
void gsm_strmap_free(struct gsm_strmap *m);
