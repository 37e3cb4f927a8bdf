/* The one place that writes to stderr. Library code only calls gsm_debug(); commands decide
 * what the user sees with gsm_error() (one line, prefixed "gsmapper: "). */
#pragma once

#include <stdbool.h>

extern bool gsm_debug_enabled;   /* set by GSMAPPER_DEBUG=1 in the environment */

void gsm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gsm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gsm_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
