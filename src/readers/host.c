#include "readers/host.h"
#include "readers/cgroup.h"
#include "readers/proc_priv.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int gsm_parse_thp_enabled(const char *buf, size_t len, char *ret, size_t ret_size) {
    if (!buf || !ret || ret_size < 2)
        return -EINVAL;
    /* "always [madvise] never\n": exactly one bracketed word. */
    const char *open = memchr(buf, '[', len);
    if (!open)
        return -EINVAL;
    size_t rest = len - (size_t)(open + 1 - buf);
    const char *close = memchr(open + 1, ']', rest);
    if (!close)
        return -EINVAL;
    size_t wlen = (size_t)(close - open - 1);
    if (wlen == 0 || wlen >= ret_size)
        return -EINVAL;
    for (size_t i = 0; i < wlen; i++)
        if (open[1 + i] < 'a' || open[1 + i] > 'z')
            return -EINVAL;
    memcpy(ret, open + 1, wlen);
    ret[wlen] = '\0';
    return 0;
}

int gsm_parse_host_u64(const char *buf, size_t len, uint64_t *ret) {
    if (!buf)
        return -EINVAL;
    return gsm_parse_cg_u64(buf, len, ret);   /* same one-number format: "511\n" */
}

/* The value of a meminfo line after the colon: "<blanks>N kB" (or "N" for the page counts
 * such as HugePages_Total). Returns 0 and bytes, -EINVAL, -ERANGE. */
static int meminfo_value_bytes(const char *s, size_t len, uint64_t *ret) {
    const char *p = s, *end = s + len;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    uint64_t v;
    int r = gsm_parse_u64_end(&p, end, &v);   /* skips the leading blanks */
    if (r < 0)
        return r;
    while (p < end && *p == ' ')
        p++;
    if (end - p != 2 || memcmp(p, "kB", 2) != 0)
        return -EINVAL;
    if (v > UINT64_MAX / 1024)
        return -ERANGE;
    *ret = v * 1024;
    return 0;
}

int gsm_parse_meminfo(const char *buf, size_t len, struct gsm_meminfo *ret) {
    static const struct {
        const char *key;
        size_t off_have, off_value;
    } keys[] = {
        {"MemTotal", offsetof(struct gsm_meminfo, have_mem_total), offsetof(struct gsm_meminfo, mem_total_bytes)},
        {"SwapTotal", offsetof(struct gsm_meminfo, have_swap_total), offsetof(struct gsm_meminfo, swap_total_bytes)},
        {"SwapFree", offsetof(struct gsm_meminfo, have_swap_free), offsetof(struct gsm_meminfo, swap_free_bytes)},
    };
    if (!buf)
        return -EINVAL;
    struct gsm_meminfo m = {0};
    const char *cur = buf, *end = buf + len, *line;
    size_t llen;
    bool any = false;
    while ((line = gsm_next_line(&cur, end, &llen))) {
        const char *colon = memchr(line, ':', llen);
        if (!colon)
            continue;
        size_t klen = (size_t)(colon - line);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
            if (strlen(keys[i].key) != klen || memcmp(keys[i].key, line, klen) != 0)
                continue;
            uint64_t v;
            if (meminfo_value_bytes(colon + 1, llen - klen - 1, &v) < 0) {
                gsm_debug("meminfo: unparsable line: %.*s", (int)(llen > 200 ? 200 : llen), line);
                break;
            }
            *(bool *)((char *)&m + keys[i].off_have) = true;
            *(uint64_t *)((char *)&m + keys[i].off_value) = v;
            any = true;
            break;
        }
    }
    if (!any)
        return -EINVAL;
    *ret = m;
    return 0;
}

/* Read a small file below the root. Returns 0, -ENOMEM, or another -errno the caller treats
 * as "absent". */
static int read_small(const struct gsm_root *root, const char *path, char **ret_buf, size_t *ret_len) {
    int r = gsm_read_file_at(root->fd, path, GSM_SMALL_FILE_MAX, ret_buf, ret_len);
    if (r < 0 && r != -ENOMEM)
        gsm_debug("host: %s: %s", path, strerror(-r));
    return r;
}

/* The THP files: through readers/proc_priv, since a sandboxed gsmapper never reads /sys/kernel
 * itself (the /proc broker reads these two by fixed name). */
static int read_thp(const struct gsm_root *root, int which, char **ret_buf, size_t *ret_len) {
    int r = gsm_host_thp_read(root, which, ret_buf, ret_len);
    if (r < 0 && r != -ENOMEM)
        gsm_debug("host: transparent_hugepage %s: %s", which ? "max_ptes_none" : "enabled", strerror(-r));
    return r;
}

int gsm_meminfo_read(const struct gsm_root *root, struct gsm_meminfo *ret) {
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = read_small(root, "proc/meminfo", &buf, &len);
    if (r < 0)
        return r;
    return gsm_parse_meminfo(buf, len, ret);
}

int gsm_host_info_read(const struct gsm_root *root, struct gsm_host_info *ret) {
    struct gsm_host_info h = {0};
    long ps = sysconf(_SC_PAGESIZE);
    h.page_size = ps > 0 ? (uint64_t)ps : 4096;
    int r;

    {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = read_thp(root, 0, &buf, &len);
        if (r == -ENOMEM)
            return r;
        if (r == 0 && gsm_parse_thp_enabled(buf, len, h.thp_enabled, sizeof h.thp_enabled) == 0)
            h.have_thp = true;
    }
    {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = read_thp(root, 1, &buf, &len);
        if (r == -ENOMEM)
            return r;
        if (r == 0 && gsm_parse_host_u64(buf, len, &h.khugepaged_max_ptes_none) == 0)
            h.have_max_ptes_none = true;
    }
    struct gsm_meminfo mi;
    r = gsm_meminfo_read(root, &mi);
    if (r == -ENOMEM)
        return r;
    if (r == 0) {
        h.have_mem_total = mi.have_mem_total;
        h.mem_total_bytes = mi.mem_total_bytes;
        h.have_swap = mi.have_swap_total && mi.have_swap_free;
        if (h.have_swap) {
            h.swap_total_bytes = mi.swap_total_bytes;
            h.swap_free_bytes = mi.swap_free_bytes;
        }
    }
    {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        r = read_small(root, "proc/sys/vm/max_map_count", &buf, &len);
        if (r == -ENOMEM)
            return r;
        if (r == 0 && gsm_parse_host_u64(buf, len, &h.max_map_count) == 0)
            h.have_max_map_count = true;
    }
    *ret = h;
    return 0;
}
