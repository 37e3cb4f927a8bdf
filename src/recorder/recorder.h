/* The flight recorder: on a critical event or an OOM kill, `gsmapper watch` leaves a bundle
 * directory under --dump-dir that shows what grew (issue 5, docs/watch.md):
 *
 *   DUMP_DIR/gsmapper-<label>-<time_ms>/
 *     MANIFEST        "name bytes" per file, then "failed <step>: <reason>" per failed step
 *     summary.txt     what grew fastest (the engine's text) and the target's identity
 *     event.json      the event that triggered it
 *     samples.jsonl   the ring of samples, as the engine rendered it
 *     explain.json    `gsmapper explain PID --mappings -o json` (full smaps: only on demand, here),
 *                     or `explain --cgroup PATH` for a cgroup target or a process already gone
 *     explain.stderr  what explain said, when it said anything
 *     cgroup/         every memory.* file and cgroup.procs of the target's memory cgroup, raw
 *     go/memstats.txt /debug/pprof/heap?debug=1, go/heap.pb.gz /debug/pprof/heap (Go, reachable)
 *     report.html     `gsmapper report .`: the bundle as one offline page (docs/report.md), when
 *                     explain.json is at most 1 MiB (larger: `gsmapper report BUNDLE` later)
 *
 * Written as DUMP_DIR/.tmp-gsmapper-<label>-<time_ms>-<our pid>/ and renamed, so a reader never
 * sees half a bundle; a bundle rotated out is renamed to .tmp-gsmapper-rm-<name> before it is
 * emptied. A SIGKILL at any point leaves at most .tmp-gsmapper-* directories (readers skip them,
 * a later write removes them once 10 minutes old), never a partial bundle under a final name
 * (tests/stress/bundle_kill.sh kills watch mid-write and mid-rotation 200 times). explain runs as a child process of self_exe (fork + execve, no shell,
 * clean environment, killed after child_timeout_ms) so a slow or crashing explain cannot take
 * the watch loop with it. The caller must not reap children with waitpid(-1, ...) or ignore
 * SIGCHLD while gsm_recorder_write() runs.
 *
 * The dump dir may be shared with other users (/tmp): every operation inside it is relative to
 * one directory fd, never follows a symlink, and only entries named gsmapper-* / .tmp-gsmapper-*
 * that are real directories owned by our effective uid are ever deleted. */
#pragma once

#include "model/cgroup.h"
#include "util/root.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GSM_RECORDER_QUOTA_BYTES_DEFAULT ((uint64_t)256 << 20)
#define GSM_RECORDER_MIN_INTERVAL_MS_DEFAULT UINT64_C(60000)
#define GSM_RECORDER_MAX_BUNDLES_DEFAULT 20u
#define GSM_RECORDER_CHILD_TIMEOUT_MS_DEFAULT 10000u
/* A .tmp-gsmapper-* directory this old is what a crash mid-write left behind. */
#define GSM_RECORDER_STALE_TMP_MS (UINT64_C(10) * 60 * 1000)

/* Zero members take the defaults (so to disable the rate limit in effect, pass 1 ms). */
struct gsm_recorder_opts {
    const char *dump_dir;        /* must exist; bundles go here */
    uint64_t quota_bytes;        /* total apparent size of all bundles kept; oldest removed first */
    uint64_t min_interval_ms;    /* per target key: at most one bundle per interval */
    unsigned max_bundles;        /* rotation: keep at most this many bundles */
    const char *self_exe;        /* what to run for explain (default "/proc/self/exe") */
    const char *root_dir;        /* --root passed through to explain, or NULL */
    uint32_t child_timeout_ms;   /* explain is killed (SIGKILL, its process group) after this */
};

struct gsm_recorder;

/* Open the dump dir (it must exist and be writable) and keep its fd. Relative self_exe and
 * root_dir are made absolute now (explain runs with the bundle as its working directory).
 * Returns 0, -ENOENT / -ENOTDIR (no such directory), -EACCES, -EINVAL (no dump_dir), -ENOMEM. */
int gsm_recorder_new(const struct gsm_recorder_opts *o, struct gsm_recorder **ret);
void gsm_recorder_free(struct gsm_recorder *r);

struct gsm_bundle_request {
    const char *target_key;      /* "pid-1234-<starttime>" or "cgroup-/a/b": the rate-limit key */
    const char *target_label;    /* for the directory name ("cg-a-b", "pid-1234"); sanitised again */
    pid_t pid;                   /* 0 for a cgroup target */
    const char *cgroup_path;     /* NULL when unknown */
    const struct gsm_cgroup_location *cg_loc;   /* raw memory.* files copied from here, or NULL */
    const struct gsm_root *root; /* needed with cg_loc */
    const char *samples_jsonl;   /* the ring, as JSON lines */
    size_t samples_len;
    const char *event_json;      /* the event that triggered it, or NULL */
    const char *summary;         /* what grew fastest, or NULL */
    const char *go_endpoint;     /* any URL on the Go process's debug server, or NULL */
    uint64_t now_ms;             /* Unix ms; names the bundle and drives the rate limit */
};

/* Write one bundle (see the top of this file), then enforce the quota and the rotation: delete
 * the oldest bundles (by the time in their name) until both hold, never the one just written;
 * and remove .tmp-gsmapper-* directories older than 10 minutes. A failing step (explain, a
 * cgroup file, the Go endpoint) is noted in MANIFEST and never aborts the bundle.
 * Returns 0 and the final path in ret_path (may be NULL); -EAGAIN rate-limited for this target
 * key; -ENOSPC the bundle alone exceeds the quota (nothing is left behind); other -errno. */
int gsm_recorder_write(struct gsm_recorder *r, const struct gsm_bundle_request *req, char *ret_path,
                       size_t path_len);

/* Pure: the label as used in names: [A-Za-z0-9._-] kept, anything else '-', at most 64 bytes,
 * never empty or starting with '.'. Returns the length written (buf has room for 65 bytes). */
size_t gsm_recorder_sanitize_label(const char *label, char buf[static 65]);

/* Pure: the time in a bundle name "gsmapper-<label>-<time_ms>". Returns 0 or -EINVAL. */
int gsm_recorder_parse_bundle_name(const char *name, uint64_t *ret_time_ms);

/* ---- asynchronous bundles (watch: issue 10) --------------------------------------------
 * A bundle takes seconds (explain, report, the Go endpoint); the watch loop must go on sampling
 * meanwhile. gsm_recorder_start() checks and records the rate limit, then forks a writer process
 * that runs the whole gsm_recorder_write() on its own copy of the request (the samples up to the
 * trigger) and sends back the result on a pipe; explain and report are the writer's children,
 * so the caller may reap its own children with waitpid(-1, ...) again. A process, not a thread:
 * the writer shares no state (rate table, static buffers, log, stdio) with the loop, and the
 * temp-dir-then-rename and rotation are the same code as before. The writer dies with watch
 * (PR_SET_PDEATHSIG), leaving at most a .tmp-gsmapper-* directory, as a SIGKILL always did.
 *
 * Bounds: one writer per rate-limit key; at most GSM_RECORDER_MAX_WRITERS at once, of which the
 * last GSM_RECORDER_URGENT_SLOTS only for urgent requests (an OOM kill's bundle): a kill's
 * bundle is never dropped behind warnings, it starts at once next to them (no queue, no
 * preemption). A request over the bound is refused (-EBUSY) and not counted against the rate
 * limit, so the next event for that target tries again. */
#define GSM_RECORDER_MAX_WRITERS 4u
#define GSM_RECORDER_URGENT_SLOTS 2u
/* How long watch waits at exit for bundles still being written (explain and report each have
 * child_timeout_ms, 10 s by default). */
#define GSM_RECORDER_DRAIN_MS UINT64_C(30000)

#include <stdbool.h>

/* Returns 0 (a writer started; cookie comes back through gsm_recorder_reap), -EAGAIN rate
 * limited, -EBUSY too many writers or one already writing for this key, other -errno. */
int gsm_recorder_start(struct gsm_recorder *r, const struct gsm_bundle_request *req, bool urgent, void *cookie);

/* result: as gsm_recorder_write(); path: the bundle's path when result is 0, else "". */
typedef void (*gsm_recorder_done_fn)(void *cookie, int result, const char *path, void *userdata);

/* Calls done for every writer that has finished. wait_ms 0: never blocks (each tick);
 * otherwise waits up to wait_ms for all writers (exit), then kills those still writing
 * (their temp dirs stay, removed by a later write) and reports them as -ETIMEDOUT.
 * Returns how many writers are still running. */
size_t gsm_recorder_reap(struct gsm_recorder *r, uint64_t wait_ms, gsm_recorder_done_fn done, void *userdata);
