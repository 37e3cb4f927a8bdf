/* Reading the memory cgroup: locating it (cgroup_locate.c: /proc/PID/cgroup + mountinfo,
 * cgroup namespaces), the pure parsers of its files (cgroup_parse.c) and the reader of a
 * cgroup directory (cgroup_memory.c). The types they fill are in model/cgroup.h, which also
 * says what each kernel file holds. */
#pragma once

#include "model/cgroup.h"
#include "util/root.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- /proc/PID/cgroup ---------------------------------------------------------------- */

/* Parse /proc/PID/cgroup. Malformed lines are skipped and counted. Returns 0, -ENOMEM. */
int gsm_parse_proc_cgroup(const char *buf, size_t len, struct gsm_proc_cgroup *ret);

/* ---- Where the memory cgroup lives --------------------------------------------------- */

/* Pure: join a mount with a cgroup path. The path must lie under mount_root; a path outside
 * it (a "/../x" path from another cgroup namespace, or a sibling sub-tree) gives -EXDEV.
 * Returns 0, -EXDEV, -EINVAL (path not absolute, or ".." components), -ENOMEM. */
int gsm_cgroup_location_make(enum gsm_cgroup_version version, const char *mount_point, const char *mount_root,
                             const char *cgroup_path, struct gsm_cgroup_location *ret);

/* Pure: resolve "." and ".." in an absolute path lexically (a cgroupfs has no symlinks, so
 * this is exact). ".." at the top is counted in *ret_up instead of being dropped, the way
 * kernfs_path_from_node() writes one "/.." per level above the namespace root:
 *   "/../../a/b" -> up 2, "/a/b";  "/a/../../b" -> up 1, "/b";  "/../.." -> up 2, "/".
 * Empty components ("//") are skipped. Returns 0, -EINVAL (not absolute), -ENOMEM. */
int gsm_cgroup_path_normalize(const char *path, size_t *ret_up, char **ret_down);

/* Pure: the absolute path of `path`, which is relative to the cgroup `base` (an absolute
 * path in the same hierarchy: our cgroup namespace root as seen through a mount), as
 * normalize(base + path). Refuses to climb above "/": -EXDEV when path has more leading
 * ".." than base has components. Returns 0, -EXDEV, -EINVAL (either not absolute, or ".."
 * in base), -ENOMEM. */
int gsm_cgroup_path_resolve(const char *base, const char *path, char **ret);

/* Find the memory cgroup of `pid` under the root: proc/PID/cgroup plus the mount table of the
 * root: proc/self/mountinfo (proc/PID/mountinfo when the root has no proc/self), or, when
 * proc/self/root is not the root (a container given the host's /proc and /sys/fs/cgroup under
 * --root /host), proc/1/mountinfo, whose mount points are host paths. A v1 memory mount wins
 * (hybrid hosts); otherwise the v2 mount, when its root's cgroup.controllers lists "memory"
 * (or cannot be read).
 *
 * Inside a cgroup namespace a path may begin with "/.." (above our namespace root). Mounts
 * whose root is an ancestor of our namespace root ("/../..", e.g. the host's cgroupfs
 * bind-mounted into a pod) are tried first, the highest first: our namespace root is found
 * below such a mount as the directory, that many levels down, whose cgroup.procs lists our
 * own PID (proc/self), and the path is resolved against it (gsm_cgroup_path_resolve()).
 * Otherwise a path at or below our namespace root goes through the mounts as before.
 *
 * Returns 0; -ENOENT no such process or the cgroup directory does not exist (gone);
 * -ENOMEDIUM no memory controller mounted; -EXDEV the cgroup is outside every sub-tree
 * mounted here; -EREMOTE the cgroup lies above our cgroup namespace root and no cgroup mount
 * reaches that far up; -ENOLINK a mount does reach above our namespace root, but our own
 * cgroup was not found in it (no proc/self link, or our PID is not in the host's PID
 * namespace), so the path cannot be placed; -EBADMSG proc/PID/cgroup has malformed lines and
 * none of the others names a memory cgroup (the malformed one may have). */
int gsm_cgroup_locate_pid(const struct gsm_root *root, pid_t pid, struct gsm_cgroup_location *ret);
/* Same through an open process handle (readers/proc_handle.h). */
struct gsm_proc;
int gsm_cgroup_locate_proc(const struct gsm_root *root, const struct gsm_proc *h, struct gsm_cgroup_location *ret);

/* The memory cgroup named by the user: a path below the memory hierarchy's root
 * ("/kubepods.slice/x.slice", "kubepods.slice/x.slice") or an absolute directory below the
 * mount point ("/sys/fs/cgroup/memory/x"). The hierarchy is the widest one mounted: a mount
 * whose root lies above our cgroup namespace root is preferred (the highest), and its root
 * counts as "/". Returns 0, -ENOENT no such cgroup, -ENOMEDIUM, -EINVAL (".." in the path). */
int gsm_cgroup_locate_path(const struct gsm_root *root, const char *path, struct gsm_cgroup_location *ret);

/* The mount table of a root, parsed once, indexed, and read again only when it changes (see
 * cgroup_mounts.c). Keep one for a run that locates many processes (`--all`): each locate
 * then costs no mountinfo parse. gsm_cgroup_locate_pid() and gsm_cgroup_locate_path() use a
 * process-wide one of their own. Thread-safe (one lock per table). */
struct gsm_cgroup_mounts;

/* The root must outlive the table. Returns 0 or -ENOMEM; nothing is read until first use. */
int gsm_cgroup_mounts_new(const struct gsm_root *root, struct gsm_cgroup_mounts **ret);
void gsm_cgroup_mounts_free(struct gsm_cgroup_mounts *cm);
/* How many times the table was read and parsed (tests). */
unsigned gsm_cgroup_mounts_reads(struct gsm_cgroup_mounts *cm);

/* gsm_cgroup_locate_pid() / gsm_cgroup_locate_path() through cm. */
int gsm_cgroup_locate_pid_in(struct gsm_cgroup_mounts *cm, pid_t pid, struct gsm_cgroup_location *ret);
int gsm_cgroup_locate_proc_in(struct gsm_cgroup_mounts *cm, const struct gsm_proc *h,
                              struct gsm_cgroup_location *ret);
int gsm_cgroup_locate_path_in(struct gsm_cgroup_mounts *cm, const char *path, struct gsm_cgroup_location *ret);

/* ---- File parsers (pure) ------------------------------------------------------------ */

/* Parse memory.stat of the given version. Returns 0 or -ENOMEM; bad lines are counted. */
int gsm_parse_cg_stat(const char *buf, size_t len, enum gsm_cgroup_version version, struct gsm_cg_stat *ret);

/* memory.events, memory.events.local. Returns 0 or -ENOMEM; bad lines are counted. */
int gsm_parse_cg_events(const char *buf, size_t len, struct gsm_cg_events *ret);

/* memory.pressure. Returns 0, -EINVAL when neither line parses. */
int gsm_parse_cg_pressure(const char *buf, size_t len, struct gsm_cg_pressure *ret);

/* memory.oom_control (v1). Returns 0, -EINVAL. */
int gsm_parse_cg_oom_control(const char *buf, size_t len, struct gsm_cg_oom_control *ret);

/* A one-number file ("123\n"). Returns 0, -EINVAL (empty, not a number, trailing junk),
 * -ERANGE (does not fit 64 bits). */
int gsm_parse_cg_u64(const char *buf, size_t len, uint64_t *ret);
/* A limit file: "max\n" or a number; v1's GSM_CG1_UNLIMITED_BYTES and above mean unlimited. */
int gsm_parse_cg_limit(const char *buf, size_t len, struct gsm_cg_limit *ret);

/* ---- Reading a cgroup directory ------------------------------------------------------ */

/* Read every memory file of the cgroup directory `dirfd`. Returns 0; -ENOENT when the cgroup
 * is gone (removed before or during the read: its cgroup.procs vanished, or a read gave
 * ENODEV) — a normal outcome callers name "gone"; -ENOMEM. Missing files are absent items. */
int gsm_cgroup_memory_read_at(int dirfd, enum gsm_cgroup_version version, struct gsm_cgroup_memory *ret);
/* How many times this process has read a cgroup's memory (gsm_cgroup_memory_read[_at]). */
uint64_t gsm_cgroup_memory_reads(void);

/* Open loc->dir under the root and read it. -ENOENT: no such cgroup, or gone. */
int gsm_cgroup_memory_read(const struct gsm_root *root, const struct gsm_cgroup_location *loc,
                           struct gsm_cgroup_memory *ret);

/* Just memory.max / memory.high (v2) or memory.limit_in_bytes (v1, into max) of one
 * directory, for walking the ancestors. Returns 0 or -ENOENT (gone). */
int gsm_cgroup_read_limits_at(int dirfd, enum gsm_cgroup_version version, struct gsm_cg_limit *ret_max,
                              struct gsm_cg_limit *ret_high);

/* Walk from loc->dir up to loc->top_dir reading each ancestor's limits (not the cgroup's own:
 * gsm_cgroup_memory_read() has them), parent first. Returns 0, -ENOENT (an ancestor
 * vanished), -EINVAL (loc->dir not below loc->top_dir), -ENOMEM. */
int gsm_cgroup_read_ancestors(const struct gsm_root *root, const struct gsm_cgroup_location *loc,
                              struct gsm_cg_ancestry *ret);

/* ---- cgroup.procs -------------------------------------------------------------------- */

struct gsm_pid_list {
    pid_t *pids;
    size_t n, cap;
};

void gsm_pid_list_free(struct gsm_pid_list *l);

/* Pure: the PIDs of a cgroup.procs buffer, at most max (0: all). A line that is not a PID
 * (1..INT32_MAX) is skipped. Returns 0 or -ENOMEM. */
int gsm_parse_cgroup_procs(const char *buf, size_t len, size_t max, struct gsm_pid_list *ret);
/* dirfd/cgroup.procs, at most max PIDs (0: all). Returns 0, -ENOENT (the cgroup is gone),
 * -errno. */
int gsm_cgroup_procs_read_at(int dirfd, size_t max, struct gsm_pid_list *ret);
/* The PIDs of the cgroup and of every descendant (32 levels deep at most); a descendant
 * removed during the walk is skipped. Returns 0, -ENOENT (the cgroup is gone), -errno. */
int gsm_cgroup_procs_read_tree(int dirfd, struct gsm_pid_list *ret);
/* Whether dirfd/sub/cgroup.procs lists pid (sub "" for dirfd itself). */
bool gsm_cgroup_procs_has(int dirfd, const char *sub, pid_t pid);
