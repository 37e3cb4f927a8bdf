/* The report's two other pictures, as compact JSON for the page (docs/report.md):
 *   - the heat map: rows (what the samples split memory into) by columns (sample times), from a
 *     flight-recorder bundle's samples.jsonl (schema gsmapper.sample/v1), with the event's time;
 *   - the address-space strip: the mappings of an explain document in address order, with their
 *     class and resident bytes. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* Columns kept in the heat map: more samples are averaged into this many buckets. */
#define GSM_REPORT_HEAT_COLUMNS_MAX 720
/* Segments kept in the strip: more mappings are grouped, consecutive ones together. */
#define GSM_REPORT_STRIP_SEGMENTS_MAX 2400

/* The heat map of the samples of one target: the event's target when event (event.json, may
 * be NULL) names one that is in the samples, else the target with the most samples. Lines that
 * are not JSON sample objects are counted in *ret_skipped and left out. Returns 0 and the object
 * in *ret (NULL when no sample had data), or -ENOMEM. */
int gsm_report_heat_json(const char *jsonl, size_t len, struct json_object *event, struct json_object **ret,
                         size_t *ret_skipped);

/* The strip of an explain document's "mappings" (NULL when it has none). NULL on ENOMEM too:
 * the page then goes without the strip. */
struct json_object *gsm_report_strip_json(struct json_object *explain);
