/* The root every read goes through: "/" in production, a fixture tree in tests (--root DIR).
 * Opened once; every /proc and /sys read is openat() relative to root->fd. */
#pragma once

#include <sys/types.h>

struct gsm_root {
    int fd;             /* O_PATH|O_DIRECTORY fd of the root directory */
    const char *path;   /* as given, for messages */
    int is_host;        /* 1 when the root is "/" (live system), 0 for a fixture tree */
};

/* Open DIR as the root (NULL means "/"). Returns 0 or -errno. */
int gsm_root_open(const char *dir, struct gsm_root *ret);
void gsm_root_close(struct gsm_root *root);

/* Open proc/PID under the root as a directory fd, without following a symlink at the last
 * component. -ENOENT means there is no such process. The primitive under
 * gsm_proc_handle_open() (readers/proc_handle.h), which is what every /proc/PID reader takes. */
int gsm_proc_open(const struct gsm_root *root, pid_t pid, int *ret_fd);
