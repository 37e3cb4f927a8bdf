#include "model/cgroup.h"
#include "util/cleanup.h"

#include <stdlib.h>
#include <string.h>

/* ---- /proc/PID/cgroup ---------------------------------------------------------------- */

void gsm_proc_cgroup_free(struct gsm_proc_cgroup *pc) {
    if (!pc)
        return;
    for (size_t i = 0; i < pc->n_entries; i++) {
        free(pc->entries[i].controllers);
        free(pc->entries[i].path);
    }
    free(pc->entries);
    pc->entries = NULL;
    pc->n_entries = 0;
}

/* Whether the comma-separated list contains exactly `name` ("memory", not "memory_x"). */
static bool list_has(const char *list, const char *name) {
    size_t nl = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == nl && memcmp(p, name, nl) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}

const char *gsm_proc_cgroup_v1_path(const struct gsm_proc_cgroup *pc, const char *controller) {
    for (size_t i = 0; i < pc->n_entries; i++)
        if (pc->entries[i].hierarchy_id != 0 && list_has(pc->entries[i].controllers, controller))
            return pc->entries[i].path;
    return NULL;
}

const char *gsm_proc_cgroup_v2_path(const struct gsm_proc_cgroup *pc) {
    for (size_t i = 0; i < pc->n_entries; i++)
        if (pc->entries[i].hierarchy_id == 0 && pc->entries[i].controllers[0] == '\0')
            return pc->entries[i].path;
    return NULL;
}

/* ---- Location ------------------------------------------------------------------------ */

void gsm_cgroup_location_free(struct gsm_cgroup_location *loc) {
    if (!loc)
        return;
    free(loc->path);
    free(loc->ns_path);
    free(loc->mount_point);
    free(loc->mount_root);
    free(loc->dir);
    free(loc->top_dir);
    memset(loc, 0, sizeof *loc);
}

/* ---- Names and the memory model --------------------------------------------------- */

static void kv_free(struct gsm_cg_kv *kv, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(kv[i].key);
    free(kv);
}

const char *const gsm_cg2_stat_names[GSM_CG2__COUNT] = {
#define X(id, name) [GSM_CG2_##id] = name,
    GSM_CG2_STAT_KEYS(X)
#undef X
};

const char *const gsm_cg1_stat_names[GSM_CG1__COUNT] = {
#define X(id, name) [GSM_CG1_##id] = name,
    GSM_CG1_STAT_KEYS(X)
#undef X
#define X(id, name) [GSM_CG1_TOTAL_##id] = "total_" name,
    GSM_CG1_STAT_KEYS(X)
#undef X
    [GSM_CG1_HIERARCHICAL_MEMORY_LIMIT] = "hierarchical_memory_limit",
    [GSM_CG1_HIERARCHICAL_MEMSW_LIMIT] = "hierarchical_memsw_limit",
};

const char *const gsm_cg_event_names[GSM_CG_EV__COUNT] = {
#define X(id, name) [GSM_CG_EV_##id] = name,
    GSM_CG_EVENT_KEYS(X)
#undef X
};

const char *gsm_cg2_stat_name(enum gsm_cg2_stat k) { return (unsigned)k < GSM_CG2__COUNT ? gsm_cg2_stat_names[k] : NULL; }
const char *gsm_cg1_stat_name(enum gsm_cg1_stat k) { return (unsigned)k < GSM_CG1__COUNT ? gsm_cg1_stat_names[k] : NULL; }
const char *gsm_cg_event_name(enum gsm_cg_event e) { return (unsigned)e < GSM_CG_EV__COUNT ? gsm_cg_event_names[e] : NULL; }

void gsm_cg_stat_free(struct gsm_cg_stat *s) {
    if (!s)
        return;
    kv_free(s->extra, s->n_extra);
    s->extra = NULL;
    s->n_extra = 0;
}

bool gsm_cg_stat_get(const struct gsm_cg_stat *s, const char *key, uint64_t *ret) {
    if (!s->have)
        return false;
    if (s->version == GSM_CGROUP_V2) {
        for (size_t i = 0; i < GSM_CG2__COUNT; i++)
            if (s->have_v2[i] && strcmp(gsm_cg2_stat_names[i], key) == 0) {
                *ret = s->v2[i];
                return true;
            }
    } else {
        for (size_t i = 0; i < GSM_CG1__COUNT; i++)
            if (s->have_v1[i] && strcmp(gsm_cg1_stat_names[i], key) == 0) {
                *ret = s->v1[i];
                return true;
            }
    }
    for (size_t i = 0; i < s->n_extra; i++)
        if (strcmp(s->extra[i].key, key) == 0) {
            *ret = s->extra[i].value;
            return true;
        }
    return false;
}

void gsm_cg_events_free(struct gsm_cg_events *e) {
    if (!e)
        return;
    kv_free(e->extra, e->n_extra);
    e->extra = NULL;
    e->n_extra = 0;
}

/* ---- Reading a cgroup directory ------------------------------------------------------ */

#define V2(n, k, f) {n, GSM_CGROUP_V2, k, offsetof(struct gsm_cgroup_memory, f)}
#define V1(n, k, f) {n, GSM_CGROUP_V1, k, offsetof(struct gsm_cgroup_memory, f)}
const struct gsm_cg_file_spec gsm_cg_memory_files[] = {
    V2("memory.current", GSM_CG_FILE_VALUE, usage_bytes),
    V2("memory.peak", GSM_CG_FILE_VALUE, peak_bytes),
    V2("memory.max", GSM_CG_FILE_LIMIT, max),
    V2("memory.high", GSM_CG_FILE_LIMIT, high),
    V2("memory.low", GSM_CG_FILE_LIMIT, low),
    V2("memory.min", GSM_CG_FILE_LIMIT, min),
    V2("memory.swap.current", GSM_CG_FILE_VALUE, swap_usage_bytes),
    V2("memory.swap.max", GSM_CG_FILE_LIMIT, swap_max),
    V2("memory.swap.peak", GSM_CG_FILE_VALUE, swap_peak_bytes),
    V2("memory.oom.group", GSM_CG_FILE_VALUE, oom_group),
    V1("memory.usage_in_bytes", GSM_CG_FILE_VALUE, usage_bytes),
    V1("memory.max_usage_in_bytes", GSM_CG_FILE_VALUE, peak_bytes),
    V1("memory.limit_in_bytes", GSM_CG_FILE_LIMIT, max),
    V1("memory.soft_limit_in_bytes", GSM_CG_FILE_LIMIT, soft_limit),
    V1("memory.failcnt", GSM_CG_FILE_VALUE, failcnt),
    V1("memory.memsw.usage_in_bytes", GSM_CG_FILE_VALUE, memsw_usage_bytes),
    V1("memory.memsw.limit_in_bytes", GSM_CG_FILE_LIMIT, memsw_limit),
    V1("memory.memsw.max_usage_in_bytes", GSM_CG_FILE_VALUE, memsw_max_usage_bytes),
    V1("memory.memsw.failcnt", GSM_CG_FILE_VALUE, memsw_failcnt),
    V1("memory.kmem.usage_in_bytes", GSM_CG_FILE_VALUE, kmem_usage_bytes),
    V1("memory.kmem.tcp.usage_in_bytes", GSM_CG_FILE_VALUE, kmem_tcp_usage_bytes),
    V1("memory.use_hierarchy", GSM_CG_FILE_VALUE, use_hierarchy),
};
#undef V1
#undef V2
const size_t gsm_cg_n_memory_files = ELEMENTSOF(gsm_cg_memory_files);

static bool was_unparsable(const struct gsm_cgroup_memory *m, const char *name) {
    for (unsigned i = 0; i < m->n_unparsable && i < ELEMENTSOF(m->unparsable); i++)
        if (strcmp(m->unparsable[i], name) == 0)
            return true;
    return false;
}

size_t gsm_cgroup_memory_absent(const struct gsm_cgroup_memory *m, const char **names, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < gsm_cg_n_memory_files && n < max; i++) {
        const struct gsm_cg_file_spec *f = &gsm_cg_memory_files[i];
        if (f->version != m->version)
            continue;
        /* struct gsm_cg_value and struct gsm_cg_limit both start with `bool have`. */
        bool have;
        memcpy(&have, (const char *)m + f->offset, sizeof have);
        if (!have && !was_unparsable(m, f->name))
            names[n++] = f->name;
    }
    if (m->version == GSM_CGROUP_V2) {
        if (!m->events.have && n < max && !was_unparsable(m, "memory.events"))
            names[n++] = "memory.events";
        if (!m->events_local.have && n < max && !was_unparsable(m, "memory.events.local"))
            names[n++] = "memory.events.local";
        if (!m->pressure.have && n < max && !was_unparsable(m, "memory.pressure"))
            names[n++] = "memory.pressure";
    } else if (!m->oom_control.have && n < max && !was_unparsable(m, "memory.oom_control"))
        names[n++] = "memory.oom_control";
    if (!m->stat.have && n < max && !was_unparsable(m, "memory.stat"))
        names[n++] = "memory.stat";
    return n;
}

void gsm_cgroup_memory_free(struct gsm_cgroup_memory *m) {
    if (!m)
        return;
    gsm_cg_events_free(&m->events);
    gsm_cg_events_free(&m->events_local);
    gsm_cg_stat_free(&m->stat);
}

void gsm_cg_ancestry_free(struct gsm_cg_ancestry *a) {
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free((char *)a->levels[i].path);
    free(a->levels);
    *a = (struct gsm_cg_ancestry){0};
}
