/* The top N of a set by a value (processes by RSS), chosen stably: series exported for the
 * members do not flap between scrapes when two values cross back and forth near the Nth.
 *
 *   - Named items (pinned) are members always and do not take one of the N places.
 *   - A member stays while its rank is below N, or below 2N when its value is still at least
 *     (1 - margin) of the Nth value or it joined less than hold_ms ago.
 *   - A non-member whose rank is below N joins when a place is free, or when its value beats the
 *     Nth value by the margin; it then takes the place of the lowest-ranked member at rank >= N
 *     that is past its hold time (none: it waits).
 * So membership never exceeds N (plus the pinned ones), and an item only enters or leaves
 * after a change of more than the margin, or after the hold time. Items with value 0 never enter. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm_topn_item {
    uint64_t value;
    bool pinned;
    bool member;            /* in: last round's; out: this round's */
    uint64_t since_ms;      /* when it became a member (written on entry) */
};

struct gsm_topn_opts {
    size_t n;
    double margin;          /* 0.1: 10% */
    uint64_t hold_ms;
};

/* Updates member/since_ms of items[0, count). Returns the number of members (pinned included),
 * or -ENOMEM. */
int gsm_topn_select(struct gsm_topn_item *items, size_t count, const struct gsm_topn_opts *o, uint64_t now_ms);
