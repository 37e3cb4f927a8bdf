/* What the Go heap profile's stacks say about who holds the in-use heap (level 3 findings):
 * the share allocated under sync.Pool (by the pool's New function, called from
 * sync.(*Pool).Get: objects a pool handed out, or keeps, alive) and the single allocation site
 * that holds the most. An allocation site is the first frame of a stack, leaf first, outside
 * the runtime ("runtime." functions: mallocgc, makeslice, newobject ...). Pure. */
#pragma once

#include "model/go_heap_profile.h"

#include <stddef.h>
#include <stdint.h>

struct gsm_go_heap_site {
    const char *function;      /* points into the profile; NULL when there is none */
    const char *file;
    int64_t line;
    uint64_t inuse_bytes;
    uint64_t inuse_objects;
};

struct gsm_go_heap_paths {
    uint64_t total_bytes;               /* in-use bytes over every stack */
    uint64_t pool_bytes;                /* of those, stacks with a sync.(*Pool).Get frame */
    uint64_t pool_objects;
    struct gsm_go_heap_site pool_new;   /* the pool New function (the frame Get called) holding the most */
    struct gsm_go_heap_site top;        /* the allocation site holding the most */
};

#define GSM_GO_POOL_GET "sync.(*Pool).Get"

/* Returns 0, -ENODATA (no in-use bytes), -ENOMEM. */
int gsm_go_heap_paths_compute(const struct gsm_heap_profile *hp, struct gsm_go_heap_paths *ret);
