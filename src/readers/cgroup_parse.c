#include "readers/cgroup.h"
#include "util/log.h"
#include "util/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- /proc/PID/cgroup ---------------------------------------------------------------- */

int gsm_parse_proc_cgroup(const char *buf, size_t len, struct gsm_proc_cgroup *ret) {
    struct gsm_proc_cgroup pc = {0};
    size_t cap = 0;
    const char *cur = buf, *end = buf + len, *line;
    size_t llen;
    while ((line = gsm_next_line(&cur, end, &llen))) {
        if (llen == 0)
            continue;
        /* "ID:CONTROLLERS:PATH"; the path may itself contain ':' so split at the first two. */
        const char *c1 = memchr(line, ':', llen);
        const char *c2 = c1 ? memchr(c1 + 1, ':', llen - (size_t)(c1 + 1 - line)) : NULL;
        char idbuf[16];
        size_t idlen = c1 ? (size_t)(c1 - line) : 0;
        const char *p = idbuf, *path = c2 ? c2 + 1 : NULL;
        size_t plen = path ? llen - (size_t)(path - line) : 0;
        uint64_t id;
        if (!c2 || idlen == 0 || idlen >= sizeof idbuf || plen == 0 || path[0] != '/') {
            pc.n_bad_lines++;
            continue;
        }
        memcpy(idbuf, line, idlen);
        idbuf[idlen] = '\0';
        if (gsm_parse_u64(&p, &id) < 0 || *p || id > UINT32_MAX) {
            pc.n_bad_lines++;
            continue;
        }

        if (pc.n_entries == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct gsm_proc_cgroup_entry *ne = realloc(pc.entries, ncap * sizeof *ne);
            if (!ne)
                goto oom;
            pc.entries = ne;
            cap = ncap;
        }
        struct gsm_proc_cgroup_entry *e = &pc.entries[pc.n_entries];
        e->hierarchy_id = (unsigned)id;
        e->controllers = strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        e->path = strndup(path, plen);
        if (!e->controllers || !e->path) {
            free(e->controllers);
            free(e->path);
            goto oom;
        }
        pc.n_entries++;
    }
    *ret = pc;
    return 0;
oom:
    gsm_proc_cgroup_free(&pc);
    return -ENOMEM;
}

/* ---- Value parsers ------------------------------------------------------------------- */

/* Trim trailing whitespace from [buf, buf+len). */
static size_t rtrim(const char *buf, size_t len) {
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    return len;
}

int gsm_parse_cg_u64(const char *buf, size_t len, uint64_t *ret) {
    const char *p = buf, *end = buf + rtrim(buf, len);
    uint64_t v;
    int r = gsm_parse_u64_end(&p, end, &v);
    if (r == -ERANGE) {   /* out of range if it is all digits, else junk */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        for (; p < end; p++)
            if (*p < '0' || *p > '9')
                return -EINVAL;
        return -ERANGE;
    }
    if (r < 0)
        return r;
    if (p != end)
        return -EINVAL;
    *ret = v;
    return 0;
}

int gsm_parse_cg_limit(const char *buf, size_t len, struct gsm_cg_limit *ret) {
    size_t l = rtrim(buf, len);
    if (l == 3 && memcmp(buf, "max", 3) == 0) {
        *ret = (struct gsm_cg_limit){.have = true, .unlimited = true, .bytes = UINT64_MAX};
        return 0;
    }
    uint64_t v;
    int r = gsm_parse_cg_u64(buf, len, &v);
    if (r < 0)
        return r;
    if (v >= GSM_CG1_UNLIMITED_BYTES)
        *ret = (struct gsm_cg_limit){.have = true, .unlimited = true, .bytes = UINT64_MAX};
    else
        *ret = (struct gsm_cg_limit){.have = true, .unlimited = false, .bytes = v};
    return 0;
}

/* "key value" lines into a table of known keys plus a list of unknown ones. A line that is
 * not "key<blanks><u64>" is counted in *n_bad and skipped. */
static int parse_kv(const char *buf, size_t len, const char *const *names, size_t n_names, uint64_t *values,
                    bool *have, struct gsm_cg_kv **extra, size_t *n_extra, size_t *n_bad) {
    size_t cap = 0;
    const char *cur = buf, *end = buf + len, *line;
    size_t llen;
    while ((line = gsm_next_line(&cur, end, &llen))) {
        if (rtrim(line, llen) == 0)
            continue;
        const char *sp = memchr(line, ' ', llen);
        size_t klen = sp ? (size_t)(sp - line) : 0;
        uint64_t v;
        if (klen == 0 || klen > 128 || gsm_parse_cg_u64(sp, llen - klen, &v) < 0) {
            (*n_bad)++;
            gsm_debug("cgroup: unparsable line: %.*s", (int)(llen > 200 ? 200 : llen), line);
            continue;
        }
        size_t i;
        for (i = 0; i < n_names; i++)
            if (strlen(names[i]) == klen && memcmp(names[i], line, klen) == 0)
                break;
        if (i < n_names) {
            values[i] = v;
            have[i] = true;
            continue;
        }
        if (!extra) {
            (*n_bad)++;
            continue;
        }
        if (*n_extra == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct gsm_cg_kv *ne = realloc(*extra, ncap * sizeof *ne);
            if (!ne)
                return -ENOMEM;
            *extra = ne;
            cap = ncap;
        }
        char *key = strndup(line, klen);
        if (!key)
            return -ENOMEM;
        (*extra)[(*n_extra)++] = (struct gsm_cg_kv){.key = key, .value = v};
    }
    return 0;
}

int gsm_parse_cg_stat(const char *buf, size_t len, enum gsm_cgroup_version version, struct gsm_cg_stat *ret) {
    struct gsm_cg_stat s = {.have = true, .version = version};
    int r;
    if (version == GSM_CGROUP_V2)
        r = parse_kv(buf, len, gsm_cg2_stat_names, GSM_CG2__COUNT, s.v2, s.have_v2, &s.extra, &s.n_extra,
                     &s.n_bad_lines);
    else
        r = parse_kv(buf, len, gsm_cg1_stat_names, GSM_CG1__COUNT, s.v1, s.have_v1, &s.extra, &s.n_extra,
                     &s.n_bad_lines);
    if (r < 0) {
        gsm_cg_stat_free(&s);
        return r;
    }
    *ret = s;
    return 0;
}

int gsm_parse_cg_events(const char *buf, size_t len, struct gsm_cg_events *ret) {
    struct gsm_cg_events e = {.have = true};
    int r = parse_kv(buf, len, gsm_cg_event_names, GSM_CG_EV__COUNT, e.count, e.have_key, &e.extra, &e.n_extra,
                     &e.n_bad_lines);
    if (r < 0) {
        gsm_cg_events_free(&e);
        return r;
    }
    *ret = e;
    return 0;
}

/* "12.34" -> 12.34 (psi_show() prints LOAD_INT.LOAD_FRAC with two digits). */
static int parse_pct(const char *s, size_t len, double *ret) {
    char tmp[32];
    if (len == 0 || len >= sizeof tmp)
        return -EINVAL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    const char *p = tmp;
    uint64_t ip, fp = 0;
    if (gsm_parse_u64(&p, &ip) < 0 || ip > 100000)
        return -EINVAL;
    double scale = 1;
    if (*p == '.') {
        p++;
        const char *f = p;
        if (gsm_parse_u64(&p, &fp) < 0 || p - f > 6)
            return -EINVAL;
        for (ptrdiff_t i = 0; i < p - f; i++)
            scale *= 10;
    }
    if (*p)
        return -EINVAL;
    double v = (double)ip + (double)fp / scale;
    if (v > 100.0)          /* a share of wall time: "avg10=100000.00" is not a reading */
        return -ERANGE;
    *ret = v;
    return 0;
}

static int parse_psi_line(const char *line, size_t len, struct gsm_psi_line *ret) {
    struct gsm_psi_line l = {.have = true};
    unsigned seen = 0;
    size_t i = 0;
    while (i < len && line[i] != ' ')
        i++;
    while (i < len) {
        while (i < len && line[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        const char *tok = line + start;
        size_t tl = i - start;
        const char *eq = memchr(tok, '=', tl);
        if (!eq)
            continue;
        size_t kl = (size_t)(eq - tok);
        const char *val = eq + 1;
        size_t vl = tl - kl - 1;
        int r = 0;
        if (kl == 5 && memcmp(tok, "avg10", 5) == 0)
            r = parse_pct(val, vl, &l.avg10_pct), seen |= 1;
        else if (kl == 5 && memcmp(tok, "avg60", 5) == 0)
            r = parse_pct(val, vl, &l.avg60_pct), seen |= 2;
        else if (kl == 6 && memcmp(tok, "avg300", 6) == 0)
            r = parse_pct(val, vl, &l.avg300_pct), seen |= 4;
        else if (kl == 5 && memcmp(tok, "total", 5) == 0)
            r = gsm_parse_cg_u64(val, vl, &l.total_us), seen |= 8;
        if (r < 0)
            return r;
    }
    if (seen != 15)
        return -EINVAL;
    *ret = l;
    return 0;
}

int gsm_parse_cg_pressure(const char *buf, size_t len, struct gsm_cg_pressure *ret) {
    struct gsm_cg_pressure p = {0};
    const char *cur = buf, *end = buf + len, *line;
    size_t llen;
    while ((line = gsm_next_line(&cur, end, &llen))) {
        int r = 0;
        if (llen > 5 && memcmp(line, "some ", 5) == 0)
            r = parse_psi_line(line, llen, &p.some);
        else if (llen > 5 && memcmp(line, "full ", 5) == 0)
            r = parse_psi_line(line, llen, &p.full);
        if (r < 0)
            return r;       /* one bad reading makes the file malformed, not half of it silently */
    }
    if (!p.some.have && !p.full.have)
        return -EINVAL;
    p.have = true;
    *ret = p;
    return 0;
}

int gsm_parse_cg_oom_control(const char *buf, size_t len, struct gsm_cg_oom_control *ret) {
    static const char *const names[] = {"oom_kill_disable", "under_oom", "oom_kill"};
    uint64_t v[3] = {0};
    bool have[3] = {false};
    size_t bad = 0;
    int r = parse_kv(buf, len, names, 3, v, have, NULL, NULL, &bad);
    if (r < 0)
        return r;
    if (!have[0] && !have[1])
        return -EINVAL;
    *ret = (struct gsm_cg_oom_control){
        .have = true,
        .oom_kill_disable = have[0] && v[0] != 0,
        .under_oom = have[1] && v[1] != 0,
        .have_oom_kill = have[2],
        .oom_kill = v[2],
    };
    return 0;
}
