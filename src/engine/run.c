/* The loop around gsm_watch_tick and gsm_watch_wait that watch and serve run (watch.h:
 * gsm_watch_run). Two schedules: watch ticks when the next target is due; serve ticks at a
 * fixed rate on the monotonic clock (it renders once per tick), with kernel notifications
 * ticking in between. */
#include "engine/watch.h"

#include <time.h>

static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool stopped(const struct gsm_watch_run_opts *o) {
    return o->stop && *o->stop;
}

static bool tick(struct gsm_watch *w, const struct gsm_watch_run_opts *o, bool scheduled) {
    gsm_watch_tick(w, wall_ms(), o->on_event, o->on_sample, o->userdata);
    return !o->after_tick || o->after_tick(w, scheduled, o->userdata);
}

/* watch: tick, then wait until the next target is due (at most an interval, never past the
 * duration) or a kernel notification wakes one. */
static void run_when_due(struct gsm_watch *w, const struct gsm_watch_run_opts *o, uint64_t interval_ms) {
    uint64_t start = wall_ms();
    while (!stopped(o)) {
        if (!tick(w, o, true))
            break;
        uint64_t t1 = wall_ms();
        if (o->duration_ms && t1 - start >= o->duration_ms)
            break;
        if (o->until_empty && gsm_watch_n_targets(w) == 0)
            break;   /* every named process is gone */
        uint64_t due = gsm_watch_next_due_ms(w);
        uint64_t wait_ms = due > t1 ? due - t1 : 0;
        if (wait_ms > interval_ms)
            wait_ms = interval_ms;
        if (o->duration_ms && t1 - start + wait_ms > o->duration_ms)
            wait_ms = o->duration_ms - (t1 - start);
        gsm_watch_wait(w, (int)wait_ms);
    }
}

static void add_ms(struct timespec *t, uint64_t ms) {
    t->tv_nsec += (long)(ms % 1000) * 1000000;
    t->tv_sec += (time_t)(ms / 1000) + t->tv_nsec / 1000000000;
    t->tv_nsec %= 1000000000;
}

static int64_t ms_until(const struct timespec *t) {
    struct timespec cur;
    clock_gettime(CLOCK_MONOTONIC, &cur);
    return (int64_t)(t->tv_sec - cur.tv_sec) * 1000 + (t->tv_nsec - cur.tv_nsec) / 1000000;
}

/* serve: a tick every interval from now (the caller ticked once already); a notification (a
 * burst, an OOM) ends the wait early and the woken cgroups are sampled at once. On time, the
 * ticks keep to the grid (no drift); a tick that started late (a loaded machine) moves the grid
 * to its start, so the next one does not follow right after it (a target sampled less than half
 * an interval before is not due: that tick would sample nothing). */
static void run_fixed_rate(struct gsm_watch *w, const struct gsm_watch_run_opts *o, uint64_t interval_ms) {
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    uint64_t start = wall_ms();
    while (!stopped(o)) {
        add_ms(&next, interval_ms);
        int64_t left_ms;
        while (!stopped(o) && (left_ms = ms_until(&next)) > 0)
            if (gsm_watch_wait(w, (int)left_ms) > 0 && !tick(w, o, false))
                return;
        if (stopped(o))
            break;
        if (-ms_until(&next) > (int64_t)interval_ms / 4)
            clock_gettime(CLOCK_MONOTONIC, &next);   /* late: the grid moves to this tick */
        if (!tick(w, o, true))
            break;
        if (o->duration_ms && wall_ms() - start >= o->duration_ms)
            break;
    }
}

void gsm_watch_run(struct gsm_watch *w, const struct gsm_watch_run_opts *o) {
    uint64_t interval_ms = gsm_watch_interval_ms(w);
    if (o->fixed_rate)
        run_fixed_rate(w, o, interval_ms);
    else
        run_when_due(w, o, interval_ms);
}
