#include "analyses/topn.h"
#include "test.h"

static size_t n_members(const struct gsm_topn_item *it, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += it[i].member;
    return k;
}

TEST(topn_first_round_takes_the_largest) {
    struct gsm_topn_item it[5] = {{.value = 10}, {.value = 50}, {.value = 30}, {.value = 0}, {.value = 40}};
    struct gsm_topn_opts o = {.n = 3, .margin = 0.1, .hold_ms = 0};
    CHECK(gsm_topn_select(it, 5, &o, 1000) == 3);
    CHECK(it[1].member && it[2].member && it[4].member);
    CHECK(!it[0].member && !it[3].member);
    CHECK(it[1].since_ms == 1000);
}

TEST(topn_no_flapping_within_margin) {
    /* a (member) and b (not) cross back and forth by 5%: membership stays put */
    struct gsm_topn_item it[3] = {{.value = 100}, {.value = 90}, {.value = 10}};
    struct gsm_topn_opts o = {.n = 2, .margin = 0.1, .hold_ms = 0};
    gsm_topn_select(it, 3, &o, 0);
    CHECK(it[0].member && it[1].member && !it[2].member);
    for (int round = 1; round <= 10; round++) {
        it[1].value = round % 2 ? 85 : 95;
        it[2].value = round % 2 ? 90 : 80;   /* beats the 2nd by < 10% */
        CHECK(gsm_topn_select(it, 3, &o, (uint64_t)round * 1000) == 2);
        CHECK(it[0].member && it[1].member && !it[2].member);
    }
    /* a clear winner (beats the 2nd by more than the margin) enters and the lowest leaves */
    it[1].value = 50;
    it[2].value = 90;
    CHECK(gsm_topn_select(it, 3, &o, 20000) == 2);
    CHECK(it[0].member && !it[1].member && it[2].member);
    CHECK(it[2].since_ms == 20000);
}

TEST(topn_hold_time_and_pinned) {
    struct gsm_topn_item it[4] = {{.value = 100}, {.value = 90}, {.value = 5, .pinned = true}, {.value = 10}};
    struct gsm_topn_opts o = {.n = 2, .margin = 0.1, .hold_ms = 60000};
    CHECK(gsm_topn_select(it, 4, &o, 0) == 3);
    CHECK(it[2].member && !it[3].member);
    /* the newcomer beats the 2nd by far, but both members are within their hold time */
    it[3].value = 1000;
    CHECK(gsm_topn_select(it, 4, &o, 30000) == 3);
    CHECK(!it[3].member && n_members(it, 4) == 3);
    /* past the hold time: it takes the place of the lowest */
    CHECK(gsm_topn_select(it, 4, &o, 61000) == 3);
    CHECK(it[3].member && it[0].member && !it[1].member && it[2].member);
}

TEST(topn_free_place_and_gone_values) {
    struct gsm_topn_item it[3] = {{.value = 100}, {.value = 0}, {.value = 0}};
    struct gsm_topn_opts o = {.n = 2, .margin = 0.1, .hold_ms = 0};
    CHECK(gsm_topn_select(it, 3, &o, 0) == 1);
    it[1].value = 3;   /* a free place: no margin needed */
    CHECK(gsm_topn_select(it, 3, &o, 1) == 2);
    CHECK(it[1].member);
    it[0].value = 0;   /* a member whose value went to 0 leaves */
    CHECK(gsm_topn_select(it, 3, &o, 2) == 1);
    CHECK(!it[0].member && it[1].member);
}
