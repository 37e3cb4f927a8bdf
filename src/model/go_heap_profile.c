#include "model/go_heap_profile.h"

#include <stdlib.h>
#include <string.h>

void gsm_heap_profile_free(struct gsm_heap_profile *hp) {
    if (!hp)
        return;
    free(hp->sample_types);
    free(hp->stacks);
    free(hp->frames_);
    free(hp->values_);
    free(hp->strings_);
    memset(hp, 0, sizeof *hp);
    hp->inuse_space_index = hp->inuse_objects_index = -1;
}
