#include "util/text.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Allowed range of the second byte for each lead byte (Unicode 15, table 3-7); the third and
 * fourth bytes are always 80..BF. lo > hi marks a byte that cannot start a sequence. */
static size_t seq_shape(unsigned char c, unsigned char *lo, unsigned char *hi) {
    *lo = 0x80, *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            *lo = 0xA0;                 /* below: overlong */
        else if (c == 0xED)
            *hi = 0x9F;                 /* above: surrogates D800..DFFF */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            *lo = 0x90;                 /* below: overlong */
        else if (c == 0xF4)
            *hi = 0x8F;                 /* above: beyond U+10FFFF */
        return 4;
    }
    return 0;                           /* 80..C1 (continuation, overlong 2-byte), F5..FF */
}

size_t gsm_utf8_seq(const unsigned char *s, size_t len, size_t *ret_bad) {
    unsigned char c = s[0], lo, hi;
    if (c >= 0x01 && c < 0x80)
        return 1;
    size_t need = c ? seq_shape(c, &lo, &hi) : 0;
    if (need == 0) {
        *ret_bad = 1;
        return 0;
    }
    size_t i = 1;
    for (; i < need && i < len; i++) {
        unsigned char b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            break;
    }
    if (i == need)
        return need;
    *ret_bad = i;                       /* the lead byte and the continuation bytes that fitted */
    return 0;
}

bool gsm_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t bad;
    for (size_t i = 0; i < len;) {
        if (p[i] >= 0x01 && p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = gsm_utf8_seq(p + i, len - i, &bad);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* Calls emit(ctx, piece, n) for each valid run and each replacement. */
static int repair_walk(const char *s, size_t len, int (*emit)(void *, const char *, size_t), void *ctx) {
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0, bad;
    while (i < len) {
        size_t n = gsm_utf8_seq(p + i, len - i, &bad);
        if (n) {
            i += n;
            continue;
        }
        int r = emit(ctx, s + run, i - run);
        if (r < 0 || (r = emit(ctx, GSM_UTF8_REPLACEMENT, 3)) < 0)
            return r;
        i += bad;
        run = i;
    }
    return emit(ctx, s + run, len - run);
}

struct membuf {
    char *p;
    size_t n;
};

static int emit_mem(void *ctx, const char *s, size_t n) {
    struct membuf *m = ctx;
    memcpy(m->p + m->n, s, n);
    m->n += n;
    return 0;
}

char *gsm_utf8_repair(const char *s, size_t len, size_t *ret_len) {
    /* Each replaced subpart is at least one byte and becomes three. */
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    struct membuf m = {malloc(len * 3 + 1), 0};
    if (!m.p)
        return NULL;
    repair_walk(s, len, emit_mem, &m);
    m.p[m.n] = '\0';
    if (ret_len)
        *ret_len = m.n;
    return m.p;
}

static int emit_file(void *ctx, const char *s, size_t n) {
    return n == 0 || fwrite(s, 1, n, ctx) == n ? 0 : -EIO;
}

int gsm_text_write_utf8(FILE *out, const char *s, size_t len) {
    if (gsm_utf8_valid(s, len))
        return emit_file(out, s, len);
    return repair_walk(s, len, emit_file, out);
}

static int emit_label(void *ctx, const char *s, size_t n) {
    FILE *out = ctx;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '"')
            fputc('\\', out), fputc(s[i], out);
        else if (s[i] == '\n')
            fputs("\\n", out);
        else
            fputc(s[i], out);
    }
    return 0;
}

void gsm_text_write_label_value(FILE *out, const char *s) {
    if (s)
        repair_walk(s, strlen(s), emit_label, out);
}

/* Escaping of control characters for text made to be read (tables, lines, folded frames):
 * into a bounded buffer (buf) or a stream (file). */
struct printable {
    char *buf;
    size_t size, n;
    FILE *file;
    bool fold, keep_lines, full;
};

/* Appends piece whole or not at all (a character is never cut). */
static void put(struct printable *p, const char *piece, size_t n) {
    if (p->file) {
        if (fwrite(piece, 1, n, p->file) != n)
            p->full = true;
        return;
    }
    if (p->full || p->n + n >= p->size) {
        p->full = true;
        return;
    }
    memcpy(p->buf + p->n, piece, n);
    p->n += n;
}

static int emit_printable(void *ctx, const char *s, size_t n) {
    struct printable *p = ctx;
    const unsigned char *u = (const unsigned char *)s;
    char esc[16];
    for (size_t i = 0; i < n && !p->full;) {
        /* s is valid UTF-8 here: C1 controls are C2 80..C2 9F. */
        bool c1 = u[i] == 0xC2 && i + 1 < n && u[i + 1] < 0xA0;
        bool kept = p->keep_lines && (u[i] == '\n' || u[i] == '\t');
        if (!kept && (u[i] < 0x20 || u[i] == 0x7F || (p->fold && u[i] == ';'))) {
            snprintf(esc, sizeof esc, "\\x%02x", u[i]);
            put(p, esc, 4);
            i++;
        } else if (c1) {
            snprintf(esc, sizeof esc, "\\x%02x\\x%02x", u[i], u[i + 1]);
            put(p, esc, 8);
            i += 2;
        } else {
            size_t k = 1;
            while (i + k < n && (u[i + k] & 0xC0) == 0x80)
                k++;
            put(p, s + i, k);
            i += k;
        }
    }
    return p->full && p->file ? -EIO : 0;
}

const char *gsm_text_printable(const char *s, bool fold, char *buf, size_t size) {
    struct printable p = {.buf = buf, .size = size, .fold = fold};
    if (s)
        repair_walk(s, strlen(s), emit_printable, &p);
    buf[p.n] = '\0';
    return buf;
}

int gsm_text_write_lines(FILE *out, const char *s, size_t len) {
    struct printable p = {.file = out, .keep_lines = true};
    return repair_walk(s, len, emit_printable, &p);
}
