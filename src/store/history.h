/* The memory history file (--history FILE): an SQLite database in WAL mode, written in one
 * transaction per flush (a SIGKILL at any moment leaves the last committed state; WAL with
 * synchronous=NORMAL loses at most the last flush on power loss, never consistency). Samples
 * are summarised per target per minute and per hour (max, p50, p95 of each series of
 * model/history.h); limit events are rows of their own. Retention and a size cap are applied
 * at each flush. The reader half (gsm_history_load*) serves `gsmapper advise`. docs/advise.md. */
#pragma once

#include "model/history.h"
#include "model/watch_types.h"

#include <stddef.h>
#include <stdint.h>

struct gsm_history_opts {
    uint64_t flush_ms;               /* one transaction per this long (default 60 s) */
    uint64_t retention_ms;           /* hour rows and events older than this go (default 8 d) */
    uint64_t minute_retention_ms;    /* minute rows older than this go (default 2 d, <= retention) */
    uint64_t max_bytes;              /* size cap of the database file (default 256 MiB) */
};
void gsm_history_opts_default(struct gsm_history_opts *o);

struct gsm_history;
/* Creates the file (mode 0600) or opens an existing one; refuses a symlink (O_NOFOLLOW) and
 * anything but a regular file. On failure *err holds one line. */
int gsm_history_open(const char *path, const struct gsm_history_opts *o, struct gsm_history **ret, char *err,
                     size_t err_len);
/* Flushes what is pending, then closes. NULL is fine. */
void gsm_history_close(struct gsm_history *h);

/* One sample of a target; go_nonheap_bytes 0 when unknown. */
void gsm_history_add_sample(struct gsm_history *h, const struct gsm_target_ref *ref, const struct gsm_watch_sample *s,
                            uint64_t go_nonheap_bytes);
/* A limit event (kind from gsm_watch_kind_name), kept for the next flush. */
void gsm_history_add_event(struct gsm_history *h, const struct gsm_target_ref *ref, uint64_t t_ms, const char *kind,
                           uint64_t limit_bytes, uint64_t peak_before_bytes);
/* Writes when the flush interval has passed since the last write (force: now). Returns 0 or a
 * negative errno; a failed flush keeps nothing (the rows are in the next one's minute). */
int gsm_history_flush(struct gsm_history *h, uint64_t now_ms, bool force);

/* Reading (advise). The key of a target: "cgroup:<path>" or "process:<pid>:<starttime>". */
int gsm_history_open_ro(const char *path, struct gsm_history **ret, char *err, size_t err_len);
/* Every target's key into *ret (array of strings, freed by the caller: each, then the array). */
int gsm_history_list(struct gsm_history *h, char ***ret, size_t *ret_n);
int gsm_history_load(struct gsm_history *h, const char *key, struct gsm_hist_target *ret);
