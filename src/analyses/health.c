/* analyses/health.h: the health score. Each part maps one input to a badness in [0, 1] by a
 * documented curve; the score is 100 minus the sum of badness x weight, clamped to [0, 100]. */
#include "analyses/health.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)

static double clamp01(double x) {
    return x < 0 ? 0 : x > 1 ? 1 : isnan(x) ? 0 : x;
}

/* Linear from good (badness 0) to bad (badness 1); good > bad works too. */
static double ramp(double x, double good, double bad) {
    return clamp01((x - good) / (bad - good));
}

static void set_missing(struct gsm_health_part_result *p, const char *why) {
    p->status = GSM_HPS_MISSING;
    snprintf(p->note, sizeof p->note, "%s", why);
}

static void part_headroom(const struct gsm_health_input *in, struct gsm_health_part_result *p) {
    if (!in->have_usage) {
        set_missing(p, "no memory cgroup read");
        return;
    }
    if (in->limit_bytes == UINT64_MAX || in->limit_bytes == 0) {
        set_missing(p, in->limit_unknown ? "limit unknown (a limit file did not parse)"
                                         : "no memory limit (and the node's memory not read)");
        return;
    }
    double lim = (double)in->limit_bytes, used = (double)in->used_bytes;
    double free_frac = (lim - used) / lim;
    p->status = GSM_HPS_USED;
    p->value = free_frac < 0 ? 0 : free_frac;
    p->badness = ramp(free_frac, 0.30, 0.05);
    snprintf(p->note, sizeof p->note, "%.1f%% of %s (%.0f MiB) free: %.0f MiB unreclaimable", 100.0 * p->value,
             in->limit_is_node ? "the node's memory" : "the limit", lim / MIB, used / MIB);
}

static void part_trend(const struct gsm_health_input *in, struct gsm_health_part_result *p) {
    if (!in->have_eta) {
        set_missing(p, in->eta_missing ? in->eta_missing : "no forecast");
        return;
    }
    p->status = GSM_HPS_USED;
    double eta = in->eta_s;
    p->value = eta;
    if (!(eta < 86400.0)) {   /* not rising (INFINITY), or a day or more away */
        p->badness = 0;
        snprintf(p->note, sizeof p->note, isinf(eta) ? "not rising toward the limit" : "limit over a day away (%.0f h)",
                 eta / 3600.0);
        return;
    }
    p->badness = eta <= 300.0 ? 1.0 : clamp01(log(86400.0 / eta) / log(86400.0 / 300.0));
    snprintf(p->note, sizeof p->note, "reaches the limit in %.0f s at the current trend", eta);
}

static void part_pressure(const struct gsm_health_input *in, struct gsm_health_part_result *p) {
    if (!in->have_psi) {
        set_missing(p, "no PSI (cgroup v1, or memory.pressure not readable)");
        return;
    }
    double v = fmax(in->psi_some_avg10, 2.0 * in->psi_full_avg10);
    p->status = GSM_HPS_USED;
    p->value = v;
    p->badness = ramp(v, 0, 40.0);
    snprintf(p->note, sizeof p->note, "memory pressure avg10: some %.1f%%, full %.1f%%", in->psi_some_avg10,
             in->psi_full_avg10);
}

static void part_hits(const struct gsm_health_input *in, struct gsm_health_part_result *p) {
    if (!in->have_hits) {
        set_missing(p, "no cgroup counters");
        return;
    }
    p->status = GSM_HPS_USED;
    p->value = (double)in->hits;
    p->badness = clamp01(log10(1.0 + (double)in->hits) / 3.0);   /* 1000 hits: full */
    snprintf(p->note, sizeof p->note, "%llu limit hit(s) %s", (unsigned long long)in->hits,
             in->lifetime_counts ? "since the cgroup was created" : "in the last 10 min");
}

static void part_kills(const struct gsm_health_input *in, struct gsm_health_part_result *p) {
    if (!in->have_kills) {
        set_missing(p, "no cgroup counters");
        return;
    }
    p->status = GSM_HPS_USED;
    p->value = (double)in->kills;
    p->badness = in->kills == 0 ? 0 : in->kills == 1 ? 0.75 : 1.0;
    snprintf(p->note, sizeof p->note, "%llu OOM kill(s) %s", (unsigned long long)in->kills,
             in->lifetime_counts ? "since the cgroup was created" : "in the last 10 min");
}

static void part_go(const struct gsm_health_input *in, struct gsm_health_part_result *p) {
    if (in->go == GSM_HGO_NO) {
        p->status = GSM_HPS_NOT_APPLICABLE;
        snprintf(p->note, sizeof p->note, "no Go runtime");
        return;
    }
    bool goal = in->have_goal && in->limit_bytes != UINT64_MAX && in->limit_bytes != 0;
    if (in->go == GSM_HGO_UNKNOWN || (!in->have_gc_cpu && !goal)) {
        set_missing(p, "Go runtime statistics not read");
        return;
    }
    double b_cpu = in->have_gc_cpu ? ramp(in->gc_cpu_fraction, 0.05, 0.25) : 0;
    double ratio = goal ? (double)in->at_goal_bytes / (double)in->limit_bytes : 0;
    double b_goal = goal ? ramp(ratio, 0.80, 1.0) : 0;
    p->status = GSM_HPS_USED;
    p->badness = fmax(b_cpu, b_goal);
    p->value = b_goal > b_cpu ? ratio : in->have_gc_cpu ? in->gc_cpu_fraction : ratio;
    char cpu[48] = "GC CPU unknown", g[64] = "heap goal unknown";
    if (in->have_gc_cpu)
        snprintf(cpu, sizeof cpu, "GC CPU %.1f%%", 100.0 * in->gc_cpu_fraction);
    if (goal)
        snprintf(g, sizeof g, "memory at the heap goal %.0f%% of the limit", 100.0 * ratio);
    snprintf(p->note, sizeof p->note, "%s, %s", cpu, g);
}

enum gsm_health_band gsm_health_band_of(int score) {
    return score >= GSM_HEALTH_GOOD ? GSM_HB_GOOD
           : score >= GSM_HEALTH_FAIR ? GSM_HB_FAIR
           : score >= GSM_HEALTH_POOR ? GSM_HB_POOR
                                      : GSM_HB_CRITICAL;
}

enum gsm_health_band gsm_health_band_step(enum gsm_health_band prev, int score) {
    enum gsm_health_band b = gsm_health_band_of(score);
    if (b >= prev)
        return b;   /* worse (or the same): at once */
    /* better: only as far as the score is HYSTERESIS points inside */
    enum gsm_health_band h = gsm_health_band_of(score - GSM_HEALTH_HYSTERESIS);
    return h < prev ? h : prev;
}

bool gsm_health_band_update(struct gsm_health_band_state *st, int score, uint64_t t_ms) {
    enum gsm_health_band b = gsm_health_band_step(st->band, score);
    if (b >= st->band) {
        st->recovering = false;
        if (b == st->band)
            return false;
        st->band = b;   /* worse: at once */
        return true;
    }
    if (!st->recovering) {
        st->recovering = true;
        st->recover_to = b;
        st->recover_since_ms = t_ms;
    } else if (b > st->recover_to) {
        st->recover_to = b;   /* only as far as the whole hold allows */
    }
    if (t_ms - st->recover_since_ms < GSM_HEALTH_RECOVER_MS)
        return false;
    st->band = st->recover_to;
    st->recovering = false;
    return true;
}

void gsm_health_compute(const struct gsm_health_input *in, struct gsm_health *ret) {
    memset(ret, 0, sizeof *ret);
    static const double w[GSM_HP__COUNT] = {GSM_HEALTH_W_HEADROOM, GSM_HEALTH_W_TREND, GSM_HEALTH_W_PRESSURE,
                                            GSM_HEALTH_W_LIMIT_HITS, GSM_HEALTH_W_OOM_KILLS, GSM_HEALTH_W_GO_GC};
    void (*const fn[GSM_HP__COUNT])(const struct gsm_health_input *, struct gsm_health_part_result *) = {
        part_headroom, part_trend, part_pressure, part_hits, part_kills, part_go};
    double total = 0;
    for (int i = 0; i < GSM_HP__COUNT; i++) {
        struct gsm_health_part_result *p = &ret->parts[i];
        p->max_penalty = w[i];
        fn[i](in, p);
        if (p->status != GSM_HPS_USED)
            p->badness = 0;
        p->penalty = p->badness * w[i];
        total += p->penalty;
        ret->n_missing += p->status == GSM_HPS_MISSING;
    }
    double score = 100.0 - total;
    ret->score = score <= 0 ? 0 : score >= 100 ? 100 : (int)lround(score);
    ret->band = gsm_health_band_of(ret->score);
    /* No part read anything: a score of 100 would claim health nobody measured. */
    ret->have = ret->n_missing + (ret->parts[GSM_HP_GO_GC].status == GSM_HPS_NOT_APPLICABLE) < GSM_HP__COUNT;
}

static uint64_t v2_event(const struct gsm_cgroup_memory *m, enum gsm_cg_event e) {
    return m->events.have && m->events.have_key[e] ? m->events.count[e] : 0;
}

void gsm_health_input_from_cgroup(const struct gsm_cgroup_memory *m, const struct gsm_cg_effective *eff,
                                  const struct gsm_cg_breakdown *bd, bool is_go, const struct gsm_go_stats *go,
                                  struct gsm_health_input *ret) {
    memset(ret, 0, sizeof *ret);
    ret->limit_bytes = UINT64_MAX;
    ret->eta_missing = "one-shot read (explain has no trend; watch and serve have)";
    ret->go = is_go ? (go ? GSM_HGO_YES : GSM_HGO_UNKNOWN) : GSM_HGO_NO;
    if (!m)
        return;
    if (bd) {
        ret->have_usage = true;
        ret->used_bytes = bd->unreclaimable_bytes;
    }
    if (eff && eff->max.limited)
        ret->limit_bytes = eff->max.bytes;
    ret->limit_unknown = eff && !eff->max.limited && eff->max.unknown;
    if (m->pressure.have && m->pressure.some.have) {
        ret->have_psi = true;
        ret->psi_some_avg10 = m->pressure.some.avg10_pct;
        ret->psi_full_avg10 = m->pressure.full.have ? m->pressure.full.avg10_pct : 0;
    }
    ret->lifetime_counts = true;
    if (m->version == GSM_CGROUP_V2) {
        ret->have_hits = ret->have_kills = m->events.have;
        ret->hits = v2_event(m, GSM_CG_EV_MAX) + v2_event(m, GSM_CG_EV_HIGH);
        ret->kills = v2_event(m, GSM_CG_EV_OOM_KILL);
    } else {
        ret->have_hits = m->failcnt.have;
        ret->hits = m->failcnt.have ? m->failcnt.value : 0;
        ret->have_kills = m->oom_control.have && m->oom_control.have_oom_kill;
        ret->kills = m->oom_control.oom_kill;
    }
    if (go) {
        ret->have_gc_cpu = (go->have >> GSM_GO_GC_CPU_FRACTION) & 1;
        ret->gc_cpu_fraction = go->gc_cpu_fraction;
        uint64_t need = (1ULL << GSM_GO_NEXT_GC) | (1ULL << GSM_GO_HEAP_INUSE) | (1ULL << GSM_GO_HEAP_IDLE) |
                        (1ULL << GSM_GO_HEAP_RELEASED);
        if (ret->have_usage && (go->have & need) == need) {
            /* the heap's mapped part replaced by its goal, as the engine's Go-adjusted value */
            double mapped = (double)go->heap_inuse_bytes + (double)go->heap_idle_bytes - (double)go->heap_released_bytes;
            double at = (double)ret->used_bytes - mapped + (double)go->next_gc_bytes;
            ret->have_goal = true;
            ret->at_goal_bytes = at > 0 ? (uint64_t)at : 0;
        }
    }
}

void gsm_health_window_step(struct gsm_health_window *w, uint64_t t_ms, uint64_t hits, uint64_t kills,
                            uint64_t *ret_hits, uint64_t *ret_kills) {
    const size_t cap = sizeof w->cp / sizeof w->cp[0];
    if (w->n && (hits < w->cp[w->n - 1].hits || kills < w->cp[w->n - 1].kills || t_ms < w->cp[w->n - 1].t_ms))
        w->n = 0;   /* a counter went back (a new cgroup of the same name): start again */
    /* drop checkpoints that left the window (keeping the newest of them as the base) */
    size_t drop = 0;
    while (drop + 1 < w->n && t_ms - w->cp[drop + 1].t_ms >= (uint64_t)GSM_HEALTH_WINDOW_S * 1000)
        drop++;
    if (drop) {
        memmove(w->cp, w->cp + drop, (w->n - drop) * sizeof w->cp[0]);
        w->n -= drop;
    }
    if (w->n == 0 || (t_ms - w->cp[w->n - 1].t_ms >= 60000 && w->n < cap)) {
        w->cp[w->n].t_ms = t_ms, w->cp[w->n].hits = hits, w->cp[w->n].kills = kills;
        w->n++;
    }
    *ret_hits = hits - w->cp[0].hits;
    *ret_kills = kills - w->cp[0].kills;
}

void gsm_health_input_from_sample(const struct gsm_watch_sample *s, double eta_s, bool have_counters,
                                  uint64_t window_hits, uint64_t window_kills, enum gsm_health_go go, double gc_cpu,
                                  struct gsm_health_input *ret) {
    memset(ret, 0, sizeof *ret);
    ret->have_usage = true;
    ret->used_bytes = s->unreclaimable_bytes + s->others_bytes;
    ret->limit_bytes = s->limit_bytes;
    ret->limit_is_node = s->limit_is_node;
    ret->have_eta = !isnan(eta_s);
    ret->eta_s = eta_s;
    ret->eta_missing = "no forecast yet";
    ret->have_psi = s->have_psi;
    ret->psi_some_avg10 = s->psi_some_avg10;
    ret->psi_full_avg10 = s->psi_full_avg10;
    ret->have_hits = ret->have_kills = have_counters;
    ret->hits = window_hits;
    ret->kills = window_kills;
    ret->go = go;
    if (go == GSM_HGO_YES) {
        ret->have_gc_cpu = gc_cpu >= 0;
        ret->gc_cpu_fraction = gc_cpu;
        ret->have_goal = s->go_adjusted;
        ret->at_goal_bytes = s->value_bytes + s->others_bytes;
    }
}
