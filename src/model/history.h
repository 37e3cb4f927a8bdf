/* Memory history as stored by store/history (SQLite) and read back for analyses/advise: per
 * target, rows of per-minute (res 60 s) and per-hour (res 3600 s) summaries of each series, and
 * the limit events (OOM kills, limit hits). Plain types; docs/advise.md describes the file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The series summarised per row. GO_NONHEAP: a Go process's memory outside what its runtime
 * manages (RSS - (Sys - HeapReleased)); 0 when no Go statistics. */
enum gsm_hist_series { GSM_HS_VALUE, GSM_HS_USAGE, GSM_HS_WS, GSM_HS_UNRECL, GSM_HS_GO_NONHEAP, GSM_HS__COUNT };
const char *gsm_hist_series_name(enum gsm_hist_series s);

struct gsm_hist_stat {
    uint64_t max_bytes, p50_bytes, p95_bytes;
};

struct gsm_hist_row {
    uint64_t t_ms;                   /* start of the minute / hour (Unix ms) */
    uint32_t res_s;                  /* 60 or 3600 */
    uint64_t n;                      /* samples summarised */
    struct gsm_hist_stat s[GSM_HS__COUNT];
    uint64_t limit_bytes;            /* effective limit at the last sample (UINT64_MAX: none) */
    uint64_t anon_bytes, file_bytes; /* at the sample with the largest working set */
};

struct gsm_hist_event {
    uint64_t t_ms;
    char kind[16];                   /* oom_kill, oom, max, high, failcnt (watch's kind names) */
    uint64_t limit_bytes;            /* effective limit when it happened (UINT64_MAX: none) */
    uint64_t peak_before_bytes;      /* largest usage in the flight-recorder ring before it */
};

/* One target's history, rows oldest first (minute rows, then hour rows older than the first
 * minute row), events oldest first. */
struct gsm_hist_target {
    char *key, *type, *name, *cgroup;
    int64_t pid;
    struct gsm_hist_row *rows;
    size_t n_rows;
    struct gsm_hist_event *events;
    size_t n_events;
};
void gsm_hist_target_free(struct gsm_hist_target *t);
