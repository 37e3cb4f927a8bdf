/* util/strmap.h: open addressing with linear probing; grows at half full. */
#include "util/strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t gsm_strmap_hash(const char *key) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

static struct gsm_strmap_slot *find(const struct gsm_strmap_slot *slots, size_t cap, const char *key, uint64_t h) {
    size_t i = (size_t)h & (cap - 1);
    for (;;) {
        const struct gsm_strmap_slot *s = &slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return (struct gsm_strmap_slot *)s;
        i = (i + 1) & (cap - 1);
    }
}

void *gsm_strmap_get(const struct gsm_strmap *m, const char *key) {
    if (!m->cap)
        return NULL;
    struct gsm_strmap_slot *s = find(m->slots, m->cap, key, gsm_strmap_hash(key));
    return s->key ? s->value : NULL;
}

static int grow(struct gsm_strmap *m) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    struct gsm_strmap_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            *find(slots, cap, m->slots[i].key, m->slots[i].hash) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int gsm_strmap_put(struct gsm_strmap *m, const char *key, void *value) {
    if ((m->n + 1) * 2 > m->cap) {
        int r = grow(m);
        if (r < 0)
            return r;
    }
    uint64_t h = gsm_strmap_hash(key);
    struct gsm_strmap_slot *s = find(m->slots, m->cap, key, h);
    if (!s->key) {
        s->key = key;
        s->hash = h;
        m->n++;
    }
    s->value = value;
    return 0;
}

void gsm_strmap_clear(struct gsm_strmap *m) {
    if (m->slots)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n = 0;
}

void gsm_strmap_free(struct gsm_strmap *m) {
    free(m->slots);
    *m = (struct gsm_strmap){0};
}
