/* Flight-recorder bundles for watch events, shared by `watch` and `serve` (--dump-dir): the
 * target's ring as JSON lines, the event, a summary of what grew most, then
 * renderers/recorder's explain run and cgroup files. */
#pragma once

#include "engine/watch.h"
#include "recorder/recorder.h"
#include "util/root.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stddef.h>

/* Writes a bundle for ev (which wants one) and puts its path in path[], or "" when none was
 * written (rate limit, quota, an error: warned except for the rate limit). */
void gsm_watch_write_bundle(struct gsm_recorder *rec, const struct gsm_root *root, const struct gsm_watch_event *ev,
                            const char *event_json, char *path, size_t path_len);

/* The second event that says where the bundle is: kind "bundle", level "info". */
struct json_object *gsm_watch_bundle_event_json(const struct gsm_watch_event *ev, const char *path);

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
