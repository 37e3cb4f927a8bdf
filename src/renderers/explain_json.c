#include "renderers/explain_render.h"
#include "model/go_build.h"
#include "renderers/json_text.h"
#include "util/cleanup.h"

#include <stdlib.h>
#include <string.h>

static void add_u64(struct json_object *o, const char *k, uint64_t v) {
    json_object_object_add(o, k, json_object_new_uint64(v));
}
static void add_i64(struct json_object *o, const char *k, int64_t v) {
    json_object_object_add(o, k, json_object_new_int64(v));
}
static void add_str(struct json_object *o, const char *k, const char *v) {
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static struct json_object *class_totals_json(const struct gsm_class_totals *c) {
    struct json_object *o = json_object_new_object();
    add_u64(o, "rss_bytes", c->rss_bytes);
    add_u64(o, "pss_bytes", c->pss_bytes);
    add_u64(o, "anon_bytes", c->anon_bytes);
    add_u64(o, "file_bytes", c->file_bytes);
    add_u64(o, "shmem_bytes", c->shmem_bytes);
    add_u64(o, "swap_bytes", c->swap_bytes);
    add_u64(o, "swap_pss_bytes", c->swap_pss_bytes);
    add_u64(o, "lazyfree_bytes", c->lazyfree_bytes);
    add_u64(o, "anon_huge_pages_bytes", c->anon_huge_bytes);
    add_u64(o, "private_dirty_bytes", c->private_dirty_bytes);
    add_u64(o, "locked_bytes", c->locked_bytes);
    add_u64(o, "uss_bytes", c->uss_bytes);
    add_u64(o, "size_bytes", c->size_bytes);
    add_u64(o, "mappings", c->n_mappings);
    return o;
}

/* smaps key "Pss_Anon" -> JSON key "pss_anon_bytes"; "THPeligible" -> "thp_eligible". */
static void field_key(enum gsm_smaps_field f, char *buf, size_t size) {
    static const char *const keys[GSM_F__COUNT] = {
        [GSM_F_SIZE] = "size", [GSM_F_KERNEL_PAGE_SIZE] = "kernel_page_size",
        [GSM_F_MMU_PAGE_SIZE] = "mmu_page_size", [GSM_F_RSS] = "rss", [GSM_F_PSS] = "pss",
        [GSM_F_PSS_DIRTY] = "pss_dirty", [GSM_F_PSS_ANON] = "pss_anon", [GSM_F_PSS_FILE] = "pss_file",
        [GSM_F_PSS_SHMEM] = "pss_shmem", [GSM_F_SHARED_CLEAN] = "shared_clean",
        [GSM_F_SHARED_DIRTY] = "shared_dirty", [GSM_F_PRIVATE_CLEAN] = "private_clean",
        [GSM_F_PRIVATE_DIRTY] = "private_dirty", [GSM_F_REFERENCED] = "referenced",
        [GSM_F_ANONYMOUS] = "anonymous", [GSM_F_KSM] = "ksm", [GSM_F_LAZYFREE] = "lazyfree",
        [GSM_F_ANON_HUGE_PAGES] = "anon_huge_pages", [GSM_F_SHMEM_PMD_MAPPED] = "shmem_pmd_mapped",
        [GSM_F_FILE_PMD_MAPPED] = "file_pmd_mapped", [GSM_F_SHARED_HUGETLB] = "shared_hugetlb",
        [GSM_F_PRIVATE_HUGETLB] = "private_hugetlb", [GSM_F_SWAP] = "swap", [GSM_F_SWAP_PSS] = "swap_pss",
        [GSM_F_LOCKED] = "locked", [GSM_F_THP_ELIGIBLE] = "thp_eligible",
        [GSM_F_PROTECTION_KEY] = "protection_key",
    };
    snprintf(buf, size, "%s%s", keys[f], gsm_smaps_field_is_kb(f) ? "_bytes" : "");
}

static struct json_object *fields_json(const struct gsm_mapping *m) {
    struct json_object *o = json_object_new_object();
    char key[48];
    for (int f = 0; f < GSM_F__COUNT; f++) {
        if (!(m->present & (UINT64_C(1) << f)))
            continue;
        field_key(f, key, sizeof key);
        add_u64(o, key, m->f[f]);
    }
    if (m->n_extra) {
        struct json_object *x = json_object_new_object();
        for (uint32_t i = 0; i < m->n_extra; i++)
            add_u64(x, m->extra[i].key, m->extra[i].value);
        json_object_object_add(o, "unknown_fields", x);
    }
    return o;
}

static struct json_object *mapping_json(const struct gsm_mapping *m, enum gsm_allocator alloc, bool all_fields) {
    struct json_object *o = json_object_new_object();
    char buf[32];
    snprintf(buf, sizeof buf, "%llx", (unsigned long long)m->start);
    add_str(o, "start", buf);
    snprintf(buf, sizeof buf, "%llx", (unsigned long long)m->end);
    add_str(o, "end", buf);
    add_str(o, "perms", m->perms);
    add_u64(o, "offset", m->offset);
    snprintf(buf, sizeof buf, "%02x:%02x", m->dev_major, m->dev_minor);
    add_str(o, "dev", buf);
    add_u64(o, "inode", m->inode);
    add_str(o, "path", m->path);
    if (m->deleted)
        json_object_object_add(o, "deleted", json_object_new_boolean(1));
    add_str(o, "class", gsm_class_name(m->cls));
    add_str(o, "class_reason", m->class_reason);
    if (m->cls == GSM_CLASS_NATIVE_HEAP && gsm_allocator_name(alloc))
        add_str(o, "allocator", gsm_allocator_name(alloc));
    if (all_fields) {
        json_object_object_add(o, "smaps", fields_json(m));
        add_str(o, "vmflags", m->vmflags);
    } else {
        add_u64(o, "size_bytes", m->end - m->start);
        add_u64(o, "rss_bytes", m->f[GSM_F_RSS]);
        add_u64(o, "pss_bytes", m->f[GSM_F_PSS]);
        add_u64(o, "anon_bytes", m->f[GSM_F_ANONYMOUS]);
        add_u64(o, "swap_bytes", m->f[GSM_F_SWAP]);
    }
    return o;
}

static struct json_object *module_json(const struct gsm_go_module *m) {
    struct json_object *o = json_object_new_object();
    add_str(o, "path", m->path);
    add_str(o, "version", m->version);
    add_str(o, "sum", m->sum && m->sum[0] ? m->sum : NULL);
    if (m->replace)
        json_object_object_add(o, "replace", module_json(m->replace));
    return o;
}

static struct json_object *target_json(const struct gsm_process *p) {
    struct json_object *t = json_object_new_object();
    add_i64(t, "pid", p->pid);
    add_str(t, "name", p->have_status ? p->status.name : NULL);
    add_str(t, "comm", p->have_stat ? p->stat.comm : NULL);
    if (p->have_status) {
        add_i64(t, "ppid", p->status.ppid);
        add_i64(t, "uid", p->status.uid_real);
        add_u64(t, "threads", p->status.threads);
    }
    if (p->have_stat)
        add_u64(t, "start_time_ticks", p->stat.starttime_ticks);
    add_str(t, "exe", p->exe_path[0] ? p->exe_path : NULL);
    if (p->have_smaps)   /* from the mapped libraries (analyses/classify): null when none recognised */
        add_str(t, "allocator", gsm_allocator_name(p->allocator));
    if (p->exe_deleted)
        json_object_object_add(t, "exe_deleted", json_object_new_boolean(1));
    if (p->have_oom) {
        add_i64(t, "oom_score", p->oom_score);
        add_i64(t, "oom_score_adj", p->oom_score_adj);
    }
    struct json_object *go = json_object_new_object();
    json_object_object_add(go, "is_go", json_object_new_boolean(p->go != NULL));
    if (p->go) {
        add_str(go, "version", p->go->go_version);
        add_str(go, "goarch", p->go->goarch[0] ? p->go->goarch : NULL);
        add_str(go, "main_package", p->go->main_path[0] ? p->go->main_path : NULL);
    }
    if (p->go_build) {
        const struct gsm_go_buildinfo *bi = p->go_build;
        json_object_object_add(go, "main_module", module_json(&bi->main));
        struct json_object *deps = json_object_new_array();
        for (size_t i = 0; i < bi->n_deps; i++)
            json_object_array_add(deps, module_json(&bi->deps[i]));
        json_object_object_add(go, "deps", deps);
        struct json_object *set = json_object_new_object();
        for (size_t i = 0; i < bi->n_settings; i++)
            add_str(set, bi->settings[i].key, bi->settings[i].value);
        json_object_object_add(go, "build_settings", set);
    }
    json_object_object_add(t, "go", go);
    return t;
}

static struct json_object *status_json(const struct gsm_process *p) {
    struct json_object *o = json_object_new_object();
    const struct gsm_status *s = &p->status;
    add_u64(o, "vm_rss_bytes", s->vm_rss_bytes);
    add_u64(o, "vm_hwm_bytes", s->vm_hwm_bytes);
    add_u64(o, "vm_size_bytes", s->vm_size_bytes);
    add_u64(o, "vm_peak_bytes", s->vm_peak_bytes);
    if (s->has_rss_split) {
        add_u64(o, "rss_anon_bytes", s->rss_anon_bytes);
        add_u64(o, "rss_file_bytes", s->rss_file_bytes);
        add_u64(o, "rss_shmem_bytes", s->rss_shmem_bytes);
    }
    add_u64(o, "vm_data_bytes", s->vm_data_bytes);
    add_u64(o, "vm_stk_bytes", s->vm_stk_bytes);
    add_u64(o, "vm_exe_bytes", s->vm_exe_bytes);
    add_u64(o, "vm_lib_bytes", s->vm_lib_bytes);
    add_u64(o, "vm_pte_bytes", s->vm_pte_bytes);
    add_u64(o, "vm_swap_bytes", s->vm_swap_bytes);
    add_u64(o, "vm_lck_bytes", s->vm_lck_bytes);
    add_u64(o, "hugetlb_bytes", s->hugetlb_pages_bytes);
    return o;
}

static struct json_object *reconcile_json(const struct gsm_process *p, const struct gsm_totals *t) {
    struct json_object *o = json_object_new_object();
    struct gsm_reconcile_row rows[GSM_F__COUNT];
    bool ok;
    size_t n = gsm_reconcile_rollup(p, t, rows, &ok);
    json_object_object_add(o, "consistent", json_object_new_boolean(ok));
    add_str(o, "rule", "page-counted fields: rollup == sum of mappings; proportional fields "
                       "(Pss, Pss_Dirty, SwapPss, Locked): 0 <= rollup - sum < mappings x 1 KiB");
    struct json_object *arr = json_object_new_array();
    char key[48];
    for (size_t i = 0; i < n; i++) {
        struct json_object *r = json_object_new_object();
        field_key(rows[i].field, key, sizeof key);
        add_str(r, "field", key);
        add_u64(r, "mappings_sum_bytes", rows[i].mappings_sum_bytes);
        add_u64(r, "rollup_bytes", rows[i].rollup_bytes);
        add_i64(r, "difference_bytes", (int64_t)(rows[i].rollup_bytes - rows[i].mappings_sum_bytes));
        json_object_object_add(r, "proportional", json_object_new_boolean(rows[i].proportional));
        json_object_object_add(r, "ok", json_object_new_boolean(rows[i].ok));
        json_object_array_add(arr, r);
    }
    json_object_object_add(o, "fields", arr);
    struct json_object *only = json_object_new_object();
    add_u64(only, "pss_anon_bytes", p->rollup.f[GSM_F_PSS_ANON]);
    add_u64(only, "pss_file_bytes", p->rollup.f[GSM_F_PSS_FILE]);
    add_u64(only, "pss_shmem_bytes", p->rollup.f[GSM_F_PSS_SHMEM]);
    json_object_object_add(o, "rollup_only", only);
    return o;
}

struct json_object *gsm_explain_to_json(const struct gsm_explain_view *v) {
    const struct gsm_process *p = v->proc;
    const struct gsm_totals *t = v->totals;
    struct json_object *root = json_object_new_object();
    if (!root)
        return NULL;
    add_str(root, "schema", "gsmapper.explain/v1");
    add_u64(root, "taken_ms", v->taken_ms);
    json_object_object_add(root, "target", target_json(p));

    bool complete = p->n_missing == 0;
    json_object_object_add(root, "complete", json_object_new_boolean(complete));
    struct json_object *missing = json_object_new_array();
    for (size_t i = 0; i < p->n_missing; i++)
        json_object_array_add(missing, json_object_new_string(p->missing[i]));
    json_object_object_add(root, "missing", missing);

    if (p->have_status)
        json_object_object_add(root, "status", status_json(p));

    if (p->have_smaps) {
        struct json_object *tot = class_totals_json(&t->all);
        if (t->saturated)   /* present only then: a sum reached 2^64 - 1 and was held there */
            json_object_object_add(tot, "saturated", json_object_new_boolean(true));
        json_object_object_add(root, "totals", tot);
        struct json_object *classes = json_object_new_array();
        for (int c = 0; c < GSM_CLASS__COUNT; c++) {
            if (t->cls[c].n_mappings == 0)
                continue;
            struct json_object *o = class_totals_json(&t->cls[c]);
            json_object_object_add(o, "class", json_object_new_string(gsm_class_name(c)));
            if (c == GSM_CLASS_NATIVE_HEAP && gsm_allocator_name(p->allocator))
                add_str(o, "allocator", gsm_allocator_name(p->allocator));
            json_object_array_add(classes, o);
        }
        json_object_object_add(root, "classes", classes);

        const size_t *idx = t->top, n = gsm_explain_top_count(v);
        struct json_object *top = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(top, mapping_json(&p->maps[idx[i]], p->allocator, false));
        json_object_object_add(root, "largest_mappings", top);

        if (p->have_rollup)
            json_object_object_add(root, "rollup", reconcile_json(p, t));
        if (v->with_mappings) {
            struct json_object *all = json_object_new_array_ext((int)p->n_maps);
            for (size_t i = 0; i < p->n_maps; i++)
                json_object_array_add(all, mapping_json(&p->maps[i], p->allocator, true));
            json_object_object_add(root, "mappings", all);
        }
    }
    return root;
}

int gsm_json_print(struct json_object *o, FILE *out) {
    return gsm_json_write(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, out);
}

int gsm_explain_print_json(const struct gsm_explain_view *v, FILE *out) {
    struct json_object *o = gsm_explain_to_json(v);
    if (!o)
        return -ENOMEM;
    if (v->cgroup_json)
        json_object_object_add(o, "cgroup", json_object_get(v->cgroup_json));
    else if (v->cgroup_unavailable) {
        json_object_object_add(o, "cgroup", NULL);
        json_object_object_add(o, "cgroup_unavailable", json_object_new_string(v->cgroup_unavailable));
    }
    if (v->go_json)
        json_object_object_add(o, "go_runtime", json_object_get(v->go_json));
    else if (v->go_unavailable) {
        json_object_object_add(o, "go_runtime", NULL);
        json_object_object_add(o, "go_runtime_unavailable", json_object_new_string(v->go_unavailable));
    }
    if (v->env_json)
        json_object_object_add(o, "go_env", json_object_get(v->env_json));
    if (v->with_health)
        json_object_object_add(o, "health", v->health_json ? json_object_get(v->health_json) : NULL);
    if (v->findings_json)
        json_object_object_add(o, "findings", json_object_get(v->findings_json));
    int r = gsm_json_print(o, out);
    json_object_put(o);
    return r;
}
