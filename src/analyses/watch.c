#include "analyses/watch.h"
#include "readers/proc_handle.h"
#include "analyses/sample_ring.h"
#include "analyses/trend.h"
#include "model/go_stats.h"
#include "readers/cgroup.h"
#include "readers/elf_go.h"
#include "readers/go_discover.h"
#include "readers/go_stats_fetch.h"
#include "readers/proc_files.h"
#include "readers/proc_smaps.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/parse.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A condition must hold this many ticks before it fires, and be gone this many before it is
 * resolved: one condition gives one event (and one "resolved"), not one per tick. */
#define CONFIRM_TICKS 2
#define CLEAR_TICKS 3
/* ETA levels (issue 5): info under an hour, warn under the horizon, critical under a minute. */
#define ETA_INFO_S 3600.0
#define ETA_CRITICAL_S 60.0
/* A trend counts only when most pairs of points rise: a leak does, a GC sawtooth and a
 * one-time step do not (analyses/trend.h). */
#define ETA_MIN_POSITIVE_FRACTION 0.75
/* The short window (a few points) must be near-unanimous: benign noise (a Go-adjusted series
 * jitters by the heap goal's steps) easily rises in 3 of 4 pairs of 10 points, a leak in 9 of
 * 10. Measured on the sawtooth scenario (tests/scenarios). */
#define ETA_SHORT_MIN_POSITIVE_FRACTION 0.90
/* ... and most of its non-zero steps must rise (trend.h: a ramp then a plateau does not). */
#define ETA_MIN_STEP_FRACTION 0.80
#define ETA_MIN_POINTS 5
#define ETA_MIN_SPAN_MS 8000
/* The Z-score's sd floor: 256 KiB/s, so a flat baseline does not make every wiggle sudden. */
#define Z_SD_FLOOR (256.0 * 1024)
#define Z_MIN_BASELINE 10
/* v2 PSI: a tenth of the time stalled on memory (some), or a twentieth fully stalled. */
#define PSI_SOME_WARN 10.0
#define PSI_FULL_CRITICAL 5.0
/* Targets are refreshed (new processes, gone cgroups) every this many ticks; effective limits
 * are re-read every 15. */
#define REFRESH_TICKS 5
#define LIMIT_REFRESH_TICKS 15
/* smaps_rollup walks the page tables: about 10 ms per GiB of RSS here (PRODUCT.md). */
#define ROLLUP_US_PER_GIB 10000
#define ROLLUP_MIN_INTERVAL_MS 30000
/* Go statistics are fetched every tick for a target that has them: the Go-adjusted value mixes
 * the cgroup's numbers with the runtime's, and pairs taken seconds apart make their own noise. */
#define GO_POLL_MS 1
/* A process (or a cgroup whose oldest process) younger than this is still starting up: its
 * ramp to its working size is not a leak, so the ETA detector waits. The Z-score detector does
 * not (a burst right after start is still sudden growth). */
#define WARMUP_S 20.0
#define GO_RETRY_DISCOVERY_MS 30000

struct detector {
    enum gsm_watch_level level;      /* firing level, NONE when quiet */
    enum gsm_watch_level pending;    /* candidate level being confirmed */
    unsigned pending_ticks, clear_ticks;
};

/* The flight recorder's ring keeps a compact copy of each sample (sizes in KiB, delta-encoded:
 * analyses/sample_ring); the full sample lives only for its tick. */

static uint32_t kib(uint64_t bytes) {
    uint64_t k = bytes >> 10;
    return k >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)k;
}

struct go_member {
    pid_t pid;
    char endpoint[256];
    struct gsm_go_stats stats;
    bool have;
    uint64_t last_poll_ms;
};

struct gsm_watch_target {
    enum gsm_watch_target_type type;
    pid_t pid;
    uint64_t starttime;
    char name[64];
    char *key;                       /* what makes a target the same: PID and start time, or the cgroup */
    bool has_cg;
    struct gsm_cgroup_location loc; /* the container identity is parsed from loc.path on demand */
    struct gsm_cg_effective eff;
    bool have_eff;
    unsigned ticks_since_limit;
    bool seen;
    bool explicit_target;            /* named on the command line: report when it goes */

    struct gsm_sample_ring ring;     /* at least ring_max samples once full */
    size_t ring_max;

    struct detector eta, growth, pressure, limit_hits;
    struct gsm_watch_sample prev;
    bool have_prev;

    /* Go: for a process target itself, for a cgroup target its Go members */
    bool go_checked;
    struct go_member *go;
    size_t n_go;
    uint64_t go_discovery_ms;
    uint64_t last_rollup_ms;
    double last_eta_s, last_z;       /* the detectors' latest numbers (INFINITY / 0 when none) */
    double start_s;                  /* since boot: the process's, or a cgroup's oldest member's */
    bool have_start;
    unsigned ticks_since_scan;
};

struct gsm_watch {
    const struct gsm_root *root;
    struct gsm_watch_opts o;
    struct gsm_watch_target **t;
    size_t n, cap;
    bool all;
    uint64_t ticks;
    size_t rollup_cursor;
    struct gsm_watch_stats stats;
    uint64_t mem_total_bytes;
    struct gsm_point *pts;           /* scratch for the detectors, sized for the longest ring */
    size_t pts_cap;
    double uptime_s;                 /* /proc/uptime at this tick */
    double clk_tck;
};

static const char *const kind_names[GSM_WK__COUNT] = {
    [GSM_WK_ETA] = "eta", [GSM_WK_GROWTH] = "growth", [GSM_WK_PRESSURE] = "pressure",
    [GSM_WK_OOM_KILL] = "oom_kill", [GSM_WK_OOM] = "oom", [GSM_WK_MAX] = "max", [GSM_WK_HIGH] = "high",
    [GSM_WK_FAILCNT] = "failcnt", [GSM_WK_TARGET_GONE] = "target_gone",
};
const char *gsm_watch_kind_name(enum gsm_watch_kind k) {
    return (unsigned)k < GSM_WK__COUNT ? kind_names[k] : "?";
}
const char *gsm_watch_level_name(enum gsm_watch_level l) {
    switch (l) {
    case GSM_WL_INFO: return "info";
    case GSM_WL_WARN: return "warn";
    case GSM_WL_CRITICAL: return "critical";
    default: return "none";
    }
}

void gsm_watch_opts_default(struct gsm_watch_opts *o) {
    *o = (struct gsm_watch_opts){
        .interval_ms = 2000, .window_ms = 120000, .short_window_ms = 20000, .baseline_ms = 180000,
        .ring_ms = 300000, .horizon_s = 300, .z_threshold = 3.5, .rollup_budget_us = 5000, .go_stats = true,
        .warmup_s = WARMUP_S,
    };
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- targets ------------------------------------------------------------------------- */

static void target_free(struct gsm_watch_target *t) {
    if (!t)
        return;
    gsm_cgroup_location_free(&t->loc);
    gsm_cg_effective_free(&t->eff);
    gsm_sample_ring_free(&t->ring);
    free(t->key);
    free(t->go);
    free(t);
}

static struct gsm_watch_target *target_new(struct gsm_watch *w, enum gsm_watch_target_type type) {
    struct gsm_watch_target *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->type = type;
    t->last_eta_s = INFINITY;
    t->ring_max = w->o.ring_ms / (w->o.interval_ms ? w->o.interval_ms : 1000) + 2;
    if (t->ring_max < 8)
        t->ring_max = 8;
    gsm_sample_ring_init(&t->ring, t->ring_max);
    return t;
}

static int add_target(struct gsm_watch *w, struct gsm_watch_target *t) {
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 16;
        struct gsm_watch_target **n = realloc(w->t, nc * sizeof *n);
        if (!n)
            return -ENOMEM;
        w->t = n;
        w->cap = nc;
    }
    w->t[w->n++] = t;
    return 0;
}

static struct gsm_watch_target *find_key(struct gsm_watch *w, const char *key) {
    for (size_t i = 0; i < w->n; i++)
        if (w->t[i]->key && strcmp(w->t[i]->key, key) == 0)
            return w->t[i];
    return NULL;
}

/* A process is PID + start time: a recycled PID is a different process. */
static int process_identity(const struct gsm_root *root, pid_t pid, uint64_t *ret_start, char *name, size_t name_len) {
    _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
    int r = gsm_proc_handle_open(root, pid, &h);
    if (r < 0)
        return r;
    struct gsm_stat st;
    r = gsm_read_stat_at(h.dirfd, &st, NULL);
    if (r < 0)
        return r;
    *ret_start = st.starttime_ticks;
    if (name)
        snprintf(name, name_len, "%s", st.comm);
    return 0;
}

static int new_process_target(struct gsm_watch *w, pid_t pid, bool explicit_target, struct gsm_watch_target **ret) {
    uint64_t start;
    char name[64];
    int r = process_identity(w->root, pid, &start, name, sizeof name);
    if (r < 0)
        return r;
    char key[64];
    snprintf(key, sizeof key, "pid-%d-%llu", (int)pid, (unsigned long long)start);
    struct gsm_watch_target *t = find_key(w, key);
    if (t) {
        t->seen = true;
        *ret = t;
        return 0;
    }
    t = target_new(w, GSM_WT_PROCESS);
    if (!t)
        return -ENOMEM;
    t->pid = pid;
    t->starttime = start;
    t->start_s = (double)start / w->clk_tck;
    t->have_start = true;
    t->explicit_target = explicit_target;
    snprintf(t->name, sizeof t->name, "%s", name);
    if (!(t->key = strdup(key))) {
        target_free(t);
        return -ENOMEM;
    }
    if (gsm_cgroup_locate_pid(w->root, pid, &t->loc) == 0)
        t->has_cg = true;
    t->seen = true;
    if ((r = add_target(w, t)) < 0) {
        target_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

int gsm_watch_add_pid(struct gsm_watch *w, pid_t pid) {
    struct gsm_watch_target *t;
    return new_process_target(w, pid, true, &t);
}

static int new_cgroup_target(struct gsm_watch *w, struct gsm_cgroup_location *loc, bool explicit_target) {
    char key[512];
    snprintf(key, sizeof key, "cgroup-%s", loc->path);
    struct gsm_watch_target *t = find_key(w, key);
    if (t) {
        t->seen = true;
        gsm_cgroup_location_free(loc);
        return 0;
    }
    t = target_new(w, GSM_WT_CGROUP);
    if (!t) {
        gsm_cgroup_location_free(loc);
        return -ENOMEM;
    }
    t->loc = *loc;
    memset(loc, 0, sizeof *loc);
    t->has_cg = true;
    t->explicit_target = explicit_target;
    if (!(t->key = strdup(key))) {
        target_free(t);
        return -ENOMEM;
    }
    snprintf(t->name, sizeof t->name, "%s", t->loc.path);
    t->seen = true;
    int r = add_target(w, t);
    if (r < 0)
        target_free(t);
    return r;
}

int gsm_watch_add_cgroup(struct gsm_watch *w, const char *path) {
    struct gsm_cgroup_location loc;
    int r = gsm_cgroup_locate_path(w->root, path, &loc);
    if (r < 0)
        return r;
    return new_cgroup_target(w, &loc, true);
}

void gsm_watch_set_all(struct gsm_watch *w, bool all) {
    w->all = all;
}

int gsm_watch_new(const struct gsm_root *root, const struct gsm_watch_opts *o, struct gsm_watch **ret) {
    struct gsm_watch *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->root = root;
    w->o = *o;
    long tck = sysconf(_SC_CLK_TCK);
    w->clk_tck = tck > 0 ? (double)tck : 100.0;
    /* The node's memory: the limit of last resort for targets without a cgroup limit. */
    _cleanup_free_ char *buf = NULL;
    size_t len;
    if (gsm_read_file_at(root->fd, "proc/meminfo", GSM_SMALL_FILE_MAX, &buf, &len) == 0) {
        const char *p = strstr(buf, "MemTotal:");
        uint64_t kb;
        if (p && (p += 9, gsm_parse_u64(&p, &kb) == 0))
            w->mem_total_bytes = kb * 1024;
    }
    *ret = w;
    return 0;
}

void gsm_watch_free(struct gsm_watch *w) {
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        target_free(w->t[i]);
    free(w->t);
    free(w->pts);
    free(w);
}

/* --all: every cgroup with a memory limit, and every process. */
static void walk_limited_cgroups(struct gsm_watch *w, const struct gsm_cgroup_location *top, int dirfd, const char *path,
                                 unsigned depth) {
    if (depth > 16)
        return;
    int dfd = dup(dirfd);
    if (dfd < 0)
        return;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.')
            continue;
        int c = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c < 0)
            continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", strcmp(path, "/") == 0 ? "" : path, de->d_name);
        struct gsm_cg_limit max = {0}, high = {0};
        if (gsm_cgroup_read_limits_at(c, top->version, &max, &high) == 0 &&
            ((max.have && !max.unlimited) || (high.have && !high.unlimited))) {
            struct gsm_cgroup_location loc;
            if (gsm_cgroup_location_make(top->version, top->mount_point, top->mount_root, child, &loc) == 0)
                new_cgroup_target(w, &loc, false);
        }
        walk_limited_cgroups(w, top, c, child, depth + 1);
        close(c);
    }
    closedir(d);
}

static void refresh_all(struct gsm_watch *w) {
    int pfd = openat(w->root->fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
        DIR *d = fdopendir(pfd);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                const char *p = de->d_name;
                uint64_t v;
                if (gsm_parse_u64(&p, &v) < 0 || *p || v == 0 || v > INT32_MAX)
                    continue;
                struct gsm_watch_target *t;
                new_process_target(w, (pid_t)v, false, &t);
            }
            closedir(d);
        } else
            close(pfd);
    }
    /* The memory hierarchy of our own process tells where cgroups are mounted. */
    struct gsm_cgroup_location self;
    if (gsm_cgroup_locate_path(w->root, "/", &self) == 0) {
        int top = openat(w->root->fd, self.top_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (top >= 0) {
            walk_limited_cgroups(w, &self, top, "/", 0);
            close(top);
        }
        gsm_cgroup_location_free(&self);
    }
}

/* ---- sampling ------------------------------------------------------------------------ */

static int ring_push(struct gsm_watch_target *t, const struct gsm_watch_sample *s) {
    struct gsm_ring_entry e = {
        .t_ms = s->t_ms, .value_kib = kib(s->value_bytes), .unreclaimable_kib = kib(s->unreclaimable_bytes),
        .usage_kib = kib(s->usage_bytes), .anon_kib = kib(s->anon_bytes), .file_kib = kib(s->file_bytes),
        .swap_kib = kib(s->swap_bytes), .limit_kib = s->limit_bytes == UINT64_MAX ? UINT32_MAX : kib(s->limit_bytes),
        .threads = s->threads > UINT32_MAX ? UINT32_MAX : (uint32_t)s->threads,
    };
    return gsm_sample_ring_push(&t->ring, &e);
}

size_t gsm_watch_target_ring_len(const struct gsm_watch_target *t) {
    return gsm_sample_ring_len(&t->ring);
}

bool gsm_watch_target_ring_get(const struct gsm_watch_target *t, size_t i, struct gsm_watch_sample *ret) {
    struct gsm_ring_entry x;
    if (!gsm_sample_ring_get(&t->ring, i, &x))
        return false;
    const struct gsm_ring_entry *e = &x;
    memset(ret, 0, sizeof *ret);
    ret->t_ms = e->t_ms;
    ret->value_bytes = (uint64_t)e->value_kib << 10;
    ret->unreclaimable_bytes = (uint64_t)e->unreclaimable_kib << 10;
    ret->usage_bytes = (uint64_t)e->usage_kib << 10;
    ret->anon_bytes = (uint64_t)e->anon_kib << 10;
    ret->file_bytes = (uint64_t)e->file_kib << 10;
    ret->swap_bytes = (uint64_t)e->swap_kib << 10;
    ret->limit_bytes = e->limit_kib == UINT32_MAX ? UINT64_MAX : (uint64_t)e->limit_kib << 10;
    ret->threads = e->threads;
    return true;
}

/* The cgroup's numbers for this tick (several process targets may share a cgroup: a small
 * per-tick cache keyed by directory avoids reading it twice). */
struct cg_tick {
    char dir[512];
    int r;
    struct gsm_cgroup_memory mem;
    struct gsm_cg_breakdown bd;
    bool have_bd;
};

struct tick_cache {
    struct cg_tick *c;
    size_t n, cap;
};

static const struct cg_tick *cg_sample(struct gsm_watch *w, struct tick_cache *tc, const struct gsm_cgroup_location *loc) {
    for (size_t i = 0; i < tc->n; i++)
        if (strcmp(tc->c[i].dir, loc->dir) == 0)
            return &tc->c[i];
    if (tc->n == tc->cap) {
        size_t nc = tc->cap ? tc->cap * 2 : 8;
        struct cg_tick *n = realloc(tc->c, nc * sizeof *n);
        if (!n)
            return NULL;
        tc->c = n;
        tc->cap = nc;
    }
    struct cg_tick *c = &tc->c[tc->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "%s", loc->dir);
    uint64_t t0 = mono_ns();
    c->r = gsm_cgroup_memory_read(w->root, loc, &c->mem);
    w->stats.cgroup.reads++;
    w->stats.cgroup.ns += mono_ns() - t0;
    if (c->r < 0)
        w->stats.cgroup.errors++;
    else
        c->have_bd = gsm_cgroup_breakdown(&c->mem, &c->bd) == 0;
    return c;
}

static void tick_cache_free(struct tick_cache *tc) {
    for (size_t i = 0; i < tc->n; i++)
        if (tc->c[i].r == 0)
            gsm_cgroup_memory_free(&tc->c[i].mem);
    free(tc->c);
}

static uint64_t effective_limit(const struct gsm_watch *w, const struct gsm_watch_target *t) {
    if (t->have_eff && t->eff.max.limited)
        return t->eff.max.bytes;
    return w->mem_total_bytes ? w->mem_total_bytes : UINT64_MAX;
}

static void refresh_limit(struct gsm_watch *w, struct gsm_watch_target *t, const struct cg_tick *c) {
    if (!t->has_cg || (t->have_eff && t->ticks_since_limit < LIMIT_REFRESH_TICKS)) {
        t->ticks_since_limit++;
        return;
    }
    t->ticks_since_limit = 0;
    if (t->have_eff)
        gsm_cg_effective_free(&t->eff);
    struct gsm_cg_ancestry anc;
    t->have_eff = c && c->r == 0 && gsm_cgroup_read_ancestors(w->root, &t->loc, &anc) == 0;
    if (t->have_eff) {
        t->have_eff = gsm_cgroup_effective_limits(&t->loc, &c->mem, &anc, &t->eff) == 0;
        gsm_cg_ancestry_free(&anc);
    }
}

/* Go members of a cgroup target, or the process target itself when it is Go: discovered
 * (exe has .go.buildinfo, and a loopback port answers) at most every 30 s. */
static void go_discover(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms) {
    if (!w->o.go_stats || !w->root->is_host)
        return;
    if (t->go_checked && now_ms - t->go_discovery_ms < GO_RETRY_DISCOVERY_MS)
        return;
    t->go_checked = true;
    t->go_discovery_ms = now_ms;
    pid_t pids[64];
    size_t n = 0;
    if (t->type == GSM_WT_PROCESS)
        pids[n++] = t->pid;
    else {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int dfd = openat(w->root->fd, t->loc.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0 && gsm_read_file_at(dfd, "cgroup.procs", 1 << 20, &buf, &len) == 0) {
            const char *p = buf;
            uint64_t v;
            while (n < 64 && gsm_parse_u64(&p, &v) == 0) {
                pids[n++] = (pid_t)v;
                while (*p == '\n')
                    p++;
            }
        }
        if (dfd >= 0)
            close(dfd);
    }
    free(t->go);
    t->go = NULL;
    t->n_go = 0;
    for (size_t i = 0; i < n; i++) {
        _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
        if (gsm_proc_handle_open(w->root, pids[i], &h) < 0)
            continue;
        struct gsm_go_info gi;
        if (gsm_go_info_read_at(h.dirfd, "exe", &gi) < 0)
            continue;
        gsm_go_info_free(&gi);
        struct gsm_go_stats st;
        char why[128];
        struct gsm_http_opts ho = {.connect_timeout_ms = 300, .total_timeout_ms = 800};
        uint64_t t0 = mono_ns();
        int r = gsm_go_stats_fetch_proc(w->root, &h, &ho, &st, why, sizeof why);
        w->stats.go_http.reads++;
        w->stats.go_http.ns += mono_ns() - t0;
        if (r < 0) {
            w->stats.go_http.errors++;
            continue;
        }
        struct go_member *g = realloc(t->go, (t->n_go + 1) * sizeof *g);
        if (!g)
            break;
        t->go = g;
        g = &t->go[t->n_go++];
        memset(g, 0, sizeof *g);
        g->pid = pids[i];
        snprintf(g->endpoint, sizeof g->endpoint, "%s", st.endpoint);
        g->stats = st;
        g->have = true;
        g->last_poll_ms = now_ms;
    }
}

/* The Go adjustment: replace what the runtime maps for the heap (HeapInuse + HeapIdle -
 * HeapReleased) by the heap goal of the last GC (NextGC). Both in the anon memory the sample
 * counts; the goal moves only with the live heap, so the sawtooth between GCs disappears. */
static bool go_adjust(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms, uint64_t value, uint64_t *ret,
                      uint64_t *ret_next_gc) {
    if (t->n_go == 0)
        return false;
    int64_t adj = 0;
    uint64_t next_gc = 0;
    for (size_t i = 0; i < t->n_go; i++) {
        struct go_member *g = &t->go[i];
        if (now_ms - g->last_poll_ms >= GO_POLL_MS) {
            struct gsm_go_stats st;
            char why[128];
            struct gsm_http_opts ho = {.connect_timeout_ms = 300, .total_timeout_ms = 800};
            uint64_t t0 = mono_ns();
            int r = gsm_go_stats_fetch(g->endpoint, &ho, &st, why, sizeof why);
            w->stats.go_http.reads++;
            w->stats.go_http.ns += mono_ns() - t0;
            g->last_poll_ms = now_ms;
            if (r == 0) {
                g->stats = st;
                g->have = true;
            } else {
                w->stats.go_http.errors++;
                g->have = false;
            }
        }
        if (!g->have)
            return false;   /* a member without statistics: use the raw numbers */
        const struct gsm_go_stats *s = &g->stats;
        uint64_t mapped = s->heap_inuse_bytes + s->heap_idle_bytes - s->heap_released_bytes;
        adj += (int64_t)s->next_gc_bytes - (int64_t)mapped;
        next_gc += s->next_gc_bytes;
    }
    int64_t v = (int64_t)value + adj;
    *ret = v > 0 ? (uint64_t)v : 0;
    *ret_next_gc = next_gc;
    return true;
}

/* A cgroup's age: the start of its oldest process (cgroup.procs), re-read every few ticks. */
static void scan_members(struct gsm_watch *w, struct gsm_watch_target *t) {
    if (t->type != GSM_WT_CGROUP || (t->have_start && t->ticks_since_scan++ < REFRESH_TICKS))
        return;
    t->ticks_since_scan = 0;
    int dfd = openat(w->root->fd, t->loc.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    _cleanup_free_ char *buf = NULL;
    size_t len;
    if (gsm_read_file_at(dfd, "cgroup.procs", 1 << 20, &buf, &len) == 0) {
        const char *p = buf;
        uint64_t v, start;
        double oldest = INFINITY;
        for (unsigned k = 0; k < 256 && gsm_parse_u64(&p, &v) == 0; k++) {
            while (*p == '\n')
                p++;
            if (v > 0 && v <= INT32_MAX && process_identity(w->root, (pid_t)v, &start, NULL, 0) == 0 &&
                (double)start / w->clk_tck < oldest)
                oldest = (double)start / w->clk_tck;
        }
        if (!isinf(oldest)) {
            t->start_s = oldest;
            t->have_start = true;
        }
    }
    close(dfd);
}

static bool warming_up(const struct gsm_watch *w, const struct gsm_watch_target *t) {
    return t->have_start && w->uptime_s > 0 && w->uptime_s - t->start_s < w->o.warmup_s;
}

static uint64_t v2_event(const struct gsm_cgroup_memory *m, enum gsm_cg_event e) {
    return m->events.have && m->events.have_key[e] ? m->events.count[e] : 0;
}

static int sample_target(struct gsm_watch *w, struct gsm_watch_target *t, struct tick_cache *tc, uint64_t now_ms,
                         struct gsm_watch_sample *s) {
    memset(s, 0, sizeof *s);
    s->t_ms = now_ms;
    const struct cg_tick *c = t->has_cg ? cg_sample(w, tc, &t->loc) : NULL;
    refresh_limit(w, t, c);
    s->limit_bytes = effective_limit(w, t);
    if (c && c->r == 0) {
        const struct gsm_cgroup_memory *m = &c->mem;
        s->oom_kill = m->version == GSM_CGROUP_V2 ? v2_event(m, GSM_CG_EV_OOM_KILL) : m->oom_control.oom_kill;
        s->oom = v2_event(m, GSM_CG_EV_OOM);
        s->max_events = v2_event(m, GSM_CG_EV_MAX);
        s->high_events = v2_event(m, GSM_CG_EV_HIGH);
        s->failcnt = m->failcnt.have ? m->failcnt.value : 0;
        if (m->pressure.have) {
            s->have_psi = true;
            s->psi_some_avg10 = m->pressure.some.avg10_pct;
            s->psi_full_avg10 = m->pressure.full.avg10_pct;
        }
    }
    if (t->type == GSM_WT_CGROUP) {
        if (!c || c->r < 0)
            return c ? c->r : -ENOMEM;
        const struct gsm_cgroup_memory *m = &c->mem;
        s->usage_bytes = m->usage_bytes.have ? m->usage_bytes.value : 0;
        if (c->have_bd) {
            s->unreclaimable_bytes = c->bd.unreclaimable_bytes;
            s->anon_bytes = c->bd.parts[GSM_CG_PART_ANON].bytes;
            s->file_bytes = c->bd.parts[GSM_CG_PART_FILE_ACTIVE].bytes + c->bd.parts[GSM_CG_PART_FILE_INACTIVE].bytes;
            s->working_set_bytes = c->bd.working_set_bytes;
            s->swap_bytes = c->bd.swap_bytes.have ? c->bd.swap_bytes.value : 0;
        } else
            s->unreclaimable_bytes = s->usage_bytes;
    } else {
        _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
        uint64_t t0 = mono_ns();
        int r = gsm_proc_handle_open(w->root, t->pid, &h);   /* reads stat: the start time */
        struct gsm_status ss;
        if (r == 0 && !h.have_start)
            r = -ESRCH;
        if (r == 0 && h.start_ticks != t->starttime)
            r = -ESRCH;   /* the PID was recycled */
        if (r == 0)
            r = gsm_read_status_at(h.dirfd, &ss, NULL);
        w->stats.status.reads += 2;
        w->stats.status.ns += mono_ns() - t0;
        if (r < 0) {
            w->stats.status.errors++;
            return r == -ENOENT ? -ESRCH : r;
        }
        s->usage_bytes = ss.vm_rss_bytes;
        s->anon_bytes = ss.rss_anon_bytes;
        s->file_bytes = ss.rss_file_bytes;
        s->swap_bytes = ss.vm_swap_bytes;
        s->threads = ss.threads;
        s->unreclaimable_bytes = ss.rss_anon_bytes + ss.rss_shmem_bytes + ss.vm_swap_bytes;
        s->working_set_bytes = ss.vm_rss_bytes;
        if (c && c->r == 0 && c->have_bd && c->bd.unreclaimable_bytes > s->unreclaimable_bytes)
            s->others_bytes = c->bd.unreclaimable_bytes - s->unreclaimable_bytes;
    }
    s->value_bytes = s->unreclaimable_bytes;
    scan_members(w, t);
    go_discover(w, t, now_ms);
    uint64_t adjusted, next_gc;
    if (go_adjust(w, t, now_ms, s->value_bytes, &adjusted, &next_gc)) {
        s->value_bytes = adjusted;
        s->go_adjusted = true;
        s->go_next_gc_bytes = next_gc;
    }
    return 0;
}

/* Tier 2: smaps_rollup for a few process targets per tick, within the kernel-time budget. */
static void rollup_tier(struct gsm_watch *w, uint64_t now_ms) {
    int64_t budget_us = (int64_t)w->o.rollup_budget_us;
    for (size_t k = 0; k < w->n && budget_us > 0; k++) {
        struct gsm_watch_target *t = w->t[(w->rollup_cursor + k) % w->n];
        if (t->type != GSM_WT_PROCESS || gsm_sample_ring_len(&t->ring) == 0 || now_ms - t->last_rollup_ms < ROLLUP_MIN_INTERVAL_MS)
            continue;
        struct gsm_watch_sample *s = &t->prev;   /* this tick's sample */
        int64_t cost_us = (int64_t)(s->usage_bytes * ROLLUP_US_PER_GIB >> 30) + 50;
        if (cost_us > budget_us && k > 0)
            continue;   /* too big for what is left of this tick; try a smaller one */
        _cleanup_proc_ struct gsm_proc h = GSM_PROC_INIT;
        if (gsm_proc_handle_open(w->root, t->pid, &h) < 0)
            continue;
        struct gsm_process p;
        gsm_process_init(&p, t->pid);
        struct gsm_parse_error err;
        uint64_t t0 = mono_ns();
        int r = gsm_smaps_read_at(h.dirfd, "smaps_rollup", &p, NULL, &err);
        if (r == 0 && (h.start_ticks != t->starttime || gsm_proc_handle_check(&h) < 0))
            r = -ESRCH;   /* a recycled PID's PSS is not this target's */
        uint64_t spent = mono_ns() - t0;
        w->stats.rollup.reads++;
        w->stats.rollup.ns += spent;
        if (r == 0 && p.have_rollup)
            s->pss_bytes = p.rollup.f[GSM_F_PSS];
        else
            w->stats.rollup.errors++;
        gsm_process_free(&p);
        t->last_rollup_ms = now_ms;
        budget_us -= (int64_t)(spent / 1000);
        w->rollup_cursor = (w->rollup_cursor + k + 1) % (w->n ? w->n : 1);
    }
}

/* ---- detectors ----------------------------------------------------------------------- */

struct emitter {
    gsm_watch_event_fn fn;
    void *userdata;
    struct gsm_watch *w;
};

static void fire(struct emitter *e, struct gsm_watch_event *ev) {
    e->w->stats.events++;
    if (e->fn)
        e->fn(ev, e->userdata);
}

static void evid(struct gsm_watch_event *ev, const char *key, double v) {
    if (ev->n_evidence < 8) {
        ev->evidence[ev->n_evidence].key = key;
        ev->evidence[ev->n_evidence].value = v;
        ev->n_evidence++;
    }
}

/* Hysteresis: returns true when the detector's firing level changed (an event is due). */
static bool step(struct detector *d, enum gsm_watch_level candidate) {
    if (candidate > d->level) {
        if (candidate != d->pending) {
            d->pending = candidate;
            d->pending_ticks = 0;
        }
        d->clear_ticks = 0;
        if (++d->pending_ticks >= CONFIRM_TICKS) {
            d->level = candidate;
            d->pending_ticks = 0;
            return true;
        }
        return false;
    }
    d->pending_ticks = 0;
    d->pending = GSM_WL_NONE;
    if (candidate == d->level) {
        d->clear_ticks = 0;
        return false;
    }
    if (++d->clear_ticks >= CLEAR_TICKS) {   /* candidate < level for long enough */
        d->level = candidate;
        d->clear_ticks = 0;
        return true;
    }
    return false;
}

static void detect(struct gsm_watch *w, struct gsm_watch_target *t, const struct gsm_watch_sample *s, struct emitter *e) {
    uint64_t t0 = mono_ns();
    size_t n = gsm_sample_ring_len(&t->ring);
    if (w->pts_cap < n) {
        size_t want = n > t->ring_max + GSM_RING_BLOCK ? n : t->ring_max + GSM_RING_BLOCK;
        struct gsm_point *p = realloc(w->pts, want * sizeof *p);
        if (!p)
            return;
        w->pts = p;
        w->pts_cap = want;
    }
    struct gsm_point *pts = w->pts;
    struct gsm_sample_ring_iter it;
    gsm_sample_ring_iter_init(&it, &t->ring);
    struct gsm_ring_entry re;
    for (size_t i = 0; i < n && gsm_sample_ring_next(&it, &re); i++) {
        pts[i].t_ms = re.t_ms;
        pts[i].v = (double)((uint64_t)re.value_kib << 10);
    }
    struct gsm_watch_event ev;

    /* (a) time to limit, from the most pessimistic consistent trend of a short and a long
     * window; the headroom is the limit minus what else the cgroup holds. */
    double limit = s->limit_bytes == UINT64_MAX ? INFINITY : (double)s->limit_bytes - (double)s->others_bytes;
    double eta = INFINITY, slope = 0;
    const uint64_t windows[2] = {w->o.short_window_ms, w->o.window_ms};
    struct gsm_trend tr;
    for (int k = 0; k < 2; k++) {
        /* Most series (idle processes) fail the O(n) step test: skip the O(n^2) pairs. */
        if (gsm_step_positive_fraction(pts, n, windows[k]) < ETA_MIN_STEP_FRACTION)
            continue;
        if (!gsm_theil_sen(pts, n, windows[k], ETA_MIN_POINTS, ETA_MIN_SPAN_MS, &tr))
            continue;
        if (tr.positive_fraction < (k == 0 ? ETA_SHORT_MIN_POSITIVE_FRACTION : ETA_MIN_POSITIVE_FRACTION) ||
            tr.step_positive_fraction < ETA_MIN_STEP_FRACTION || tr.slope_per_s <= 0)
            continue;
        double x = gsm_eta_seconds((double)s->value_bytes, limit, tr.slope_per_s);
        if (x < eta) {
            eta = x;
            slope = tr.slope_per_s;
        }
    }
    if (warming_up(w, t))
        eta = INFINITY;
    t->last_eta_s = eta;
    enum gsm_watch_level c = eta < ETA_CRITICAL_S ? GSM_WL_CRITICAL
                             : eta < w->o.horizon_s ? GSM_WL_WARN
                             : eta < ETA_INFO_S ? GSM_WL_INFO
                                                : GSM_WL_NONE;
    enum gsm_watch_level before = t->eta.level;
    if (step(&t->eta, c)) {
        memset(&ev, 0, sizeof ev);
        ev.time_ms = s->t_ms;
        ev.kind = GSM_WK_ETA;
        ev.target = t;
        ev.level = t->eta.level ? t->eta.level : before;
        ev.resolved = t->eta.level == GSM_WL_NONE;
        ev.value = (double)s->value_bytes;
        ev.threshold = limit;
        ev.eta_seconds = isinf(eta) ? NAN : eta;
        if (ev.resolved)
            snprintf(ev.message, sizeof ev.message, "memory growth toward the limit stopped");
        else
            snprintf(ev.message, sizeof ev.message, "%s reaches its limit in %.0f s at %.2f MiB/s",
                     t->type == GSM_WT_CGROUP ? "the cgroup" : "the process", eta, slope / 1048576.0);
        evid(&ev, "slope_bytes_per_second", slope);
        evid(&ev, "unreclaimable_bytes", (double)s->unreclaimable_bytes);
        evid(&ev, "limit_bytes", s->limit_bytes == UINT64_MAX ? -1 : (double)s->limit_bytes);
        evid(&ev, "others_bytes", (double)s->others_bytes);
        evid(&ev, "go_adjusted", s->go_adjusted);
        ev.wants_bundle = !ev.resolved && ev.level == GSM_WL_CRITICAL;
        fire(e, &ev);
    }

    /* (b) sudden growth: Z-score of the growth rate against the baseline. */
    double z = 0, rate = 0;
    enum gsm_watch_level g = GSM_WL_NONE;
    t->last_z = 0;
    if (gsm_growth_zscore(pts, n, w->o.baseline_ms, Z_MIN_BASELINE, Z_SD_FLOOR, &z, &rate) && z > w->o.z_threshold &&
        rate > 0)
        g = GSM_WL_WARN;
    if (n >= 3)
        t->last_z = z;
    before = t->growth.level;
    if (step(&t->growth, g)) {
        memset(&ev, 0, sizeof ev);
        ev.time_ms = s->t_ms;
        ev.kind = GSM_WK_GROWTH;
        ev.target = t;
        ev.level = t->growth.level ? t->growth.level : before;
        ev.resolved = t->growth.level == GSM_WL_NONE;
        ev.value = z;
        ev.threshold = w->o.z_threshold;
        ev.eta_seconds = NAN;
        snprintf(ev.message, sizeof ev.message, ev.resolved ? "growth back to its baseline"
                                                            : "sudden growth: %.2f MiB/s, z = %.1f against the last %llu s",
                 rate / 1048576.0, z, (unsigned long long)(w->o.baseline_ms / 1000));
        evid(&ev, "rate_bytes_per_second", rate);
        evid(&ev, "z", z);
        fire(e, &ev);
    }

    /* (c) pressure: PSI on v2. */
    enum gsm_watch_level pl = GSM_WL_NONE;
    if (s->have_psi)
        pl = s->psi_full_avg10 >= PSI_FULL_CRITICAL ? GSM_WL_CRITICAL : s->psi_some_avg10 >= PSI_SOME_WARN ? GSM_WL_WARN
                                                                                                          : GSM_WL_NONE;
    before = t->pressure.level;
    if (t->type == GSM_WT_CGROUP && step(&t->pressure, pl)) {
        memset(&ev, 0, sizeof ev);
        ev.time_ms = s->t_ms;
        ev.kind = GSM_WK_PRESSURE;
        ev.target = t;
        ev.level = t->pressure.level ? t->pressure.level : before;
        ev.resolved = t->pressure.level == GSM_WL_NONE;
        ev.value = s->psi_some_avg10;
        ev.threshold = PSI_SOME_WARN;
        ev.eta_seconds = NAN;
        snprintf(ev.message, sizeof ev.message, ev.resolved ? "memory pressure back to normal"
                                                            : "memory pressure: some %.1f%%, full %.1f%% (avg10)",
                 s->psi_some_avg10, s->psi_full_avg10);
        evid(&ev, "psi_some_avg10_pct", s->psi_some_avg10);
        evid(&ev, "psi_full_avg10_pct", s->psi_full_avg10);
        ev.wants_bundle = !ev.resolved && ev.level == GSM_WL_CRITICAL;
        fire(e, &ev);
    }

    /* (d) the kernel's own signals: counter increments. Cgroup targets only, so one kill is
     * reported once, not once per process of the cgroup. */
    if (t->have_prev && t->type == GSM_WT_CGROUP) {
        const struct {
            enum gsm_watch_kind kind;
            uint64_t now, before;
            enum gsm_watch_level level;
            const char *what;
        } counters[] = {
            {GSM_WK_OOM_KILL, s->oom_kill, t->prev.oom_kill, GSM_WL_CRITICAL, "the OOM killer killed a process"},
            {GSM_WK_OOM, s->oom, t->prev.oom, GSM_WL_CRITICAL, "the cgroup ran out of memory (memory.events oom)"},
            {GSM_WK_MAX, s->max_events, t->prev.max_events, GSM_WL_WARN, "usage hit memory.max"},
            {GSM_WK_HIGH, s->high_events, t->prev.high_events, GSM_WL_INFO, "usage went over memory.high"},
            {GSM_WK_FAILCNT, s->failcnt, t->prev.failcnt, GSM_WL_INFO, "usage hit the limit (failcnt)"},
        };
        /* OOM and OOM kills: one event per increment (each kill matters). Limit hits (max,
         * high, failcnt) are a condition: firing while they keep rising, resolved after they
         * stop; with page cache at the limit v1's failcnt rises every tick without any OOM. */
        bool hits_rising = false;
        for (size_t i = 2; i < sizeof counters / sizeof counters[0]; i++)
            hits_rising |= counters[i].now > counters[i].before;
        enum gsm_watch_level hl = hits_rising ? GSM_WL_INFO : GSM_WL_NONE;
        if (step(&t->limit_hits, hl)) {
            memset(&ev, 0, sizeof ev);
            ev.time_ms = s->t_ms;
            ev.kind = s->max_events > t->prev.max_events ? GSM_WK_MAX
                      : s->high_events > t->prev.high_events ? GSM_WK_HIGH : GSM_WK_FAILCNT;
            ev.target = t;
            ev.level = GSM_WL_INFO;
            ev.resolved = t->limit_hits.level == GSM_WL_NONE;
            ev.eta_seconds = NAN;
            snprintf(ev.message, sizeof ev.message, ev.resolved ? "usage stopped hitting the limit"
                                                                : "usage keeps hitting the limit (reclaim at the limit; "
                                                                  "an OOM follows only if nothing can be reclaimed)");
            evid(&ev, "max_events", (double)s->max_events);
            evid(&ev, "high_events", (double)s->high_events);
            evid(&ev, "failcnt", (double)s->failcnt);
            fire(e, &ev);
        }
        for (size_t i = 0; i < 2; i++) {
            if (counters[i].now <= counters[i].before)
                continue;
            memset(&ev, 0, sizeof ev);
            ev.time_ms = s->t_ms;
            ev.kind = counters[i].kind;
            ev.target = t;
            ev.level = counters[i].level;
            ev.value = (double)counters[i].now;
            ev.threshold = (double)counters[i].before;
            ev.eta_seconds = NAN;
            snprintf(ev.message, sizeof ev.message, "%s (+%llu)", counters[i].what,
                     (unsigned long long)(counters[i].now - counters[i].before));
            evid(&ev, "count", (double)counters[i].now);
            evid(&ev, "increase", (double)(counters[i].now - counters[i].before));
            ev.wants_bundle = counters[i].kind == GSM_WK_OOM_KILL;
            fire(e, &ev);
        }
    }
    t->prev = *s;
    t->have_prev = true;
    w->stats.detect.reads++;
    w->stats.detect.ns += mono_ns() - t0;
}

int gsm_watch_tick(struct gsm_watch *w, uint64_t now_ms, gsm_watch_event_fn on_event, gsm_watch_sample_fn on_sample,
                   void *userdata) {
    struct emitter e = {on_event, userdata, w};
    if (w->all && w->ticks % REFRESH_TICKS == 0) {
        for (size_t i = 0; i < w->n; i++)
            w->t[i]->seen = w->t[i]->explicit_target;
        refresh_all(w);
    }
    w->ticks++;
    w->stats.ticks++;
    _cleanup_free_ char *up = NULL;
    size_t uplen;
    if (gsm_read_file_at(w->root->fd, "proc/uptime", 4096, &up, &uplen) == 0)
        w->uptime_s = strtod(up, NULL);
    struct tick_cache tc = {0};
    for (size_t i = 0; i < w->n;) {
        struct gsm_watch_target *t = w->t[i];
        struct gsm_watch_sample s;
        int r = (w->all && !t->seen) ? -ESRCH : sample_target(w, t, &tc, now_ms, &s);
        if (r == -ESRCH || r == -ENOENT) {
            /* Gone: a process that exited (or whose PID now names another), a removed cgroup. */
            if (t->explicit_target) {
                struct gsm_watch_event ev = {.time_ms = now_ms, .level = GSM_WL_INFO, .kind = GSM_WK_TARGET_GONE,
                                             .target = t, .eta_seconds = NAN};
                snprintf(ev.message, sizeof ev.message, "%s is gone", t->type == GSM_WT_CGROUP ? "the cgroup" : "the process");
                fire(&e, &ev);
            }
            target_free(t);
            w->t[i] = w->t[--w->n];
            continue;
        }
        if (r < 0) {
            i++;
            continue;
        }
        if (ring_push(t, &s) < 0) {
            i++;
            continue;
        }
        if (on_sample)
            on_sample(t, &s, userdata);
        detect(w, t, &s, &e);
        i++;
    }
    tick_cache_free(&tc);
    rollup_tier(w, now_ms);
    return 0;
}

const struct gsm_watch_stats *gsm_watch_get_stats(const struct gsm_watch *w) {
    return &w->stats;
}
size_t gsm_watch_n_targets(const struct gsm_watch *w) {
    return w->n;
}
enum gsm_watch_target_type gsm_watch_target_type(const struct gsm_watch_target *t) {
    return t->type;
}
pid_t gsm_watch_target_pid(const struct gsm_watch_target *t) {
    return t->pid;
}
uint64_t gsm_watch_target_starttime(const struct gsm_watch_target *t) {
    return t->starttime;
}
const char *gsm_watch_target_name(const struct gsm_watch_target *t) {
    return t->name;
}
const char *gsm_watch_target_cgroup(const struct gsm_watch_target *t) {
    return t->has_cg ? t->loc.path : NULL;
}
const struct gsm_cgroup_location *gsm_watch_target_cgroup_loc(const struct gsm_watch_target *t) {
    return t->has_cg ? &t->loc : NULL;
}
void gsm_watch_target_identity(const struct gsm_watch_target *t, struct gsm_container_identity *ret) {
    memset(ret, 0, sizeof *ret);
    if (t->has_cg && t->loc.path)
        gsm_container_identity_parse(t->loc.path, ret);
}
const char *gsm_watch_target_go_endpoint(const struct gsm_watch_target *t) {
    return t->n_go ? t->go[0].endpoint : NULL;
}

size_t gsm_watch_target_n_go(const struct gsm_watch_target *t) {
    return t->n_go;
}

const struct gsm_go_stats *gsm_watch_target_go_stats(const struct gsm_watch_target *t, size_t i, pid_t *ret_pid) {
    if (i >= t->n_go)
        return NULL;
    if (ret_pid)
        *ret_pid = t->go[i].pid;
    return t->go[i].have ? &t->go[i].stats : NULL;
}

const struct gsm_watch_target *gsm_watch_target_at(const struct gsm_watch *w, size_t i) {
    return i < w->n ? w->t[i] : NULL;
}
bool gsm_watch_target_current(const struct gsm_watch_target *t, struct gsm_watch_sample *ret, double *ret_eta_s,
                              double *ret_z) {
    if (!t->have_prev)
        return false;
    *ret = t->prev;
    *ret_eta_s = t->last_eta_s;
    *ret_z = t->last_z;
    return true;
}
enum gsm_watch_level gsm_watch_target_condition(const struct gsm_watch_target *t, enum gsm_watch_kind k) {
    return k == GSM_WK_ETA ? t->eta.level : k == GSM_WK_GROWTH ? t->growth.level : k == GSM_WK_PRESSURE ? t->pressure.level
                                                                                                       : GSM_WL_NONE;
}
bool gsm_watch_target_is_explicit(const struct gsm_watch_target *t) {
    return t->explicit_target;
}
