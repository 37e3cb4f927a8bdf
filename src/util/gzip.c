#include "util/gzip.h"
#include "util/cleanup.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <strings.h>
#include <zlib.h>

int gsm_gzip(const void *in, size_t len, int level, int mem_level, void **ret_buf, size_t *ret_len) {
    z_stream zs = {0};
    /* 15 + 16: a 32 KiB window with the gzip wrapper */
    int zi = deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, mem_level, Z_DEFAULT_STRATEGY);
    if (zi != Z_OK)
        return zi == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
    size_t cap = deflateBound(&zs, len);
    _cleanup_free_ unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return -ENOMEM;
    }
    size_t fed = 0, out_len = 0;
    int zr;
    do {
        if (zs.avail_in == 0 && fed < len) {
            size_t chunk = len - fed > UINT_MAX ? UINT_MAX : len - fed;
            zs.next_in = (unsigned char *)in + fed;
            zs.avail_in = (unsigned)chunk;
            fed += chunk;
        }
        size_t window = cap - out_len > UINT_MAX ? UINT_MAX : cap - out_len;
        zs.next_out = out + out_len;
        zs.avail_out = (unsigned)window;
        zr = deflate(&zs, fed == len ? Z_FINISH : Z_NO_FLUSH);
        out_len += window - zs.avail_out;
        if (zr == Z_STREAM_ERROR || (zr == Z_BUF_ERROR && window == 0)) {
            deflateEnd(&zs);
            return -EIO;
        }
    } while (zr != Z_STREAM_END);
    deflateEnd(&zs);
    if (out_len < cap / 2) {
        unsigned char *small = realloc(out, out_len ? out_len : 1);
        if (small)
            out = small;
    }
    *ret_buf = TAKE_PTR(out);
    *ret_len = out_len;
    return 0;
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

/* The weight of one list element's parameters (after the coding's name): 1 unless a "q"
 * parameter says 0 (RFC 9110 12.4.2: "0", "0.", "0.0" to "0.000"). A malformed weight counts
 * as acceptable, as most servers read it. */
static bool weight_positive(const char *p, const char *end) {
    while (p < end) {
        while (p < end && (*p == ';' || is_ows(*p)))
            p++;
        const char *name = p;
        while (p < end && *p != '=' && *p != ';' && !is_ows(*p))
            p++;
        bool is_q = p - name == 1 && (*name == 'q' || *name == 'Q');
        while (p < end && is_ows(*p))
            p++;
        if (p < end && *p == '=') {
            p++;
            while (p < end && is_ows(*p))
                p++;
            const char *v = p;
            while (p < end && *p != ';' && !is_ows(*p))
                p++;
            if (is_q && v < p && *v == '0') {
                const char *d = v + 1;
                if (d < p && *d == '.')
                    d++;
                while (d < p && *d == '0')
                    d++;
                if (d == p)
                    return false;
            }
        }
        while (p < end && *p != ';')
            p++;
    }
    return true;
}

bool gsm_accepts_gzip(const char *accept_encoding) {
    if (!accept_encoding)
        return false;
    int gzip = -1, star = -1;   /* -1: not listed, else the element's verdict */
    const char *p = accept_encoding;
    while (*p) {
        while (*p == ',' || is_ows(*p))
            p++;
        if (!*p)
            break;
        const char *elem = p;
        while (*p && *p != ',')
            p++;
        const char *end = p, *name_end = elem;
        while (name_end < end && *name_end != ';' && !is_ows(*name_end))
            name_end++;
        size_t n = (size_t)(name_end - elem);
        bool w = weight_positive(name_end, end);
        if ((n == 4 && strncasecmp(elem, "gzip", 4) == 0) || (n == 6 && strncasecmp(elem, "x-gzip", 6) == 0))
            gzip = gzip == 1 ? 1 : w;
        else if (n == 1 && *elem == '*')
            star = w;
    }
    return gzip >= 0 ? gzip == 1 : star == 1;
}
