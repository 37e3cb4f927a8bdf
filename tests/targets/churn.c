/* churn: forks short-lived children at a target rate, for the stress runs (tests/stress/).
 *
 *   churn -r RATE -s SECONDS [-l LIFETIME_MS] [-L LONG_LIFETIME_MS] [-w PID_WINDOW] [-o LOG]
 *
 * -L: every 50th child lives LONG_LIFETIME_MS instead, so a sampler slower than LIFETIME_MS (a
 * loaded machine) still finds children to check.
 *
 * Every child is a fingerprint that a reader can check from /proc/PID/status alone:
 *   1. right after fork its comm is the parent's ("churn") and it has 1 thread;
 *   2. it renames itself "b" and starts EXTRA = 1 + seq % 3 threads (they sleep);
 *   3. it renames itself "k<seq in hex>": from now on Threads is exactly 1 + EXTRA;
 *   4. after LIFETIME_MS it renames itself "z", waits 50 ms and exits (so a reader that saw
 *      "k<seq>" never sees the threads die in the same read of status).
 * A sample labelled "churn" with more than one thread, or "k<seq>" with another thread count or
 * at another PID than the one seq was given (LOG), was attributed to the wrong process.
 *
 * -w: in a private PID namespace (root), PIDs are handed out from a window of PID_WINDOW numbers
 * through /proc/sys/kernel/ns_last_pid, so a PID is reused every PID_WINDOW / RATE seconds
 * instead of every pid_max / RATE.
 * LOG gets one line per reaped child: "seq pid fork_ms reap_ms" (CLOCK_REALTIME milliseconds).
 * At the end (every child reaped; rate = forks per second of the run):
 * "CHURN forks=N exits=N seconds=S rate=R/s target=T/s reused_pids=N" on stdout.
 * It prints "READY" once the first child is forked; SIGTERM/SIGINT end the run early. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define Z_PHASE_MS 50
#define MAX_PIDS (1 << 22)
#define MAX_ALIVE 8192
#define LONG_EVERY 50

static volatile sig_atomic_t stop, stop_signal;
static void on_signal(int s) {
    stop_signal = s;
    stop = 1;
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t real_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
/* The children are clone(CLONE_VM) processes, not fork()s: on this kind of VM a fork costs a
 * millisecond or more (page tables copied, then copy-on-write faults), 80 times a vfork, and the
 * target rate is out of reach with it. A child shares the parent's memory, so it touches nothing
 * but its own stack and uses raw system calls only (no errno, locks or TLS of its own). */
#define STACK_SIZE (16 * 1024)
#define SLOT_STACKS 4   /* the child's own and up to 3 threads' */

struct slot {
    uint64_t seq, fork_ms;
    char name[16];
    unsigned lifetime_ms, extra;
    uint8_t used;
    char *stacks;   /* SLOT_STACKS * STACK_SIZE */
};

static void raw_sleep_ms(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (syscall(SYS_nanosleep, &ts, &ts) != 0) {
    }
}

static int sleeper(void *arg) {
    (void)arg;
    for (;;)
        syscall(SYS_pause);
    return 0;
}

static int child(void *arg) {
    struct slot *s = arg;
    /* The handlers were copied from the parent and would set ITS stop flag (shared memory). */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGTERM, &dfl, NULL);
    sigaction(SIGINT, &dfl, NULL);
    syscall(SYS_prctl, PR_SET_NAME, "b", 0, 0, 0);
    for (unsigned k = 0; k < s->extra; k++)
        if (clone(sleeper, s->stacks + (k + 2) * STACK_SIZE, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FS | CLONE_FILES,
                  NULL) < 0)
            syscall(SYS_exit_group, 3);   /* never named "k...": the fingerprint stays true */
    syscall(SYS_prctl, PR_SET_NAME, s->name, 0, 0, 0);
    raw_sleep_ms(s->lifetime_ms);
    syscall(SYS_prctl, PR_SET_NAME, "z", 0, 0, 0);
    raw_sleep_ms(Z_PHASE_MS);
    syscall(SYS_exit_group, 0);
    return 0;
}

int main(int argc, char **argv) {
    double rate = 2000, seconds = 10;
    unsigned lifetime_ms = 200, long_ms = 0, window = 0;
    const char *log_path = NULL;
    int c;
    while ((c = getopt(argc, argv, "r:s:l:L:w:o:")) != -1) {
        switch (c) {
        case 'r': rate = atof(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'l': lifetime_ms = (unsigned)atoi(optarg); break;
        case 'L': long_ms = (unsigned)atoi(optarg); break;
        case 'w': window = (unsigned)atoi(optarg); break;
        case 'o': log_path = optarg; break;
        default:
            fprintf(stderr, "usage: churn -r RATE -s SECONDS [-l LIFETIME_MS] [-L LONG_LIFETIME_MS] [-w PID_WINDOW] [-o LOG]\n");
            return 2;
        }
    }
    if (rate <= 0 || seconds <= 0) {
        fprintf(stderr, "churn: -r and -s want positive numbers\n");
        return 2;
    }
    prctl(PR_SET_NAME, "churn");
    FILE *log = NULL;
    if (log_path && !(log = fopen(log_path, "w"))) {
        fprintf(stderr, "churn: %s: %s\n", log_path, strerror(errno));
        return 1;
    }
    if (log)
        setvbuf(log, NULL, _IOFBF, 1 << 20);
    int ns_fd = -1;
    pid_t base = 0;
    if (window) {
        ns_fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
        if (ns_fd < 0) {
            fprintf(stderr, "churn: -w: /proc/sys/kernel/ns_last_pid: %s\n", strerror(errno));
            return 1;
        }
        base = getpid() + 100;
    }
    /* Slots for the children alive at once, each with its stacks; a PID finds its slot. */
    struct slot *slots = calloc(MAX_ALIVE, sizeof *slots);
    int32_t *pid_slot = calloc(MAX_PIDS, sizeof *pid_slot), *free_slots = calloc(MAX_ALIVE, sizeof *free_slots);
    uint8_t *ever = calloc(MAX_PIDS, 1);
    char *stacks = mmap(NULL, (size_t)MAX_ALIVE * SLOT_STACKS * STACK_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!slots || !pid_slot || !free_slots || !ever || stacks == MAP_FAILED)
        return 1;
    size_t n_free = MAX_ALIVE;
    for (size_t i = 0; i < MAX_ALIVE; i++) {
        free_slots[i] = (int32_t)(MAX_ALIVE - 1 - i);
        slots[i].stacks = stacks + i * SLOT_STACKS * STACK_SIZE;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    uint64_t period_ns = (uint64_t)(1e9 / rate), t0 = mono_ns(), end = t0 + (uint64_t)(seconds * 1e9);
    uint64_t run_end = 0, next = t0, forks = 0, exits = 0, reused = 0, fork_fail = 0;
    unsigned alive = 0;
    bool ready = false;
    while (!stop || alive) {
        uint64_t now = mono_ns();
        if (now >= end)
            stop = 1;
        if (stop && !run_end)
            run_end = now;
        /* Behind by more than 100 ms: do not try to catch up (the rate printed is what was done). */
        if (next + 100000000u < now)
            next = now;
        while (!stop && next <= now) {
            if (window) {
                char b[24];
                int l = snprintf(b, sizeof b, "%d", (int)(base + (pid_t)(forks % window) - 1));
                if (pwrite(ns_fd, b, (size_t)l, 0) < 0) {
                    fprintf(stderr, "churn: ns_last_pid: %s\n", strerror(errno));
                    return 1;
                }
            }
            if (n_free == 0) {   /* MAX_ALIVE children alive: wait for one to end */
                fork_fail++;
                break;
            }
            int32_t si = free_slots[--n_free];
            struct slot *sl = &slots[si];
            sl->seq = forks;
            sl->fork_ms = real_ms();
            sl->lifetime_ms = long_ms && forks % LONG_EVERY == 0 ? long_ms : lifetime_ms;
            sl->extra = 1 + (unsigned)(forks % 3);
            snprintf(sl->name, sizeof sl->name, "k%llx", (unsigned long long)forks);
            sl->used = 1;
            pid_t p = clone(child, sl->stacks + STACK_SIZE, CLONE_VM | SIGCHLD, sl);
            if (p < 0 || p >= MAX_PIDS) {
                if (p < 0) {
                    sl->used = 0;
                    free_slots[n_free++] = si;
                }
                fork_fail++;
                break;
            }
            if (ever[p])
                reused++;
            ever[p] = 1;
            pid_slot[p] = si + 1;
            forks++;
            alive++;
            next += period_ns;
            if (!ready) {
                printf("READY churn pid=%d\n", (int)getpid());
                fflush(stdout);
                ready = true;
            }
        }
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
            alive--;
            exits++;
            if (w < MAX_PIDS && pid_slot[w]) {
                int32_t si = pid_slot[w] - 1;
                if (log)
                    fprintf(log, "%llu %d %llu %llu\n", (unsigned long long)slots[si].seq, (int)w,
                            (unsigned long long)slots[si].fork_ms, (unsigned long long)real_ms());
                slots[si].used = 0;
                pid_slot[w] = 0;
                free_slots[n_free++] = si;
            }
        }
        if (w < 0 && errno == ECHILD && stop)
            break;
        uint64_t wait_ns = stop ? 1000000 : (next > mono_ns() ? next - mono_ns() : 0);
        if (wait_ns > 1000000)
            wait_ns = 1000000;
        if (wait_ns) {
            struct timespec ts = {0, (long)wait_ns};
            nanosleep(&ts, NULL);
        }
    }
    double el = (double)((run_end ? run_end : mono_ns()) - t0) / 1e9;
    if (log)
        fclose(log);
    printf("CHURN forks=%llu exits=%llu seconds=%.1f rate=%.0f/s target=%.0f/s reused_pids=%llu spawn_failures=%llu stopped_by_signal=%d\n",
           (unsigned long long)forks, (unsigned long long)exits, el, (double)forks / el, rate,
           (unsigned long long)reused, (unsigned long long)fork_fail, (int)stop_signal);
    return 0;
}
