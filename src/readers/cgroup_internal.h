/* Shared by the cgroup reader's files (cgroup_locate.c, cgroup_mounts.c), not a public API. */
#pragma once

#include "readers/cgroup.h"
#include "readers/mountinfo.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

struct gsm_cgroup_mounts {
    pthread_mutex_t lock;
    const struct gsm_root *root;
    bool shared;                    /* the default one behind gsm_cgroup_locate_pid/_path */
    dev_t root_dev;                 /* shared: the root the table was read for */
    ino_t root_ino;
    int root_is_host;
    char path[48];                  /* "proc/self/mountinfo", "proc/1/mountinfo", "proc/PID/..." */
    int fd;                         /* open on path: polled for POLLPRI on procfs */
    bool procfs;
    struct stat st;                 /* of a regular file, to notice a change */
    bool have;
    struct gsm_mountinfo mi;        /* parsed and indexed */
    unsigned n_reads;
};

/* Lock cm and give its table for the root (cm's own, or `root` for the shared one), read
 * again when it changed. pid names proc/PID/mountinfo for a tree without proc/self (0: none).
 * On 0 the caller holds the lock until gsm_cgroup_mounts_put(); -errno otherwise (unlocked). */
int gsm_cgroup_mounts_get(struct gsm_cgroup_mounts *cm, const struct gsm_root *root, pid_t pid,
                          const struct gsm_mountinfo **ret);
void gsm_cgroup_mounts_put(struct gsm_cgroup_mounts *cm);
struct gsm_cgroup_mounts *gsm_cgroup_mounts_shared(void);
