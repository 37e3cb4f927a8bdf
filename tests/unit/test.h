/* A minimal unit-test harness. Each TEST() registers itself at load time; the runner prints
 * one line per test ("PASS name", "FAIL name: file:line: expr", "SKIP name: reason") and a
 * closing "unit: N passed, N failed[, N skipped]" line that tests/run.sh adds up.
 *
 *   TEST(parse_u64_overflow) {
 *       const char *s = "99999999999999999999999";
 *       uint64_t v;
 *       CHECK(gsm_parse_u64(&s, &v) == -ERANGE);
 *   }
 */
#pragma once

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct gsm_test {
    const char *name;
    void (*fn)(void);
    struct gsm_test *next;
};

void gsm_test_register(struct gsm_test *t);
void gsm_test_fail(const char *file, int line, const char *expr);
void gsm_test_skip(const char *reason);
/* Directory of the source tree's tests/ (for fixtures), from GSM_TESTS_DIR. */
const char *gsm_test_dir(void);

#define TEST(name)                                                              \
    static void test_##name(void);                                              \
    static struct gsm_test test_reg_##name = {#name, test_##name, NULL};        \
    __attribute__((constructor)) static void test_ctor_##name(void) {           \
        gsm_test_register(&test_reg_##name);                                    \
    }                                                                           \
    static void test_##name(void)

#define CHECK(expr)                                                             \
    do {                                                                        \
        if (!(expr)) {                                                          \
            gsm_test_fail(__FILE__, __LINE__, #expr);                           \
            return;                                                             \
        }                                                                       \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                      \
    do {                                                                        \
        uint64_t _a = (a), _b = (b);                                            \
        if (_a != _b) {                                                         \
            char _m[256];                                                       \
            snprintf(_m, sizeof _m, "%s == %s (%" PRIu64 " != %" PRIu64 ")", #a, #b, _a, _b); \
            gsm_test_fail(__FILE__, __LINE__, _m);                              \
            return;                                                             \
        }                                                                       \
    } while (0)

#define CHECK_STREQ(a, b)                                                       \
    do {                                                                        \
        const char *_a = (a), *_b = (b);                                        \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                \
            char _m[1024];                                                       \
            snprintf(_m, sizeof _m, "%.100s == %.100s (\"%.300s\" != \"%.300s\")", #a, #b,      \
                     _a ? _a : "(null)", _b ? _b : "(null)");                   \
            gsm_test_fail(__FILE__, __LINE__, _m);                              \
            return;                                                             \
        }                                                                       \
    } while (0)

#define SKIP(reason)                                                            \
    do {                                                                        \
        gsm_test_skip(reason);                                                  \
        return;                                                                 \
    } while (0)
