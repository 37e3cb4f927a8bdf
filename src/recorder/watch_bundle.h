/* Flight-recorder bundles for watch events, shared by `watch` and `serve` (--dump-dir): the
 * target's ring as JSON lines, the event, a summary of what grew most, then recorder's explain
 * run, cgroup files and Go captures. */
#pragma once

#include "engine/watch.h"
#include "recorder/recorder.h"
#include "util/root.h"

#include <json-c/json.h>
#include <stddef.h>

/* Writes a bundle for ev (which wants one) and puts its path in path[], or "" when none was
 * written (rate limit, quota, an error: warned except for the rate limit). */
void gsm_watch_write_bundle(struct gsm_recorder *rec, const struct gsm_root *root, const struct gsm_watch_event *ev,
                            const char *event_json, char *path, size_t path_len);

/* The second event that says where the bundle is: kind "bundle", level "info". */
struct json_object *gsm_watch_bundle_event_json(const struct gsm_watch_event *ev, const char *path);
