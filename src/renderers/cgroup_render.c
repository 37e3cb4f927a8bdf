#include "renderers/cgroup_render.h"
#include "util/units.h"

#include <string.h>

static void add_u64(struct json_object *o, const char *k, uint64_t v) {
    json_object_object_add(o, k, json_object_new_uint64(v));
}
static void add_str(struct json_object *o, const char *k, const char *v) {
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}
static void add_value(struct json_object *o, const char *k, const struct gsm_cg_value *v) {
    json_object_object_add(o, k, v->have ? json_object_new_uint64(v->value) : NULL);
}
/* A limit: its bytes, or null when unlimited or absent (absence is listed in "absent"). */
static void add_limit(struct json_object *o, const char *k, const struct gsm_cg_limit *l) {
    json_object_object_add(o, k, l->have && !l->unlimited ? json_object_new_uint64(l->bytes) : NULL);
}

static struct json_object *binding_json(const struct gsm_cg_binding *b) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "bytes", b->limited ? json_object_new_uint64(b->bytes) : NULL);
    json_object_object_add(o, "level", b->limited ? json_object_new_uint64(b->level) : NULL);
    add_str(o, "path", b->limited ? b->path : NULL);
    if (b->unknown)   /* present only then: a level's file was malformed */
        json_object_object_add(o, "unknown", json_object_new_boolean(true));
    return o;
}

static struct json_object *psi_json(const struct gsm_psi_line *l) {
    if (!l->have)
        return NULL;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "avg10_pct", json_object_new_double(l->avg10_pct));
    json_object_object_add(o, "avg60_pct", json_object_new_double(l->avg60_pct));
    json_object_object_add(o, "avg300_pct", json_object_new_double(l->avg300_pct));
    add_u64(o, "total_us", l->total_us);
    return o;
}

static struct json_object *events_json(const struct gsm_cg_events *e) {
    struct json_object *o = json_object_new_object();
    for (int i = 0; i < GSM_CG_EV__COUNT; i++)
        if (e->have_key[i])
            add_u64(o, gsm_cg_event_name(i), e->count[i]);
    for (size_t i = 0; i < e->n_extra; i++)
        add_u64(o, e->extra[i].key, e->extra[i].value);
    return o;
}

static struct json_object *stat_json(const struct gsm_cg_stat *s) {
    struct json_object *o = json_object_new_object();
    if (s->version == GSM_CGROUP_V2) {
        for (int i = 0; i < GSM_CG2__COUNT; i++)
            if (s->have_v2[i])
                add_u64(o, gsm_cg2_stat_name(i), s->v2[i]);
    } else {
        for (int i = 0; i < GSM_CG1__COUNT; i++)
            if (s->have_v1[i])
                add_u64(o, gsm_cg1_stat_name(i), s->v1[i]);
    }
    for (size_t i = 0; i < s->n_extra; i++)
        add_u64(o, s->extra[i].key, s->extra[i].value);
    return o;
}

static struct json_object *breakdown_json(const struct gsm_cg_breakdown *bd) {
    struct json_object *o = json_object_new_object();
    add_u64(o, "usage_bytes", bd->usage_bytes);
    add_str(o, "usage_formula", bd->usage_formula);
    struct json_object *parts = json_object_new_array();
    for (int p = 0; p < GSM_CG_PART__COUNT; p++) {
        const struct gsm_cg_part_item *it = &bd->parts[p];
        if (!it->have)
            continue;
        struct json_object *x = json_object_new_object();
        add_str(x, "name", it->name);
        add_u64(x, "bytes", it->bytes);
        json_object_object_add(x, "reclaimable", json_object_new_boolean(it->reclaimable));
        json_object_object_add(x, "kernel", json_object_new_boolean(it->kernel));
        add_str(x, "formula", it->formula);
        json_object_array_add(parts, x);
    }
    json_object_object_add(o, "parts", parts);
    json_object_object_add(o, "overcounted", json_object_new_boolean(bd->overcounted));
    if (bd->saturated)   /* present only then: a sum reached 2^64 - 1 and was held there */
        json_object_object_add(o, "saturated", json_object_new_boolean(true));
    if (bd->overcounted)
        add_u64(o, "excess_bytes", bd->excess_bytes);
    add_u64(o, "working_set_bytes", bd->working_set_bytes);
    add_str(o, "working_set_formula", bd->working_set_formula);
    add_u64(o, "reclaimable_bytes", bd->reclaimable_bytes);
    add_str(o, "reclaimable_formula", bd->reclaimable_formula);
    add_u64(o, "unreclaimable_bytes", bd->unreclaimable_bytes);
    add_u64(o, "anon_swappable_bytes", bd->anon_swappable_bytes);
    add_value(o, "swap_bytes", &bd->swap_bytes);
    add_str(o, "swap_formula", bd->swap_formula);
    return o;
}

static struct json_object *identity_json(const struct gsm_container_identity *id) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "kubernetes", json_object_new_boolean(id->in_kubernetes));
    add_str(o, "pod_uid", id->pod_uid[0] ? id->pod_uid : NULL);
    add_str(o, "qos_class", id->qos != GSM_QOS_NONE ? gsm_k8s_qos_name(id->qos) : NULL);
    add_str(o, "runtime", id->runtime != GSM_RUNTIME_NONE ? gsm_container_runtime_name(id->runtime) : NULL);
    add_str(o, "container_id", id->container_id[0] ? id->container_id : NULL);
    if (id->runtime_helper)
        json_object_object_add(o, "runtime_helper", json_object_new_boolean(1));
    add_str(o, "systemd_unit", id->unit[0] ? id->unit : NULL);
    add_str(o, "systemd_slice", id->slice[0] ? id->slice : NULL);
    return o;
}

struct json_object *gsm_cgroup_to_json(const struct gsm_cgroup_report *r) {
    const struct gsm_cgroup_memory *m = &r->mem;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_int(r->loc.version));
    add_str(o, "path", r->loc.path);
    /* Only when the path was resolved across our cgroup namespace ("/../../x" as printed). */
    if (r->loc.ns_path)
        add_str(o, "ns_path", r->loc.ns_path);
    add_str(o, "mount_point", r->loc.mount_point);
    add_value(o, "usage_bytes", &m->usage_bytes);
    add_value(o, "peak_bytes", &m->peak_bytes);

    struct json_object *lim = json_object_new_object();
    add_limit(lim, "max_bytes", &m->max);
    if (m->version == GSM_CGROUP_V2) {
        add_limit(lim, "high_bytes", &m->high);
        add_limit(lim, "low_bytes", &m->low);
        add_limit(lim, "min_bytes", &m->min);
        add_limit(lim, "swap_max_bytes", &m->swap_max);
    } else {
        add_limit(lim, "soft_limit_bytes", &m->soft_limit);
        add_limit(lim, "memsw_limit_bytes", &m->memsw_limit);
    }
    json_object_object_add(o, "limits", lim);

    if (r->have_eff) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "max", binding_json(&r->eff.max));
        json_object_object_add(e, "high", binding_json(&r->eff.high));
        add_u64(e, "levels_read", r->eff.n_levels);
        json_object_object_add(e, "complete", json_object_new_boolean(r->eff.complete));
        json_object_object_add(o, "effective_limit", e);
    }

    /* Events: v2 memory.events as the kernel names them; v1 has only oom_control's oom_kill
     * counter and failcnt (times usage hit the limit). */
    if (m->version == GSM_CGROUP_V2) {
        json_object_object_add(o, "events", m->events.have ? events_json(&m->events) : NULL);
        json_object_object_add(o, "events_local", m->events_local.have ? events_json(&m->events_local) : NULL);
        struct json_object *p = NULL;
        if (m->pressure.have) {
            p = json_object_new_object();
            json_object_object_add(p, "some", psi_json(&m->pressure.some));
            json_object_object_add(p, "full", psi_json(&m->pressure.full));
        }
        json_object_object_add(o, "pressure", p);
        add_value(o, "oom_group", &m->oom_group);
        add_value(o, "swap_usage_bytes", &m->swap_usage_bytes);
    } else {
        struct json_object *ev = json_object_new_object();
        if (m->oom_control.have_oom_kill)
            add_u64(ev, "oom_kill", m->oom_control.oom_kill);
        json_object_object_add(o, "events", ev);
        add_value(o, "failcnt", &m->failcnt);
        if (m->oom_control.have) {
            json_object_object_add(o, "under_oom", json_object_new_boolean(m->oom_control.under_oom));
            json_object_object_add(o, "oom_kill_disable", json_object_new_boolean(m->oom_control.oom_kill_disable));
        }
        add_value(o, "memsw_usage_bytes", &m->memsw_usage_bytes);
        add_value(o, "kmem_usage_bytes", &m->kmem_usage_bytes);
    }
    if (r->have_bd)
        json_object_object_add(o, "breakdown", breakdown_json(&r->bd));
    json_object_object_add(o, "identity", identity_json(&r->id));
    json_object_object_add(o, "stat", m->stat.have ? stat_json(&m->stat) : NULL);

    const char *absent[32];
    size_t n = gsm_cgroup_memory_absent(m, absent, 32);
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(absent[i]));
    json_object_object_add(o, "absent", a);
    struct json_object *bad = json_object_new_array();
    for (unsigned i = 0; i < m->n_unparsable && i < sizeof m->unparsable / sizeof m->unparsable[0]; i++)
        json_object_array_add(bad, json_object_new_string(m->unparsable[i]));
    json_object_object_add(o, "malformed", bad);
    return o;
}

void gsm_cgroup_members_to_json(const struct gsm_cgroup_report *r, struct json_object *root) {
    struct json_object *procs = json_object_new_array();
    for (size_t i = 0; i < r->n_members; i++) {
        const struct gsm_cgroup_member *mb = &r->members[i];
        const struct gsm_process *p = &mb->proc;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "pid", json_object_new_int(p->pid));
        add_str(o, "name", p->status.name);
        add_u64(o, "rss_bytes", mb->have_smaps ? mb->totals.all.rss_bytes : p->status.vm_rss_bytes);
        json_object_object_add(o, "pss_bytes", mb->have_smaps ? json_object_new_uint64(mb->totals.all.pss_bytes) : NULL);
        /* USS: Private_Clean + Private_Dirty, what goes away if the process exits. */
        json_object_object_add(o, "uss_bytes", mb->have_smaps ? json_object_new_uint64(mb->totals.all.uss_bytes) : NULL);
        json_object_object_add(o, "file_pss_bytes", mb->have_smaps ? json_object_new_uint64(mb->file_pss_bytes) : NULL);
        json_object_object_add(o, "complete", json_object_new_boolean(mb->complete));
        if (!mb->complete)
            add_str(o, "reason", mb->reason);
        add_u64(o, "swap_bytes", p->status.vm_swap_bytes);
        add_u64(o, "page_tables_bytes", p->status.vm_pte_bytes);
        if (p->have_oom) {
            json_object_object_add(o, "oom_score", json_object_new_int64(p->oom_score));
            json_object_object_add(o, "oom_score_adj", json_object_new_int64(p->oom_score_adj));
        }
        add_u64(o, "oom_badness_pages", mb->badness_pages);
        json_object_object_add(o, "is_go", json_object_new_boolean(p->go != NULL));
        if (mb->have_smaps) {
            struct json_object *c = json_object_new_object();
            for (int k = 0; k < GSM_CLASS__COUNT; k++)
                if (mb->totals.cls[k].n_mappings)
                    add_u64(c, gsm_class_name(k), mb->totals.cls[k].rss_bytes);
            json_object_object_add(o, "class_rss_bytes", c);
        } else
            json_object_object_add(o, "missing", json_object_new_string("smaps"));
        json_object_array_add(procs, o);
    }
    json_object_object_add(root, "processes", procs);
    add_u64(root, "processes_gone", r->n_members_gone);

    struct gsm_reconcile_item items[GSM_RECONCILE_MAX];
    bool saturated = false;
    size_t n = gsm_cgroup_reconcile(r, items, &saturated);
    if (n) {
        struct json_object *rec = json_object_new_object();
        if (saturated)   /* present only then: a sum reached 2^64 - 1 and was held there */
            json_object_object_add(rec, "saturated", json_object_new_boolean(true));
        add_value(rec, "usage_bytes", &r->mem.usage_bytes);
        struct json_object *arr = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
            struct json_object *x = json_object_new_object();
            add_str(x, "name", items[i].name);
            add_u64(x, "bytes", items[i].bytes);
            add_str(x, "note", items[i].note);
            json_object_array_add(arr, x);
        }
        json_object_object_add(rec, "items", arr);
        json_object_object_add(root, "reconciliation", rec);
    }

    struct json_object *f = json_object_new_object();
    bool group = r->mem.oom_group.have && r->mem.oom_group.value;
    json_object_object_add(f, "oom_group", json_object_new_boolean(group));
    if (r->victim >= 0) {
        const struct gsm_cgroup_member *v = &r->members[r->victim];
        json_object_object_add(f, "victim_pid", json_object_new_int(v->proc.pid));
        add_str(f, "victim_name", v->proc.status.name);
        add_u64(f, "badness_pages", v->badness_pages);
        add_str(f, "rule", "mm/oom_kill.c oom_badness(): rss + swap + page tables (pages) + "
                           "oom_score_adj x limit_pages / 1000; the largest is killed, adj -1000 never");
        add_str(f, "why", group ? "memory.oom.group=1: the kernel kills every process of the cgroup together"
                                : "largest rss + swap + page tables after oom_score_adj");
    } else
        json_object_object_add(f, "victim_pid", NULL);
    json_object_object_add(root, "oom_forecast", f);
}

#define B(i, x) gsm_fmt_bytes((x), bufs[i], sizeof bufs[i])

static void limit_str(const struct gsm_cg_limit *l, char *buf, size_t size) {
    if (l->malformed)
        snprintf(buf, size, "malformed");
    else if (!l->have)
        snprintf(buf, size, "absent");
    else if (l->unlimited)
        snprintf(buf, size, "unlimited");
    else
        gsm_fmt_bytes(l->bytes, buf, size);
}

void gsm_cgroup_print_table(const struct gsm_cgroup_report *r, FILE *out) {
    const struct gsm_cgroup_memory *m = &r->mem;
    char bufs[4][16], lim[16];
    fprintf(out, "\nCGROUP v%d %s\n", r->loc.version, r->loc.path);
    if (r->loc.ns_path)
        fprintf(out, "(shown in /proc as %s: outside gsmapper's cgroup namespace)\n", r->loc.ns_path);
    limit_str(&m->max, lim, sizeof lim);
    fprintf(out, "usage %s  limit %s", m->usage_bytes.have ? B(0, m->usage_bytes.value) : "?", lim);
    if (m->peak_bytes.have)
        fprintf(out, "  peak %s", B(1, m->peak_bytes.value));
    fputc('\n', out);
    if (r->have_eff) {
        if (r->eff.max.limited)
            fprintf(out, "effective limit %s, set %s (%s)%s\n", B(0, r->eff.max.bytes),
                    r->eff.max.level == 0 ? "on this cgroup" : "by an ancestor",
                    r->eff.max.path ? r->eff.max.path : "level not visible",
                    r->eff.max.unknown ? "; a limit file on the path is malformed: a smaller limit may be set there" : "");
        else if (r->eff.max.unknown)
            fprintf(out, "effective limit: unknown (a limit file on the path is malformed)\n");
        else
            fprintf(out, "effective limit: none on the path to the root%s\n", r->eff.complete ? "" : " (as far as visible)");
        if (r->eff.high.limited)
            fprintf(out, "effective memory.high %s (%s)\n", B(0, r->eff.high.bytes), r->eff.high.path ? r->eff.high.path : "?");
    }
    if (r->have_bd) {
        const struct gsm_cg_breakdown *bd = &r->bd;
        fprintf(out, "working set %s (%s)  reclaimable %s  unreclaimable %s\n", B(0, bd->working_set_bytes),
                bd->working_set_formula, B(1, bd->reclaimable_bytes), B(2, bd->unreclaimable_bytes));
        fprintf(out, "%-20s %10s  %s\n", "PART", "SIZE", "FORMULA");
        for (int p = 0; p < GSM_CG_PART__COUNT; p++) {
            const struct gsm_cg_part_item *it = &bd->parts[p];
            if (!it->have)
                continue;
            fprintf(out, "%-20s %10s  %s%s%s\n", it->name, B(0, it->bytes), it->formula,
                    it->reclaimable ? "  [reclaimable]" : "", it->kernel ? "  [kernel]" : "");
        }
        if (bd->swap_bytes.have)
            fprintf(out, "%-20s %10s  %s\n", "swap", B(0, bd->swap_bytes.value), bd->swap_formula);
        if (bd->saturated)
            fprintf(out, "(a sum of the parts reached 2^64 - 1 and was held there: memory.stat is malformed)\n");
    }
    if (m->version == GSM_CGROUP_V2 && m->events.have) {
        fprintf(out, "events:");
        for (int i = 0; i < GSM_CG_EV__COUNT; i++)
            if (m->events.have_key[i])
                fprintf(out, " %s %llu", gsm_cg_event_name(i), (unsigned long long)m->events.count[i]);
        fputc('\n', out);
    } else if (m->version == GSM_CGROUP_V1) {
        fprintf(out, "events:");
        if (m->oom_control.have_oom_kill)
            fprintf(out, " oom_kill %llu", (unsigned long long)m->oom_control.oom_kill);
        if (m->failcnt.have)
            fprintf(out, " failcnt %llu", (unsigned long long)m->failcnt.value);
        fputc('\n', out);
    }
    if (m->pressure.have && m->pressure.some.have)
        fprintf(out, "pressure: some avg10 %.2f%% avg60 %.2f%%  full avg10 %.2f%% avg60 %.2f%%\n",
                m->pressure.some.avg10_pct, m->pressure.some.avg60_pct, m->pressure.full.avg10_pct,
                m->pressure.full.avg60_pct);
    const struct gsm_container_identity *id = &r->id;
    if (id->in_kubernetes || id->runtime != GSM_RUNTIME_NONE || id->unit[0]) {
        fprintf(out, "container:");
        if (id->in_kubernetes)
            fprintf(out, " pod %s (%s)", id->pod_uid, gsm_k8s_qos_name(id->qos));
        if (id->runtime != GSM_RUNTIME_NONE)
            fprintf(out, " %s %.12s", gsm_container_runtime_name(id->runtime), id->container_id);
        if (id->unit[0])
            fprintf(out, " unit %s", id->unit);
        fputc('\n', out);
    }
    const char *absent[32];
    size_t n = gsm_cgroup_memory_absent(m, absent, 32);
    if (n) {
        fprintf(out, "not provided by this kernel:");
        for (size_t i = 0; i < n; i++)
            fprintf(out, " %s", absent[i]);
        fputc('\n', out);
    }
    if (m->n_unparsable) {
        fprintf(out, "malformed, ignored:");
        for (unsigned i = 0; i < m->n_unparsable && i < sizeof m->unparsable / sizeof m->unparsable[0]; i++)
            fprintf(out, " %s", m->unparsable[i]);
        fputc('\n', out);
    }
}

void gsm_cgroup_members_print_table(const struct gsm_cgroup_report *r, FILE *out) {
    char bufs[5][16];
    fprintf(out, "\nPROCESSES (%zu, by PSS)\n%-8s %-16s %10s %10s %10s %10s %9s  %s\n", r->n_members, "PID", "NAME",
            "RSS", "PSS", "USS", "SWAP", "OOM_ADJ", "LARGEST CLASS");
    for (size_t i = 0; i < r->n_members; i++) {
        const struct gsm_cgroup_member *mb = &r->members[i];
        const struct gsm_process *p = &mb->proc;
        int top = -1;
        for (int k = 0; k < GSM_CLASS__COUNT; k++)
            if (mb->have_smaps && mb->totals.cls[k].n_mappings &&
                (top < 0 || mb->totals.cls[k].rss_bytes > mb->totals.cls[top].rss_bytes))
                top = k;
        fprintf(out, "%-8d %-16.16s %10s %10s %10s %10s %9lld  %s%s%s\n", (int)p->pid, p->status.name,
                B(0, mb->have_smaps ? mb->totals.all.rss_bytes : p->status.vm_rss_bytes),
                mb->have_smaps ? B(1, mb->totals.all.pss_bytes) : "?", mb->have_smaps ? B(4, mb->totals.all.uss_bytes) : "?",
                B(2, p->status.vm_swap_bytes), (long long)p->oom_score_adj, top >= 0 ? gsm_class_name(top) : "",
                top >= 0 ? " " : "", top >= 0 ? B(3, mb->totals.cls[top].rss_bytes) : "(smaps not read)");
        if (!mb->complete)
            fprintf(out, "%-8s incomplete: %s\n", "", mb->reason);
    }
    struct gsm_reconcile_item items[GSM_RECONCILE_MAX];
    bool saturated = false;
    size_t n = gsm_cgroup_reconcile(r, items, &saturated);
    if (n) {
        fprintf(out, "\nRECONCILIATION of usage %s%s\n", r->mem.usage_bytes.have ? B(0, r->mem.usage_bytes.value) : "?",
                saturated ? " (a sum reached 2^64 - 1 and was held there: malformed input)" : "");
        for (size_t i = 0; i < n; i++)
            fprintf(out, "  %-26s %10s  %s\n", items[i].name, B(0, items[i].bytes), items[i].note);
    }
    if (r->victim >= 0) {
        const struct gsm_cgroup_member *v = &r->members[r->victim];
        bool group = r->mem.oom_group.have && r->mem.oom_group.value;
        fprintf(out, "\nOOM FORECAST\n");
        if (group)
            fprintf(out, "  memory.oom.group=1: the kernel kills every process of the cgroup together\n");
        fprintf(out, "  next victim: PID %d %s (badness %llu pages = rss + swap + page tables, oom_score_adj %lld)\n",
                (int)v->proc.pid, v->proc.status.name, (unsigned long long)v->badness_pages,
                (long long)v->proc.oom_score_adj);
    }
}
