/* The Go runtime's own knobs as read from a process's environment (readers/proc_environ.h,
 * opt-in): GOMEMLIMIT, GOGC, GODEBUG and GOMAXPROCS, and what the runtime makes of their values. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GSM_GO_ENV_VALUE_MAX 256   /* a longer value keeps its first 256 bytes, truncated = true */

struct gsm_go_env_var {
    bool present;
    bool truncated;
    char value[GSM_GO_ENV_VALUE_MAX + 1];
};

struct gsm_go_env {
    struct gsm_go_env_var gomemlimit, gogc, godebug, gomaxprocs;
};

/* GOMEMLIMIT as the runtime reads it (runtime/mgcpacer.go readGOMEMLIMIT, runtime/string.go
 * parseByteCount): "" and "off" mean no limit (INT64_MAX, math.MaxInt64); otherwise
 * ^[0-9]+(([KMGT]i)?B)?$ with binary units, at most INT64_MAX. "1GB" and "1g" are malformed (the
 * runtime refuses to start with them). Returns 0 or -EINVAL / -ERANGE. */
int gsm_parse_gomemlimit(const char *s, uint64_t *ret_bytes);

/* GOGC as runtime/mgcpacer.go readGOGC: "off" -> -1, an int32 -> that percent (negative also
 * turns the GC off). -EINVAL when malformed, where the runtime silently uses 100. */
int gsm_parse_gogc(const char *s, int32_t *ret_percent);
