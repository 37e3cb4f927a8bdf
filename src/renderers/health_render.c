#include "renderers/health_render.h"

#include <math.h>

static struct json_object *num(double v) {
    return isfinite(v) ? json_object_new_double(round(v * 1000.0) / 1000.0) : NULL;
}

struct json_object *gsm_health_to_json(const struct gsm_health *h) {
    if (!h->have)
        return NULL;
    struct json_object *o = json_object_new_object(), *parts = json_object_new_object();
    json_object_object_add(o, "score", json_object_new_int(h->score));
    json_object_object_add(o, "band", json_object_new_string(gsm_health_band_name(h->band)));
    json_object_object_add(o, "missing", json_object_new_int((int)h->n_missing));
    for (int i = 0; i < GSM_HP__COUNT; i++) {
        const struct gsm_health_part_result *p = &h->parts[i];
        struct json_object *x = json_object_new_object();
        json_object_object_add(x, "status", json_object_new_string(gsm_health_part_status_name(p->status)));
        json_object_object_add(x, "penalty", num(p->penalty));
        json_object_object_add(x, "max_penalty", num(p->max_penalty));
        if (p->status == GSM_HPS_USED) {
            json_object_object_add(x, "badness", num(p->badness));
            json_object_object_add(x, "value", num(p->value));
        }
        json_object_object_add(x, "note", json_object_new_string(p->note));
        json_object_object_add(parts, gsm_health_part_name((enum gsm_health_part)i), x);
    }
    json_object_object_add(o, "parts", parts);
    return o;
}

void gsm_health_print_table(const struct gsm_health *h, FILE *out) {
    if (!h->have) {
        fprintf(out, "\nHEALTH: no score (%s)\n", h->parts[GSM_HP_HEADROOM].note[0] ? h->parts[GSM_HP_HEADROOM].note : "no input");
        return;
    }
    fprintf(out, "\nHEALTH %d/100 (%s)", h->score, gsm_health_band_name(h->band));
    if (h->n_missing)
        fprintf(out, "  %u part(s) missing: no penalty taken for them", h->n_missing);
    fputc('\n', out);
    for (int i = 0; i < GSM_HP__COUNT; i++) {
        const struct gsm_health_part_result *p = &h->parts[i];
        if (p->status == GSM_HPS_USED)
            fprintf(out, "  %-11s -%4.1f of %2.0f  %s\n", gsm_health_part_name((enum gsm_health_part)i), p->penalty,
                    p->max_penalty, p->note);
        else
            fprintf(out, "  %-11s  %-10s  %s\n", gsm_health_part_name((enum gsm_health_part)i),
                    p->status == GSM_HPS_MISSING ? "missing" : "n/a", p->note);
    }
}
