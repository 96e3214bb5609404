/* loop.h - perch's event loop: libev underneath, precise timers on top.
 *
 * This is the only module that includes ev.h.  Timers are kept in perch's
 * own min-heap keyed by absolute CLOCK_MONOTONIC nanoseconds and woken by one
 * timerfd, because libev's epoll backend sleeps in whole milliseconds (a
 * 100 Hz timer would be up to 1 ms late); with the timerfd a timer fires
 * within the kernel's timer slack of its due time.  Repeating timers are
 * drift-free (due += period) and count the periods they missed.
 *
 * Ownership: the caller embeds pr_timer_t in its own struct (as with libev
 * watchers); the loop never allocates or frees a timer, it only links active
 * ones into its heap.  An active timer keeps pr_loop_run() running; when no
 * timer is active and nothing else is watched, pr_loop_run() returns. */
#ifndef PR_LOOP_H
#define PR_LOOP_H

#include <stddef.h>
#include <stdint.h>

typedef struct pr_loop pr_loop_t;
typedef struct pr_timer pr_timer_t;
typedef void (*pr_timer_cb)(pr_timer_t *t, void *ud);
typedef void (*pr_signal_cb)(int signum, void *ud);

struct pr_timer {
    /* private: */
    pr_loop_t *loop;
    int64_t due_ns;        /* absolute CLOCK_MONOTONIC deadline */
    int64_t period_ns;     /* 0: one-shot */
    int64_t after_ns;      /* delay used by pr_timer_again() */
    size_t heap_idx;       /* SIZE_MAX while inactive */
    int weak;              /* see pr_timer_set_weak() */
    /* ro: */
    uint64_t fired;        /* callbacks run */
    uint64_t missed;       /* periods skipped because the loop was late */
    int64_t last_due_ns;   /* due time of the firing in progress / last one */
    /* rw: */
    pr_timer_cb cb;
    void *ud;
};

/* Monotonic clock, the one timers use. */
int64_t pr_time_ns(void);
double pr_time_now(void);   /* seconds, as a double */

int pr_loop_create(pr_loop_t **out);
/* Stops every timer still linked (their callbacks do not run) and frees the
 * loop.  Safe with NULL. */
void pr_loop_destroy(pr_loop_t *loop);

/* Runs until pr_loop_stop() or until nothing is active.  Returns 1 if it
 * was stopped (also by a stop asked for before the run), 0 if it ran out of
 * work.  A run consumes the stop: the next run goes on again. */
int pr_loop_run(pr_loop_t *loop);
/* Ask the loop to return after the callback in progress (or, before a run,
 * to return at once).  Not async-signal-safe: call it from loop callbacks. */
void pr_loop_stop(pr_loop_t *loop);
int pr_loop_stopping(const pr_loop_t *loop);

/* Watch a signal (SIGINT, SIGTERM, ...).  Signal watchers do not keep the
 * loop alive.  At most PR_LOOP_MAX_SIGNALS. */
#define PR_LOOP_MAX_SIGNALS 8
int pr_loop_on_signal(pr_loop_t *loop, int signum, pr_signal_cb cb, void *ud);

/* Number of active timers that keep the loop running (weak ones are not
 * counted; diagnostics, tests). */
size_t pr_loop_active_timers(const pr_loop_t *loop);

void pr_timer_init(pr_timer_t *t, pr_timer_cb cb, void *ud);
/* Fire after `after_s` seconds, then every `repeat_s` seconds if > 0.
 * Restarts an active timer.  PR_EINVAL for negative or non-finite times,
 * PR_ENOMEM if the heap cannot grow. */
int pr_timer_start(pr_loop_t *loop, pr_timer_t *t, double after_s, double repeat_s);
/* Restart with the delays of the last start (a one-shot fires once more
 * after its delay; a repeating timer's phase restarts from now). */
int pr_timer_again(pr_timer_t *t);
/* Idempotent; a stopped timer can be started again. */
void pr_timer_stop(pr_timer_t *t);
int pr_timer_active(const pr_timer_t *t);
/* weak = 1: this timer alone does not keep pr_loop_run() going, as with
 * pr_io_set_weak() (housekeeping such as the safety floor's sampling must
 * not keep an app alive that has nothing else to do).  Call after
 * pr_timer_init(); may change while the timer is active. */
void pr_timer_set_weak(pr_timer_t *t, int weak);
/* Next deadline (absolute CLOCK_MONOTONIC ns) and period (ns; 0: one-shot). */
int64_t pr_timer_due(const pr_timer_t *t);
int64_t pr_timer_period(const pr_timer_t *t);
/* Move an active timer's next deadline to due_ns, keeping its period (a
 * reload hands a repeating timer's phase to its successor this way).
 * PR_EINVAL if the timer is not active. */
int pr_timer_set_due(pr_timer_t *t, int64_t due_ns);

/* ------------------------------------------------------------ fd watchers
 *
 * pr_io_t watches one file descriptor for readability and/or writability
 * (level-triggered, as libev).  The caller embeds it, like pr_timer_t.  An
 * active watcher keeps pr_loop_run() going unless pr_io_set_weak() said
 * otherwise (a listening socket should keep the app alive; a helper's pipe
 * need not). */
#define PR_IO_READ  1
#define PR_IO_WRITE 2

typedef struct pr_io pr_io_t;
typedef void (*pr_io_cb)(pr_io_t *io, int revents, void *ud);

struct pr_io {
    /* private: libev's watcher lives here; loop.c checks that it fits. */
    union { void *p; double d; long long ll; unsigned char b[80]; } w;
    pr_loop_t *loop;
    int active, weak;
    /* rw: */
    pr_io_cb cb;
    void *ud;
};

void pr_io_init(pr_io_t *io, pr_io_cb cb, void *ud);
/* Watch fd for events (PR_IO_READ | PR_IO_WRITE).  Restarts an active
 * watcher with the new fd and events.  PR_EINVAL for fd < 0 or no events. */
int pr_io_start(pr_loop_t *loop, pr_io_t *io, int fd, int events);
/* Idempotent.  Does not close the fd. */
void pr_io_stop(pr_io_t *io);
int pr_io_active(const pr_io_t *io);
/* weak = 1: this watcher alone does not keep pr_loop_run() going. */
void pr_io_set_weak(pr_io_t *io, int weak);

/* --------------------------------------------------------- cross-thread
 *
 * pr_async_t lets another thread wake the loop: pr_async_send() is safe from
 * any thread (and from signal handlers); the callback runs on the loop
 * thread, once for any number of sends since the last run.  An async watcher
 * never keeps the loop alive by itself. */
typedef struct pr_async pr_async_t;
typedef void (*pr_async_cb)(pr_async_t *a, void *ud);

struct pr_async {
    union { void *p; double d; long long ll; unsigned char b[80]; } w;
    pr_loop_t *loop;
    int active;
    pr_async_cb cb;
    void *ud;
};

void pr_async_init(pr_async_t *a, pr_async_cb cb, void *ud);
int pr_async_start(pr_loop_t *loop, pr_async_t *a);
void pr_async_send(pr_async_t *a);
void pr_async_stop(pr_async_t *a);

#endif
