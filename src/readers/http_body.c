/* readers/http_body.h. */
#include "readers/http_body.h"
#include "util/errbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP ((size_t)16 * 1024)

int gsm_http_body_put(struct gsm_http_body *b, const char *p, size_t n) {
    if (n > b->max - b->len)
        return -EFBIG;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : FIRST_CAP;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        char *nb = realloc(b->buf, cap);
        if (!nb)
            return -ENOMEM;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return 0;
}

int gsm_http_body_take(struct gsm_http_body *b, char **ret_body, size_t *ret_len) {
    if (!b->buf && !(b->buf = strdup("")))
        return -ENOMEM;
    *ret_body = b->buf;
    *ret_len = b->len;
    *b = (struct gsm_http_body){.max = b->max};
    return 0;
}

int gsm_http_body_finish(struct gsm_http_body *b, const char *url, long status, char **ret_body, size_t *ret_len,
                         char *errbuf, size_t errlen) {
    if (status != 200) {
        free(b->buf);
        *b = (struct gsm_http_body){.max = b->max};
        gsm_seterr(errbuf, errlen, "%s: HTTP %ld%s", url, status,
                   status >= 300 && status < 400 ? " (redirects are not followed)" : "");
        return -EPROTO;
    }
    return gsm_http_body_take(b, ret_body, ret_len);
}

int gsm_http_body_too_big(const char *url, size_t max, char *errbuf, size_t errlen) {
    gsm_seterr(errbuf, errlen, "%s: body larger than %zu bytes", url, max);
    return -EFBIG;
}
