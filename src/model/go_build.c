#include "model/go_build.h"

#include <stdlib.h>
#include <string.h>

void gsm_go_info_free(struct gsm_go_info *g) {
    if (!g)
        return;
    free(g->modinfo);
    g->modinfo = NULL;
}

void gsm_go_module_free(struct gsm_go_module *m) {
    if (!m)
        return;
    free(m->path);
    free(m->version);
    free(m->sum);
    if (m->replace) {
        gsm_go_module_free(m->replace);
        free(m->replace);
    }
    memset(m, 0, sizeof *m);
}

void gsm_go_buildinfo_free(struct gsm_go_buildinfo *bi) {
    free(bi->path);
    gsm_go_module_free(&bi->main);
    for (size_t i = 0; i < bi->n_deps; i++)
        gsm_go_module_free(&bi->deps[i]);
    free(bi->deps);
    for (size_t i = 0; i < bi->n_settings; i++) {
        free(bi->settings[i].key);
        free(bi->settings[i].value);
        free(bi->settings[i].raw);
    }
    free(bi->settings);
    memset(bi, 0, sizeof *bi);
}


const char *gsm_go_buildinfo_setting(const struct gsm_go_buildinfo *bi, const char *key) {
    for (size_t i = 0; i < bi->n_settings; i++)
        if (strcmp(bi->settings[i].key, key) == 0)
            return bi->settings[i].value;
    return NULL;
}
