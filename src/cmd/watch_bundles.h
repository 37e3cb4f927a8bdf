/* The flight-recorder options of `watch` and `serve` (--ring, --dump-dir, ...); the bundles
 * themselves are recorder/watch_bundle. */
#pragma once

#include "engine/watch.h"
#include "recorder/recorder.h"
#include "recorder/watch_bundle.h"
#include "util/root.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stddef.h>

/* The flight-recorder options of `watch` and `serve`: --ring, --dump-dir, --dump-quota,
 * --dump-min-interval. Put GSM_RECORDER_LONGOPTS in the getopt table and hand every option to
 * gsm_recorder_cli_parse(). */
enum { GSM_OPT_RING = 0x1000, GSM_OPT_DUMP_DIR, GSM_OPT_DUMP_QUOTA, GSM_OPT_DUMP_MIN };
#define GSM_RECORDER_LONGOPTS                                                                       \
    {"ring", required_argument, NULL, GSM_OPT_RING}, {"dump-dir", required_argument, NULL, GSM_OPT_DUMP_DIR}, \
        {"dump-quota", required_argument, NULL, GSM_OPT_DUMP_QUOTA},                                \
        {"dump-min-interval", required_argument, NULL, GSM_OPT_DUMP_MIN}
#define GSM_RECORDER_USAGE                                                                          \
    "      --ring SECONDS       flight-recorder length (default 300)\n"                          \
    "      --dump-dir DIR       write flight-recorder bundles under DIR\n"                       \
    "      --dump-quota BYTES   total size of the bundles kept (default 256 MiB)\n"              \
    "      --dump-min-interval SECONDS  at most one bundle per target per interval (default 60)\n"

struct gsm_recorder_cli {
    const char *dump_dir;        /* NULL: no bundles */
    uint64_t quota_bytes;
    double min_interval_s;
};
void gsm_recorder_cli_init(struct gsm_recorder_cli *rc);
/* 1 when opt was one of the four (ring into *ring_ms), 0 when not, -1 on a bad value (the
 * error is printed, prefixed with cmd). */
int gsm_recorder_cli_parse(struct gsm_recorder_cli *rc, const char *cmd, int opt, const char *arg, uint64_t *ring_ms);
/* The recorder for --dump-dir (NULL in *ret without it). Returns a GSM_EXIT_* code. */
int gsm_recorder_cli_open(const struct gsm_recorder_cli *rc, const char *cmd, const char *root_dir,
                          struct gsm_recorder **ret);
