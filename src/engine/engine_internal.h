/* Between the engine's files (engine.c, targets.c, sample.c, go_poll.c): the target and engine
 * structures and the functions one file offers the others. Not for use outside src/engine/. */
#pragma once

#include "analyses/detect.h"
#include "analyses/health.h"
#include "analyses/sample_ring.h"
#include "analyses/totals.h"
#include "analyses/trend.h"
#include "engine/watch.h"
#include "readers/cgroup.h"
#include "readers/proc_handle.h"

#include <stdint.h>

/* Targets are refreshed (new processes, gone cgroups) every this many intervals; effective
 * limits are re-read every 15 samples, a cgroup's oldest member every 5. */
#define REFRESH_TICKS 5
#define LIMIT_REFRESH_TICKS 15
/* A process target's /proc/PID/cgroup is re-read every this many samples (it may be moved). */
#define CG_RECHECK_TICKS 3
/* A process (or a cgroup whose oldest process) younger than this is still starting up: its
 * ramp to its working size is not a leak, so the ETA detector waits. The Z-score detector does
 * not (a burst right after start is still sudden growth). */
#define WARMUP_S 20.0
#define FAST_INTERVAL_MS 250
#define FAST_HOLD_MS 5000
/* A watched process gone within this long of its cgroup counting an OOM kill was that kill (the
 * kernel counts the kill before the victim has exited: a sample may fall in between). */
#define OOM_EXIT_MS 3000
/* watch (two rates): a target whose value stayed within max(1 MiB, 1 %) of where it was for
 * STEADY_SAMPLES samples is sampled every STEADY_FACTOR intervals, until it moves (an idle
 * process costs a third; bench/watch_overhead.sh, 500 sleeps). Kernel notifications still wake
 * a cgroup at once, and a change brings the interval back at the next sample. */
#define STEADY_SAMPLES 3
#define STEADY_FACTOR 3
/* 12 s of CPU measurements at the fast interval (the short spans they judge are up to 6 s). */
#define CPU_HIST 48
/* A cgroup with more processes than this, or a process with more threads, is not measured. */
#define CPU_MAX_MEMBERS 16
#define CPU_MAX_TASKS 256
#define YOUNG_S 120.0

struct go_member {
    pid_t pid;
    char endpoint[256];
    struct gsm_go_stats stats;
    bool have;
    uint64_t last_poll_ms, last_good_ms;
};

/* The cgroup's numbers for one tick (several process targets may share a cgroup: a small
 * per-tick cache keyed by directory reads it once). Kept until the next tick starts, so the
 * exporter and serve's findings use what this tick read. */
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

struct gsm_watch_target {
    enum gsm_watch_target_type type;
    pid_t pid;
    uint64_t starttime;
    char name[64];
    char *key;                       /* what makes a target the same: PID and start time, or the cgroup */
    /* A process target's pidfd (pidfd_open at discovery, checked against the start time read
     * after it): a PID reused within the start time's clock tick (10 ms) has the same start
     * time, but the pidfd polls readable once this process has exited. -1 under --root, on a
     * kernel without pidfd_open, or at or above keep_fd_below (then the start time alone). */
    int pidfd;
    bool has_cg;
    struct gsm_cgroup_location loc; /* the container identity is parsed from loc.path on demand */
    struct gsm_cg_effective eff;
    bool have_eff;
    unsigned ticks_since_limit;
    unsigned cg_checks;              /* process targets: samples taken (cgroup re-read every CG_RECHECK_TICKS) */
    bool seen;
    bool explicit_target;            /* named on the command line: report when it goes */

    struct gsm_sample_ring ring;     /* the last --ring seconds */
    size_t ring_max;
    uint64_t next_due_ms;            /* sampled when now >= this, or when woken */
    bool woken;                      /* a kernel notification fired */
    uint64_t last_value_bytes, last_unrecl_bytes, last_t_ms;   /* the previous sample (is a young target growing?) */
    bool fast;                       /* the last schedule() chose the fast interval */
    uint64_t grew_ms;                /* when it last grew by 1 MiB/s or more */
    uint64_t oom_rise_ms;            /* a process: when its cgroup's oom_kill last rose while it lived */
    uint64_t steady_ref_bytes;       /* the value its steady run started at */
    unsigned steady_samples;         /* samples since, all within STEADY_TOLERANCE of it */
    /* The CPU the target asked for (analyses/detect.h GSM_DETECT_QUIET_CPU), measured at each
     * sample while it is sampled fast: a ring of the last CPU_HIST measurements; emptied by a gap. */
    struct cpu_point {
        uint64_t t_ms, demand_ns;
    } cpu[CPU_HIST];
    unsigned cpu_n, cpu_head;        /* how many, the next slot */
    int notify_fd[2];                /* v1: one eventfd for every registration; v2: PSI trigger, memory.events */
    bool notify_tried;
    uint64_t members;                /* cgroup targets: processes at the last sample */
    bool members_known;
    pid_t first_member;

    struct gsm_detect_state det;     /* the detectors' state; det.prev is this tick's sample */
    ssize_t cg_tick;                 /* index of this tick's cgroup read in *tc, -1 none */
    const struct tick_cache *tc;     /* the engine's (w->tc) */

    /* Go: for a process target itself, for a cgroup target its Go members */
    bool go_checked;
    /* A process target's /proc/PID, kept open between samples on the live system (the directory
     * names this process only: once it is reaped, reads through it fail), so a sample costs one
     * open of status instead of the directory, pidfd, stat and status; dirfd -1 when not kept. */
    struct gsm_proc h;
    struct go_member *go;
    size_t n_go;
    uint64_t go_discovery_ms;
    /* The Go adjustment between two polls of the runtime's statistics: the memory and the
     * adjusted value at the last poll, and how far the heaps may still grow to their goals. */
    bool go_have_base;
    uint64_t go_base_raw, go_base_value, go_headroom;
    uint64_t last_rollup_ms;
    double start_s;                  /* since boot: the process's, or a cgroup's oldest member's */
    bool have_start;
    unsigned ticks_since_scan;

    /* Classes (smaps_tier.c) */
    bool class_only;                 /* added as a named cgroup's member: sampled for its classes, no detectors */
    bool pinned_by_cgroup;           /* a named cgroup's member: has classes whatever its rank */
    bool selected;                   /* chosen for classes this tick */
    uint64_t selected_since_ms;
    struct gsm_proc_classes *cls;    /* the last full smaps read's sums; NULL before (or not selected) */
    uint64_t smaps_attempt_ms;       /* last read tried */
    uint64_t smaps_retry_ms;         /* after a refusal (permission): not before this */
    uint64_t smaps_cost_us;          /* what the last read took (0: never read) */
    uint64_t smaps_tick;             /* the tick it was last tried in */
    bool exe_checked, is_go;         /* is the executable Go (read once: the ELF's .go.buildinfo) */
    char goarch[16];
    /* A Go process's whole per-class totals of the last full smaps read (taken at cls->taken_ms),
     * for serve's Go findings, so they read nothing again; NULL when not Go or not read. */
    struct gsm_totals *go_totals;
    uint64_t last_err_log_ms;        /* rate limit of the error log line (one per target per minute) */

    /* Health score (analyses/health): this tick's (its notes only in the event that a band change
     * fires), the band with hysteresis, the counters' window */
    struct gsm_health_brief health;
    struct gsm_health_band_state health_band;
    struct gsm_health_window health_win;
};

struct protect_done {
    pid_t pid;
    uint64_t start;
    bool seen;                       /* still there at the last scan */
};

struct gsm_watch {
    struct tick_cache tc;            /* this tick's cgroup reads (first: targets point at it) */
    uint64_t last_refresh_ms;
    bool notify_warned;              /* "notifications refused" said once */
    int keep_fd_below;               /* process handles are kept open only under this fd number */
    struct gsm_point *raw;           /* scratch: the unreclaimable series */
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
    uint64_t err_log_ms;             /* rate limit of error lines that name no target */
    uint64_t err_window_ms, err_lines, err_suppressed;   /* per-target error lines this minute */
    /* --protect (protect.c): the processes done (set, refused or already so), the last scan */
    struct protect_done *protect_done;
    size_t n_protect_done, cap_protect_done;
    uint64_t protect_scan_ms;
};

uint64_t gsm_engine_mono_ns(void);
/* The PIDs of a cgroup target (cgroup.procs), at most max. */
int gsm_engine_members(const struct gsm_watch *w, const struct gsm_watch_target *t, size_t max,
                       struct gsm_pid_list *ret);

/* targets.c */
void gsm_engine_target_free(struct gsm_watch_target *t);
/* After reads through h (a /proc/PID opened by PID): were they of t's process? -ESRCH when h's
 * start time is not t's, when t's pidfd says its process has exited (a reaped process's PID
 * may be anyone's, even within the same clock tick), or, without a pidfd, when h's own check
 * fails. Call it after the last read. */
int gsm_engine_same_process(const struct gsm_watch_target *t, const struct gsm_proc *h);
int gsm_engine_process_identity(const struct gsm_root *root, pid_t pid, uint64_t *ret_start, char *name,
                                size_t name_len);
void gsm_engine_refresh_all(struct gsm_watch *w);

/* sample.c */
int gsm_engine_sample_target(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms,
                             struct gsm_watch_sample *s);
/* The OOM kills counted by the target's cgroup so far (memory.oom_control / memory.events). */
int gsm_engine_cgroup_oom_kills(struct gsm_watch *w, const struct gsm_watch_target *t, uint64_t *ret);
int gsm_engine_ring_push(struct gsm_watch_target *t, const struct gsm_watch_sample *s);
void gsm_engine_ring_entry_sample(const struct gsm_ring_entry *e, struct gsm_watch_sample *ret);
void gsm_engine_tick_cache_clear(struct tick_cache *tc);
void gsm_engine_tick_cache_free(struct tick_cache *tc);
void gsm_engine_rollup_tier(struct gsm_watch *w, uint64_t now_ms);

/* smaps_tier.c */
/* A failed read: counted by reason in *st (or as gone), and a log line naming the target and the
 * reason, at most one per target per minute and ten in all per minute (the rest summed up in one
 * line the next minute); with t NULL (a cgroup directory named by what, or no
 * what: counted, not logged) the tier as a whole logs at most once per minute. */
void gsm_engine_count_error(struct gsm_watch *w, struct gsm_watch_tier_stats *st, const char *tier,
                            struct gsm_watch_target *t, const char *what, int r, uint64_t now_ms);
int gsm_engine_add_process(struct gsm_watch *w, pid_t pid, bool explicit_target, struct gsm_watch_target **ret);
/* After the tick's samples: the named cgroups' members (every few ticks), the choice of the
 * processes with classes, and the budgeted smaps reads. */
void gsm_engine_classes_tick(struct gsm_watch *w, uint64_t now_ms);
/* Is the process target's executable Go (.go.buildinfo through h's "exe"): read once per
 * target, remembered in t->exe_checked / is_go / goarch. */
bool gsm_engine_exe_is_go(struct gsm_watch_target *t, int dirfd);

/* protect.c: --protect, at most one /proc scan a second; events through fire(ev, arg). */
typedef void (*gsm_engine_fire_fn)(struct gsm_watch_event *ev, void *arg);
void gsm_engine_protect_scan(struct gsm_watch *w, uint64_t now_ms, gsm_engine_fire_fn fire, void *arg);

/* notify.c */
void gsm_engine_notify_register(struct gsm_watch *w, struct gsm_watch_target *t, const struct gsm_watch_sample *s);
void gsm_engine_notify_close(struct gsm_watch_target *t);

/* go_poll.c */
void gsm_engine_go_discover(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms);
bool gsm_engine_go_adjust(struct gsm_watch *w, struct gsm_watch_target *t, uint64_t now_ms, uint64_t value,
                          uint64_t *ret, uint64_t *ret_next_gc);
