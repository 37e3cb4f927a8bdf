/* The Go runtime part of explain: statistics (runtime.MemStats as fetched), the split of the
 * go-heap and go-runtime classes with them, and the opt-in environment. */
#pragma once

#include "analyses/go_split.h"
#include "model/go_stats.h"
#include "model/go_env.h"
#include "model/go_heap_profile.h"

#include <json-c/json.h>
#include <stdio.h>

/* {"source", "endpoint", "taken_ms", "stats": {...}, "split": {...} | null} */
struct json_object *gsm_go_runtime_to_json(const struct gsm_go_stats *s, const struct gsm_go_split *split);
/* {"GOMEMLIMIT": "512MiB" | null, ...}: only the four keys gsmapper reads. */
struct json_object *gsm_go_env_to_json(const struct gsm_go_env *e);
void gsm_go_runtime_print_table(const struct gsm_go_stats *s, const struct gsm_go_split *split, FILE *out);
void gsm_go_env_print_table(const struct gsm_go_env *e, FILE *out);
/* Level 3: the n stacks with the most in-use bytes. JSON: {"inuse_bytes", "inuse_objects",
 * "stacks": [{"inuse_bytes", "inuse_objects", "frames": ["leaf func file:line", ...]}]}. */
struct json_object *gsm_heap_profile_top_json(const struct gsm_heap_profile *hp, size_t n);
void gsm_heap_profile_print_top(const struct gsm_heap_profile *hp, size_t n, FILE *out);
