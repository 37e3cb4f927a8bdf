#include "util/log.h"
#include "util/exitcode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

bool gsm_debug_enabled;

__attribute__((format(printf, 2, 0)))
static void vsay(const char *prefix, const char *fmt, va_list ap) {
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void gsm_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay("gsmapper: ", fmt, ap);
    va_end(ap);
}

void gsm_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay("gsmapper: warning: ", fmt, ap);
    va_end(ap);
}

void gsm_debug(const char *fmt, ...) {
    if (!gsm_debug_enabled)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsay("gsmapper: debug: ", fmt, ap);
    va_end(ap);
}

int gsm_exit_from_errno(int negative_errno) {
    switch (-negative_errno) {
    case ENOENT:
    case ESRCH:
        return GSM_EXIT_NOTFOUND;
    case EACCES:
    case EPERM:
        return GSM_EXIT_PERM;
    default:
        return GSM_EXIT_FAILURE;
    }
}
