/* pidreuse: the driver of tests/live/test_pid_reuse.sh's watch-engine case (not part of
 * gsmapper). Run as root as the first process of a fresh PID namespace
 * (unshare -pf --mount-proc), where /proc/sys/kernel/ns_last_pid chooses the next PID.
 *
 * Each attempt forks A (comm "original"), makes it a watch target (gsm_watch_add_pid: its
 * identity is read now), kills and reaps it, and forks B (comm "impostor") at the same PID.
 * A start time has clock-tick resolution (10 ms): when B started within A's tick, the two
 * have the same (PID, start time), and only a pidfd tells them apart. On the first such
 * attempt it runs one tick of the engine and prints
 *   same_tick pid=N start=S gone=G sampled=K name=NAME
 * (gone: a target_gone event; sampled: samples of the target, NAME the name they carried);
 * the engine must report A gone and sample nothing. "control" mode runs the tick with A alive
 * (gone=0 sampled=1 name=original). Without a same-tick attempt in 40: "no_same_tick ...",
 * exit 2. */
#include "engine/watch.h"
#include "util/root.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct result {
    int gone, sampled;
    char name[64];
};

static void on_event(const struct gsm_watch_event *ev, void *arg) {
    struct result *r = arg;
    if (ev->kind == GSM_WK_TARGET_GONE)
        r->gone++;
}

static void on_sample(const struct gsm_watch_target *t, const struct gsm_watch_sample *s, void *arg) {
    (void)s;
    struct result *r = arg;
    r->sampled++;
    snprintf(r->name, sizeof r->name, "%s", gsm_watch_target_name(t));
}

/* A child named name that waits on rfd; with ready >= 0, it writes a byte there once named
 * (and the parent waits for it). */
static pid_t child(const char *name, int rfd, int ready[2]) {
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_NAME, name);
        if (ready)
            (void)!write(ready[1], "r", 1);
        char c;
        (void)!read(rfd, &c, 1);
        _exit(0);
    }
    char c;
    if (p > 0 && ready)
        (void)!read(ready[0], &c, 1);
    return p;
}

static unsigned long long start_of(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long long v = 0;
    /* after ") ": state is field 3; starttime is field 22 */
    for (int field = 3; p && field <= 22; field++) {
        p = strchr(p + 1, ' ');
        if (p && field == 22)
            v = strtoull(p + 1, NULL, 10);
    }
    return v;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void kill_reap(pid_t p) {
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
}

int main(int argc, char **argv) {
    bool control = argc > 1 && strcmp(argv[1], "control") == 0;
    struct gsm_root root;
    if (gsm_root_open(NULL, &root) < 0)
        return 1;
    struct gsm_watch_opts o;
    gsm_watch_opts_default(&o);
    o.notify = false;
    o.go_stats = false;
    {   /* warm-up: the cgroup mount table is read once per process */
        struct gsm_watch *w;
        if (gsm_watch_new(&root, &o, &w) < 0)
            return 1;
        gsm_watch_add_pid(w, getpid());
        gsm_watch_free(w);
    }
    int differ = 0, moved = 0;
    for (int a = 0; a < 40; a++) {
        int pp[2], ready[2];
        if (pipe(pp) < 0 || pipe(ready) < 0)
            return 1;
        pid_t A = child("original", pp[0], ready);
        struct gsm_watch *w;
        if (A < 0 || gsm_watch_new(&root, &o, &w) < 0)
            return 1;
        int r = gsm_watch_add_pid(w, A);
        if (r < 0) {
            fprintf(stderr, "add_pid(%d): %s\n", (int)A, strerror(-r));
            return 1;
        }
        unsigned long long sa = gsm_watch_target_starttime(gsm_watch_target_at(w, 0));
        pid_t B = -1;
        if (!control) {
            kill_reap(A);
            FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "we");
            if (!f)
                return 1;
            fprintf(f, "%d", (int)A - 1);
            fclose(f);
            B = child("impostor", pp[0], NULL);
            if (B != A || start_of(B) != sa) {
                moved += B != A;
                differ += B == A;
                kill_reap(B);
                close(pp[0]);
                close(pp[1]);
                close(ready[0]);
                close(ready[1]);
                gsm_watch_free(w);
                continue;
            }
        }
        struct result res = {0};
        gsm_watch_tick(w, now_ms(), on_event, on_sample, &res);
        printf("same_tick pid=%d start=%llu gone=%d sampled=%d name=%s attempts=%d other_tick=%d\n", (int)A, sa,
               res.gone, res.sampled, res.sampled ? res.name : "-", a + 1, differ);
        kill_reap(control ? A : B);
        gsm_watch_free(w);
        gsm_root_close(&root);
        return 0;
    }
    printf("no_same_tick other_tick=%d other_pid=%d\n", differ, moved);
    gsm_root_close(&root);
    return 2;
}
