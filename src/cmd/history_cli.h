/* The memory-history options of `watch` and `serve` (--history FILE, --history-retention,
 * --history-max-mb, --history-flush) and the two hooks that feed store/history from the
 * engine's callbacks. Put GSM_HISTORY_LONGOPTS in the getopt table, hand unknown options to
 * gsm_history_cli_parse(), call gsm_history_cli_sample()/…_event() from on_sample/on_event. */
#pragma once

#include "engine/watch.h"
#include "store/history.h"

#include <getopt.h>

enum { GSM_OPT_HISTORY = 0x1100, GSM_OPT_HISTORY_RETENTION, GSM_OPT_HISTORY_MAX_MB, GSM_OPT_HISTORY_FLUSH };
#define GSM_HISTORY_LONGOPTS                                                                        \
    {"history", required_argument, NULL, GSM_OPT_HISTORY},                                          \
        {"history-retention", required_argument, NULL, GSM_OPT_HISTORY_RETENTION},                 \
        {"history-max-mb", required_argument, NULL, GSM_OPT_HISTORY_MAX_MB},                       \
        {"history-flush", required_argument, NULL, GSM_OPT_HISTORY_FLUSH}
#define GSM_HISTORY_USAGE                                                                           \
    "      --history FILE       keep a memory history (SQLite, for 'gsmapper advise') in FILE\n"   \
    "      --history-retention DURATION  how long (e.g. 8d, 36h; default 8d)\n"                    \
    "      --history-max-mb MIB size cap of the file (default 256)\n"                               \
    "      --history-flush SECONDS  one write per this long (default 60)\n"

struct gsm_history_cli {
    const char *path;                /* NULL: no history */
    struct gsm_history_opts o;
    struct gsm_history *h;
};
void gsm_history_cli_init(struct gsm_history_cli *hc);
/* 1 when opt was one of the four, 0 when not, -1 on a bad value (printed, prefixed with cmd). */
int gsm_history_cli_parse(struct gsm_history_cli *hc, const char *cmd, int opt, const char *arg);
/* Opens the file when --history was given. Returns a GSM_EXIT_* code. */
int gsm_history_cli_open(struct gsm_history_cli *hc, const char *cmd);
/* From on_sample: records the sample (with a Go process's non-heap memory) and flushes when due. */
void gsm_history_cli_sample(struct gsm_history_cli *hc, const struct gsm_watch_target *t,
                            const struct gsm_watch_sample *s);
/* From on_event: OOM kills and limit hits (oom, max, high, failcnt) become history events. */
void gsm_history_cli_event(struct gsm_history_cli *hc, const struct gsm_watch_event *ev);
/* Final flush and close. */
void gsm_history_cli_close(struct gsm_history_cli *hc);

/* "90", "90s", "15m", "36h", "8d" as milliseconds; -EINVAL otherwise. */
int gsm_parse_duration_ms(const char *arg, uint64_t *ret_ms);
