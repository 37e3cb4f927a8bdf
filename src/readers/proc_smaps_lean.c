#include "readers/proc_smaps_lean.h"
#include "util/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ASan: the bytes of the buffer past the data are poisoned while lines are parsed. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LEAN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define LEAN_ASAN 1
#endif
#ifdef LEAN_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static int too_long(struct gsm_smaps_parser *ps, size_t max_line) {
    if (ps->err) {
        ps->err->line = ps->line + 1;
        snprintf(ps->err->what, sizeof ps->err->what, "line longer than %zu bytes", max_line);
    }
    return -EBADMSG;
}

/* Parse the whole lines of buf[0, len) (and, at eof, the last one without '\n'); *used gets
 * the bytes consumed. */
static int parse_lines(struct gsm_smaps_parser *ps, const char *buf, size_t len, bool eof, size_t *used) {
    size_t u = 0;
    for (;;) {
        const char *nl = memchr(buf + u, '\n', len - u);
        if (!nl)
            break;
        int r = gsm_smaps_parser_line(ps, buf + u, (size_t)(nl - (buf + u)));
        if (r < 0)
            return r;
        u = (size_t)(nl + 1 - buf);
    }
    if (eof && u < len) {   /* a last line without '\n' */
        int r = gsm_smaps_parser_line(ps, buf + u, len - u);
        if (r < 0)
            return r;
        u = len;
    }
    *used = u;
    return 0;
}

int gsm_smaps_read_lean_stream(ssize_t (*read_fn)(void *arg, char *buf, size_t len), void *arg, size_t buf_bytes,
                               struct gsm_process *p, const struct gsm_smaps_progress *progress,
                               struct gsm_parse_error *err) {
    if (buf_bytes < 64)
        return -EINVAL;
    /* Fill while 1/8 fits (a page of 32 KiB: the kernel hands out at most a page of smaps per
     * read()); so a line may have the other 7/8. */
    const size_t reserve = buf_bytes / 8;
    _cleanup_free_ char *buf = malloc(buf_bytes);
    if (!buf)
        return -ENOMEM;
    struct gsm_smaps_parser ps;
    gsm_smaps_parser_init(&ps, p, false, err);
    size_t len = 0;
    bool eof = false;
    int r = 0;
    while (!eof && r == 0) {
        UNPOISON(buf, buf_bytes);
        while (buf_bytes - len >= reserve) {
            ssize_t n = read_fn(arg, buf + len, buf_bytes - len);
            if (n == -EINTR)
                continue;
            if (n < 0) {
                r = (int)n;
                break;
            }
            if (n == 0) {
                eof = true;
                break;
            }
            len += (size_t)n;
        }
        if (r < 0)
            break;
        POISON(buf + len, buf_bytes - len);
        size_t used = 0;
        if ((r = parse_lines(&ps, buf, len, eof, &used)) < 0)
            break;
        if (!eof && used == 0) {   /* a full buffer without a newline */
            r = too_long(&ps, buf_bytes - reserve);
            break;
        }
        UNPOISON(buf, buf_bytes);
        memmove(buf, buf + used, len - used);
        len -= used;
        if (progress && progress->fn)
            progress->fn(p, progress->arg);
    }
    UNPOISON(buf, buf_bytes);   /* before free() */
    return r;
}

static ssize_t fd_read(void *arg, char *buf, size_t len) {
    ssize_t n = read(*(int *)arg, buf, len);
    return n < 0 ? -errno : n;
}

int gsm_smaps_read_lean_at(int procfd, const char *name, struct gsm_process *p,
                           const struct gsm_smaps_progress *progress, struct gsm_parse_error *err) {
    _cleanup_close_ int fd = openat(procfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    return gsm_smaps_read_lean_stream(fd_read, &fd, GSM_SMAPS_LEAN_BUF_BYTES, p, progress, err);
}
