#include "model/strpool.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK ((size_t)64 * 1024)

void gsm_strpool_init(struct gsm_strpool *p) {
    memset(p, 0, sizeof *p);
}

void gsm_strpool_free(struct gsm_strpool *p) {
    char *b = p->arena;
    while (b) {
        char *next;
        memcpy(&next, b, sizeof next);
        free(b);
        b = next;
    }
    free(p->slots);
    memset(p, 0, sizeof *p);
}

static uint64_t hash(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static char *arena_alloc(struct gsm_strpool *p, size_t n) {
    if (n > p->arena_left) {
        size_t sz = n + sizeof(char *) > ARENA_BLOCK ? n + sizeof(char *) : ARENA_BLOCK;
        char *b = malloc(sz);
        if (!b)
            return NULL;
        memcpy(b, &p->arena, sizeof p->arena);
        p->arena = b;
        p->arena_pos = b + sizeof(char *);
        p->arena_left = sz - sizeof(char *);
    }
    char *r = p->arena_pos;
    p->arena_pos += n;
    p->arena_left -= n;
    return r;
}

static int grow(struct gsm_strpool *p) {
    size_t n = p->n_slots ? p->n_slots * 2 : 256;
    char **slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < p->n_slots; i++) {
        char *s = p->slots[i];
        if (!s)
            continue;
        size_t j = hash(s, strlen(s)) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = s;
    }
    free(p->slots);
    p->slots = slots;
    p->n_slots = n;
    return 0;
}

const char *gsm_strpool_intern(struct gsm_strpool *p, const char *s, size_t len) {
    if ((p->n_used + 1) * 2 > p->n_slots && grow(p) < 0)
        return NULL;
    size_t j = hash(s, len) & (p->n_slots - 1);
    while (p->slots[j]) {
        const char *t = p->slots[j];
        if (strncmp(t, s, len) == 0 && t[len] == '\0')
            return t;
        j = (j + 1) & (p->n_slots - 1);
    }
    char *copy = arena_alloc(p, len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    p->slots[j] = copy;
    p->n_used++;
    return copy;
}
