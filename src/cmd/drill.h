/* gsmapper drill: the parts of cmd/drill.c (docs/drill.md is the contract).
 *   drill_cgroup.c  the drill's memory cgroup: a child of our own (v1 or v2), its limit, its
 *                   oom_kill counter, its removal
 *   drill_procs.c   the two children: the leak (fork, joins the cgroup, touches memory at a
 *                   rate) and `gsmapper watch` (the real command, its JSON lines on a pipe)
 *   drill_check.c   what the drill looks for: watch's lines, the bundle on disk, serve's
 *                   /metrics (a poller thread) */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit code of a drill that cannot run here: no memory controller (none mounted, or on cgroup
 * v2 not delegated to our cgroup). Permission problems are GSM_EXIT_PERM (4). */
#define DRILL_EXIT_UNSUPPORTED 5

/* ---- drill_cgroup.c ---------------------------------------------------------------------- */

struct drill_cg {
    int version;          /* 1 or 2 */
    char *path;           /* relative to the hierarchy root: what `watch --cgroup` takes */
    char *dir;            /* the absolute directory */
    char *parent_dir;     /* our own memory cgroup's directory */
    uint64_t limit_bytes;
    const char *swap;     /* how swap is kept out: "memsw limit", "swap.max 0", or NULL (not) */
};

/* Make DIR/gsm-drill-<pid> under our own memory cgroup with the limit (version 0: the
 * hierarchy the kernel accounts memory in; 1 or 2: that one). First removes empty
 * gsm-drill-<pid> siblings whose process is gone (a drill killed with SIGKILL).
 * Refuses a limit that does not fit (with 32 MiB for the drill and watch) under the limits of
 * our cgroup and its ancestors, or in the node's MemAvailable: the leak must die alone.
 * Returns 0; else a one-line reason in err and -ENOMEDIUM (no usable memory controller),
 * -EACCES (no permission), -E2BIG (the limit does not fit), or another -errno. */
int drill_cg_create(int version, uint64_t limit, struct drill_cg *ret, char *err, size_t errlen);
int drill_cg_move(const struct drill_cg *cg, pid_t pid);
/* The oom_kill counter (v1 memory.oom_control, v2 memory.events). 0 or -errno. */
int drill_cg_oom_kills(const struct drill_cg *cg, uint64_t *ret);
/* Memory in use (memory.usage_in_bytes / memory.current); 0 when unreadable. */
uint64_t drill_cg_usage(const struct drill_cg *cg);
/* rmdir, retried for up to 5 s while the kernel lets its last processes go. 0 or -errno. */
int drill_cg_remove(const struct drill_cg *cg);
void drill_cg_free(struct drill_cg *cg);

/* ---- drill_procs.c ----------------------------------------------------------------------- */

struct drill_leak {
    pid_t pid;
    int pidfd;                    /* -1 when the kernel has no pidfd_open */
    int go_fd;                    /* write a byte: start leaking */
    volatile uint64_t *shared;    /* [0] bytes touched so far, written by the child */
    bool reaped;
    int status;                   /* wait status, once reaped */
};
/* Fork the leak, paused (it waits for drill_leak_go()). 0 or -errno. */
int drill_leak_start(uint64_t rate, uint64_t cap, struct drill_leak *ret);
int drill_leak_go(struct drill_leak *l);
/* Reap without blocking: 1 reaped (l->status), 0 still running. */
int drill_leak_poll(struct drill_leak *l);
uint64_t drill_leak_touched(const struct drill_leak *l);
/* SIGKILL when still running, reap, release. */
void drill_leak_stop(struct drill_leak *l);

struct drill_watch {
    pid_t pid;
    int out_fd;           /* its stdout, non-blocking */
    char *buf;            /* a partial line */
    size_t len, cap;
    bool eof, reaped;
    int status;
    char *argv_text;      /* the command line, for the report */
};
/* Start `self watch --cgroup CG --dump-dir DIR --emit-samples -o json`, stderr to
 * stderr_path. 0 or -errno. */
int drill_watch_start(const char *cgroup, const char *dump_dir, const char *stderr_path, struct drill_watch *ret);
/* Read what is there; each complete line to fn. Returns 1 at EOF, 0 otherwise. */
int drill_watch_read(struct drill_watch *w, void (*fn)(const char *line, void *ud), void *ud);
/* SIGTERM, then SIGKILL after 3 s; reaped. */
void drill_watch_stop(struct drill_watch *w);

/* ---- drill_check.c ----------------------------------------------------------------------- */

/* What watch printed about the drill's cgroup (times are the events' own time_ms). */
struct drill_obs {
    const char *drill_cg;       /* the drill's cgroup path */
    const char *watch_cg;       /* the one watch was pointed at */
    uint64_t first_sample_ms;   /* watch's first sample of watch_cg */
    uint64_t warn_ms;           /* the first eta event at warn or critical, firing */
    char warn_level[16];
    double warn_eta_s;
    char warn_msg[240];
    uint64_t oom_event_ms;      /* the first oom_kill event */
    uint64_t oom_event_seen_ms; /* when the drill read it */
    char bundle[4096];          /* the path of the bundle written after that oom_kill */
    uint64_t bundle_seen_ms;    /* when the drill read that line */
    unsigned events, samples, bad_lines;
};
void drill_obs_line(const char *line, void *obs);

/* A written bundle, checked: MANIFEST, every file it lists at its size, the parts a bundle of
 * an OOM kill must have, nothing failed, samples that reach a quarter of the limit (under 90 %
 * is said in detail). Returns true when complete; detail says what was found
 * or, when not complete, why (one line). */
bool drill_bundle_check(const char *path, const char *cgroup, uint64_t limit, char *detail, size_t len);

/* serve's /metrics, polled in a thread every 250 ms. */
struct drill_serve {
    char *metrics_url;
    char *usage_needle;         /* gsmapper_cgroup_usage_bytes{cgroup="PATH" */
    char *eta_needle;           /* gsmapper_cgroup_oom_eta_seconds{cgroup="PATH" */
    char *cond_needle;          /* gsmapper_condition_active{target_type="cgroup",cgroup="PATH" */
    pthread_t thread;
    bool running;
    pthread_mutex_t mu;
    /* under mu: */
    bool stop;
    uint64_t listed_ms;         /* first scrape that listed the cgroup */
    uint64_t forecast_ms;       /* first scrape with a finite ETA or an eta condition */
    double forecast_eta_s;
    char forecast_level[16];    /* the eta condition's level, "" when only the gauge */
    unsigned scrapes, errors;
    char last_error[200];
    /* serve's gsmapper_ticks_total at the first and the latest scrape: how often it sampled */
    uint64_t ticks_first, ticks_first_ms, ticks_last, ticks_last_ms;
};
/* Check the URL (loopback http) and start the thread. 0; -EINVAL (err says why). */
int drill_serve_start(struct drill_serve *s, const char *url, const char *cgroup, char *err, size_t errlen);
void drill_serve_stop(struct drill_serve *s);
/* A copy of the figures under the lock. */
void drill_serve_get(struct drill_serve *s, struct drill_serve *ret);
/* Pure, for tests: what one /metrics text says (listed; forecast with its ETA and level). */
void drill_serve_scan(const struct drill_serve *s, const char *text, bool *ret_listed, bool *ret_forecast,
                      double *ret_eta, char level[16], uint64_t *ret_ticks);

uint64_t drill_now_ms(void);
