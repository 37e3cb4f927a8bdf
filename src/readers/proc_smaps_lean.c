#include "readers/proc_smaps_lean.h"
#include "util/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int too_long(struct gsm_smaps_parser *ps) {
    if (ps->err) {
        ps->err->line = ps->line + 1;
        snprintf(ps->err->what, sizeof ps->err->what, "line longer than %zu bytes", GSM_SMAPS_LEAN_BUF_BYTES - 4096);
    }
    return -EBADMSG;
}

int gsm_smaps_read_lean_at(int procfd, const char *name, struct gsm_process *p,
                           const struct gsm_smaps_progress *progress, struct gsm_parse_error *err) {
    _cleanup_close_ int fd = openat(procfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    _cleanup_free_ char *buf = malloc(GSM_SMAPS_LEAN_BUF_BYTES);
    if (!buf)
        return -ENOMEM;
    struct gsm_smaps_parser ps;
    gsm_smaps_parser_init(&ps, p, false, err);
    size_t len = 0;
    bool eof = false;
    while (!eof) {
        /* Fill while a page fits: the kernel hands out at most a page of smaps per read(). */
        while (GSM_SMAPS_LEAN_BUF_BYTES - len >= 4096) {
            ssize_t n = read(fd, buf + len, GSM_SMAPS_LEAN_BUF_BYTES - len);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (n == 0) {
                eof = true;
                break;
            }
            len += (size_t)n;
        }
        size_t used = 0;
        for (;;) {
            char *nl = memchr(buf + used, '\n', len - used);
            if (!nl)
                break;
            int r = gsm_smaps_parser_line(&ps, buf + used, (size_t)(nl - (buf + used)));
            if (r < 0)
                return r;
            used = (size_t)(nl + 1 - buf);
        }
        if (eof && used < len) {   /* a last line without '\n' */
            int r = gsm_smaps_parser_line(&ps, buf + used, len - used);
            if (r < 0)
                return r;
            used = len;
        }
        if (!eof && used == 0)   /* a full buffer without a newline */
            return too_long(&ps);
        memmove(buf, buf + used, len - used);
        len -= used;
        if (progress && progress->fn)
            progress->fn(p, progress->arg);
    }
    return 0;
}
