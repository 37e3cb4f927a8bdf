#include "renderers/event_render.h"
#include "analyses/cgroup_analysis.h"
#include "renderers/json_text.h"
#include "util/text.h"
#include "util/units.h"

#include <errno.h>
#include <math.h>
#include <time.h>

static struct json_object *target_json(const struct gsm_target_ref *t) {
    struct json_object *o = json_object_new_object();
    bool proc = t->type == GSM_WT_PROCESS;
    json_object_object_add(o, "type", json_object_new_string(proc ? "process" : "cgroup"));
    json_object_object_add(o, "pid", proc ? json_object_new_int(t->pid) : NULL);
    json_object_object_add(o, "name", proc ? json_object_new_string(t->name) : NULL);
    if (proc)
        json_object_object_add(o, "start_time_ticks", json_object_new_uint64(t->starttime));
    json_object_object_add(o, "cgroup", t->cgroup ? json_object_new_string(t->cgroup) : NULL);
    struct gsm_container_identity idv = {0};
    if (t->cgroup)
        gsm_container_identity_parse(t->cgroup, &idv);
    const struct gsm_container_identity *id = &idv;
    if (id->in_kubernetes || id->runtime != GSM_RUNTIME_NONE) {
        struct json_object *c = json_object_new_object();
        if (id->pod_uid[0])
            json_object_object_add(c, "pod_uid", json_object_new_string(id->pod_uid));
        if (id->qos != GSM_QOS_NONE)
            json_object_object_add(c, "qos_class", json_object_new_string(gsm_k8s_qos_name(id->qos)));
        if (id->runtime != GSM_RUNTIME_NONE)
            json_object_object_add(c, "runtime", json_object_new_string(gsm_container_runtime_name(id->runtime)));
        if (id->container_id[0])
            json_object_object_add(c, "container_id", json_object_new_string(id->container_id));
        json_object_object_add(o, "container", c);
    } else
        json_object_object_add(o, "container", NULL);
    return o;
}

static struct json_object *num(double v) {
    if (isnan(v) || isinf(v))
        return NULL;
    if (v >= 0 && v < 9007199254740992.0 && floor(v) == v)
        return json_object_new_uint64((uint64_t)v);
    return json_object_new_double(v);
}

struct json_object *gsm_event_to_json(const struct gsm_watch_event *ev, const char *bundle_path) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_string("gsmapper.event/v1"));
    json_object_object_add(o, "time_ms", json_object_new_uint64(ev->time_ms));
    json_object_object_add(o, "level", json_object_new_string(gsm_watch_level_name(ev->level)));
    json_object_object_add(o, "kind", json_object_new_string(gsm_watch_kind_name(ev->kind)));
    json_object_object_add(o, "state", json_object_new_string(ev->resolved ? "resolved" : "firing"));
    json_object_object_add(o, "message", json_object_new_string(ev->message));
    json_object_object_add(o, "target", ev->ref.name ? target_json(&ev->ref) : NULL);
    json_object_object_add(o, "value", num(ev->value));
    json_object_object_add(o, "threshold", num(ev->threshold));
    json_object_object_add(o, "eta_seconds", isnan(ev->eta_seconds) || isinf(ev->eta_seconds)
                                                 ? NULL : json_object_new_double(round(ev->eta_seconds * 10) / 10));
    struct json_object *e = json_object_new_object();
    for (size_t i = 0; i < ev->n_evidence; i++)
        json_object_object_add(e, ev->evidence[i].key, num(ev->evidence[i].value));
    json_object_object_add(o, "evidence", e);
    json_object_object_add(o, "health_score", ev->have_health ? json_object_new_int(ev->health_score) : NULL);
    json_object_object_add(o, "bundle", bundle_path ? json_object_new_string(bundle_path) : NULL);
    return o;
}

struct json_object *gsm_sample_to_json(const struct gsm_target_ref *t, const struct gsm_watch_sample *s) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "schema", json_object_new_string("gsmapper.sample/v1"));
    json_object_object_add(o, "time_ms", json_object_new_uint64(s->t_ms));
    json_object_object_add(o, "target", target_json(t));
    json_object_object_add(o, "usage_bytes", json_object_new_uint64(s->usage_bytes));
    json_object_object_add(o, "unreclaimable_bytes", json_object_new_uint64(s->unreclaimable_bytes));
    json_object_object_add(o, "value_bytes", json_object_new_uint64(s->value_bytes));
    json_object_object_add(o, "go_adjusted", json_object_new_boolean(s->go_adjusted));
    json_object_object_add(o, "limit_bytes", s->limit_bytes == UINT64_MAX ? NULL : json_object_new_uint64(s->limit_bytes));
    json_object_object_add(o, "limit_is_node", json_object_new_boolean(s->limit_is_node));
    json_object_object_add(o, "anon_bytes", json_object_new_uint64(s->anon_bytes));
    json_object_object_add(o, "file_bytes", json_object_new_uint64(s->file_bytes));
    json_object_object_add(o, "working_set_bytes", json_object_new_uint64(s->working_set_bytes));
    json_object_object_add(o, "swap_bytes", json_object_new_uint64(s->swap_bytes));
    json_object_object_add(o, "others_bytes", json_object_new_uint64(s->others_bytes));
    json_object_object_add(o, "rss_bytes", t->type == GSM_WT_PROCESS ? json_object_new_uint64(s->usage_bytes) : NULL);
    json_object_object_add(o, "threads", json_object_new_uint64(s->threads));
    if (t->type == GSM_WT_CGROUP)
        json_object_object_add(o, "members", json_object_new_uint64(s->members));
    json_object_object_add(o, "age_seconds", s->age_ms ? json_object_new_double((double)s->age_ms / 1000.0) : NULL);
    json_object_object_add(o, "oom_kill", json_object_new_uint64(s->oom_kill));
    json_object_object_add(o, "oom", json_object_new_uint64(s->oom));
    json_object_object_add(o, "failcnt", json_object_new_uint64(s->failcnt));
    json_object_object_add(o, "max_events", json_object_new_uint64(s->max_events));
    json_object_object_add(o, "high_events", json_object_new_uint64(s->high_events));
    if (s->have_psi) {
        json_object_object_add(o, "psi_some_avg10_pct", json_object_new_double(s->psi_some_avg10));
        json_object_object_add(o, "psi_full_avg10_pct", json_object_new_double(s->psi_full_avg10));
    }
    json_object_object_add(o, "pss_bytes", s->pss_bytes ? json_object_new_uint64(s->pss_bytes) : NULL);
    json_object_object_add(o, "go_heap_goal_bytes", s->go_adjusted ? json_object_new_uint64(s->go_next_gc_bytes) : NULL);
    return o;
}

void gsm_event_print_text(const struct gsm_watch_event *ev, const char *bundle_path, FILE *out) {
    time_t secs = (time_t)(ev->time_ms / 1000);
    struct tm tm;
    char ts[32];
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    const struct gsm_target_ref *t = &ev->ref;
    /* Names, cgroup paths and messages (which quote them) as printable text (util/text.h). */
    char who[1280] = "", name[1200], msg[1024], bp[1200];
    if (t->name && t->type == GSM_WT_PROCESS)
        snprintf(who, sizeof who, "%s[%d]", gsm_text_printable(t->name, false, name, sizeof name), (int)t->pid);
    else if (t->name)
        snprintf(who, sizeof who, "cgroup %s",
                 gsm_text_printable(t->cgroup ? t->cgroup : t->name, false, name, sizeof name));
    fprintf(out, "%s %-8s %-11s %s%s %s", ts, gsm_watch_level_name(ev->level), gsm_watch_kind_name(ev->kind), who,
            ev->resolved ? " RESOLVED:" : ":", gsm_text_printable(ev->message, false, msg, sizeof msg));
    if (bundle_path)
        fprintf(out, " (bundle %s)", gsm_text_printable(bundle_path, false, bp, sizeof bp));
    fputc('\n', out);
}

int gsm_json_line(struct json_object *o, FILE *out) {
    return gsm_json_write(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, out);
}
