/* The health score (analyses/health) as JSON ("health" of explain, watch events) and as a
 * table section. docs/health-score.md. */
#pragma once

#include "model/health.h"

#include <stdio.h>
#include <json-c/json.h>

/* {"score", "band", "missing", "parts": {"headroom": {"status", "penalty", "max_penalty",
 * "badness", "value", "note"}, ...}}; NULL when h->have is false (the caller adds null). */
struct json_object *gsm_health_to_json(const struct gsm_health *h);
/* "HEALTH 42/100 (poor)" and a line per part. */
void gsm_health_print_table(const struct gsm_health *h, FILE *out);
