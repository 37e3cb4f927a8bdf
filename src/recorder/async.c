/* Bundles written by forked writer processes, so the watch loop never waits for one (see
 * recorder.h, "asynchronous bundles"). */
#include "recorder/recorder_internal.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t writer_slots(bool urgent) {
    return urgent ? GSM_RECORDER_MAX_WRITERS : GSM_RECORDER_MAX_WRITERS - GSM_RECORDER_URGENT_SLOTS;
}

/* In the writer: write the bundle, send the result, exit without running the parent's atexit
 * handlers or flushing its stdio buffers (those belong to watch). */
static _Noreturn void writer_main(struct gsm_recorder *r, const struct gsm_bundle_request *req, int fd, pid_t parent) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);   /* watch died before the death signal was armed */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGCHLD, &dfl, NULL);   /* explain and report are waited for by pid */
    struct rec_result res = {0};
    res.rc = rec_write_bundle(r, req, false, res.path, sizeof res.path);
    if (res.rc < 0)
        res.path[0] = '\0';
    size_t len = offsetof(struct rec_result, path) + strlen(res.path) + 1;
    rec_write_all(fd, &res, len);
    _exit(0);
}

int gsm_recorder_start(struct gsm_recorder *r, const struct gsm_bundle_request *req, bool urgent, void *cookie) {
    if (!r || !req)
        return -EINVAL;
    const char *key = rec_request_key(req);
    if (rec_rate_limited(r, key, req->now_ms))
        return -EAGAIN;
    if (r->n_writers >= writer_slots(urgent))
        return -EBUSY;
    for (size_t i = 0; i < r->n_writers; i++)
        if (strcmp(r->writers[i].key, key) == 0)
            return -EBUSY;
    struct rec_writer *nw = realloc(r->writers, (r->n_writers + 1) * sizeof *nw);
    if (!nw)
        return -ENOMEM;
    r->writers = nw;
    struct rec_writer *w = &r->writers[r->n_writers];
    memset(w, 0, sizeof *w);
    if (!(w->key = strdup(key)))
        return -ENOMEM;
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        int k = -errno;
        free(w->key);
        return k;
    }
    pid_t parent = getpid();
    fflush(NULL);   /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        int k = -errno;
        close(pfd[0]);
        close(pfd[1]);
        free(w->key);
        return k;
    }
    if (pid == 0) {
        close(pfd[0]);
        writer_main(r, req, pfd[1], parent);
    }
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    /* Counted now: the writer's own record stays in its copy. */
    rec_rate_record(r, key, req->now_ms);
    w->pid = pid;
    w->fd = pfd[0];
    w->cookie = cookie;
    r->n_writers++;
    gsm_debug("recorder: writer %ld started for %s", (long)pid, key);
    return 0;
}

/* Reads what the writer sent; true once it closed its end (finished or died). */
static bool writer_done(struct rec_writer *w) {
    for (;;) {
        ssize_t k = read(w->fd, (char *)&w->res + w->got, sizeof w->res - w->got);
        if (k > 0) {
            w->got += (size_t)k;
            if (w->got < sizeof w->res)
                continue;
            return true;   /* full: never more than that */
        }
        if (k == 0)
            return true;
        return errno != EAGAIN && errno != EINTR;
    }
}

static void writer_finish(struct gsm_recorder *r, size_t i, int forced_rc, gsm_recorder_done_fn done, void *userdata) {
    struct rec_writer w = r->writers[i];
    r->writers[i] = r->writers[--r->n_writers];
    close(w.fd);
    /* It has exited or is about to (its pipe is closed); watch's own waitpid(-1) may have
     * reaped it already (ECHILD). */
    while (waitpid(w.pid, NULL, 0) < 0 && errno == EINTR) {
    }
    int rc = forced_rc;
    const char *path = "";
    if (!rc) {
        if (w.got > offsetof(struct rec_result, path)) {
            w.res.path[sizeof w.res.path - 1] = '\0';
            rc = w.res.rc;
            path = rc == 0 ? w.res.path : "";
        } else {
            rc = -EPIPE;   /* died before it said anything */
        }
    }
    gsm_debug("recorder: writer %ld for %s done: %d", (long)w.pid, w.key, rc);
    free(w.key);
    if (done)
        done(w.cookie, rc, path, userdata);
}

size_t gsm_recorder_reap(struct gsm_recorder *r, uint64_t wait_ms, gsm_recorder_done_fn done, void *userdata) {
    if (!r)
        return 0;
    uint64_t deadline = rec_mono_ms() + wait_ms;
    for (;;) {
        for (size_t i = 0; i < r->n_writers;)
            if (writer_done(&r->writers[i]))
                writer_finish(r, i, 0, done, userdata);
            else
                i++;
        uint64_t now = rec_mono_ms();
        if (r->n_writers == 0 || wait_ms == 0)
            return r->n_writers;
        if (now >= deadline)
            break;
        struct pollfd pfds[GSM_RECORDER_MAX_WRITERS];
        size_t n = r->n_writers < GSM_RECORDER_MAX_WRITERS ? r->n_writers : GSM_RECORDER_MAX_WRITERS;
        for (size_t i = 0; i < n; i++)
            pfds[i] = (struct pollfd){.fd = r->writers[i].fd, .events = POLLIN};
        uint64_t left = deadline - now;
        poll(pfds, n, left > 1000 ? 1000 : (int)left);
    }
    while (r->n_writers > 0) {
        kill(r->writers[0].pid, SIGKILL);
        writer_finish(r, 0, -ETIMEDOUT, done, userdata);
    }
    return 0;
}

/* gsm_recorder_free: writers still running are killed (their cookies are the caller's). */
void rec_writers_free(struct gsm_recorder *r) {
    while (r->n_writers > 0) {
        kill(r->writers[0].pid, SIGKILL);
        writer_finish(r, 0, -ETIMEDOUT, NULL, NULL);
    }
    free(r->writers);
    r->writers = NULL;
}
