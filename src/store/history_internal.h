/* Between store/history_write.c and store/history_read.c. */
#pragma once

#include "store/history.h"
#include "util/strmap.h"

#include <sqlite3.h>

struct hist_acc;

struct gsm_history {
    sqlite3 *db;
    struct gsm_history_opts o;
    bool ro;
    uint64_t last_flush_ms;
    struct hist_acc **accs;          /* one per target seen since the last forget */
    size_t n_accs, cap_accs;
    struct gsm_strmap acc_index;     /* key -> accumulator (keys owned by the accumulators) */
    struct pending_event {
        char *key;
        struct gsm_target_ref ref_copy;  /* strings not kept: type/pid only */
        char *name, *cgroup;
        uint64_t t_ms, limit_bytes, peak_before_bytes;
        char kind[16];
    } *events;
    size_t n_events, cap_events;
};

int gsm_history_exec(sqlite3 *db, const char *sql, char *err, size_t err_len);
