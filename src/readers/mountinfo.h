/* /proc/PID/mountinfo (fs/proc_namespace.c: show_mountinfo()), one mount per line:
 *
 *   35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory
 *   (1)(2) (3) (4)  (5)                 (6)        (7...)    - (8)    (9)    (10)
 *
 *   1 mount id, 2 parent id, 3 major:minor, 4 root of the mount inside its filesystem,
 *   5 mount point, 6 per-mount options, 7 zero or more optional fields ("shared:14",
 *   "master:3", "propagate_from:2", "unbindable") ended by a lone "-", 8 fstype,
 *   9 source, 10 super-block options.
 *
 * Paths (4, 5, 9) escape space, tab, newline and backslash as \040 \011 \012 \134
 * (seq_path() with " \t\n\\"). A cgroupfs mount's root (4) is printed by cgroup_show_path()
 * (kernel/cgroup/cgroup.c) relative to the cgroup namespace root of the process reading
 * mountinfo, as /proc/PID/cgroup paths are: "/" for a pod's own cgroupfs, "/../../../.."
 * for the host's cgroupfs bind-mounted into that pod. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm_mount {
    uint64_t mount_id, parent_id;
    unsigned dev_major, dev_minor;
    char *root;             /* field 4, unescaped: "/" or e.g. "/docker/abc" */
    char *mount_point;      /* field 5, unescaped, absolute in the reader's mount namespace */
    char *mount_options;    /* field 6 */
    char *fstype;           /* "cgroup", "cgroup2", "ext4" ... */
    char *source;           /* field 9, unescaped */
    char *super_options;    /* field 10: for v1 cgroupfs the controllers ("rw,cpu,cpuacct") */
};

struct gsm_mountinfo {
    struct gsm_mount *mounts;
    size_t n_mounts;
    size_t n_bad_lines;     /* lines that did not have the syntax above (skipped) */
    /* Built by the parser, in table order: the cgroup2 mounts and the v1 memory mounts, so
     * the n-th of either is found in O(1) (a node with tens of thousands of mounts). */
    size_t *cg2, n_cg2;
    size_t *cg1_memory, n_cg1_memory;
};

/* Parse a whole mountinfo buffer. Malformed lines are skipped and counted, never fatal.
 * Returns 0 or -ENOMEM. */
int gsm_parse_mountinfo(const char *buf, size_t len, struct gsm_mountinfo *ret);

/* Read and parse `path` (e.g. "proc/self/mountinfo") relative to dirfd. */
int gsm_read_mountinfo_at(int dirfd, const char *path, struct gsm_mountinfo *ret);

void gsm_mountinfo_free(struct gsm_mountinfo *mi);

/* Undo the kernel's octal escapes (\040 -> ' ') in s[0..len). Returns 0, -EINVAL on a
 * malformed escape, -ENOMEM. */
int gsm_mountinfo_unescape(const char *s, size_t len, char **ret);

/* Whether the comma-separated list `opts` contains exactly `opt` ("memory" is not matched
 * by "memory_recursiveprot"). */
bool gsm_mount_has_option(const char *opts, const char *opt);

/* The n-th (from 0) cgroup v1 mount whose super options name `controller` ("memory"), or
 * NULL. Several mounts of one hierarchy (bind mounts) each count. O(1) for "memory" (the
 * index), a scan of the table for any other controller. */
const struct gsm_mount *gsm_mountinfo_find_cgroup1(const struct gsm_mountinfo *mi, const char *controller,
                                                   size_t nth);

/* The n-th cgroup2 mount, or NULL. O(1). */
const struct gsm_mount *gsm_mountinfo_find_cgroup2(const struct gsm_mountinfo *mi, size_t nth);
