#include "readers/proc_priv.h"
#include "util/proc_broker.h"
#include "util/fileio.h"
#include "util/root.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool refused(int err) {
    return (err == EACCES || err == EPERM) && gsm_broker_active();
}

/* The PID of a /proc/PID directory descriptor of the live /proc ("/proc/1234"), else -1 (a
 * --root fixture tree: never the broker's business). */
static pid_t live_pid(int procfd) {
    char self[64], link[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", procfd);
    ssize_t n = readlink(self, link, sizeof link - 1);
    if (n <= 6 || strncmp(link, "/proc/", 6) != 0)
        return -1;
    link[n] = '\0';
    long v = 0;
    for (const char *p = link + 6; *p; p++) {
        if (*p < '0' || *p > '9' || v > INT32_MAX / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v > 0 ? (pid_t)v : -1;
}

/* After the broker answered for the number: is procfd's process still there (so the number was
 * still its own when the broker used it)? */
static int still_alive(int procfd) {
    struct stat st;
    if (fstatat(procfd, "stat", &st, 0) == 0)
        return 0;
    return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
}

int gsm_proc_exe_open(int procfd) {
    int fd = openat(procfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0 || !refused(errno))
        return fd >= 0 ? fd : -errno;
    int e = -errno;
    pid_t pid = live_pid(procfd);
    if (pid < 0)
        return e;
    int r = gsm_broker_exe(pid, NULL, 0, &fd);
    if (r < 0)
        return r;
    if ((r = still_alive(procfd)) < 0) {
        close(fd);
        return r;
    }
    return fd;
}

int gsm_proc_readlink(int procfd, const char *name, char *buf, size_t size) {
    if (size < 2)
        return -EINVAL;
    ssize_t n = readlinkat(procfd, name, buf, size - 1);
    if (n >= 0) {
        buf[n] = '\0';
        return (int)n;
    }
    if (!refused(errno))
        return -errno;
    int e = -errno;
    pid_t pid = live_pid(procfd);
    if (pid < 0)
        return e;
    int r;
    if (strcmp(name, "exe") == 0) {
        r = gsm_broker_exe(pid, buf, size, NULL);
        if (r == 0 && !buf[0])
            r = e;
        else if (r == 0)
            r = (int)strlen(buf);
    } else if (strcmp(name, "ns/net") == 0)
        r = gsm_broker_readlink(pid, -1, buf, size);
    else if (strncmp(name, "fd/", 3) == 0) {
        char *end;
        long fd = strtol(name + 3, &end, 10);
        r = *end || fd < 0 || fd > INT32_MAX ? e : gsm_broker_readlink(pid, (int)fd, buf, size);
    } else
        r = e;
    if (r >= 0) {
        int a = still_alive(procfd);
        if (a < 0)
            return a;
    }
    return r;
}

int gsm_proc_task_syscall(int procfd, pid_t tid, char *buf, size_t size) {
    if (size < 2)
        return -EINVAL;
    char path[64];
    snprintf(path, sizeof path, "task/%d/syscall", (int)tid);
    int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
    int e = n < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    if (n >= 0) {
        buf[n] = '\0';
        return (int)n;
    }
    /* The ptrace check happens when the file is opened (EACCES) or read (EPERM). */
    pid_t pid = refused(e) ? live_pid(procfd) : -1;
    if (pid < 0)
        return -e;
    int r = gsm_broker_task_syscall(pid, tid, buf, size - 1);
    if (r < 0)
        return r;
    buf[r] = '\0';
    int a = still_alive(procfd);
    return a < 0 ? a : r;
}

int gsm_cgroup_notify_open(int dirfd, const char *name) {
    bool psi = strcmp(name, "memory.pressure") == 0;
    if (!psi && strcmp(name, "cgroup.event_control") != 0)
        return -EINVAL;
    int fd = openat(dirfd, name, (psi ? O_RDWR | O_NONBLOCK : O_WRONLY) | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd >= 0 || !refused(errno))
        return fd >= 0 ? fd : -errno;
    return gsm_broker_cgroup_open(dirfd, psi ? GSM_BROKER_CG_PRESSURE : GSM_BROKER_CG_EVENT_CONTROL);
}

int gsm_proc_oom_score_adj_write(int procfd, int pidfd, int value) {
    int fd = openat(procfd, "oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (fd >= 0) {
        char buf[16];
        int n = snprintf(buf, sizeof buf, "%d\n", value);
        int r = write(fd, buf, (size_t)n) == n ? 0 : errno == ESRCH || errno == ENOENT ? -ESRCH : -errno;
        close(fd);
        return r;
    }
    if (!refused(errno))
        return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
    int e = -errno;
    pid_t pid = live_pid(procfd);
    if (pid < 0)
        return e;
    /* the broker checks the process's identity through pidfd before it writes */
    return gsm_broker_oom_score_adj(pid, pidfd, value);
}

int gsm_host_thp_read(const struct gsm_root *root, int which, char **ret_buf, size_t *ret_len) {
    static const char *const names[] = {"sys/kernel/mm/transparent_hugepage/enabled",
                                        "sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none"};
    if (which < 0 || which > 1)
        return -EINVAL;
    if (!root->is_host || !gsm_broker_active())
        return gsm_read_file_at(root->fd, names[which], 4096, ret_buf, ret_len);
    char buf[4096];
    int n = gsm_broker_thp(which == 0 ? GSM_BROKER_THP_ENABLED : GSM_BROKER_THP_MAX_PTES_NONE, buf, sizeof buf - 1);
    if (n < 0)
        return n;
    char *b = malloc((size_t)n + 1);
    if (!b)
        return -ENOMEM;
    memcpy(b, buf, (size_t)n);
    b[n] = '\0';
    *ret_buf = b;
    *ret_len = (size_t)n;
    return 0;
}
