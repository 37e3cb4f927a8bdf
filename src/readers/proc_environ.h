/* The Go runtime's own knobs from /proc/PID/environ, opt-in (--read-env): GOMEMLIMIT, GOGC,
 * GODEBUG and GOMAXPROCS, and nothing else. Environments carry secrets, so the file is scanned
 * in small chunks by a state machine that copies out only the bytes of those four values; the
 * chunk buffer is wiped after the scan and nothing else is kept, logged or printed. */
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

/* The streaming scanner over "K=V\0K=V\0..." (pure; feed it any split of the bytes). The first
 * occurrence of a key wins, as in the Go runtime's gogetenv. */
struct gsm_go_env_scanner {
    struct gsm_go_env env;
    int state;                     /* internal */
    size_t key_len;                /* bytes of the key, then of the value */
    char key[12];
    struct gsm_go_env_var *cur;
};
void gsm_go_env_scan_init(struct gsm_go_env_scanner *s);
void gsm_go_env_scan_feed(struct gsm_go_env_scanner *s, const char *buf, size_t len);
/* Ends the scan (an unterminated last entry counts) and hands out the result. */
void gsm_go_env_scan_finish(struct gsm_go_env_scanner *s, struct gsm_go_env *ret);

/* Read procfd's environ. Returns 0, -ENOENT/-ESRCH when gone, -EACCES/-EPERM when not permitted
 * (environ needs ptrace-read access). */
int gsm_read_go_env_at(int procfd, struct gsm_go_env *ret);

/* GOMEMLIMIT as the runtime reads it (runtime/mgcpacer.go readGOMEMLIMIT, runtime/string.go
 * parseByteCount): "" and "off" mean no limit (INT64_MAX, math.MaxInt64); otherwise
 * ^[0-9]+(([KMGT]i)?B)?$ with binary units, at most INT64_MAX. "1GB" and "1g" are malformed (the
 * runtime refuses to start with them). Returns 0 or -EINVAL / -ERANGE. */
int gsm_parse_gomemlimit(const char *s, uint64_t *ret_bytes);

/* GOGC as runtime/mgcpacer.go readGOGC: "off" -> -1, an int32 -> that percent (negative also
 * turns the GC off). -EINVAL when malformed, where the runtime silently uses 100. */
int gsm_parse_gogc(const char *s, int32_t *ret_percent);
