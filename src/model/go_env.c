#include "model/go_env.h"

#include <errno.h>
#include <string.h>

/* runtime atoi64 over [s, s+n): optional '-', then only digits, int64 range. */
static int go_atoi64(const char *s, size_t n, int64_t *ret) {
    if (n == 0)
        return -EINVAL;
    bool neg = s[0] == '-';
    size_t i = neg ? 1 : 0;
    uint64_t un = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (un > UINT64_MAX / 10)
            return -ERANGE;
        uint64_t un1 = un * 10 + (uint64_t)(s[i] - '0');
        if (un1 < un * 10)
            return -ERANGE;
        un = un1;
    }
    /* Go accepts a bare "-" as 0 (the loop does not run); keep its behaviour. */
    if (!neg && un > (uint64_t)INT64_MAX)
        return -ERANGE;
    if (neg && un > (uint64_t)INT64_MAX + 1)
        return -ERANGE;
    *ret = neg ? (int64_t)(0 - un) : (int64_t)un;
    return 0;
}

int gsm_parse_gomemlimit(const char *s, uint64_t *ret_bytes) {
    size_t n = strlen(s);
    if (n == 0 || strcmp(s, "off") == 0) {
        *ret_bytes = INT64_MAX;
        return 0;
    }
    int64_t v;
    int r;
    char last = s[n - 1];
    if (last >= '0' && last <= '9') {
        r = go_atoi64(s, n, &v);
        if (r < 0)
            return r;
        if (v < 0)
            return -EINVAL;
        *ret_bytes = (uint64_t)v;
        return 0;
    }
    if (last != 'B' || n < 2)
        return -EINVAL;
    char c = s[n - 2];
    if (c >= '0' && c <= '9') {
        r = go_atoi64(s, n - 1, &v);
        if (r < 0)
            return r;
        if (v < 0)
            return -EINVAL;
        *ret_bytes = (uint64_t)v;
        return 0;
    }
    if (c != 'i' || n < 4)
        return -EINVAL;
    unsigned power;
    switch (s[n - 3]) {
    case 'K': power = 1; break;
    case 'M': power = 2; break;
    case 'G': power = 3; break;
    case 'T': power = 4; break;
    default: return -EINVAL;
    }
    r = go_atoi64(s, n - 3, &v);
    if (r < 0)
        return r;
    if (v < 0)
        return -EINVAL;
    uint64_t m = (uint64_t)1 << (10 * power), un = (uint64_t)v;
    if (un > UINT64_MAX / m || un * m > (uint64_t)INT64_MAX)
        return -ERANGE;
    *ret_bytes = un * m;
    return 0;
}

int gsm_parse_gogc(const char *s, int32_t *ret_percent) {
    if (strcmp(s, "off") == 0) {
        *ret_percent = -1;
        return 0;
    }
    int64_t v;
    int r = go_atoi64(s, strlen(s), &v);
    if (r < 0)
        return -EINVAL;
    if (v < INT32_MIN || v > INT32_MAX)
        return -EINVAL;
    *ret_percent = (int32_t)v;
    return 0;
}
