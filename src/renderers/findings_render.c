#include "renderers/findings_render.h"

#include <math.h>

struct json_object *gsm_findings_to_json(const struct gsm_findings *f) {
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < f->n; i++) {
        const struct gsm_finding *x = &f->items[i];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(x->id));
        json_object_object_add(o, "severity", json_object_new_string(gsm_severity_name(x->severity)));
        json_object_object_add(o, "message", json_object_new_string(x->message));
        struct json_object *ev = json_object_new_object();
        for (size_t k = 0; k < x->n_evidence; k++) {
            double v = x->evidence[k].value;
            /* Byte counts and counters are integers; ratios stay fractional. */
            if (v >= 0 && v < 9007199254740992.0 && floor(v) == v)
                json_object_object_add(ev, x->evidence[k].key, json_object_new_uint64((uint64_t)v));
            else
                json_object_object_add(ev, x->evidence[k].key, json_object_new_double(v));
        }
        json_object_object_add(o, "evidence", ev);
        json_object_object_add(o, "advice", json_object_new_string(x->advice));
        json_object_array_add(arr, o);
    }
    return arr;
}

void gsm_findings_print_table(const struct gsm_findings *f, FILE *out) {
    fprintf(out, "\nFINDINGS (%zu)\n", f->n);
    if (f->n == 0)
        fprintf(out, "  none\n");
    for (size_t i = 0; i < f->n; i++) {
        const struct gsm_finding *x = &f->items[i];
        fprintf(out, "  [%s] %s: %s\n", gsm_severity_name(x->severity), x->id, x->message);
        if (x->advice[0])
            fprintf(out, "      advice: %s\n", x->advice);
    }
}
