#include "readers/proc_smaps.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>


void gsm_smaps_parser_init(struct gsm_smaps_parser *ps, struct gsm_process *p, bool rollup,
                           struct gsm_parse_error *err) {
    memset(ps, 0, sizeof *ps);
    ps->proc = p;
    ps->rollup = rollup;
    ps->err = err;
    ps->prev_field = -1;
    for (int i = 0; i <= GSM_F__COUNT; i++)
        ps->follow[i] = (uint8_t)i;
}

static void saw_field(struct gsm_smaps_parser *ps, int f) {
    ps->follow[ps->prev_field + 1] = (uint8_t)f;
    ps->prev_field = f;
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
struct header {
    uint64_t start, end, offset, inode;
    uint32_t dev_major, dev_minor;
    char perms[5];
};

static int parse_header(const char *s, const char *end, struct header *m,
                        const char **ret_name, size_t *ret_name_len) {
    const char *p = s;
    uint64_t v;
    if (p >= end || !is_hex(*p))
        return 0;
    if (gsm_parse_hex64(&p, end, &m->start) < 0 || p >= end || *p++ != '-')
        return 0;
    if (gsm_parse_hex64(&p, end, &m->end) < 0 || p >= end || *p++ != ' ')
        return 0;
    if (end - p < 5)
        return 0;
    static const char allowed[4][2] = {{'r', '-'}, {'w', '-'}, {'x', '-'}, {'p', 's'}};
    for (int i = 0; i < 4; i++) {
        if (p[i] != allowed[i][0] && p[i] != allowed[i][1])
            return 0;
        m->perms[i] = p[i];
    }
    m->perms[4] = '\0';
    p += 4;
    if (*p++ != ' ')
        return 0;
    if (gsm_parse_hex64(&p, end, &m->offset) < 0 || p >= end || *p++ != ' ')
        return 0;
    if (gsm_parse_hex64(&p, end, &v) < 0 || p >= end || *p++ != ':' || v > UINT32_MAX)
        return 0;
    m->dev_major = (uint32_t)v;
    if (gsm_parse_hex64(&p, end, &v) < 0 || v > UINT32_MAX)
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
    struct header tmp;
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
    m->start = tmp.start;
    m->end = tmp.end;
    m->offset = tmp.offset;
    m->inode = tmp.inode;
    m->dev_major = tmp.dev_major;
    m->dev_minor = tmp.dev_minor;
    memcpy(m->perms, tmp.perms, sizeof m->perms);
    static const char deleted[] = " (deleted)";
    if (name_len > STRLEN(deleted) && memcmp(name + name_len - STRLEN(deleted), deleted, STRLEN(deleted)) == 0) {
        m->deleted = true;
        name_len -= STRLEN(deleted);
    }
    if (name_len > 0) {
        /* Consecutive mappings often name the same file (a library's segments): compare with
         * the last path before hashing it. */
        if (ps->last_path && ps->last_path_len == name_len && memcmp(ps->last_path, name, name_len) == 0)
            m->path = ps->last_path;
        else {
            m->path = gsm_strpool_intern(&ps->proc->pool, name, name_len);
            if (!m->path)
                return -ENOMEM;
            ps->last_path = m->path;
            ps->last_path_len = name_len;
        }
    }
    ps->cur = m;
    ps->prev_field = -1;
    ps->run_open = true;
    ps->run_n = 0;
    return 0;
}

static bool is_key_char(char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* "Rss:                 120 kB", "THPeligible:    0", "VmFlags: rd wr mr mw me ac sd "
 * One pass: key characters up to ':', blanks, digits (overflow-checked), optional " kB". */
static int parse_field(struct gsm_smaps_parser *ps, const char *line, size_t len) {
    const char *end = line + len, *k = line;
    while (k < end && is_key_char(*k))
        k++;
    if (k == line || k == end || *k != ':')
        return fail(ps, "neither a mapping header nor a \"Key: value\" line");
    if (!ps->cur)
        return fail(ps, "field before the first mapping header");
    struct gsm_mapping *m = ps->cur;
    size_t key_len = (size_t)(k - line);

    const char *v = k + 1;
    while (v < end && *v == ' ')
        v++;
    if (key_len == 7 && memcmp(line, "VmFlags", 7) == 0) {
        const char *ve = end;
        while (ve > v && ve[-1] == ' ')
            ve--;
        size_t n = (size_t)(ve - v);
        /* A process has a handful of distinct VmFlags strings (code, data, stacks alternate):
         * compare with the last few before hashing. */
        for (int c = 0; c < VMFLAGS_CACHE; c++)
            if (ps->vmflags_cache[c] && ps->vmflags_cache_len[c] == n && memcmp(ps->vmflags_cache[c], v, n) == 0) {
                m->vmflags = ps->vmflags_cache[c];
                return 0;
            }
        m->vmflags = gsm_strpool_intern(&ps->proc->pool, v, n);
        if (!m->vmflags)
            return -ENOMEM;
        unsigned slot = ps->vmflags_cache_next++ % VMFLAGS_CACHE;
        ps->vmflags_cache[slot] = m->vmflags;
        ps->vmflags_cache_len[slot] = n;
        return 0;
    }

    if (v == end || *v < '0' || *v > '9')
        return fail(ps, "%.*s: no number", (int)key_len, line);
    uint64_t val = 0;
    for (; v < end && *v >= '0' && *v <= '9'; v++) {
        unsigned d = (unsigned)(*v - '0');
        if (val > (UINT64_MAX - d) / 10)
            return fail(ps, "%.*s: number out of range", (int)key_len, line);
        val = val * 10 + d;
    }
    bool kb = false;
    if (end - v >= 3 && v[0] == ' ' && v[1] == 'k' && v[2] == 'B') {
        kb = true;
        v += 3;
    }
    while (v < end && *v == ' ')
        v++;
    if (v != end)
        return fail(ps, "%.*s: trailing text after the value", (int)key_len, line);
    if (kb) {
        if (val > UINT64_MAX / 1024)
            return fail(ps, "%.*s: number out of range", (int)key_len, line);
        val *= 1024;
    }

    ps->next_field = ps->follow[ps->prev_field + 1];
    int f = gsm_smaps_field_lookup_from(line, key_len, &ps->next_field);
    if (f >= 0) {
        saw_field(ps, f);
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
    ps->proc->maps_have_extra = true;
    x[m->n_extra].key = gsm_strpool_intern(&ps->proc->pool, line, key_len);
    if (!x[m->n_extra].key)
        return -ENOMEM;
    x[m->n_extra].value = val;
    m->n_extra++;
    return 0;
}

static void close_run(struct gsm_smaps_parser *ps);

int gsm_smaps_parser_line(struct gsm_smaps_parser *ps, const char *line, size_t len) {
    close_run(ps);
    ps->line++;
    if (len == 0)
        return fail(ps, "empty line");
    int is_header, r = start_mapping(ps, line, len, &is_header);
    if (r < 0 || is_header)
        return r;
    return parse_field(ps, line, len);
}

/* The kernel prints every numeric field as a 16-column key column (the name, ':', blanks), the
 * value right-aligned in 8 columns, and " kB" for sizes (fs/proc/task_mmu.c: SEQ_PUT_DEC(),
 * "THPeligible:    %8d", "ProtectionKey:  %8u"), in a fixed order. So for the field the parser
 * expects next, the key is one 16-byte compare and the value a short digit run: 24 of the 26
 * lines of a mapping take this path. Anything else (headers, VmFlags, an unknown or reordered
 * field, other padding, a long number) falls through to the general parser, which checks
 * everything. */
static const char *const key_columns[GSM_F__COUNT] = {
#define X(id, n, k) [GSM_F_##id] = n ":                ",
    GSM_SMAPS_FIELDS(X)
#undef X
};
static const bool key_in_kb[GSM_F__COUNT] = {
#define X(id, n, k) [GSM_F_##id] = k,
    GSM_SMAPS_FIELDS(X)
#undef X
};
#define KEY_COLUMNS 16

static bool same16(const char *a, const char *b) {
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* The 8-column value "      12" as one word: blanks only before the digits, at least one digit.
 * Little-endian: the first character is the lowest byte. */
static inline __attribute__((always_inline)) bool eight_columns(const char *p, uint64_t *ret) {
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones * 0x80;
    uint64_t x;
    memcpy(&x, p, 8);
    uint64_t nb = x ^ (ones * ' ');                           /* zero where a blank */
    uint64_t blank = ~(((nb & ~high) + ~high) | nb) & high;   /* 0x80 in each blank byte */
    uint64_t blank_bytes = (blank >> 7) * 0xff;
    if ((blank_bytes & (blank_bytes + 1)) != 0 || (blank & (UINT64_C(0x80) << 56)))
        return false;                                          /* blanks not a prefix, or no digit */
    uint64_t d = x + (blank >> 3);                             /* blank (0x20) + 0x10 = '0' */
    if ((d & (ones * 0xf0)) != ones * 0x30 || ((d + ones * 0x06) & (ones * 0xf0)) != ones * 0x30)
        return false;                                          /* some byte is not a digit */
    d -= ones * '0';
    /* Pairs, then fours, then eight (the usual SWAR digit reduction). */
    d = d * 10 + (d >> 8);
    d = ((d & UINT64_C(0x000000ff000000ff)) * (100 + (UINT64_C(1000000) << 32)) +
         ((d >> 16) & UINT64_C(0x000000ff000000ff)) * (1 + (UINT64_C(10000) << 32))) >> 32;
    *ret = d;
    return true;
}

/* Returns the bytes consumed (through the '\n'), or 0 when the line is not the expected field
 * in the kernel's exact layout. */
static size_t fast_field(struct gsm_smaps_parser *ps, const char *s, const char *end) {
    int f = ps->follow[ps->prev_field + 1];
    if (!ps->cur || f < 0 || f >= GSM_F__COUNT || end - s < KEY_COLUMNS + 2 || !same16(s, key_columns[f]))
        return 0;
    const char *p = s + KEY_COLUMNS;
    uint64_t v = 0;
    bool in_run = false;
    if (end - p >= 8 + 4 && eight_columns(p, &v)) {
        p += 8;
        in_run = true;
        goto unit;
    }
    while (p < end && *p == ' ')
        p++;
    const char *digits = p;
    /* At most 16 digits: no overflow, even after x 1024. Longer numbers take the general path. */
    while (p < end && p - digits < 16 && (unsigned char)(*p - '0') < 10)
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == digits)
        return 0;
unit:
    if (key_in_kb[f]) {
        if (end - p < 4 || memcmp(p, " kB\n", 4) != 0)
            return 0;
        v *= 1024;
        p += 4;
    } else {
        if (p == end || *p != '\n')
            return 0;
        p++;
    }
    ps->cur->f[f] = v;
    ps->cur->present |= UINT64_C(1) << f;
    saw_field(ps, f);
    ps->line++;
    if (in_run && ps->run_open && ps->run_n < GSM_F__COUNT)
        ps->run_f[ps->run_n++] = (uint8_t)f;
    else
        close_run(ps);
    return (size_t)(p - s);
}

/* The kernel prints the same fields in the same order for every mapping of a process, so once
 * one mapping's fields all came in the exact layout, the next mapping's block of fields is
 * those bytes again except for the 8 value columns of each line: one masked compare of the
 * whole block (~700 bytes) checks every key, blank and unit, then each value is read at its
 * known offset. Anything else (a value wider than 8 columns, a field added or missing) fails
 * the compare and goes line by line as before. */
static void learn_block(struct gsm_smaps_parser *ps) {
    unsigned char text[sizeof ps->block.text], mask[sizeof ps->block.mask];
    memset(text, 0, sizeof text);
    memset(mask, 0, sizeof mask);
    size_t at = 0;
    for (unsigned i = 0; i < ps->run_n; i++) {
        int f = ps->run_f[i];
        const char *unit = key_in_kb[f] ? " kB\n" : "\n";
        size_t unit_len = strlen(unit);
        ps->block.f[i] = (uint8_t)f;
        ps->block.at[i] = (uint16_t)at;
        memcpy(text + at, key_columns[f], KEY_COLUMNS);
        memset(mask + at, 0xff, KEY_COLUMNS);
        at += KEY_COLUMNS + 8;                       /* the value columns: any digits */
        memcpy(text + at, unit, unit_len);
        memset(mask + at, 0xff, unit_len);
        at += unit_len;
    }
    memcpy(ps->block.text, text, sizeof text);
    memcpy(ps->block.mask, mask, sizeof mask);
    ps->block.n = ps->run_n;
    ps->block.len = (uint16_t)at;
    ps->block.words = (uint16_t)((at + 7) / 8);
    ps->block.present = 0;
    for (unsigned i = 0; i < ps->run_n; i++)
        ps->block.present |= UINT64_C(1) << ps->run_f[i];
}

static void close_run(struct gsm_smaps_parser *ps) {
    if (!ps->run_open)
        return;
    ps->run_open = false;
    if (ps->run_n > ps->block.n)
        learn_block(ps);
}

/* Right after a header: the whole learned block, or 0 bytes (then line by line). */
static size_t fast_block(struct gsm_smaps_parser *ps, const char *s, const char *end) {
    const unsigned n = ps->block.n;
    if (n == 0 || (size_t)(end - s) < (size_t)ps->block.words * 8)
        return 0;
    uint64_t diff = 0;
    for (unsigned w = 0; w < ps->block.words; w++) {
        uint64_t x;
        memcpy(&x, s + 8 * w, 8);
        diff |= (x ^ ps->block.text[w]) & ps->block.mask[w];
    }
    if (diff)
        return 0;
    uint64_t v[GSM_F__COUNT];
    for (unsigned i = 0; i < n; i++)
        if (!eight_columns(s + ps->block.at[i] + KEY_COLUMNS, &v[i]))
            return 0;
    struct gsm_mapping *m = ps->cur;
    for (unsigned i = 0; i < n; i++) {
        int f = ps->block.f[i];
        m->f[f] = key_in_kb[f] ? v[i] * 1024 : v[i];
    }
    m->present |= ps->block.present;
    ps->prev_field = ps->block.f[n - 1];
    memcpy(ps->run_f, ps->block.f, n);
    ps->run_n = (uint8_t)n;
    ps->line += n;
    return ps->block.len;
}

static int parse_lines(struct gsm_smaps_parser *ps, const char *buf, size_t len) {
    const char *cursor = buf, *end = buf + len;
    while (cursor < end) {
        size_t n = fast_field(ps, cursor, end);
        if (n) {
            cursor += n;
            continue;
        }
        const char *nl = memchr(cursor, '\n', (size_t)(end - cursor));
        const char *le = nl ? nl : end;
        int r = gsm_smaps_parser_line(ps, cursor, (size_t)(le - cursor));
        if (r < 0)
            return r;
        cursor = nl ? nl + 1 : end;
        if (ps->run_open && ps->run_n == 0)   /* a header: its fields as one block */
            cursor += fast_block(ps, cursor, end);
    }
    return 0;
}

int gsm_smaps_parse(struct gsm_process *p, const char *buf, size_t len, bool rollup,
                    struct gsm_parse_error *err) {
    struct gsm_smaps_parser ps;
    gsm_smaps_parser_init(&ps, p, rollup, err);
    int r = parse_lines(&ps, buf, len);
    if (r < 0)
        return r;
    if (rollup && !p->have_rollup)
        return fail(&ps, "no [rollup] header");
    return 0;
}

/* Reading smaps costs the kernel ~1.8 us per mapping to format (fs/proc/task_mmu.c), and each
 * read() returns at most the seq_file buffer (one page) whatever size is asked for: 20,000
 * mappings are ~3,600 reads, as for `cat`. The text is parsed in the same thread, a buffer at a
 * time, while it is still in this CPU's cache. A reader thread handing 128 KiB chunks to a
 * parsing thread (sessions 1-3) overlapped the two on an idle machine, but cost ~400 context
 * switches and futex calls per 20,000 mappings and the parse of text last touched by the other
 * CPU: on a loaded machine, the usual case here, 1.33x cat's CPU time against 1.19x for this
 * loop (bench/RESULTS.md, 2026-12-06). */
#define ROLLUP_MAX_BYTES ((size_t)64 * 1024)
#define READ_BUF_BYTES ((size_t)64 * 1024)   /* stays in L2 with the kernel's copy of it */
#define MAX_LINE_BYTES ((size_t)16 * 1024)   /* header + PATH_MAX name, escaped: < 16 KiB */

/* Streams fd through buf, parsing complete lines a buffer at a time. */
static int read_parse(int fd, char *buf, struct gsm_smaps_parser *ps, const struct gsm_smaps_progress *progress) {
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, READ_BUF_BYTES - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        len += (size_t)n;
        /* Parse once less than a page of room is left (the kernel gives <= a page per read). */
        if (n > 0 && READ_BUF_BYTES - len >= 4096)
            continue;
        size_t cut = len;
        if (n > 0) {
            const char *nl = memrchr(buf, '\n', len);
            if (!nl || len - (size_t)(nl + 1 - buf) > MAX_LINE_BYTES) {
                ps->line++;
                return fail(ps, "line longer than %zu bytes", MAX_LINE_BYTES);
            }
            cut = (size_t)(nl + 1 - buf);
        }
        int r = parse_lines(ps, buf, cut);
        if (r < 0)
            return r;
        memmove(buf, buf + cut, len - cut);
        len -= cut;
        if (progress && progress->fn)
            progress->fn(ps->proc, progress->arg);
        if (n == 0)
            return 0;
    }
}

int gsm_smaps_read_at(int procfd, const char *name, struct gsm_process *p,
                      const struct gsm_smaps_progress *progress, struct gsm_parse_error *err) {
    bool rollup = strcmp(name, "smaps_rollup") == 0;
    if (rollup) {
        /* One header and ~25 fields: one read (watch reads it for hundreds of processes per
         * tick). */
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = gsm_read_file_at(procfd, name, ROLLUP_MAX_BYTES, &buf, &len);
        if (r == -EFBIG) {
            if (err) {
                err->line = 0;
                snprintf(err->what, sizeof err->what, "longer than %zu bytes", ROLLUP_MAX_BYTES);
            }
            return -EBADMSG;
        }
        if (r < 0)
            return r;
        /* Empty: no address space (a kernel thread or a zombie), as below. */
        return len == 0 ? 0 : gsm_smaps_parse(p, buf, len, true, err);
    }
    _cleanup_close_ int fd = openat(procfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    _cleanup_free_ char *buf = malloc(READ_BUF_BYTES);
    if (!buf)
        return -ENOMEM;
    struct gsm_smaps_parser ps;
    gsm_smaps_parser_init(&ps, p, false, err);
    /* An empty smaps means no address space (a kernel thread or a zombie): no mappings. */
    return read_parse(fd, buf, &ps, progress);
}
