#include "readers/mountinfo.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int gsm_mountinfo_unescape(const char *s, size_t len, char **ret) {
    _cleanup_free_ char *out = malloc(len + 1);
    if (!out)
        return -ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            out[o++] = s[i];
            continue;
        }
        /* The kernel writes exactly three octal digits (seq_file.c: mangle_path()). */
        if (len - i < 4)
            return -EINVAL;
        unsigned v = 0;
        for (size_t k = 1; k <= 3; k++) {
            char c = s[i + k];
            if (c < '0' || c > '7')
                return -EINVAL;
            v = v * 8 + (unsigned)(c - '0');
        }
        if (v == 0 || v > 0xff)
            return -EINVAL;
        out[o++] = (char)v;
        i += 3;
    }
    out[o] = '\0';
    *ret = TAKE_PTR(out);
    return 0;
}

static void mount_clear(struct gsm_mount *m) {
    free(m->root);
    free(m->mount_point);
    free(m->mount_options);
    free(m->fstype);
    free(m->source);
    free(m->super_options);
    memset(m, 0, sizeof *m);
}

void gsm_mountinfo_free(struct gsm_mountinfo *mi) {
    if (!mi)
        return;
    for (size_t i = 0; i < mi->n_mounts; i++)
        mount_clear(&mi->mounts[i]);
    free(mi->mounts);
    free(mi->cg2);
    free(mi->cg1_memory);
    *mi = (struct gsm_mountinfo){0};
}

/* Split the line into space-separated tokens (the kernel separates with exactly one space). */
#define MAX_TOKENS 32
static size_t tokenize(const char *line, size_t len, const char **tok, size_t *tlen) {
    size_t n = 0, i = 0;
    while (i < len && n < MAX_TOKENS) {
        while (i < len && line[i] == ' ')
            i++;
        if (i >= len)
            break;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        tok[n] = line + start;
        tlen[n] = i - start;
        n++;
    }
    return n;
}

/* A whole token as an unsigned decimal. */
static int tok_u64(const char *t, size_t len, uint64_t *ret) {
    char num[24];
    if (len == 0 || len >= sizeof num)
        return -EINVAL;
    memcpy(num, t, len);
    num[len] = '\0';
    const char *p = num;
    if (gsm_parse_u64(&p, ret) < 0 || *p)
        return -EINVAL;
    return 0;
}

static int parse_line(const char *line, size_t len, struct gsm_mount *ret) {
    const char *tok[MAX_TOKENS];
    size_t tlen[MAX_TOKENS];
    size_t n = tokenize(line, len, tok, tlen);
    if (n < 10)
        return -EINVAL;

    /* The separator is the first lone "-" at position 6 or later (optional fields never
     * are "-"). */
    size_t sep = 0;
    for (size_t i = 6; i < n; i++)
        if (tlen[i] == 1 && tok[i][0] == '-') {
            sep = i;
            break;
        }
    if (sep == 0 || n < sep + 3)
        return -EINVAL;

    struct gsm_mount m = {0};
    uint64_t maj, min;
    if (tok_u64(tok[0], tlen[0], &m.mount_id) < 0 || tok_u64(tok[1], tlen[1], &m.parent_id) < 0)
        return -EINVAL;
    const char *colon = memchr(tok[2], ':', tlen[2]);
    if (!colon || tok_u64(tok[2], (size_t)(colon - tok[2]), &maj) < 0 ||
        tok_u64(colon + 1, tlen[2] - (size_t)(colon - tok[2]) - 1, &min) < 0 ||
        maj > UINT32_MAX || min > UINT32_MAX)
        return -EINVAL;
    m.dev_major = (unsigned)maj;
    m.dev_minor = (unsigned)min;

    int r;
    if ((r = gsm_mountinfo_unescape(tok[3], tlen[3], &m.root)) < 0 ||
        (r = gsm_mountinfo_unescape(tok[4], tlen[4], &m.mount_point)) < 0 ||
        !(m.mount_options = strndup(tok[5], tlen[5])) ||
        !(m.fstype = strndup(tok[sep + 1], tlen[sep + 1])) ||
        (r = gsm_mountinfo_unescape(tok[sep + 2], tlen[sep + 2], &m.source)) < 0 ||
        !(m.super_options = strndup(sep + 3 < n ? tok[sep + 3] : "", sep + 3 < n ? tlen[sep + 3] : 0))) {
        mount_clear(&m);
        return r < 0 ? r : -ENOMEM;
    }
    *ret = m;
    return 0;
}

static bool is_cgroup1_with(const struct gsm_mount *m, const char *controller) {
    return strcmp(m->fstype, "cgroup") == 0 && gsm_mount_has_option(m->super_options, controller);
}

/* The positions of the cgroup2 mounts and of the v1 memory mounts, in table order. */
static int build_index(struct gsm_mountinfo *mi) {
    size_t n = mi->n_mounts ? mi->n_mounts : 1;
    if (!(mi->cg2 = calloc(n, sizeof *mi->cg2)) || !(mi->cg1_memory = calloc(n, sizeof *mi->cg1_memory)))
        return -ENOMEM;
    for (size_t i = 0; i < mi->n_mounts; i++) {
        const struct gsm_mount *m = &mi->mounts[i];
        if (strcmp(m->fstype, "cgroup2") == 0)
            mi->cg2[mi->n_cg2++] = i;
        else if (is_cgroup1_with(m, "memory"))
            mi->cg1_memory[mi->n_cg1_memory++] = i;
    }
    return 0;
}

int gsm_parse_mountinfo(const char *buf, size_t len, struct gsm_mountinfo *ret) {
    struct gsm_mountinfo mi = {0};
    size_t cap = 0;
    const char *cur = buf, *end = buf + len, *line;
    size_t llen;
    while ((line = gsm_next_line(&cur, end, &llen))) {
        if (llen == 0)
            continue;
        struct gsm_mount m;
        int r = parse_line(line, llen, &m);
        if (r == -ENOMEM) {
            gsm_mountinfo_free(&mi);
            return r;
        }
        if (r < 0) {
            gsm_debug("mountinfo: skipping malformed line: %.*s", (int)(llen > 200 ? 200 : llen), line);
            mi.n_bad_lines++;
            continue;
        }
        if (mi.n_mounts == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            struct gsm_mount *nm = realloc(mi.mounts, ncap * sizeof *nm);
            if (!nm) {
                mount_clear(&m);
                gsm_mountinfo_free(&mi);
                return -ENOMEM;
            }
            mi.mounts = nm;
            cap = ncap;
        }
        mi.mounts[mi.n_mounts++] = m;
    }
    if (build_index(&mi) < 0) {
        gsm_mountinfo_free(&mi);
        return -ENOMEM;
    }
    *ret = mi;
    return 0;
}

int gsm_read_mountinfo_at(int dirfd, const char *path, struct gsm_mountinfo *ret) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    /* A container host with thousands of mounts has a mountinfo of a few hundred KiB. */
    int r = gsm_read_file_at(dirfd, path, 16 * GSM_SMALL_FILE_MAX, &buf, &len);
    if (r < 0)
        return r;
    return gsm_parse_mountinfo(buf, len, ret);
}

bool gsm_mount_has_option(const char *opts, const char *opt) {
    size_t olen = strlen(opt);
    const char *p = opts;
    while (p && *p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == olen && memcmp(p, opt, olen) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

const struct gsm_mount *gsm_mountinfo_find_cgroup1(const struct gsm_mountinfo *mi, const char *controller,
                                                   size_t nth) {
    if (strcmp(controller, "memory") == 0)
        return nth < mi->n_cg1_memory ? &mi->mounts[mi->cg1_memory[nth]] : NULL;
    for (size_t i = 0; i < mi->n_mounts; i++)
        if (is_cgroup1_with(&mi->mounts[i], controller) && nth-- == 0)
            return &mi->mounts[i];
    return NULL;
}

const struct gsm_mount *gsm_mountinfo_find_cgroup2(const struct gsm_mountinfo *mi, size_t nth) {
    return nth < mi->n_cg2 ? &mi->mounts[mi->cg2[nth]] : NULL;
}
