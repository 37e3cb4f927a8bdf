#include "readers/kernel_notify.h"
#include "readers/proc_priv.h"
#include "util/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

int gsm_psi_trigger_open(int dirfd, const char *path, const char *trigger, int *ret_fd) {
    _cleanup_close_ int fd = -1;
    if (strcmp(path, "memory.pressure") == 0)   /* a cgroup's: through the sandbox's broker if need be */
        fd = gsm_cgroup_notify_open(dirfd, path);
    else if ((fd = openat(dirfd, path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)) < 0)
        fd = -errno;
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    size_t n = strlen(trigger) + 1;   /* the trailing NUL included, as psi.rst shows */
    if (write(fd, trigger, n) != (ssize_t)n)
        return errno ? -errno : -EIO;
    *ret_fd = fd;
    fd = -1;
    return 0;
}

int gsm_file_change_open(int dirfd, const char *path, int *ret_fd) {
    /* inotify takes a path: reach the file through the directory descriptor's /proc link, so
     * what is watched is the file under dirfd, whatever the path names now. */
    char p[4096];
    if ((size_t)snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dirfd, path) >= sizeof p)
        return -ENAMETOOLONG;
    _cleanup_close_ int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (inotify_add_watch(fd, p, IN_MODIFY | IN_DONT_FOLLOW) < 0)
        return -errno;
    *ret_fd = fd;
    fd = -1;
    return 0;
}

int gsm_file_change_drain(int fd) {
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int events = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0)
            return errno == EAGAIN ? events : -errno;
        if (n == 0)
            return events;
        for (ssize_t off = 0; off < n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
            events++;
            off += (ssize_t)(sizeof *ev + ev->len);
        }
    }
}
