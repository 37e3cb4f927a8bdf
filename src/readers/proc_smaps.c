#include "readers/proc_smaps.h"
#include "util/cleanup.h"
#include "util/parse.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

#define SMAPS_READ_CHUNK ((size_t)256 * 1024)

void gsm_smaps_parser_init(struct gsm_smaps_parser *ps, struct gsm_process *p, bool rollup,
                           struct gsm_parse_error *err) {
    memset(ps, 0, sizeof *ps);
    ps->proc = p;
    ps->rollup = rollup;
    ps->err = err;
}

__attribute__((format(printf, 2, 3)))
static int fail(struct gsm_smaps_parser *ps, const char *fmt, ...) {
    if (ps->err) {
        ps->err->line = ps->line;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err->what, sizeof ps->err->what, fmt, ap);
        va_end(ap);
    }
    return -EBADMSG;
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "7f3c2a400000-7f3c2a600000 rw-p 00000000 fd:01 1234    /usr/lib/x.so (deleted)"
 * Returns 1 and fills m when the line has header syntax, 0 when it does not. */
static int parse_header(const char *s, const char *end, struct gsm_mapping *m,
                        const char **ret_name, size_t *ret_name_len) {
    const char *p = s;
    uint64_t v;
    if (p >= end || !is_hex(*p))
        return 0;
    if (gsm_parse_hex64(&p, &m->start) < 0 || p >= end || *p++ != '-')
        return 0;
    if (gsm_parse_hex64(&p, &m->end) < 0 || p >= end || *p++ != ' ')
        return 0;
    if (end - p < 5)
        return 0;
    for (int i = 0; i < 4; i++) {
        static const char allowed[4][3] = {"r-", "w-", "x-", "ps"};
        if (!memchr(allowed[i], p[i], 2))
            return 0;
        m->perms[i] = p[i];
    }
    m->perms[4] = '\0';
    p += 4;
    if (*p++ != ' ')
        return 0;
    if (gsm_parse_hex64(&p, &m->offset) < 0 || p >= end || *p++ != ' ')
        return 0;
    if (gsm_parse_hex64(&p, &v) < 0 || p >= end || *p++ != ':' || v > UINT32_MAX)
        return 0;
    m->dev_major = (uint32_t)v;
    if (gsm_parse_hex64(&p, &v) < 0 || v > UINT32_MAX)
        return 0;
    m->dev_minor = (uint32_t)v;
    if (p >= end || *p++ != ' ')
        return 0;
    if (p >= end || *p < '0' || *p > '9')
        return 0;
    for (m->inode = 0; p < end && *p >= '0' && *p <= '9'; p++) {
        if (m->inode > (UINT64_MAX - 9) / 10)
            return 0;
        m->inode = m->inode * 10 + (uint64_t)(*p - '0');
    }
    if (p < end && *p != ' ')
        return 0;
    /* seq_pad() aligns the name to a column with spaces; names themselves are never empty. */
    while (p < end && *p == ' ')
        p++;
    *ret_name = p;
    *ret_name_len = (size_t)(end - p);
    return m->end >= m->start ? 1 : 0;
}

static int start_mapping(struct gsm_smaps_parser *ps, const char *line, size_t len, int *ret_is_header) {
    /* Most lines are fields ("Rss:  4 kB"): reject them cheaply before the full header parse.
     * A header starts with hex digits followed by '-'. */
    size_t h = 0;
    while (h < len && h < 17 && is_hex(line[h]))
        h++;
    if (h == 0 || h >= len || line[h] != '-') {
        *ret_is_header = 0;
        return 0;
    }
    struct gsm_mapping tmp = {0};
    const char *name;
    size_t name_len;
    *ret_is_header = parse_header(line, line + len, &tmp, &name, &name_len);
    if (!*ret_is_header)
        return 0;

    struct gsm_mapping *m;
    if (ps->rollup) {
        if (ps->cur)
            return fail(ps, "a second header in smaps_rollup");
        m = &ps->proc->rollup;
        free(m->extra);
        memset(m, 0, sizeof *m);
        ps->proc->have_rollup = true;
    } else {
        m = gsm_process_add_mapping(ps->proc);
        if (!m)
            return -ENOMEM;
    }
    *m = tmp;
    static const char deleted[] = " (deleted)";
    if (name_len > STRLEN(deleted) && memcmp(name + name_len - STRLEN(deleted), deleted, STRLEN(deleted)) == 0) {
        m->deleted = true;
        name_len -= STRLEN(deleted);
    }
    if (name_len > 0) {
        m->path = gsm_strpool_intern(&ps->proc->pool, name, name_len);
        if (!m->path)
            return -ENOMEM;
    }
    ps->cur = m;
    return 0;
}

/* "Rss:                 120 kB", "THPeligible:    0", "VmFlags: rd wr mr mw me ac sd " */
static int parse_field(struct gsm_smaps_parser *ps, const char *line, size_t len) {
    const char *end = line + len;
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return fail(ps, "neither a mapping header nor a \"Key: value\" line");
    for (const char *k = line; k < colon; k++)
        if (!(*k == '_' || (*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9')))
            return fail(ps, "neither a mapping header nor a \"Key: value\" line");
    if (!ps->cur)
        return fail(ps, "field before the first mapping header");
    struct gsm_mapping *m = ps->cur;
    size_t key_len = (size_t)(colon - line);

    if (key_len == 7 && memcmp(line, "VmFlags", 7) == 0) {
        const char *v = colon + 1;
        while (v < end && *v == ' ')
            v++;
        const char *ve = end;
        while (ve > v && ve[-1] == ' ')
            ve--;
        m->vmflags = gsm_strpool_intern(&ps->proc->pool, v, (size_t)(ve - v));
        return m->vmflags ? 0 : -ENOMEM;
    }

    /* The value: a decimal, optionally followed by " kB". Parse within [colon+1, end). */
    char num[32];
    const char *v = colon + 1;
    while (v < end && *v == ' ')
        v++;
    size_t n = 0;
    while (v + n < end && v[n] >= '0' && v[n] <= '9' && n < sizeof num - 1)
        n++;
    if (n == 0)
        return fail(ps, "%.*s: no number", (int)key_len, line);
    if (n == sizeof num - 1)
        return fail(ps, "%.*s: number too long", (int)key_len, line);
    memcpy(num, v, n);
    num[n] = '\0';
    const char *np = num;
    uint64_t val;
    if (gsm_parse_u64(&np, &val) < 0)
        return fail(ps, "%.*s: number out of range", (int)key_len, line);
    const char *rest = v + n;
    bool kb = false;
    if (rest < end) {
        if ((size_t)(end - rest) >= 3 && memcmp(rest, " kB", 3) == 0) {
            kb = true;
            rest += 3;
        }
        while (rest < end && *rest == ' ')
            rest++;
        if (rest != end)
            return fail(ps, "%.*s: trailing text after the value", (int)key_len, line);
    }
    if (kb) {
        if (val > UINT64_MAX / 1024)
            return fail(ps, "%.*s: number out of range", (int)key_len, line);
        val *= 1024;
    }

    int f = gsm_smaps_field_lookup(line, key_len);
    if (f >= 0) {
        if (gsm_smaps_field_is_kb(f) != kb)
            return fail(ps, "%.*s: unexpected unit", (int)key_len, line);
        m->f[f] = val;
        m->present |= UINT64_C(1) << f;
        return 0;
    }
    /* A field this build does not know (a newer kernel): keep it. */
    struct gsm_extra_field *x = realloc(m->extra, (m->n_extra + 1) * sizeof *x);
    if (!x)
        return -ENOMEM;
    m->extra = x;
    x[m->n_extra].key = gsm_strpool_intern(&ps->proc->pool, line, key_len);
    if (!x[m->n_extra].key)
        return -ENOMEM;
    x[m->n_extra].value = val;
    m->n_extra++;
    return 0;
}

int gsm_smaps_parser_line(struct gsm_smaps_parser *ps, const char *line, size_t len) {
    ps->line++;
    if (len == 0)
        return fail(ps, "empty line");
    int is_header, r = start_mapping(ps, line, len, &is_header);
    if (r < 0 || is_header)
        return r;
    return parse_field(ps, line, len);
}

int gsm_smaps_parse(struct gsm_process *p, const char *buf, size_t len, bool rollup,
                    struct gsm_parse_error *err) {
    struct gsm_smaps_parser ps;
    gsm_smaps_parser_init(&ps, p, rollup, err);
    const char *cursor = buf, *end = buf + len, *line;
    size_t ll;
    while ((line = gsm_next_line(&cursor, end, &ll))) {
        int r = gsm_smaps_parser_line(&ps, line, ll);
        if (r < 0)
            return r;
    }
    if (rollup && !p->have_rollup)
        return fail(&ps, "no [rollup] header");
    return 0;
}

int gsm_smaps_read_at(int procfd, const char *name, struct gsm_process *p,
                      struct gsm_parse_error *err) {
    bool rollup = strcmp(name, "smaps_rollup") == 0;
    _cleanup_close_ int fd = openat(procfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    _cleanup_free_ char *buf = malloc(SMAPS_READ_CHUNK);
    if (!buf)
        return -ENOMEM;

    struct gsm_smaps_parser ps;
    gsm_smaps_parser_init(&ps, p, rollup, err);
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, SMAPS_READ_CHUNK - have);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        const char *cursor = buf, *end = buf + have;
        for (;;) {
            const char *nl = memchr(cursor, '\n', (size_t)(end - cursor));
            if (!nl)
                break;
            int r = gsm_smaps_parser_line(&ps, cursor, (size_t)(nl - cursor));
            if (r < 0)
                return r;
            cursor = nl + 1;
        }
        have = (size_t)(end - cursor);
        if (have == SMAPS_READ_CHUNK)
            return ps.line++, fail(&ps, "line longer than %zu bytes", SMAPS_READ_CHUNK);
        memmove(buf, cursor, have);
    }
    if (have > 0) {
        int r = gsm_smaps_parser_line(&ps, buf, have);
        if (r < 0)
            return r;
    }
    /* An empty smaps_rollup means no address space (a kernel thread or a zombie). */
    return 0;
}
