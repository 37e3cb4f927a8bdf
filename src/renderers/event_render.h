/* Watch output: events (schema gsmapper.event/v1) and samples (gsmapper.sample/v1) as JSON
 * lines, or events as text for people. docs/watch.md is the contract. */
#pragma once

#include "model/watch_types.h"

#include <json-c/json.h>
#include <stdio.h>

struct json_object *gsm_event_to_json(const struct gsm_watch_event *ev, const char *bundle_path);
struct json_object *gsm_sample_to_json(const struct gsm_target_ref *t, const struct gsm_watch_sample *s);
void gsm_event_print_text(const struct gsm_watch_event *ev, const char *bundle_path, FILE *out);
/* One line, compact, '\n'-terminated. Returns 0 or -EIO. */
int gsm_json_line(struct json_object *o, FILE *out);
