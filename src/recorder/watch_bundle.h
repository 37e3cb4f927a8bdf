/* Flight-recorder bundles for watch events, shared by `watch` and `serve` (--dump-dir): the
 * target's ring as JSON lines, the event, a summary of what grew most, then recorder's explain
 * run, cgroup files and Go captures. */
#pragma once

#include "engine/watch.h"
#include "recorder/recorder.h"
#include "util/root.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Writes a bundle for ev (which wants one) and puts its path in path[], or "" when none was
 * written (rate limit, quota, an error: warned except for the rate limit). */
void gsm_watch_write_bundle(struct gsm_recorder *rec, const struct gsm_root *root, const struct gsm_watch_event *ev,
                            const char *event_json, char *path, size_t path_len);

/* The second event that says where the bundle is: kind "bundle", level "info". */
struct json_object *gsm_watch_bundle_event_json(const struct gsm_watch_event *ev, const char *path);

/* watch: start writing ev's bundle in a writer process (recorder.h, "asynchronous bundles")
 * and return at once. bundle_event (from gsm_watch_bundle_event_json(ev, "")) is owned from
 * here on: handed to the done function of gsm_watch_reap_bundles with its "bundle" set, or freed.
 * An OOM kill's bundle is urgent (reserved writer slots). Refusals are warned (not the rate limit). */
void gsm_watch_start_bundle(struct gsm_recorder *rec, const struct gsm_root *root, const struct gsm_watch_event *ev,
                            const char *event_json, struct json_object *bundle_event);

/* bundle_event: the second event, "bundle" set to path; freed after the call. */
typedef void (*gsm_watch_bundle_done_fn)(struct json_object *bundle_event, const char *path, void *userdata);

/* gsm_recorder_reap() for watch bundles: done for each bundle written (failures are warned).
 * Returns how many are still being written. */
size_t gsm_watch_reap_bundles(struct gsm_recorder *rec, uint64_t wait_ms, gsm_watch_bundle_done_fn fn, void *userdata);
