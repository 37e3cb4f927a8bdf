/* Resource cleanup at end of scope (the systemd idiom).
 *
 *   _cleanup_free_ char *buf = NULL;     free(buf) when buf leaves scope
 *   _cleanup_close_ int fd = -1;         close(fd) if fd >= 0
 *   return TAKE_PTR(buf);                hand ownership out, leaving NULL behind
 *
 * Error idiom used across gsmapper: functions that can fail return int, a negative errno on
 * failure and 0 (or a count) on success; out-parameters are named ret_* and written only on
 * success. Expected races (-ENOENT, -ESRCH) are normal outcomes that callers name. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void gsm_freep(void *p) { free(*(void **)p); }
static inline void gsm_closep(int *fd) {
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void gsm_fclosep(FILE **f) { if (*f) fclose(*f); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(gsm_freep)
#define _cleanup_close_ _cleanup_(gsm_closep)
#define _cleanup_fclose_ _cleanup_(gsm_fclosep)

#define TAKE_PTR(p) ({ __typeof__(p) _tp = (p); (p) = NULL; _tp; })
#define TAKE_FD(fd) ({ int _tf = (fd); (fd) = -1; _tf; })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define STRLEN(s) (sizeof(s) - 1)
