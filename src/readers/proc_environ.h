/* The Go runtime's own knobs from /proc/PID/environ, opt-in (--read-env): GOMEMLIMIT, GOGC,
 * GODEBUG and GOMAXPROCS, and nothing else. Environments carry secrets, so the file is scanned
 * in small chunks by a state machine that copies out only the bytes of those four values; the
 * chunk buffer is wiped after the scan and nothing else is kept, logged or printed. */
#pragma once

#include "model/go_env.h"

#include <stddef.h>

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
