/* The one-line reason a reader hands back beside its -errno: `char *errbuf, size_t errlen`
 * out-parameters (either may be NULL/0: no message wanted). */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4)))
static inline void gsm_seterr(char *errbuf, size_t errlen, const char *fmt, ...) {
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
}
