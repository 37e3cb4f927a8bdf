#include "readers/proc_handle.h"
#include "readers/proc_files.h"

#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434   /* the same number on every architecture (asm-generic) */
#endif

/* -1 when the kernel has no pidfd_open (ENOSYS before 5.3) or refuses it. */
int gsm_pidfd_open(pid_t pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -1 : (int)fd;
}

bool gsm_pidfd_exited(int pidfd) {
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    int r;
    do
        r = poll(&pfd, 1, 0);
    while (r < 0 && errno == EINTR);
    return r != 0;   /* readable, or the poll itself failed: not known to be running */
}

static int read_start(int dirfd, uint64_t *ret) {
    struct gsm_stat st;
    int r = gsm_read_stat_at(dirfd, &st, NULL);
    if (r < 0)
        return r;
    *ret = st.starttime_ticks;
    return 0;
}

int gsm_proc_handle_open(const struct gsm_root *root, pid_t pid, struct gsm_proc *ret) {
    struct gsm_proc h = GSM_PROC_INIT;
    h.pid = pid;
    int r = gsm_proc_open(root, pid, &h.dirfd);
    if (r < 0)
        return r;
    /* Opened after the dirfd: if the PID was recycled in between, the start times differ. */
    if (root->is_host)
        h.pidfd = gsm_pidfd_open(pid);
    h.have_start = read_start(h.dirfd, &h.start_ticks) == 0;
    *ret = h;
    return 0;
}

int gsm_proc_handle_same_start(const struct gsm_proc *h, uint64_t start_ticks) {
    return h->have_start && start_ticks != h->start_ticks ? -ESRCH : 0;
}

int gsm_proc_handle_check(const struct gsm_proc *h) {
    if (h->pidfd >= 0) {
        /* Not readable: still running, and the live dirfd can only name this process. Readable:
         * it exited; a zombie keeps its stat (and is still this process), a reaped one does not. */
        if (!gsm_pidfd_exited(h->pidfd))
            return 0;
    }
    if (!h->have_start)
        return 0;
    uint64_t now;
    int r = read_start(h->dirfd, &now);
    if (r == -ENOENT || r == -ESRCH)
        return -ESRCH;
    if (r < 0)
        return 0;   /* unreadable now for another reason: the reader that needs it says so */
    return gsm_proc_handle_same_start(h, now);
}

void gsm_proc_handle_close(struct gsm_proc *h) {
    if (h->dirfd >= 0)
        close(h->dirfd);
    if (h->pidfd >= 0)
        close(h->pidfd);
    h->dirfd = h->pidfd = -1;
}
