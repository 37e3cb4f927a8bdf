#include "renderers/go_render.h"
#include "util/units.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static void add_u64_if(struct json_object *o, const struct gsm_go_stats *s, enum gsm_go_field f, const char *k,
                       uint64_t v) {
    if (gsm_go_stats_has(s, f))
        json_object_object_add(o, k, json_object_new_uint64(v));
}

struct json_object *gsm_go_runtime_to_json(const struct gsm_go_stats *s, const struct gsm_go_split *split) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "source", json_object_new_string(s->source));
    json_object_object_add(o, "endpoint", json_object_new_string(s->endpoint));
    json_object_object_add(o, "taken_ms", json_object_new_uint64(s->taken_ms));
    struct json_object *st = json_object_new_object();
    add_u64_if(st, s, GSM_GO_HEAP_ALLOC, "heap_alloc_bytes", s->heap_alloc_bytes);
    add_u64_if(st, s, GSM_GO_HEAP_SYS, "heap_sys_bytes", s->heap_sys_bytes);
    add_u64_if(st, s, GSM_GO_HEAP_IDLE, "heap_idle_bytes", s->heap_idle_bytes);
    add_u64_if(st, s, GSM_GO_HEAP_INUSE, "heap_inuse_bytes", s->heap_inuse_bytes);
    add_u64_if(st, s, GSM_GO_HEAP_RELEASED, "heap_released_bytes", s->heap_released_bytes);
    add_u64_if(st, s, GSM_GO_HEAP_OBJECTS, "heap_objects", s->heap_objects);
    add_u64_if(st, s, GSM_GO_STACK_INUSE, "stack_inuse_bytes", s->stack_inuse_bytes);
    add_u64_if(st, s, GSM_GO_STACK_SYS, "stack_sys_bytes", s->stack_sys_bytes);
    add_u64_if(st, s, GSM_GO_MSPAN_INUSE, "mspan_inuse_bytes", s->mspan_inuse_bytes);
    add_u64_if(st, s, GSM_GO_MSPAN_SYS, "mspan_sys_bytes", s->mspan_sys_bytes);
    add_u64_if(st, s, GSM_GO_MCACHE_INUSE, "mcache_inuse_bytes", s->mcache_inuse_bytes);
    add_u64_if(st, s, GSM_GO_MCACHE_SYS, "mcache_sys_bytes", s->mcache_sys_bytes);
    add_u64_if(st, s, GSM_GO_BUCK_HASH_SYS, "buck_hash_sys_bytes", s->buck_hash_sys_bytes);
    add_u64_if(st, s, GSM_GO_GC_SYS, "gc_sys_bytes", s->gc_sys_bytes);
    add_u64_if(st, s, GSM_GO_OTHER_SYS, "other_sys_bytes", s->other_sys_bytes);
    add_u64_if(st, s, GSM_GO_NEXT_GC, "next_gc_bytes", s->next_gc_bytes);
    add_u64_if(st, s, GSM_GO_LAST_GC, "last_gc_ms", s->last_gc_ms);
    add_u64_if(st, s, GSM_GO_PAUSE_TOTAL, "pause_total_ns", s->pause_total_ns);
    add_u64_if(st, s, GSM_GO_NUM_GC, "num_gc", s->num_gc);
    if (gsm_go_stats_has(s, GSM_GO_GC_CPU_FRACTION))
        json_object_object_add(st, "gc_cpu_fraction", json_object_new_double(s->gc_cpu_fraction));
    add_u64_if(st, s, GSM_GO_SYS, "sys_bytes", s->sys_bytes);
    add_u64_if(st, s, GSM_GO_GOROUTINES, "goroutines", s->goroutines);
    if (gsm_go_stats_has(s, GSM_GO_GOMEMLIMIT))
        json_object_object_add(st, "gomemlimit_bytes", s->gomemlimit_bytes >= (uint64_t)INT64_MAX
                                                            ? NULL : json_object_new_uint64(s->gomemlimit_bytes));
    json_object_object_add(o, "stats", st);
    if (split) {
        struct json_object *g = json_object_new_object();
        json_object_object_add(g, "formula", json_object_new_string(
            "go-heap RSS = HeapInuse + StackInuse + (HeapIdle - HeapReleased) + LazyFree + residual (resident "
            "against resident); go-runtime RSS (resident) lies between MSpanInuse + MCacheInuse (in use) and "
            "GCSys + MSpanSys + MCacheSys + OtherSys + BuckHashSys (reserved address space, not resident)"));
        json_object_object_add(g, "arena_rss_bytes", json_object_new_uint64(split->arena_rss_bytes));
        json_object_object_add(g, "heap_inuse_bytes", json_object_new_uint64(split->heap_inuse_bytes));
        json_object_object_add(g, "goroutine_stacks_bytes", json_object_new_uint64(split->stacks_bytes));
        json_object_object_add(g, "idle_retained_bytes", json_object_new_uint64(split->idle_retained_bytes));
        json_object_object_add(g, "released_resident_bytes", json_object_new_uint64(split->released_resident_bytes));
        json_object_object_add(g, "arena_expected_bytes", json_object_new_uint64(split->arena_expected_bytes));
        json_object_object_add(g, "arena_residual_bytes", json_object_new_int64(split->arena_residual_bytes));
        json_object_object_add(g, "arena_tolerance_bytes", json_object_new_uint64(split->arena_tolerance_bytes));
        json_object_object_add(g, "arena_residual_cause", json_object_new_string(gsm_go_split_cause_name(split->arena_cause)));
        json_object_object_add(g, "arena_residual_why", json_object_new_string(gsm_go_split_cause_text(split->arena_cause)));
        json_object_object_add(g, "runtime_rss_bytes", json_object_new_uint64(split->runtime_rss_bytes));
        json_object_object_add(g, "runtime_metadata_inuse_bytes", json_object_new_uint64(split->runtime_inuse_bytes));
        json_object_object_add(g, "runtime_metadata_reserved_bytes", json_object_new_uint64(split->runtime_reserved_bytes));
        json_object_object_add(g, "runtime_rss_above_reserved_bytes",
                               json_object_new_uint64(split->runtime_above_reserved_bytes));
        json_object_object_add(g, "runtime_cause", json_object_new_string(gsm_go_split_cause_name(split->runtime_cause)));
        json_object_object_add(g, "smaps_taken_ms", json_object_new_uint64(split->smaps_taken_ms));
        json_object_object_add(g, "stats_taken_ms", json_object_new_uint64(split->stats_taken_ms));
        json_object_object_add(g, "skew_ms", json_object_new_int64(split->skew_ms));
        json_object_object_add(g, "last_gc_ms", json_object_new_uint64(split->last_gc_ms));
        json_object_object_add(o, "split", g);
    } else
        json_object_object_add(o, "split", NULL);
    return o;
}

static struct json_object *env_value(const struct gsm_go_env_var *v) {
    return v->present ? json_object_new_string(v->value) : NULL;
}

struct json_object *gsm_go_env_to_json(const struct gsm_go_env *e) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "GOMEMLIMIT", env_value(&e->gomemlimit));
    json_object_object_add(o, "GOGC", env_value(&e->gogc));
    json_object_object_add(o, "GODEBUG", env_value(&e->godebug));
    json_object_object_add(o, "GOMAXPROCS", env_value(&e->gomaxprocs));
    return o;
}

#define B(i, x) gsm_fmt_bytes((x), bufs[i], sizeof bufs[i])

static const char *signed_bytes(int64_t v, char *buf, size_t size) {
    char tmp[16];
    gsm_fmt_bytes(v < 0 ? (uint64_t)(-v) : (uint64_t)v, tmp, sizeof tmp);
    snprintf(buf, size, "%s%s", v < 0 ? "-" : "", tmp);
    return buf;
}

void gsm_go_runtime_print_table(const struct gsm_go_stats *s, const struct gsm_go_split *g, FILE *out) {
    char bufs[4][24], sb[24], r1[24], r2[24];
    fprintf(out, "\nGO RUNTIME (%s, %s)\n", s->source, s->endpoint);
    fprintf(out, "heap alloc %s  in use %s  idle %s  released %s  next GC %s  GCs %" PRIu64 "  GC CPU %.1f%%\n",
            B(0, s->heap_alloc_bytes), B(1, s->heap_inuse_bytes), B(2, s->heap_idle_bytes), B(3, s->heap_released_bytes),
            gsm_fmt_bytes(s->next_gc_bytes, sb, sizeof sb), s->num_gc, s->gc_cpu_fraction * 100);
    if (gsm_go_stats_has(s, GSM_GO_GOROUTINES))
        fprintf(out, "goroutines %" PRIu64 "\n", s->goroutines);
    if (!g)
        return;
    fprintf(out, "go-heap %s = in use %s + goroutine stacks %s + idle retained %s + released but resident %s "
                 "+ residual %s: %s\n",
            B(0, g->arena_rss_bytes), B(1, g->heap_inuse_bytes), B(2, g->stacks_bytes), B(3, g->idle_retained_bytes),
            gsm_fmt_bytes(g->released_resident_bytes, sb, sizeof sb),
            signed_bytes(g->arena_residual_bytes, r1, sizeof r1), gsm_go_split_cause_text(g->arena_cause));
    fprintf(out, "go-runtime %s resident; metadata in use %s (spans, mcache), reserved %s (GC %s, profiling buckets "
                 "%s, other %s, spans and mcache %s: address space, touched as needed, not resident)",
            B(0, g->runtime_rss_bytes), B(1, g->runtime_inuse_bytes), B(2, g->runtime_reserved_bytes),
            B(3, s->gc_sys_bytes), gsm_fmt_bytes(s->buck_hash_sys_bytes, sb, sizeof sb),
            gsm_fmt_bytes(s->other_sys_bytes, r1, sizeof r1),
            gsm_fmt_bytes(s->mspan_sys_bytes + s->mcache_sys_bytes, r2, sizeof r2));
    if (g->runtime_above_reserved_bytes)
        fprintf(out, "; %s above reserved: %s\n", B(0, g->runtime_above_reserved_bytes),
                gsm_go_split_cause_text(g->runtime_cause));
    else
        fputs("\n", out);
    fprintf(out, "statistics taken %+lld ms after smaps\n", (long long)g->skew_ms);
}

void gsm_go_env_print_table(const struct gsm_go_env *e, FILE *out) {
    fprintf(out, "GOMEMLIMIT=%s GOGC=%s GOMAXPROCS=%s GODEBUG=%s\n",
            e->gomemlimit.present ? e->gomemlimit.value : "(unset)", e->gogc.present ? e->gogc.value : "(unset)",
            e->gomaxprocs.present ? e->gomaxprocs.value : "(unset)", e->godebug.present ? e->godebug.value : "(unset)");
}

/* Indices of the n stacks with the most in-use bytes, largest first. */
static size_t top_stacks(const struct gsm_heap_profile *hp, size_t n, size_t *idx) {
    size_t have = 0;
    for (size_t i = 0; i < hp->n_stacks; i++) {
        int64_t v = hp->stacks[i].inuse_bytes;
        if (v <= 0)
            continue;
        size_t pos = have;
        while (pos > 0 && hp->stacks[idx[pos - 1]].inuse_bytes < v)
            pos--;
        if (pos >= n)
            continue;
        size_t last = have < n ? have : n - 1;
        memmove(&idx[pos + 1], &idx[pos], (last - pos) * sizeof *idx);
        idx[pos] = i;
        if (have < n)
            have++;
    }
    return have;
}

static void frame_str(const struct gsm_heap_frame *f, char *buf, size_t size) {
    if (f->function)
        snprintf(buf, size, "%s %s:%lld", f->function, f->file ? f->file : "", (long long)f->line);
    else
        snprintf(buf, size, "0x%llx", (unsigned long long)f->address);
}

struct json_object *gsm_heap_profile_top_json(const struct gsm_heap_profile *hp, size_t n) {
    size_t idx[32];
    n = top_stacks(hp, n < 32 ? n : 32, idx);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "inuse_bytes", json_object_new_int64(hp->inuse_bytes_total));
    json_object_object_add(o, "inuse_objects", json_object_new_int64(hp->inuse_objects_total));
    /* "last_gc": the in-use figures are those of the end of the last GC (nothing was forced);
     * "forced_gc": --gc asked the runtime to collect right before. */
    json_object_object_add(o, "as_of", json_object_new_string(hp->as_of.forced_gc ? "forced_gc" : "last_gc"));
    json_object_object_add(o, "last_gc_ms", hp->as_of.last_gc_ms ? json_object_new_uint64(hp->as_of.last_gc_ms) : NULL);
    json_object_object_add(o, "taken_ms", json_object_new_uint64(hp->as_of.taken_ms));
    struct json_object *arr = json_object_new_array();
    char buf[1024];
    for (size_t i = 0; i < n; i++) {
        const struct gsm_heap_stack *st = &hp->stacks[idx[i]];
        struct json_object *x = json_object_new_object();
        json_object_object_add(x, "inuse_bytes", json_object_new_int64(st->inuse_bytes));
        json_object_object_add(x, "inuse_objects", json_object_new_int64(st->inuse_objects));
        struct json_object *fr = json_object_new_array();
        for (size_t k = 0; k < st->n_frames; k++) {
            frame_str(&st->frames[k], buf, sizeof buf);
            json_object_array_add(fr, json_object_new_string(buf));
        }
        json_object_object_add(x, "frames", fr);
        json_object_array_add(arr, x);
    }
    json_object_object_add(o, "top_stacks", arr);
    return o;
}

/* "as of the last GC at 12:00:01 UTC, 3.2 s before" or "after a GC forced by --gc" */
static void as_of_str(const struct gsm_heap_profile_as_of *a, char *buf, size_t size) {
    if (a->forced_gc) {
        snprintf(buf, size, "after a GC forced by --gc");
        return;
    }
    if (!a->last_gc_ms) {
        snprintf(buf, size, "as of the last GC (time unknown); --gc collects first");
        return;
    }
    time_t t = (time_t)(a->last_gc_ms / 1000);
    struct tm tm;
    char hms[16] = "?";
    if (gmtime_r(&t, &tm))
        strftime(hms, sizeof hms, "%H:%M:%S", &tm);
    double ago = a->taken_ms >= a->last_gc_ms ? (double)(a->taken_ms - a->last_gc_ms) / 1000 : 0;
    snprintf(buf, size, "as of the last GC at %s UTC, %.1f s before; --gc collects first", hms, ago);
}

void gsm_heap_profile_print_top(const struct gsm_heap_profile *hp, size_t n, FILE *out) {
    size_t idx[32];
    char b[24], fb[1024];
    n = top_stacks(hp, n < 32 ? n : 32, idx);
    char when[96];
    as_of_str(&hp->as_of, when, sizeof when);
    fprintf(out, "\nGO HEAP BY CODE PATH (in use %s, %s)\n",
            gsm_fmt_bytes(hp->inuse_bytes_total > 0 ? (uint64_t)hp->inuse_bytes_total : 0, b, sizeof b), when);
    for (size_t i = 0; i < n; i++) {
        const struct gsm_heap_stack *st = &hp->stacks[idx[i]];
        /* The first frame outside the runtime names the code path best. */
        size_t k = 0;
        while (k + 1 < st->n_frames && st->frames[k].function && strncmp(st->frames[k].function, "runtime.", 8) == 0)
            k++;
        if (st->n_frames)
            frame_str(&st->frames[k], fb, sizeof fb);
        else
            snprintf(fb, sizeof fb, "(no frames)");
        fprintf(out, "  %10s  %s\n", gsm_fmt_bytes((uint64_t)st->inuse_bytes, b, sizeof b), fb);
    }
}
