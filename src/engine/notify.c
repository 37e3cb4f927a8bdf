/* The kernel's own notifications, so a burst is seen within a fraction of a second rather than
 * at the next tick. A notification only wakes its target: the engine samples it at once and the
 * detectors decide (a usage threshold crossed by page cache is not an alarm by itself).
 *
 *   v1  one eventfd per cgroup, registered through cgroup.event_control for memory.usage_in_bytes
 *       thresholds at 85 % and 95 % of the limit, memory.oom_control (an OOM) and
 *       memory.pressure_level "critical" (Documentation/admin-guide/cgroup-v1/memory.rst 9, 11, 12;
 *       the kernel keeps the registrations until the eventfd is closed or the cgroup removed)
 *   v2  a PSI trigger on memory.pressure ("some 150000 1000000": 150 ms stalled within 1 s,
 *       POLLPRI; Documentation/accounting/psi.rst) and an inotify watch on memory.events, which
 *       the kernel marks modified when a counter moves (readers/kernel_notify). Under --root (a
 *       tree that is not this host's) only the memory.events watch: a fixture's files are plain
 *       files, and their changes are seen the same way
 *
 * Where registration is refused (permissions, an old kernel, no limit) the target is polled at
 * its interval, and the engine says so once. */
#include "engine/engine_internal.h"
#include "readers/kernel_notify.h"
#include "readers/proc_priv.h"
#include "util/cleanup.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PSI_TRIGGER "some 150000 1000000"
/* Without CAP_SYS_RESOURCE the kernel takes only windows that are multiples of 2 s (EINVAL for
 * the 1 s one; seen here, Linux 6.18 in a container without it): the same share of stall, 2 s. */
#define PSI_TRIGGER_UNPRIV "some 300000 2000000"

/* "<event_fd> <fd of file> [args]" written to cgroup.event_control in one write. */
static int v1_register(int dirfd, int efd, const char *file, const char *args) {
    _cleanup_close_ int ctl = gsm_cgroup_notify_open(dirfd, "cgroup.event_control");
    if (ctl < 0)
        return ctl;
    _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    char line[96];
    int n = snprintf(line, sizeof line, "%d %d%s%s", efd, fd, args ? " " : "", args ? args : "");
    if (n < 0 || (size_t)n >= sizeof line)
        return -EINVAL;
    return write(ctl, line, (size_t)n) == n ? 0 : -errno;
}

static int register_v1(int dirfd, uint64_t limit, int *ret_fd) {
    _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return -errno;
    char thr[32];
    const double fractions[] = {0.85, 0.95};
    for (size_t i = 0; i < 2; i++) {
        snprintf(thr, sizeof thr, "%llu", (unsigned long long)((double)limit * fractions[i]));
        int r = v1_register(dirfd, efd, "memory.usage_in_bytes", thr);
        if (r < 0)
            return r;
    }
    int r = v1_register(dirfd, efd, "memory.oom_control", NULL);
    if (r < 0)
        return r;
    /* pressure_level is missing on some kernels: thresholds and OOM are what count */
    if (v1_register(dirfd, efd, "memory.pressure_level", "critical") < 0)
        gsm_debug("watch: memory.pressure_level notification not registered: %s", strerror(errno));
    *ret_fd = efd;
    efd = -1;
    return 0;
}

/* fds[0]: the PSI trigger (this host only; PSI_TRIGGER_UNPRIV where the 1 s window is refused), fds[1]: the memory.events watch. */
static int register_v2(int dirfd, bool host, int ret_fds[2]) {
    _cleanup_close_ int psi = -1, ev = -1;
    int r = host ? gsm_psi_trigger_open(dirfd, "memory.pressure", PSI_TRIGGER, &psi) : 0;
    if (r == -EINVAL || r == -EPERM)
        r = gsm_psi_trigger_open(dirfd, "memory.pressure", PSI_TRIGGER_UNPRIV, &psi);
    if (r < 0)
        return r;
    r = gsm_file_change_open(dirfd, "memory.events", &ev);
    if (r < 0)
        return r;
    ret_fds[0] = psi, ret_fds[1] = ev;
    psi = ev = -1;
    return 0;
}

void gsm_engine_notify_register(struct gsm_watch *w, struct gsm_watch_target *t, const struct gsm_watch_sample *s) {
    t->notify_tried = true;
    if (!t->has_cg || (!w->root->is_host && t->loc.version != GSM_CGROUP_V2))
        return;
    _cleanup_close_ int dfd = openat(w->root->fd, t->loc.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = dfd < 0 ? -errno : 0;
    if (r == 0 && t->loc.version == GSM_CGROUP_V2)
        r = register_v2(dfd, w->root->is_host, t->notify_fd);
    else if (r == 0 && (s->limit_is_node || s->limit_bytes == UINT64_MAX))
        r = -EDOM;   /* no limit to set thresholds at */
    else if (r == 0)
        r = register_v1(dfd, s->limit_bytes, &t->notify_fd[0]);
    if (r == 0) {
        gsm_debug("watch: kernel notifications for %s registered", t->loc.path);
        return;
    }
    if (r != -EDOM && !w->notify_warned) {
        w->notify_warned = true;
        gsm_warn("watch: the kernel refused memory notifications for %s (%s): polling every %.1f s instead",
                 t->loc.path, strerror(-r), (double)w->o.interval_ms / 1000.0);
    }
}

void gsm_engine_notify_close(struct gsm_watch_target *t) {
    for (int k = 0; k < 2; k++)
        if (t->notify_fd[k] >= 0) {
            close(t->notify_fd[k]);
            t->notify_fd[k] = -1;
        }
}

int gsm_watch_wait(struct gsm_watch *w, int timeout_ms) {
    if (timeout_ms < 0)
        timeout_ms = 0;
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++)
        n += (w->t[i]->notify_fd[0] >= 0) + (w->t[i]->notify_fd[1] >= 0);
    struct pollfd *p = n ? calloc(n, sizeof *p) : NULL;
    struct gsm_watch_target **who = n ? calloc(n, sizeof *who) : NULL;
    if (n && (!p || !who)) {
        free(p);
        free(who);
        n = 0;
    }
    size_t k = 0;
    for (size_t i = 0; i < w->n && k < n; i++)
        for (int j = 0; j < 2; j++)
            if (w->t[i]->notify_fd[j] >= 0) {
                bool psi = w->t[i]->loc.version == GSM_CGROUP_V2 && j == 0;   /* the rest: eventfd, inotify */
                p[k] = (struct pollfd){.fd = w->t[i]->notify_fd[j], .events = psi ? POLLPRI : POLLIN};
                who[k++] = w->t[i];
            }
    int r = poll(p, k, timeout_ms);
    int fired = 0;
    if (r < 0)
        r = -errno;
    for (size_t i = 0; r > 0 && i < k; i++) {
        if (!p[i].revents)
            continue;
        if (p[i].revents & (POLLERR | POLLNVAL | POLLHUP) && !(p[i].revents & (POLLIN | POLLPRI))) {
            close(p[i].fd);   /* the cgroup went: its sampling says so */
            for (int j = 0; j < 2; j++)
                if (who[i]->notify_fd[j] == p[i].fd)
                    who[i]->notify_fd[j] = -1;
            continue;
        }
        uint64_t v;
        if (who[i]->loc.version != GSM_CGROUP_V2)
            (void)!read(p[i].fd, &v, sizeof v);   /* reset the eventfd counter */
        else if (who[i]->notify_fd[1] == p[i].fd)
            (void)gsm_file_change_drain(p[i].fd);   /* the memory.events changes */
        who[i]->woken = true;
        w->stats.notify.reads++;
        fired++;
    }
    free(p);
    free(who);
    return r < 0 ? r : fired;
}
