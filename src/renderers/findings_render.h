/* Findings as JSON (an array of {id, severity, message, evidence{}, advice}) and as the
 * FINDINGS section of the table. */
#pragma once

#include "analyses/findings.h"

#include <json-c/json.h>
#include <stdio.h>

struct json_object *gsm_findings_to_json(const struct gsm_findings *f);
void gsm_findings_print_table(const struct gsm_findings *f, FILE *out);
