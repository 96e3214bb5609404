/* loop.c - libev event loop plus perch's timer heap woken by a timerfd.
 *
 * Why not ev_timer: libev hands epoll_wait() a timeout rounded up to whole
 * milliseconds, which makes every timer up to 1 ms late.  Here one timerfd,
 * armed with an absolute deadline (TFD_TIMER_ABSTIME) for the earliest timer,
 * wakes epoll at the right nanosecond; libev still does all the waiting and
 * the signal handling.  The timerfd is re-armed lazily in an ev_prepare
 * watcher, so starting and stopping timers costs no syscall. */
#include "loop.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

struct signal_watch {
    ev_signal w;
    pr_signal_cb cb;
    void *ud;
};

struct pr_loop {
    struct ev_loop *ev;
    ev_io tfd_watch;          /* the timerfd */
    ev_prepare prepare;       /* re-arms the timerfd before each sleep */
    int tfd;
    int64_t armed_ns;         /* deadline the timerfd holds; INT64_MAX: none,
                                 -1: unknown (fired, must be re-armed) */
    int stopping;
    pr_timer_t **heap;        /* min-heap on due_ns */
    size_t n, cap;
    size_t nweak;             /* weak timers among the n */
    struct signal_watch sig[PR_LOOP_MAX_SIGNALS];
    int nsig;
};

int64_t pr_time_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double pr_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- heap -- */

static void heap_set(pr_loop_t *l, size_t i, pr_timer_t *t)
{
    l->heap[i] = t;
    t->heap_idx = i;
}

static void sift_up(pr_loop_t *l, size_t i)
{
    pr_timer_t *t = l->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (l->heap[p]->due_ns <= t->due_ns)
            break;
        heap_set(l, i, l->heap[p]);
        i = p;
    }
    heap_set(l, i, t);
}

static void sift_down(pr_loop_t *l, size_t i)
{
    pr_timer_t *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->n)
            break;
        if (c + 1 < l->n && l->heap[c + 1]->due_ns < l->heap[c]->due_ns)
            c++;
        if (t->due_ns <= l->heap[c]->due_ns)
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

static void heap_remove(pr_loop_t *l, pr_timer_t *t)
{
    size_t i = t->heap_idx;
    pr_timer_t *last = l->heap[--l->n];
    t->heap_idx = SIZE_MAX;
    if (i == l->n)
        return;
    heap_set(l, i, last);
    sift_down(l, i);
    sift_up(l, last->heap_idx);
}

/* ---------------------------------------------------------------- timers */

void pr_timer_init(pr_timer_t *t, pr_timer_cb cb, void *ud)
{
    memset(t, 0, sizeof *t);
    t->heap_idx = SIZE_MAX;
    t->cb = cb;
    t->ud = ud;
}

int pr_timer_active(const pr_timer_t *t) { return t->heap_idx != SIZE_MAX; }

static int to_ns(double s, int64_t *out)
{
    /* ~292 years is where int64 ns ends; refuse anything near it. */
    if (!isfinite(s) || s < 0 || s > 1e9)
        return PR_EINVAL;
    *out = (int64_t)llround(s * 1e9);
    return 0;
}

static int timer_link(pr_loop_t *l, pr_timer_t *t)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        pr_timer_t **nh = realloc(l->heap, ncap * sizeof *nh);
        if (!nh)
            return PR_ENOMEM;
        l->heap = nh;
        l->cap = ncap;
    }
    l->heap[l->n] = t;
    t->heap_idx = l->n++;
    sift_up(l, t->heap_idx);
    if (t->weak)
        l->nweak++;
    else
        ev_ref(l->ev);  /* an active timer keeps ev_run() going */
    return 0;
}

static void timer_unlink(pr_loop_t *l, pr_timer_t *t)
{
    heap_remove(l, t);
    if (t->weak)
        l->nweak--;
    else
        ev_unref(l->ev);
}

int pr_timer_start(pr_loop_t *loop, pr_timer_t *t, double after_s, double repeat_s)
{
    int64_t after, period;

    if (to_ns(after_s, &after) || to_ns(repeat_s, &period))
        return PR_EINVAL;
    if (pr_timer_active(t))
        pr_timer_stop(t);
    t->loop = loop;
    t->after_ns = after;
    t->period_ns = period;
    t->due_ns = pr_time_ns() + after;
    return timer_link(loop, t);
}

int pr_timer_again(pr_timer_t *t)
{
    pr_loop_t *l = t->loop;
    if (!l)
        return PR_EINVAL;
    if (pr_timer_active(t))
        pr_timer_stop(t);
    t->due_ns = pr_time_ns() + t->after_ns;
    return timer_link(l, t);
}

void pr_timer_stop(pr_timer_t *t)
{
    if (pr_timer_active(t))
        timer_unlink(t->loop, t);
}

void pr_timer_set_weak(pr_timer_t *t, int weak)
{
    weak = weak ? 1 : 0;
    if (pr_timer_active(t) && weak != t->weak) {
        if (weak) {
            t->loop->nweak++;
            ev_unref(t->loop->ev);
        } else {
            t->loop->nweak--;
            ev_ref(t->loop->ev);
        }
    }
    t->weak = weak;
}

size_t pr_loop_active_timers(const pr_loop_t *loop) { return loop->n - loop->nweak; }
int64_t pr_timer_due(const pr_timer_t *t) { return t->due_ns; }
int64_t pr_timer_period(const pr_timer_t *t) { return t->period_ns; }

int pr_timer_set_due(pr_timer_t *t, int64_t due_ns)
{
    if (!pr_timer_active(t))
        return PR_EINVAL;
    t->due_ns = due_ns;
    sift_down(t->loop, t->heap_idx);
    sift_up(t->loop, t->heap_idx);
    return 0;
}


/* Run every timer that is due.  Bounded by the number of timers active on
 * entry, so a callback that restarts itself with a zero delay cannot keep
 * this loop from returning to libev (it runs again on the next iteration). */
static void timers_dispatch(pr_loop_t *l)
{
    int64_t now = pr_time_ns();
    size_t budget = l->n;

    while (l->n > 0 && budget-- > 0 && !l->stopping) {
        pr_timer_t *t = l->heap[0];
        if (t->due_ns > now)
            break;
        t->last_due_ns = t->due_ns;
        if (t->period_ns > 0) {
            /* Drift-free: the next deadline is a whole number of periods
             * after the first; periods that already passed are skipped
             * and counted rather than fired in a burst. */
            t->due_ns += t->period_ns;
            if (t->due_ns <= now) {
                int64_t behind = (now - t->due_ns) / t->period_ns + 1;
                t->missed += (uint64_t)behind;
                t->due_ns += behind * t->period_ns;
            }
            sift_down(l, 0);
        } else {
            timer_unlink(l, t);
        }
        t->fired++;
        t->cb(t, t->ud);
        /* The callback may have stopped or restarted timers (t included,
         * or freed t): do not touch t from here on. */
    }
}

static void tfd_cb(struct ev_loop *ev, ev_io *w, int revents)
{
    pr_loop_t *l = w->data;
    (void)ev;
    (void)revents;
    /* No read(2) of the expiration count: prepare_cb's timerfd_settime()
     * resets it, which also ends the readiness.  Forget what was armed so
     * prepare_cb re-arms (or disarms) before the next sleep, whatever the
     * heap looks like then: one syscall per wake-up saved. */
    l->armed_ns = -1;
    timers_dispatch(l);
}

static void prepare_cb(struct ev_loop *ev, ev_prepare *w, int revents)
{
    pr_loop_t *l = w->data;
    int64_t want = l->n ? l->heap[0]->due_ns : INT64_MAX;
    struct itimerspec its;
    (void)ev;
    (void)revents;

    if (want == l->armed_ns)
        return;
    memset(&its, 0, sizeof its);  /* all zero disarms */
    if (want != INT64_MAX) {
        /* A deadline in the past (or now) still has to fire: a zero
         * it_value would disarm, so use 1 ns, which is long past. */
        int64_t at = want > 0 ? want : 1;
        its.it_value.tv_sec = at / 1000000000;
        its.it_value.tv_nsec = at % 1000000000;
    }
    if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        pr_log_error("timerfd_settime: %s", strerror(errno));
        return;
    }
    l->armed_ns = want;
}

/* ---------------------------------------------------------------- loop -- */

int pr_loop_create(pr_loop_t **out)
{
    pr_loop_t *l = calloc(1, sizeof *l);
    int err = PR_ENOMEM;

    if (!l)
        return PR_ENOMEM;
    l->tfd = -1;
    l->armed_ns = INT64_MAX;
    /* EVFLAG_NOSIGMASK: perch is single-threaded on the loop and wants
     * signals delivered normally. */
    l->ev = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (!l->ev)
        goto err;
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->tfd < 0) {
        err = -errno;
        goto err;
    }
    ev_io_init(&l->tfd_watch, tfd_cb, l->tfd, EV_READ);
    l->tfd_watch.data = l;
    ev_io_start(l->ev, &l->tfd_watch);
    ev_unref(l->ev);  /* only active timers keep the loop alive */
    ev_prepare_init(&l->prepare, prepare_cb);
    l->prepare.data = l;
    ev_prepare_start(l->ev, &l->prepare);
    ev_unref(l->ev);
    *out = l;
    return 0;
err:
    if (l->tfd >= 0)
        close(l->tfd);
    if (l->ev)
        ev_loop_destroy(l->ev);
    free(l);
    return err;
}

void pr_loop_destroy(pr_loop_t *l)
{
    if (!l)
        return;
    while (l->n > 0)
        pr_timer_stop(l->heap[0]);
    /* Watchers we unref'd must be ref'd back before stopping them. */
    ev_ref(l->ev);
    ev_io_stop(l->ev, &l->tfd_watch);
    ev_ref(l->ev);
    ev_prepare_stop(l->ev, &l->prepare);
    for (int i = 0; i < l->nsig; i++) {
        ev_ref(l->ev);
        ev_signal_stop(l->ev, &l->sig[i].w);
    }
    ev_loop_destroy(l->ev);
    close(l->tfd);
    free(l->heap);
    free(l);
}

int pr_loop_run(pr_loop_t *l)
{
    int stopped;

    /* A stop asked for before the run (perch.stop() in a main chunk) must
     * hold: ev_run() would forget it, since it clears libev's break flag. */
    if (!l->stopping)
        ev_run(l->ev, 0);
    stopped = l->stopping;
    l->stopping = 0;  /* the next run starts afresh */
    return stopped ? 1 : 0;
}

void pr_loop_stop(pr_loop_t *l)
{
    l->stopping = 1;
    ev_break(l->ev, EVBREAK_ALL);
}

int pr_loop_stopping(const pr_loop_t *l) { return l->stopping; }

static void signal_cb(struct ev_loop *ev, ev_signal *w, int revents)
{
    struct signal_watch *s = w->data;
    (void)ev;
    (void)revents;
    s->cb(w->signum, s->ud);
}

int pr_loop_on_signal(pr_loop_t *l, int signum, pr_signal_cb cb, void *ud)
{
    struct signal_watch *s;

    if (l->nsig == PR_LOOP_MAX_SIGNALS || signum <= 0 || signum >= NSIG || !cb)
        return PR_EINVAL;
    s = &l->sig[l->nsig++];
    s->cb = cb;
    s->ud = ud;
    ev_signal_init(&s->w, signal_cb, signum);
    s->w.data = s;
    ev_signal_start(l->ev, &s->w);
    ev_unref(l->ev);
    return 0;
}

/* ---------------------------------------------------------- fd watchers -- */

_Static_assert(sizeof(ev_io) <= sizeof(((pr_io_t *)0)->w), "pr_io_t too small for ev_io");
_Static_assert(sizeof(ev_async) <= sizeof(((pr_async_t *)0)->w),
               "pr_async_t too small for ev_async");

static void io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
    pr_io_t *io = w->data;
    int ev_mask = (revents & EV_READ ? PR_IO_READ : 0) | (revents & EV_WRITE ? PR_IO_WRITE : 0);
    (void)ev;
    io->cb(io, ev_mask, io->ud);
}

void pr_io_init(pr_io_t *io, pr_io_cb cb, void *ud)
{
    memset(io, 0, sizeof *io);
    io->cb = cb;
    io->ud = ud;
}

int pr_io_start(pr_loop_t *loop, pr_io_t *io, int fd, int events)
{
    ev_io *w = (ev_io *)&io->w;
    int mask = (events & PR_IO_READ ? EV_READ : 0) | (events & PR_IO_WRITE ? EV_WRITE : 0);

    if (fd < 0 || !mask || !loop)
        return PR_EINVAL;
    pr_io_stop(io);
    ev_io_init(w, io_cb, fd, mask);
    w->data = io;
    io->loop = loop;
    ev_io_start(loop->ev, w);
    io->active = 1;
    if (io->weak)
        ev_unref(loop->ev);
    return 0;
}

void pr_io_stop(pr_io_t *io)
{
    if (!io->active)
        return;
    if (io->weak)
        ev_ref(io->loop->ev);
    ev_io_stop(io->loop->ev, (ev_io *)&io->w);
    io->active = 0;
}

int pr_io_active(const pr_io_t *io) { return io->active; }

void pr_io_set_weak(pr_io_t *io, int weak)
{
    weak = weak ? 1 : 0;
    if (io->active && weak != io->weak) {
        if (weak)
            ev_unref(io->loop->ev);
        else
            ev_ref(io->loop->ev);
    }
    io->weak = weak;
}

static void async_cb(struct ev_loop *ev, ev_async *w, int revents)
{
    pr_async_t *a = w->data;
    (void)ev;
    (void)revents;
    a->cb(a, a->ud);
}

void pr_async_init(pr_async_t *a, pr_async_cb cb, void *ud)
{
    memset(a, 0, sizeof *a);
    a->cb = cb;
    a->ud = ud;
    ev_async_init((ev_async *)&a->w, async_cb);
    ((ev_async *)&a->w)->data = a;
}

int pr_async_start(pr_loop_t *loop, pr_async_t *a)
{
    if (!loop)
        return PR_EINVAL;
    if (a->active)
        return 0;
    a->loop = loop;
    ev_async_start(loop->ev, (ev_async *)&a->w);
    ev_unref(loop->ev);
    a->active = 1;
    return 0;
}

void pr_async_send(pr_async_t *a)
{
    if (a->loop)
        ev_async_send(a->loop->ev, (ev_async *)&a->w);
}

void pr_async_stop(pr_async_t *a)
{
    if (!a->active)
        return;
    ev_ref(a->loop->ev);
    ev_async_stop(a->loop->ev, (ev_async *)&a->w);
    a->active = 0;
}
