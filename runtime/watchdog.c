/* watchdog.c - heartbeat timer and watchdog thread; see watchdog.h.
 *
 * The two sides share only atomics: the loop writes the heartbeat time,
 * the thread writes whether it sees a stall going on.  Everything else is
 * the loop's. */
#include "watchdog.h"

#include "error.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct pr_watchdog {
    pr_loop_t *loop;
    pr_timer_t beat;
    double stall_s, hold_s, period_s;
    _Atomic int64_t beat_ns;      /* last heartbeat (CLOCK_MONOTONIC) */
    _Atomic int stalled;          /* the thread sees a stall going on */
    /* loop side */
    uint64_t stalls;
    double last_stall_s, max_stall_s, lag_s;
    int64_t last_end_ns;          /* when the last stall ended; 0: none */
    /* thread */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
};

static void on_beat(pr_timer_t *t, void *ud)
{
    pr_watchdog_t *w = ud;
    int64_t now = pr_time_ns(), prev = atomic_load(&w->beat_ns);
    double gap = (double)(now - prev) / 1e9;

    w->lag_s = (double)(now - t->last_due_ns) / 1e9;
    atomic_store(&w->beat_ns, now);
    if (gap > w->stall_s) {
        w->stalls++;
        w->last_stall_s = gap;
        if (gap > w->max_stall_s)
            w->max_stall_s = gap;
        w->last_end_ns = now;
        pr_log_warn("loop stalled for %.0f ms (no turn of the event loop; /health "
                    "answers 503 for %.0f s)", gap * 1000, w->hold_s);
    }
}

static void *watch(void *ud)
{
    pr_watchdog_t *w = ud;
    struct timespec ts;
    int64_t period_ns = (int64_t)(w->period_s * 1e9);

    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        int64_t age;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += period_ns % 1000000000;
        ts.tv_sec += period_ns / 1000000000 + ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&w->cond, &w->lock, &ts);
        if (w->stop)
            break;
        age = pr_time_ns() - atomic_load(&w->beat_ns);
        if ((double)age / 1e9 > w->stall_s) {
            if (!atomic_exchange(&w->stalled, 1))
                pr_log_warn("loop stalled: no turn of the event loop for %.0f ms so far",
                            (double)age / 1e6);
        } else {
            atomic_store(&w->stalled, 0);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int pr_watchdog_create(pr_watchdog_t **out, pr_loop_t *loop, double stall_s, double hold_s)
{
    pr_watchdog_t *w;
    pthread_condattr_t ca;
    int rc;

    if (!out || !loop || !(stall_s >= 0.01) || !(hold_s >= 0) || stall_s > 1e6 || hold_s > 1e6)
        return PR_EINVAL;
    if (!(w = calloc(1, sizeof *w)))
        return PR_ENOMEM;
    w->loop = loop;
    w->stall_s = stall_s;
    w->hold_s = hold_s;
    /* Several beats per stall interval, so a stall is seen within about a
     * quarter of it; never busier than 100 Hz. */
    w->period_s = stall_s / 4 < 0.01 ? 0.01 : stall_s / 4 > 0.25 ? 0.25 : stall_s / 4;
    atomic_store(&w->beat_ns, pr_time_ns());
    pr_timer_init(&w->beat, on_beat, w);
    pr_timer_set_weak(&w->beat, 1);
    if ((rc = pr_timer_start(loop, &w->beat, w->period_s, w->period_s)) < 0) {
        free(w);
        return rc;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    if ((rc = pthread_create(&w->thread, NULL, watch, w)) != 0) {
        pr_timer_stop(&w->beat);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return -rc;
    }
    *out = w;
    return 0;
}

void pr_watchdog_destroy(pr_watchdog_t *w)
{
    if (!w)
        return;
    pr_timer_stop(&w->beat);
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int pr_watchdog_healthy(pr_watchdog_t *w)
{
    pr_watchdog_state_t st;
    pr_watchdog_state(w, &st);
    return st.healthy;
}

void pr_watchdog_state(pr_watchdog_t *w, pr_watchdog_state_t *st)
{
    int64_t now = pr_time_ns();

    st->stalled = atomic_load(&w->stalled);
    st->heartbeat_age_s = (double)(now - atomic_load(&w->beat_ns)) / 1e9;
    st->lag_s = w->lag_s;
    st->stalls = w->stalls;
    st->last_stall_s = w->last_stall_s;
    st->max_stall_s = w->max_stall_s;
    st->last_stall_ago_s = w->last_end_ns ? (double)(now - w->last_end_ns) / 1e9 : -1;
    st->stall_s = w->stall_s;
    st->hold_s = w->hold_s;
    /* Asked from the loop, a heartbeat older than stall_s is a stall the
     * timer has not seen end yet (this very callback is the first turn). */
    st->healthy = !st->stalled && st->heartbeat_age_s <= w->stall_s &&
                  !(st->last_stall_ago_s >= 0 && st->last_stall_ago_s < w->hold_s);
}
