/* test_loop.c - unit tests for runtime/loop: one-shot and repeating timers,
 * drift-free due times and missed periods, ordering through the heap (1000
 * timers in random order, with stops from the middle), stop / restart /
 * again from callbacks, the return values of pr_loop_run, fairness towards
 * a zero-delay timer that keeps restarting itself, argument checks, destroy
 * with active timers and signal watchers.
 *
 * Timing is only ever asserted as a lower bound (a timer never fires before
 * its due time) or as an order, so the tests hold on a loaded machine and
 * under qemu-user with sanitizers.  alarm() is the backstop against a hang. */
#include "error.h"
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ll  /* ns */

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Every callback checks this: a timer must never run before its due time. */
static int early_fires;

static void check_not_early(const pr_timer_t *t)
{
    if (pr_time_ns() < t->last_due_ns)
        early_fires++;
}

/* ------------------------------------------------------------- basics -- */

static void test_basics(void)
{
    pr_loop_t *loop = NULL;
    int64_t a, b;
    double s;

    is_int(pr_loop_create(&loop), 0, "pr_loop_create");
    if (!loop)
        bail_out("no loop");
    is_int(pr_loop_active_timers(loop), 0, "a new loop has no active timers");
    is_int(pr_loop_run(loop), 0, "run on an empty loop returns 0 at once");
    is_int(pr_loop_stopping(loop), 0, "not stopping after running out of work");

    a = pr_time_ns();
    s = pr_time_now();
    b = pr_time_ns();
    ok(b >= a, "pr_time_ns is monotonic");
    ok(fabs(s * 1e9 - (double)a) < 1e9, "pr_time_now agrees with pr_time_ns");

    pr_loop_destroy(loop);
    pr_loop_destroy(NULL);
    ok(1, "pr_loop_destroy(NULL) is safe");
}

/* ----------------------------------------------------------- one-shot -- */

struct shot {
    pr_timer_t t;
    int64_t cb_ns;
    int active_in_cb;
    size_t active_timers_in_cb;
    pr_loop_t *loop;
};

static void shot_cb(pr_timer_t *t, void *ud)
{
    struct shot *s = ud;
    check_not_early(t);
    s->cb_ns = pr_time_ns();
    s->active_in_cb = pr_timer_active(t);
    s->active_timers_in_cb = pr_loop_active_timers(s->loop);
}

static void test_one_shot(pr_loop_t *loop)
{
    struct shot s = { .loop = loop };
    int64_t before;

    pr_timer_init(&s.t, shot_cb, &s);
    is_int(pr_timer_active(&s.t), 0, "an initialised timer is inactive");
    before = pr_time_ns();
    is_int(pr_timer_start(loop, &s.t, 0.02, 0), 0, "start a 20 ms one-shot");
    is_int(pr_timer_active(&s.t), 1, "started timer is active");
    is_int(pr_loop_active_timers(loop), 1, "loop counts it");
    is_int(pr_loop_run(loop), 0, "run returns 0 once the one-shot is done");
    is_int(s.t.fired, 1, "one-shot fired exactly once");
    is_int(s.t.missed, 0, "one-shot misses nothing");
    ok(s.t.last_due_ns >= before + 20 * MS, "due time is at least 20 ms after start");
    ok(s.cb_ns >= before + 20 * MS, "callback ran at least 20 ms after start");
    is_int(s.active_in_cb, 0, "one-shot is already inactive in its callback");
    is_int(s.active_timers_in_cb, 0, "and no longer counted by the loop");
    is_int(pr_timer_active(&s.t), 0, "one-shot inactive afterwards");
    is_int(pr_loop_run(loop), 0, "running again returns 0 at once");
    is_int(s.t.fired, 1, "and does not fire it again");

    /* A zero delay is valid and fires on the next iteration. */
    is_int(pr_timer_start(loop, &s.t, 0, 0), 0, "start with zero delay");
    is_int(pr_loop_run(loop), 0, "zero-delay one-shot runs");
    is_int(s.t.fired, 2, "zero-delay one-shot fired");
}

/* ---------------------------------------------------------- repeating -- */

#define REP_FIRES 12

struct rep {
    pr_timer_t t;
    int stop_at;
    int sleep_at, sleep_ms;   /* fire that blocks, and for how long */
    int n;
    int64_t due[64], cb_ns[64];
    uint64_t missed[64];      /* t->missed as seen in each callback */
};

static void rep_cb(pr_timer_t *t, void *ud)
{
    struct rep *r = ud;
    check_not_early(t);
    if (r->n < 64) {
        r->due[r->n] = t->last_due_ns;
        r->cb_ns[r->n] = pr_time_ns();
        r->missed[r->n] = t->missed;
    }
    r->n++;
    if (r->n == r->sleep_at)
        sleep_ms(r->sleep_ms);
    if (r->n >= r->stop_at)
        pr_timer_stop(t);
}

/* Drift-free: the k-th firing is due at first + (k + periods skipped before
 * it) * period, exactly, however late the callbacks ran. */
static int drift_free(const struct rep *r, int64_t period)
{
    for (int k = 1; k < r->n && k < 64; k++) {
        int64_t want = r->due[0] + ((int64_t)k + (int64_t)r->missed[k - 1]) * period;
        if (r->due[k] != want) {
            diag("  firing %d due %lld, want %lld", k, (long long)r->due[k],
                 (long long)want);
            return 0;
        }
    }
    return 1;
}

static void test_repeating(pr_loop_t *loop)
{
    struct rep r = { .stop_at = REP_FIRES };
    int64_t before, after, step = 0;
    int exact = 1;

    pr_timer_init(&r.t, rep_cb, &r);
    before = pr_time_ns();
    is_int(pr_timer_start(loop, &r.t, 0.005, 0.01), 0, "start 5 ms then every 10 ms");
    after = pr_time_ns();
    is_int(pr_loop_run(loop), 0, "run returns 0 after the timer stopped itself");
    is_int(r.n, REP_FIRES, "repeating timer fired until it stopped itself");
    is_int(r.t.fired, REP_FIRES, "t->fired counts the callbacks");
    is_int(pr_timer_active(&r.t), 0, "stopped from its own callback: inactive");
    ok(r.due[0] >= before + 5 * MS && r.due[0] <= after + 5 * MS,
       "first due time is start + 5 ms");
    ok(drift_free(&r, 10 * MS), "due times advance by whole periods (drift-free)");
    for (int k = 1; k < r.n; k++) {
        if (r.missed[k - 1] == 0 && r.due[k] - r.due[k - 1] != 10 * MS)
            exact = 0;
        if (r.missed[k - 1] == 0)
            step++;
    }
    ok(exact, "without misses last_due_ns advances by exactly period_ns "
              "(%lld such steps)", (long long)step);
    diag("repeating: %llu periods missed on this machine", (unsigned long long)r.t.missed);
}

static void test_missed(pr_loop_t *loop)
{
    struct rep r = { .stop_at = 3, .sleep_at = 1, .sleep_ms = 55 };

    pr_timer_init(&r.t, rep_cb, &r);
    is_int(pr_timer_start(loop, &r.t, 0.01, 0.01), 0, "start every 10 ms");
    is_int(pr_loop_run(loop), 0, "run");
    is_int(r.n, 3, "fired 3 times");
    /* The first callback blocks 55 ms: the second firing (due first + 10)
     * runs at >= first + 55, so its successor skips at least first + 20 ..
     * first + 50, i.e. 4 periods. */
    ok(r.t.missed >= 4, "a 55 ms callback on a 10 ms timer skips >= 4 periods "
                        "(missed %llu)", (unsigned long long)r.t.missed);
    ok(drift_free(&r, 10 * MS), "skipped periods keep the phase");
    /* Had the skipped periods been fired in a burst, the third firing would
     * be due at first + 20 ms, before the 55 ms sleep had even ended. */
    ok(r.due[2] > r.cb_ns[0] + 55 * MS, "skipped periods are not fired in a burst");
    is_int(r.t.fired, 3, "fired does not include missed periods");
}

/* ----------------------------------------------------------- ordering -- */

#define ORDER_N 4

struct ord_timer {
    pr_timer_t t;
    int id;
    struct ord *o;
};

struct ord {
    struct ord_timer tm[ORDER_N];
    int seq[ORDER_N], n;
};

static void ord_cb(pr_timer_t *t, void *ud)
{
    struct ord_timer *ot = ud;
    check_not_early(t);
    if (ot->o->n < ORDER_N)
        ot->o->seq[ot->o->n] = ot->id;
    ot->o->n++;
}

static void test_order(pr_loop_t *loop)
{
    static const double delay[ORDER_N] = { 0.12, 0.0, 0.08, 0.04 };
    static const int want[ORDER_N] = { 1, 3, 2, 0 };
    struct ord o;
    int64_t t0, t1;
    int same = 1;

    memset(&o, 0, sizeof o);
    for (int i = 0; i < ORDER_N; i++) {
        o.tm[i].id = i;
        o.tm[i].o = &o;
        pr_timer_init(&o.tm[i].t, ord_cb, &o.tm[i]);
    }
    t0 = pr_time_ns();
    for (int i = 0; i < ORDER_N; i++)
        pr_timer_start(loop, &o.tm[i].t, delay[i], 0);
    t1 = pr_time_ns();
    is_int(pr_loop_active_timers(loop), ORDER_N, "4 timers active");
    is_int(pr_loop_run(loop), 0, "run");
    is_int(o.n, ORDER_N, "each fired once");
    for (int i = 0; i < ORDER_N; i++)
        same &= o.seq[i] == want[i];
    /* The delays are 40 ms apart: only if starting them took longer than
     * that (a badly overloaded host) may the due times legitimately cross. */
    if (t1 - t0 < 35 * MS)
        ok(same, "timers fire in order of their delays (0, 40, 80, 120 ms)");
    else
        ok(1, "# SKIP starting 4 timers took %lld ms", (long long)((t1 - t0) / MS));
}

/* Many timers, started in random order, some restarted and some stopped
 * while linked: every remaining one fires exactly once and the firings come
 * in due order, which only holds if the heap is right. */
#define MANY 1000

struct many {
    pr_timer_t t[MANY];
    int fired[MANY];
    int stopped[MANY];
    int64_t last_due;
    int out_of_order, n;
    int kill_from_cb;         /* fire k stops timer (k + 7) % MANY */
};

static struct many *many_g;

static void many_cb(pr_timer_t *t, void *ud)
{
    struct many *m = many_g;
    size_t i = (size_t)(uintptr_t)ud;
    check_not_early(t);
    m->fired[i]++;
    m->n++;
    if (t->last_due_ns < m->last_due)
        m->out_of_order++;
    m->last_due = t->last_due_ns;
    if (m->kill_from_cb) {
        size_t j = (i + 7) % MANY;
        if (pr_timer_active(&m->t[j])) {
            pr_timer_stop(&m->t[j]);
            m->stopped[j] = 1;
        }
    }
}

static void many_round(pr_loop_t *loop, int sleep_first, int kill_from_cb)
{
    static struct many m;
    int perm[MANY];
    int nstopped = 0, bad = 0, started = 0;
    const char *how = sleep_first ? "all due at once" : "spread over time";

    memset(&m, 0, sizeof m);
    m.kill_from_cb = kill_from_cb;
    many_g = &m;
    for (int i = 0; i < MANY; i++) {
        perm[i] = i;
        pr_timer_init(&m.t[i], many_cb, (void *)(uintptr_t)i);
    }
    for (int i = MANY - 1; i > 0; i--) {
        int j = (int)(rng() % (uint32_t)(i + 1)), x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
    }
    for (int i = 0; i < MANY; i++)
        started += pr_timer_start(loop, &m.t[perm[i]], (double)(rng() % 40000) * 1e-6, 0) == 0;
    is_int(started, MANY, "1000 timers started in random order");
    /* Restart a random 200 with new delays: re-sifted in place. */
    for (int i = 0; i < 200; i++)
        pr_timer_start(loop, &m.t[rng() % MANY], (double)(rng() % 40000) * 1e-6, 0);
    /* Stop a random 300 while linked: removal from the middle of the heap. */
    for (int i = 0; i < 300; i++) {
        int k = (int)(rng() % MANY);
        pr_timer_stop(&m.t[k]);
        m.stopped[k] = 1;
    }
    for (int i = 0; i < MANY; i++)
        nstopped += m.stopped[i];
    is_int(pr_loop_active_timers(loop), MANY - nstopped, "active count after stops");
    if (sleep_first)
        sleep_ms(50);
    is_int(pr_loop_run(loop), 0, "run");
    for (int i = 0; i < MANY; i++)
        if (m.fired[i] != (m.stopped[i] ? 0 : 1))
            bad++;
    ok(bad == 0, "%s: every timer not stopped fired exactly once, stopped ones never "
                 "(%d wrong)", how, bad);
    ok(m.out_of_order == 0, "%s: firings in due order (%d inversions)", how,
       m.out_of_order);
    is_int(pr_loop_active_timers(loop), 0, "no timer left active");
}

static void test_many(pr_loop_t *loop)
{
    many_round(loop, 1, 0);
    many_round(loop, 0, 0);
    many_round(loop, 1, 1);
}

/* ------------------------------------------------- stop, restart, again */

struct pair {
    pr_timer_t a, b, c;
    uint64_t a_fired_at_stop;
    pr_loop_t *loop;
    int restarts;
    int64_t again_ns;
    int64_t cb_ns[8];
    int n;
};

static void count_cb(pr_timer_t *t, void *ud)
{
    (void)ud;
    check_not_early(t);
}

static void stopper_cb(pr_timer_t *t, void *ud)
{
    struct pair *p = ud;
    check_not_early(t);
    p->a_fired_at_stop = p->a.fired;
    pr_timer_stop(&p->a);
    pr_timer_stop(&p->c);
}

static void test_stop_other(pr_loop_t *loop)
{
    struct pair p;

    memset(&p, 0, sizeof p);
    p.loop = loop;
    pr_timer_init(&p.a, count_cb, &p);
    pr_timer_init(&p.b, stopper_cb, &p);
    pr_timer_init(&p.c, count_cb, &p);
    pr_timer_start(loop, &p.a, 0.005, 0.005);
    pr_timer_start(loop, &p.b, 0.03, 0);
    is_int(pr_loop_run(loop), 0, "run returns 0 once another timer stopped the repeating one");
    ok(p.a_fired_at_stop >= 1, "repeating timer ran before being stopped");
    is_int(p.a.fired, p.a_fired_at_stop, "and never after");
    is_int(pr_timer_active(&p.a), 0, "stopped from another callback: inactive");

    /* b and c both due by the time the loop runs: b (due first) stops c in
     * the same dispatch, and c must not run. */
    memset(&p, 0, sizeof p);
    pr_timer_init(&p.a, count_cb, &p);
    pr_timer_init(&p.b, stopper_cb, &p);
    pr_timer_init(&p.c, count_cb, &p);
    pr_timer_start(loop, &p.b, 0.01, 0);
    pr_timer_start(loop, &p.c, 0.011, 0);
    sleep_ms(30);
    is_int(pr_loop_run(loop), 0, "run");
    is_int(p.b.fired, 1, "the stopper ran");
    is_int(p.c.fired, 0, "a due timer stopped by an earlier one in the same pass never runs");
    is_int(pr_timer_active(&p.c), 0, "and is inactive");
    pr_timer_stop(&p.c);
    ok(1, "stopping an inactive timer again is harmless");
}

static void restart_cb(pr_timer_t *t, void *ud)
{
    struct pair *p = ud;
    check_not_early(t);
    if (p->restarts < 4) {
        p->restarts++;
        if (pr_timer_start(p->loop, t, 0.002, 0) != 0)
            p->restarts = 100;
    }
}

/* Repeating, turns itself into a one-shot at its second firing. */
static void rep_to_shot_cb(pr_timer_t *t, void *ud)
{
    struct pair *p = ud;
    check_not_early(t);
    if (t->fired == 2)
        pr_timer_start(p->loop, t, 0.003, 0);
}

static void test_restart(pr_loop_t *loop)
{
    struct pair p;

    memset(&p, 0, sizeof p);
    p.loop = loop;
    pr_timer_init(&p.a, restart_cb, &p);
    pr_timer_start(loop, &p.a, 0.002, 0);
    is_int(pr_loop_run(loop), 0, "run");
    is_int(p.a.fired, 5, "one-shot restarting itself 4 times fires 5 times");
    is_int(pr_timer_active(&p.a), 0, "then inactive");

    pr_timer_init(&p.b, rep_to_shot_cb, &p);
    pr_timer_start(loop, &p.b, 0.002, 0.002);
    is_int(pr_loop_run(loop), 0, "run");
    is_int(p.b.fired, 3, "repeating timer restarted as a one-shot in its callback "
                         "fires once more, then stops");
    is_int(pr_timer_active(&p.b), 0, "inactive afterwards");
}

static void again_cb(pr_timer_t *t, void *ud)
{
    struct pair *p = ud;
    check_not_early(t);
    if (p->n < 8)
        p->cb_ns[p->n] = pr_time_ns();
    p->n++;
    if (p->n < 3)
        pr_timer_again(t);
}

static void again_other_cb(pr_timer_t *t, void *ud)
{
    struct pair *p = ud;
    check_not_early(t);
    p->again_ns = pr_time_ns();
    p->restarts = pr_timer_again(&p->a);
}

static void rep_once_cb(pr_timer_t *t, void *ud)
{
    struct pair *p = ud;
    check_not_early(t);
    p->cb_ns[0] = t->last_due_ns;
    pr_timer_stop(t);
}

static void test_again(pr_loop_t *loop)
{
    struct pair p;
    int spaced = 1;

    memset(&p, 0, sizeof p);
    p.loop = loop;
    pr_timer_init(&p.a, again_cb, &p);
    is_int(pr_timer_again(&p.a), PR_EINVAL, "again on a never-started timer: PR_EINVAL");
    is_int(pr_timer_active(&p.a), 0, "and it stays inactive");

    pr_timer_start(loop, &p.a, 0.01, 0);
    is_int(pr_loop_run(loop), 0, "run");
    is_int(p.a.fired, 3, "one-shot re-armed twice with pr_timer_again fires 3 times");
    for (int k = 1; k < 3; k++)
        spaced &= p.cb_ns[k] - p.cb_ns[k - 1] >= 10 * MS;
    ok(spaced, "each again waits the full 10 ms delay from the callback");

    /* A repeating timer's phase restarts from the moment of again. */
    memset(&p, 0, sizeof p);
    p.loop = loop;
    pr_timer_init(&p.a, rep_once_cb, &p);
    pr_timer_init(&p.b, again_other_cb, &p);
    pr_timer_start(loop, &p.a, 0.05, 0.05);
    pr_timer_start(loop, &p.b, 0.02, 0);
    is_int(pr_loop_run(loop), 0, "run");
    is_int(p.restarts, 0, "pr_timer_again on an active repeating timer returns 0");
    is_int(p.a.fired, 1, "repeating timer fired once after again");
    ok(p.cb_ns[0] >= p.again_ns + 50 * MS,
       "its due time was reset to again + 50 ms (%lld ms after again)",
       (long long)((p.cb_ns[0] - p.again_ns) / MS));
}

/* ------------------------------------------------------ run and stop -- */

struct runstop {
    pr_timer_t t, guard;
    pr_loop_t *loop;
    int stop_at;
    int stopping_seen;
};

static void runstop_cb(pr_timer_t *t, void *ud)
{
    struct runstop *r = ud;
    check_not_early(t);
    if ((int)t->fired == r->stop_at) {
        pr_loop_stop(r->loop);
        r->stopping_seen = pr_loop_stopping(r->loop);
    }
    if ((int)t->fired >= r->stop_at + 3)
        pr_timer_stop(t);
}

static void test_run_stop(pr_loop_t *loop)
{
    struct runstop r;
    int rc;

    memset(&r, 0, sizeof r);
    r.loop = loop;
    r.stop_at = 2;
    pr_timer_init(&r.t, runstop_cb, &r);
    pr_timer_start(loop, &r.t, 0.002, 0.002);
    is_int(pr_loop_run(loop), 1, "run returns 1 after pr_loop_stop in a callback");
    is_int(r.stopping_seen, 1, "pr_loop_stopping is 1 after pr_loop_stop");
    is_int(r.t.fired, 2, "no further callback after the stopping one");
    is_int(pr_timer_active(&r.t), 1, "the repeating timer is still active");
    is_int(pr_loop_run(loop), 0, "running again resumes it until it stops itself");
    is_int(r.t.fired, 5, "it fired 3 more times");
    is_int(pr_loop_stopping(loop), 0, "stopping flag cleared by the new run");

    /* Stopped before it even runs: run should return at once. */
    memset(&r, 0, sizeof r);
    r.loop = loop;
    r.stop_at = 1000;
    pr_timer_init(&r.t, runstop_cb, &r);
    pr_timer_start(loop, &r.t, 0.1, 0);
    pr_loop_stop(loop);
    rc = pr_loop_run(loop);
    ok(rc == 1 && r.t.fired == 0, "pr_loop_stop before pr_loop_run makes run return 1 at once");
    if (!(rc == 1 && r.t.fired == 0))
        diag("  run returned %d, the 100 ms timer fired %llu times", rc,
             (unsigned long long)r.t.fired);
    pr_timer_stop(&r.t);
}

/* ------------------------------------------------------------ fairness */

struct fair {
    pr_timer_t zero, slow;
    pr_loop_t *loop;
    int64_t deadline;
    uint64_t zero_at_slow[8];
    int guard_hit;
};

static void zero_cb(pr_timer_t *t, void *ud)
{
    struct fair *f = ud;
    check_not_early(t);
    if ((t->fired & 1023) == 0 && pr_time_ns() > f->deadline) {
        f->guard_hit = 1;
        pr_loop_stop(f->loop);
        return;
    }
    pr_timer_start(f->loop, t, 0, 0);
}

static void slow_cb(pr_timer_t *t, void *ud)
{
    struct fair *f = ud;
    check_not_early(t);
    f->zero_at_slow[t->fired - 1] = f->zero.fired;
    if (t->fired == 5) {
        pr_timer_stop(&f->zero);
        pr_timer_stop(t);
    }
}

static void test_fairness(pr_loop_t *loop)
{
    struct fair f;
    int progress = 1;
    int rc;

    memset(&f, 0, sizeof f);
    f.loop = loop;
    f.deadline = pr_time_ns() + 20000 * MS;
    pr_timer_init(&f.zero, zero_cb, &f);
    pr_timer_init(&f.slow, slow_cb, &f);
    pr_timer_start(loop, &f.zero, 0, 0);
    pr_timer_start(loop, &f.slow, 0.005, 0.005);
    rc = pr_loop_run(loop);
    pr_timer_stop(&f.zero);
    pr_timer_stop(&f.slow);
    is_int(f.guard_hit, 0, "a zero-delay timer restarting itself does not starve a 5 ms timer");
    is_int(rc, 0, "run returns 0 once both are stopped");
    is_int(f.slow.fired, 5, "the 5 ms timer fired 5 times");
    for (int k = 0; k < 5; k++)
        progress &= f.zero_at_slow[k] > (k ? f.zero_at_slow[k - 1] : 0);
    ok(progress, "the zero-delay timer kept running between its firings "
                 "(%llu runs in all)", (unsigned long long)f.zero.fired);
}

/* ----------------------------------------------------------- arguments */

static void test_args(pr_loop_t *loop)
{
    static const double bad[] = { -1.0, -1e-9, NAN, INFINITY, -INFINITY, 2e9 };
    pr_timer_t t;
    int rejected = 0;

    pr_timer_init(&t, count_cb, NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rejected += pr_timer_start(loop, &t, bad[i], 0) == PR_EINVAL;
        rejected += pr_timer_start(loop, &t, 0.01, bad[i]) == PR_EINVAL;
    }
    is_int(rejected, 12, "negative, NaN, infinite and huge delays and periods: PR_EINVAL");
    is_int(pr_timer_active(&t), 0, "a rejected start leaves the timer inactive");
    is_int(pr_loop_active_timers(loop), 0, "and the loop without timers");

    is_int(pr_timer_start(loop, &t, 10, 0), 0, "start a 10 s timer");
    is_int(pr_timer_start(loop, &t, NAN, 0), PR_EINVAL, "restart with NaN rejected");
    is_int(pr_timer_active(&t), 1, "a rejected restart leaves the timer running");
    is_int(pr_loop_active_timers(loop), 1, "still linked once");
    is_int(pr_timer_start(loop, &t, 10, 0), 0, "restarting an active timer");
    is_int(pr_loop_active_timers(loop), 1, "does not link it twice");
    pr_timer_stop(&t);
    is_int(pr_loop_active_timers(loop), 0, "stop unlinks it");
    is_int(pr_loop_run(loop), 0, "loop has nothing left to do");
    is_int(t.fired, 0, "the stopped timer never fired");
}

/* ---------------------------------------------------------- weak timers */

/* A weak timer runs while something else keeps the loop going, but does not
 * keep it going by itself. */
static void test_weak(pr_loop_t *loop)
{
    pr_timer_t w, strong;

    pr_timer_init(&w, count_cb, NULL);
    pr_timer_set_weak(&w, 1);
    is_int(pr_timer_start(loop, &w, 0.001, 0.001), 0, "start a weak 1 ms timer");
    is_int(pr_loop_active_timers(loop), 0, "a weak timer is not counted");
    is_int(pr_loop_run(loop), 0, "a weak timer alone does not keep the loop running");
    pr_timer_init(&strong, count_cb, NULL);
    pr_timer_start(loop, &strong, 0.05, 0);
    is_int(pr_loop_run(loop), 0, "the loop runs until the strong timer is done");
    ok(w.fired >= 5 && pr_timer_active(&w), "meanwhile the weak one fired (%llu times)",
       (unsigned long long)w.fired);
    pr_timer_set_weak(&w, 0);
    is_int(pr_loop_active_timers(loop), 1, "made strong while active: counted");
    pr_timer_set_weak(&w, 1);
    is_int(pr_loop_active_timers(loop), 0, "and weak again: not counted");
    pr_timer_stop(&w);
    is_int(pr_loop_run(loop), 0, "stopped: nothing left");
}

/* ------------------------------------------------------------- destroy */

static int destroy_cb_runs;

static void destroy_cb(pr_timer_t *t, void *ud)
{
    (void)t;
    (void)ud;
    destroy_cb_runs++;
}

static void sig_noop(int signum, void *ud)
{
    (void)signum;
    (void)ud;
}

static void test_destroy(void)
{
    pr_loop_t *loop;
    pr_timer_t t[40];
    int inactive = 0;

    if (pr_loop_create(&loop) != 0)
        bail_out("pr_loop_create");
    for (int i = 0; i < 40; i++) {
        pr_timer_init(&t[i], destroy_cb, NULL);
        pr_timer_start(loop, &t[i], (double)i * 0.001, i % 2 ? 0.001 : 0);
    }
    is_int(pr_loop_active_timers(loop), 40, "40 timers active (heap grew past 16)");
    pr_loop_on_signal(loop, SIGUSR2, sig_noop, NULL);
    sleep_ms(50);   /* all due: destroy must still not run them */
    pr_loop_destroy(loop);
    for (int i = 0; i < 40; i++)
        inactive += !pr_timer_active(&t[i]);
    is_int(inactive, 40, "destroy stops every active timer");
    is_int(destroy_cb_runs, 0, "without running their callbacks");
}

/* ------------------------------------------------------------- signals */

struct sig {
    pr_timer_t raiser, guard;
    pr_loop_t *loop;
    int got, calls;
    void *ud_seen;
    int guard_hit;
};

static void sig_cb(int signum, void *ud)
{
    struct sig *s = ud;
    s->got = signum;
    s->ud_seen = ud;
    s->calls++;
    pr_loop_stop(s->loop);
}

static void raiser_cb(pr_timer_t *t, void *ud)
{
    (void)t;
    (void)ud;
    raise(SIGUSR1);
}

static void guard_cb(pr_timer_t *t, void *ud)
{
    struct sig *s = ud;
    (void)t;
    s->guard_hit = 1;
    pr_loop_stop(s->loop);
}

static void test_signals(void)
{
    pr_loop_t *loop;
    struct sig s;
    int rc, n = 0;

    memset(&s, 0, sizeof s);
    if (pr_loop_create(&loop) != 0)
        bail_out("pr_loop_create");
    s.loop = loop;
    is_int(pr_loop_on_signal(loop, 0, sig_cb, &s), PR_EINVAL, "signal 0 rejected");
    is_int(pr_loop_on_signal(loop, NSIG, sig_cb, &s), PR_EINVAL, "signal NSIG rejected");
    is_int(pr_loop_on_signal(loop, SIGUSR1, NULL, &s), PR_EINVAL, "NULL callback rejected");
    is_int(pr_loop_on_signal(loop, SIGUSR1, sig_cb, &s), 0, "watch SIGUSR1");
    is_int(pr_loop_run(loop), 0, "a signal watcher alone does not keep the loop running");

    pr_timer_init(&s.raiser, raiser_cb, &s);
    pr_timer_init(&s.guard, guard_cb, &s);
    pr_timer_start(loop, &s.raiser, 0.01, 0);
    pr_timer_start(loop, &s.guard, 30, 0);
    rc = pr_loop_run(loop);
    is_int(s.guard_hit, 0, "signal delivered before the 30 s guard");
    is_int(s.got, SIGUSR1, "raise(SIGUSR1) in a timer callback reaches the signal callback");
    is_int(s.calls, 1, "exactly once");
    ok(s.ud_seen == &s, "with its user data");
    is_int(rc, 1, "the signal callback's pr_loop_stop makes run return 1");
    pr_timer_stop(&s.guard);

    for (int i = 1; i < PR_LOOP_MAX_SIGNALS; i++)
        n += pr_loop_on_signal(loop, SIGUSR1, sig_cb, &s) == 0;
    is_int(n, PR_LOOP_MAX_SIGNALS - 1, "up to PR_LOOP_MAX_SIGNALS watchers");
    is_int(pr_loop_on_signal(loop, SIGUSR1, sig_cb, &s), PR_EINVAL, "one more: PR_EINVAL");
    pr_loop_destroy(loop);
}

/* ------------------------------------------------------- io and async -- */

struct io_probe {
    pr_io_t io;
    pr_loop_t *loop;
    int fd;
    int reads;
    char got[16];
};

static void io_read_cb(pr_io_t *io, int revents, void *ud)
{
    struct io_probe *p = ud;
    ssize_t n;
    (void)io;
    if (!(revents & PR_IO_READ))
        return;
    n = read(p->fd, p->got, sizeof p->got - 1);
    if (n > 0)
        p->got[n] = 0;
    p->reads++;
    pr_io_stop(&p->io);
}

static void write_later_cb(pr_timer_t *t, void *ud)
{
    int *wfd = ud;
    (void)t;
    if (write(*wfd, "hello", 5) != 5)
        bail_out("write");
}

struct async_probe {
    pr_async_t a;
    pr_loop_t *loop;
    int calls;
    pthread_t th;
};

static void *async_thread(void *arg)
{
    struct async_probe *p = arg;
    struct timespec ts = { 0, 20 * 1000000 };
    nanosleep(&ts, NULL);
    for (int i = 0; i < 100; i++)
        pr_async_send(&p->a);
    return NULL;
}

static void async_cb(pr_async_t *a, void *ud)
{
    struct async_probe *p = ud;
    (void)a;
    p->calls++;
    pr_loop_stop(p->loop);
}

static void test_io_async(void)
{
    pr_loop_t *loop;
    struct io_probe p;
    struct async_probe ap;
    pr_timer_t later, guard;
    int fds[2];

    if (pr_loop_create(&loop) != 0 || pipe(fds) != 0)
        bail_out("setup");
    memset(&p, 0, sizeof p);
    p.fd = fds[0];
    p.loop = loop;
    pr_io_init(&p.io, io_read_cb, &p);
    is_int(pr_io_start(loop, &p.io, -1, PR_IO_READ), PR_EINVAL, "pr_io_start: fd -1 is PR_EINVAL");
    is_int(pr_io_start(loop, &p.io, fds[0], 0), PR_EINVAL, "pr_io_start: no events is PR_EINVAL");
    is_int(pr_io_start(loop, &p.io, fds[0], PR_IO_READ), 0, "pr_io_start on a pipe");
    ok(pr_io_active(&p.io), "watcher is active");
    pr_timer_init(&later, write_later_cb, &fds[1]);
    pr_timer_start(loop, &later, 0.01, 0);
    is_int(pr_loop_run(loop), 0, "an io watcher keeps the loop alive until it stops itself");
    is_int(p.reads, 1, "read callback ran once");
    ok(strcmp(p.got, "hello") == 0, "and saw the bytes written 10 ms later");
    ok(!pr_io_active(&p.io), "stopped from its callback");

    /* A weak watcher does not keep the loop alive. */
    pr_io_set_weak(&p.io, 1);
    pr_io_start(loop, &p.io, fds[0], PR_IO_READ);
    is_int(pr_loop_run(loop), 0, "a weak watcher alone: run returns at once");
    is_int(p.reads, 1, "and its callback did not run");
    pr_io_set_weak(&p.io, 0);
    pr_io_stop(&p.io);
    pr_io_stop(&p.io);
    ok(1, "pr_io_stop twice is harmless");

    memset(&ap, 0, sizeof ap);
    ap.loop = loop;
    pr_async_init(&ap.a, async_cb, &ap);
    is_int(pr_async_start(loop, &ap.a), 0, "pr_async_start");
    pr_timer_init(&guard, write_later_cb, &fds[1]);
    pr_timer_start(loop, &guard, 30, 0);  /* keeps the loop running; backstop */
    if (pthread_create(&ap.th, NULL, async_thread, &ap) != 0)
        bail_out("pthread_create");
    is_int(pr_loop_run(loop), 1, "a send from another thread wakes the loop");
    pthread_join(ap.th, NULL);
    ok(ap.calls >= 1 && ap.calls <= 100, "async callback ran (%d times for 100 sends)", ap.calls);
    pr_timer_stop(&guard);
    pr_async_stop(&ap.a);
    is_int(pr_loop_run(loop), 0, "a stopped async watcher leaves nothing to run");
    close(fds[0]);
    close(fds[1]);
    pr_loop_destroy(loop);
}

int main(void)
{
    pr_loop_t *loop;

    alarm(300);  /* backstop: a hang fails the test instead of the suite */
    test_basics();
    if (pr_loop_create(&loop) != 0)
        bail_out("pr_loop_create");
    test_one_shot(loop);
    test_repeating(loop);
    test_missed(loop);
    test_order(loop);
    test_many(loop);
    test_stop_other(loop);
    test_restart(loop);
    test_again(loop);
    test_run_stop(loop);
    test_fairness(loop);
    test_args(loop);
    test_weak(loop);
    is_int(early_fires, 0, "no timer ever ran before its due time");
    pr_loop_destroy(loop);
    test_destroy();
    test_signals();
    test_io_async();
    return exit_status();
}
