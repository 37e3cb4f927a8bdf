#include "model/history.h"

#include <stdlib.h>

const char *gsm_hist_series_name(enum gsm_hist_series s) {
    static const char *const names[GSM_HS__COUNT] = {"value", "usage", "working_set", "unreclaimable", "go_nonheap"};
    return (unsigned)s < GSM_HS__COUNT ? names[s] : "?";
}

void gsm_hist_target_free(struct gsm_hist_target *t) {
    if (!t)
        return;
    free(t->key);
    free(t->type);
    free(t->name);
    free(t->cgroup);
    free(t->rows);
    free(t->events);
    *t = (struct gsm_hist_target){0};
}
