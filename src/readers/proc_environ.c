#include "readers/proc_environ.h"
#include "util/cleanup.h"

#include <fcntl.h>
#include <string.h>

enum { S_KEY, S_VALUE, S_SKIP };

void gsm_go_env_scan_init(struct gsm_go_env_scanner *s) {
    memset(s, 0, sizeof *s);
    s->state = S_KEY;
}

static struct gsm_go_env_var *wanted(struct gsm_go_env *env, const char *key, size_t kl) {
    static const struct { const char *name; size_t off; } keys[] = {
        {"GOMEMLIMIT", offsetof(struct gsm_go_env, gomemlimit)},
        {"GOGC", offsetof(struct gsm_go_env, gogc)},
        {"GODEBUG", offsetof(struct gsm_go_env, godebug)},
        {"GOMAXPROCS", offsetof(struct gsm_go_env, gomaxprocs)},
    };
    for (size_t i = 0; i < ELEMENTSOF(keys); i++)
        if (strlen(keys[i].name) == kl && memcmp(keys[i].name, key, kl) == 0)
            return (struct gsm_go_env_var *)((char *)env + keys[i].off);
    return NULL;
}

void gsm_go_env_scan_feed(struct gsm_go_env_scanner *s, const char *buf, size_t len) {
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '\0') {              /* end of one "K=V" entry */
            s->state = S_KEY;
            s->key_len = 0;
            s->cur = NULL;
            continue;
        }
        switch (s->state) {
        case S_KEY:
            if (c == '=') {
                struct gsm_go_env_var *v = wanted(&s->env, s->key, s->key_len);
                if (v && !v->present) {   /* first occurrence wins */
                    v->present = true;
                    s->cur = v;
                    s->state = S_VALUE;
                } else
                    s->state = S_SKIP;
                s->key_len = 0;
            } else if (s->key_len < sizeof s->key)
                s->key[s->key_len++] = c;
            else
                s->state = S_SKIP;        /* longer than any key we want */
            break;
        case S_VALUE:                     /* key_len counts the value's bytes here */
            if (s->key_len < GSM_GO_ENV_VALUE_MAX)
                s->cur->value[s->key_len++] = c;  /* the tail stays NUL: value[] was zeroed */
            else
                s->cur->truncated = true;
            break;
        default:
            break;
        }
    }
}

void gsm_go_env_scan_finish(struct gsm_go_env_scanner *s, struct gsm_go_env *ret) {
    *ret = s->env;
    explicit_bzero(s, sizeof *s);
}

int gsm_read_go_env_at(int procfd, struct gsm_go_env *ret) {
    _cleanup_close_ int fd = openat(procfd, "environ", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct gsm_go_env_scanner s;
    gsm_go_env_scan_init(&s);
    char chunk[4096];
    int r = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        gsm_go_env_scan_feed(&s, chunk, (size_t)n);
    }
    explicit_bzero(chunk, sizeof chunk);
    if (r < 0) {
        explicit_bzero(&s, sizeof s);
        return r;
    }
    gsm_go_env_scan_finish(&s, ret);
    return 0;
}

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
