#include "util/root.h"
#include "util/cleanup.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int gsm_root_open(const char *dir, struct gsm_root *ret) {
    const char *d = dir && *dir ? dir : "/";
    int fd = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ret->fd = fd;
    ret->path = d;
    ret->is_host = strcmp(d, "/") == 0;
    return 0;
}

void gsm_root_close(struct gsm_root *root) {
    if (root->fd >= 0)
        close(root->fd);
    root->fd = -1;
}

int gsm_proc_open(const struct gsm_root *root, pid_t pid, int *ret_fd) {
    char path[32];
    if (pid <= 0)
        return -ENOENT;
    snprintf(path, sizeof path, "proc/%d", (int)pid);
    int fd = openat(root->fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    *ret_fd = fd;
    return 0;
}
