/* gsmapper advise's output: JSON (schema gsmapper.advise/v1) and the table, with the "why",
 * the OOM-bump and GOMEMLIMIT arithmetic, and ready-to-apply snippets (a kubectl patch, a
 * systemd drop-in, memory.high/memory.max, an environment line). docs/advise.md. */
#pragma once

#include "analyses/advise.h"
#include "model/history.h"

#include <json-c/json.h>
#include <stdio.h>

struct json_object *gsm_advice_to_json(const struct gsm_hist_target *t, const struct gsm_advice *a);
void gsm_advice_print_table(const struct gsm_hist_target *t, const struct gsm_advice *a, FILE *out);
