#include "util/parse.h"

#include <stdlib.h>

#include <errno.h>
#include <string.h>

/* Whether s is before end (no end: a NUL-terminated string, whose NUL stops every loop). */
static inline bool before(const char *s, const char *end) {
    return !end || s < end;
}

int gsm_parse_u64_end(const char **p, const char *end, uint64_t *ret) {
    const char *s = *p;
    while (before(s, end) && (*s == ' ' || *s == '\t'))
        s++;
    if (!before(s, end) || *s < '0' || *s > '9')
        return -EINVAL;
    uint64_t v = 0;
    for (; before(s, end) && *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *p = s;
    *ret = v;
    return 0;
}

int gsm_parse_i64_end(const char **p, const char *end, int64_t *ret) {
    const char *s = *p;
    while (before(s, end) && (*s == ' ' || *s == '\t'))
        s++;
    bool neg = false;
    if (before(s, end) && *s == '-') {
        neg = true;
        s++;
    }
    uint64_t v;
    int r = gsm_parse_u64_end(&s, end, &v);
    if (r < 0)
        return r;
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return -ERANGE;
    *p = s;
    *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int gsm_parse_u64(const char **p, uint64_t *ret) {
    return gsm_parse_u64_end(p, NULL, ret);
}

int gsm_parse_i64(const char **p, int64_t *ret) {
    return gsm_parse_i64_end(p, NULL, ret);
}

/* Digit value + 1 of each byte, 0 for a non-hex byte: one load per digit, no branches on the
 * character class (a smaps header has five hex numbers; 20,000 headers per large process). */
static const unsigned char hex_digit_plus1[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};
/* 0..15, or above 15 (UINT_MAX) for a byte that is not a hex digit */
static unsigned hexval(char c) {
    return (unsigned)hex_digit_plus1[(unsigned char)c] - 1u;
}

int gsm_parse_hex64(const char **p, const char *end, uint64_t *ret) {
    const char *s = *p;
    if (s >= end || hexval(*s) > 15)
        return -EINVAL;
    uint64_t v = 0;
    unsigned d;
    for (; s < end && (d = hexval(*s)) <= 15; s++) {
        if (v >> 60)
            return -ERANGE;
        v = (v << 4) | d;
    }
    *p = s;
    *ret = v;
    return 0;
}

const char *gsm_next_line(const char **cursor, const char *end, size_t *ret_len) {
    const char *s = *cursor;
    if (s >= end)
        return NULL;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *e = nl ? nl : end;
    *ret_len = (size_t)(e - s);
    *cursor = nl ? nl + 1 : end;
    return s;
}

int gsm_parse_seconds_arg(const char *arg, double min, double max, double *ret) {
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !(v >= min) || !(v <= max))
        return -EINVAL;
    *ret = v;
    return 0;
}
