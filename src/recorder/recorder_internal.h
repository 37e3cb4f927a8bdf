/* Between the flight recorder's files: recorder.c writes a bundle (lifecycle, text files,
 * MANIFEST, the atomic rename), capture.c runs its steps that read (explain as a child process,
 * the cgroup's raw files, the Go endpoint), store.c keeps the dump dir (listing, deleting,
 * quota and rotation, the per-target rate limit). Not for use outside src/recorder/. */
#pragma once

#include "recorder/recorder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define BUNDLE_PREFIX "gsmapper-"
#define TMP_PREFIX ".tmp-gsmapper-"
/* cgroup.procs of a big cgroup: 7 bytes a PID, 4 MiB is ~600k PIDs. memory.stat is ~2 KiB. */
#define CGROUP_FILE_MAX ((size_t)4 << 20)
/* A v2 memory cgroup has ~25 memory.* files, v1 ~30; anything past this is not a cgroup dir. */
#define CGROUP_FILES_MAX 128
/* Bundles are two levels deep (cgroup/, go/); deletion tolerates a little more, no more. */
#define RM_DEPTH_MAX 4

struct rate_entry {
    char *key;
    uint64_t last_ms;
};

struct gsm_recorder {
    int dir_fd;                  /* the dump dir, O_RDONLY|O_DIRECTORY */
    char *dump_dir;
    char *self_exe;
    char *root_dir;              /* absolute, or NULL */
    uint64_t quota_bytes;
    uint64_t min_interval_ms;
    unsigned max_bundles;
    uint32_t child_timeout_ms;
    struct rate_entry *rate;
    size_t n_rate, cap_rate;
    struct rec_writer *writers;  /* async.c: bundles being written by forked writers */
    size_t n_writers;
};

/* async.c: one forked writer process and what it has said so far. */
struct rec_writer {
    pid_t pid;
    int fd;                      /* read end of its result pipe, O_NONBLOCK */
    char *key;                   /* the request's rate-limit key: one writer per key */
    void *cookie;
    size_t got;                  /* bytes of res received */
    struct rec_result {
        int rc;
        char path[4096];
    } res;
};

/* ---- small helpers ------------------------------------------------------------------ */

/* The "failed <step>: <reason>" lines of MANIFEST, in the order the steps ran. */
struct notes {
    char *buf;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) void rec_note(struct notes *n, const char *fmt, ...);
uint64_t rec_mono_ms(void);
uint64_t rec_realtime_ms(void);
int rec_write_all(int fd, const void *data, size_t len);
int rec_write_file_at(int dirfd, const char *name, const void *data, size_t len);

/* recorder.c: the bundle itself, the rate limit checked by the caller (recorded when
 * record_rate). */
const char *rec_request_key(const struct gsm_bundle_request *req);
int rec_write_bundle(struct gsm_recorder *r, const struct gsm_bundle_request *req, bool record_rate, char *ret_path,
                     size_t path_len);
void rec_writers_free(struct gsm_recorder *r);

/* store.c */
void rec_free_names(char **names, size_t n);
int rec_list_dir(int dirfd, char ***ret_names, size_t *ret_n);
int rec_rm_tree_at(int parent_fd, const char *name, int depth);
uint64_t rec_tree_bytes(int dirfd, int depth);
bool rec_ours_dir(int dir_fd, const char *name, struct stat *st);
bool rec_rate_limited(const struct gsm_recorder *r, const char *key, uint64_t now_ms);
void rec_rate_record(struct gsm_recorder *r, const char *key, uint64_t now_ms);
void rec_enforce_limits(struct gsm_recorder *r, const char *keep);

/* capture.c */
void rec_run_explain(const struct gsm_recorder *r, const struct gsm_bundle_request *req, int bundle_fd,
                     struct notes *notes);
void rec_copy_cgroup(const struct gsm_bundle_request *req, int bundle_fd, struct notes *notes);
void rec_fetch_go(const struct gsm_bundle_request *req, int bundle_fd, struct notes *notes);
void rec_run_report(const struct gsm_recorder *r, int bundle_fd, struct notes *notes);
