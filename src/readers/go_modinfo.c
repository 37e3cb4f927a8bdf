#include "readers/go_modinfo.h"
#include "util/cleanup.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

static char *dup_n(const char *s, size_t n) {
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

static void put_utf8(char **o, uint32_t cp) {
    char *p = *o;
    if (cp < 0x80)
        *p++ = (char)cp;
    else if (cp < 0x800) {
        *p++ = (char)(0xc0 | (cp >> 6));
        *p++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *p++ = (char)(0xe0 | (cp >> 12));
        *p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *p++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *p++ = (char)(0xf0 | (cp >> 18));
        *p++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *p++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *p++ = (char)(0x80 | (cp & 0x3f));
    }
    *o = p;
}

static int hexv(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *gsm_go_unquote_prefix(const char *s, size_t *ret_len) {
    char q = s[0];
    if (q == '`') {
        const char *e = strchr(s + 1, '`');
        if (!e)
            return NULL;
        *ret_len = (size_t)(e - s) + 1;
        return dup_n(s + 1, (size_t)(e - s - 1));
    }
    if (q != '"')
        return NULL;
    /* Output is never longer than the input (escapes shrink; \u of 6 chars gives <= 3 bytes). */
    char *out = malloc(strlen(s) + 1), *o = out;
    if (!out)
        return NULL;
    const char *p = s + 1;
    for (;;) {
        char c = *p++;
        if (c == '\0' || c == '\n')
            goto bad;
        if (c == '"')
            break;
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        c = *p++;
        switch (c) {
        case 'a': *o++ = '\a'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'v': *o++ = '\v'; break;
        case '\\': *o++ = '\\'; break;
        case '"': *o++ = '"'; break;
        case '\'': *o++ = '\''; break;
        case 'x': {
            int a = hexv(p[0]), b = a >= 0 ? hexv(p[1]) : -1;
            if (a < 0 || b < 0)
                goto bad;
            *o++ = (char)(a * 16 + b);
            p += 2;
            break;
        }
        case 'u':
        case 'U': {
            int n = c == 'u' ? 4 : 8;
            uint32_t cp = 0;
            for (int i = 0; i < n; i++) {
                int h = hexv(p[i]);
                if (h < 0)
                    goto bad;
                cp = cp * 16 + (uint32_t)h;
            }
            if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
                goto bad;
            p += n;
            put_utf8(&o, cp);
            break;
        }
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
            int v = 0;
            for (int i = 0; i < 3; i++) {
                char d = i == 0 ? c : p[i - 1];
                if (d < '0' || d > '7')
                    goto bad;
                v = v * 8 + (d - '0');
            }
            if (v > 255)
                goto bad;
            p += 2;
            *o++ = (char)v;
            break;
        }
        default:
            goto bad;
        }
    }
    *o = '\0';
    *ret_len = (size_t)(p - s);
    return out;
bad:
    free(out);
    return NULL;
}

/* Split `s` (len n) at tabs into at most max fields; returns the count (max + 1 if more). */
static size_t split_tabs(const char *s, size_t n, const char **f, size_t *fl, size_t max) {
    size_t k = 0;
    const char *start = s, *end = s + n;
    for (const char *p = s;; p++) {
        if (p == end || *p == '\t') {
            if (k == max)
                return max + 1;
            f[k] = start;
            fl[k] = (size_t)(p - start);
            k++;
            if (p == end)
                break;
            start = p + 1;
        }
    }
    return k;
}

static int module_from(const char **f, const size_t *fl, size_t k, struct gsm_go_module *m) {
    m->path = dup_n(f[0], fl[0]);
    m->version = dup_n(f[1], fl[1]);
    m->sum = dup_n(k == 3 ? f[2] : "", k == 3 ? fl[2] : 0);
    return m->path && m->version && m->sum ? 0 : -ENOMEM;
}

static bool needs_quote(const char *s, size_t n, bool is_key) {
    if (is_key && n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strchr(is_key ? "= \t\r\n\"`" : " \t\r\n\"`", s[i]) && s[i])
            return true;
    return false;
}

static int parse_build(const char *kv, size_t n, struct gsm_go_setting *ret) {
    _cleanup_free_ char *line = dup_n(kv, n);
    if (!line)
        return -ENOMEM;
    if (n == 0 || line[0] == '=')
        return -EBADMSG;
    char *key = NULL, *rest;
    if (line[0] == '"' || line[0] == '`') {
        size_t ql;
        key = gsm_go_unquote_prefix(line, &ql);
        if (!key || line[ql] != '=') {
            free(key);
            return -EBADMSG;
        }
        rest = line + ql + 1;
    } else {
        char *eq = strchr(line, '=');
        if (!eq || needs_quote(line, (size_t)(eq - line), true))
            return -EBADMSG;
        key = dup_n(line, (size_t)(eq - line));
        rest = eq + 1;
    }
    if (!key)
        return -ENOMEM;
    char *value;
    if (rest[0] == '"' || rest[0] == '`') {
        size_t ql;
        value = gsm_go_unquote_prefix(rest, &ql);
        if (!value || rest[ql] != '\0') {
            free(value);
            free(key);
            return -EBADMSG;
        }
    } else {
        if (needs_quote(rest, strlen(rest), false)) {
            free(key);
            return -EBADMSG;
        }
        value = strdup(rest);
    }
    char *raw = strdup(rest);
    if (!value || !raw) {
        free(key);
        free(value);
        free(raw);
        return -ENOMEM;
    }
    *ret = (struct gsm_go_setting){key, value, raw};
    return 0;
}

int gsm_go_modinfo_parse(const char *text, struct gsm_go_buildinfo *ret, size_t *ret_line) {
    struct gsm_go_buildinfo bi = {0};
    struct gsm_go_module *last = NULL;
    size_t lineno = 0;
    int r = 0;
    const char *p = text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;   /* as Go: an unterminated last line is ignored */
        lineno++;
        const char *line = p;
        size_t n = (size_t)(nl - p);
        p = nl + 1;
        const char *f[4];
        size_t fl[4], k;
#define PREFIX(s) (n >= sizeof(s) - 1 && memcmp(line, s, sizeof(s) - 1) == 0)
        if (PREFIX("path\t")) {
            free(bi.path);
            if (!(bi.path = dup_n(line + 5, n - 5))) {
                r = -ENOMEM;
                break;
            }
        } else if (PREFIX("mod\t") || PREFIX("dep\t")) {
            k = split_tabs(line + 4, n - 4, f, fl, 3);
            if (k != 2 && k != 3) {
                r = -EBADMSG;
                break;
            }
            struct gsm_go_module *m;
            if (line[0] == 'm') {
                gsm_go_module_free(&bi.main);
                m = &bi.main;
            } else {
                struct gsm_go_module *d = realloc(bi.deps, (bi.n_deps + 1) * sizeof *d);
                if (!d) {
                    r = -ENOMEM;
                    break;
                }
                bi.deps = d;
                m = &d[bi.n_deps++];
                memset(m, 0, sizeof *m);
            }
            if ((r = module_from(f, fl, k, m)) < 0)
                break;
            last = m;
        } else if (PREFIX("=>\t")) {
            k = split_tabs(line + 3, n - 3, f, fl, 3);
            if (k != 3 || !last) {
                r = -EBADMSG;
                break;
            }
            last->replace = calloc(1, sizeof *last->replace);
            if (!last->replace || (r = module_from(f, fl, k, last->replace)) < 0) {
                r = -ENOMEM;
                break;
            }
            last = NULL;
        } else if (PREFIX("build\t")) {
            struct gsm_go_setting *s = realloc(bi.settings, (bi.n_settings + 1) * sizeof *s);
            if (!s) {
                r = -ENOMEM;
                break;
            }
            bi.settings = s;
            if ((r = parse_build(line + 6, n - 6, &s[bi.n_settings])) < 0)
                break;
            bi.n_settings++;
        }
        /* Other lines (e.g. "go\t...") are ignored, as Go does. */
#undef PREFIX
        /* A dep whose slot was allocated but not yet filled is freed with the rest on error. */
    }
    if (r < 0) {
        /* deps[n_deps - 1] may be half-built: module_free copes with NULL members. */
        gsm_go_buildinfo_free(&bi);
        if (ret_line)
            *ret_line = lineno;
        return r;
    }
    *ret = bi;
    return 0;
}
