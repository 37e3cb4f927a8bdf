#include "readers/proc_oom_adj.h"
#include "readers/proc_files.h"
#include "readers/proc_priv.h"
#include "util/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int gsm_read_comm_at(int proc_dirfd, pid_t pid, char *buf, size_t len) {
    char path[32];
    snprintf(path, sizeof path, "%d/comm", (int)pid);
    _cleanup_close_ int fd = openat(proc_dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ESRCH ? -ENOENT : -errno;
    char tmp[64];
    ssize_t n = read(fd, tmp, sizeof tmp - 1);
    if (n < 0)
        return errno == ESRCH ? -ENOENT : -errno;
    while (n > 0 && tmp[n - 1] == '\n')
        n--;
    tmp[n] = 0;
    snprintf(buf, len, "%s", tmp);
    return 0;
}

int gsm_proc_oom_score_adj_set(const struct gsm_proc *h, int value, int64_t *ret_old) {
    if (value < -1000 || value > 1000)
        return -EINVAL;
    int64_t old;
    int r = gsm_read_int_file_at(h->dirfd, "oom_score_adj", &old, NULL);
    if (r < 0)
        return r == -ENOENT ? -ESRCH : r;
    if (gsm_proc_handle_check(h) < 0)
        return -ESRCH;
    /* Directly through h's directory (tied to this process), or inside a Landlock domain through
     * the /proc broker, which checks h's pidfd (readers/proc_priv.h). */
    if ((r = gsm_proc_oom_score_adj_write(h->dirfd, h->pidfd, value)) < 0)
        return r;
    *ret_old = old;
    return 0;
}
