/* Renderers for the cgroup part of explain: the "cgroup" JSON object (in `explain PID` and
 * `explain --cgroup`), the processes, reconciliation and OOM forecast of `explain --cgroup`,
 * and the matching table sections. */
#pragma once

#include "analyses/cgroup_report.h"

#include <json-c/json.h>
#include <stdio.h>

struct json_object *gsm_cgroup_to_json(const struct gsm_cgroup_report *r);
/* processes, reconciliation, oom_forecast: added to `root` (explain --cgroup). */
void gsm_cgroup_members_to_json(const struct gsm_cgroup_report *r, struct json_object *root);

void gsm_cgroup_print_table(const struct gsm_cgroup_report *r, FILE *out);
void gsm_cgroup_members_print_table(const struct gsm_cgroup_report *r, FILE *out);
