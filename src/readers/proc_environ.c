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
