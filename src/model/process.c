#include "model/process.h"
#include "model/go_build.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void gsm_process_init(struct gsm_process *p, pid_t pid) {
    memset(p, 0, sizeof *p);
    p->pid = pid;
    gsm_strpool_init(&p->pool);
    long ps = sysconf(_SC_PAGESIZE);
    p->page_size = ps > 0 ? (uint64_t)ps : 4096;
}

void gsm_process_free(struct gsm_process *p) {
    for (size_t i = 0; i < p->n_maps; i++)
        free(p->maps[i].extra);
    free(p->rollup.extra);
    free(p->maps);
    free(p->tasks);
    if (p->go) {
        gsm_go_info_free(p->go);
        free(p->go);
    }
    if (p->go_build) {
        gsm_go_buildinfo_free(p->go_build);
        free(p->go_build);
    }
    gsm_strpool_free(&p->pool);
    memset(p, 0, sizeof *p);
}

struct gsm_mapping *gsm_process_add_mapping(struct gsm_process *p) {
    if (p->n_maps == p->cap_maps) {
        size_t n = p->cap_maps ? p->cap_maps * 2 : 64;
        struct gsm_mapping *m = realloc(p->maps, n * sizeof *m);
        if (!m)
            return NULL;
        p->maps = m;
        p->cap_maps = n;
    }
    struct gsm_mapping *m = &p->maps[p->n_maps++];
    memset(m, 0, sizeof *m);
    return m;
}

void gsm_process_note_missing(struct gsm_process *p, const char *what) {
    for (size_t i = 0; i < p->n_missing; i++)
        if (strcmp(p->missing[i], what) == 0)
            return;
    if (p->n_missing < sizeof p->missing / sizeof p->missing[0])
        p->missing[p->n_missing++] = what;
}
