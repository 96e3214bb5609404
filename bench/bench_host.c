/* bench_host.c - what one call from C into Lua costs through the host
 * (pr_host_call: traceback handler, budget bookkeeping, failure accounting),
 * with the instruction-budget hook on and off, against a bare lua_pcall of
 * the same function on a plain luaL_newstate() in the same run.  Also: how
 * much the count hook slows a loop-heavy callback, and the whole timer path
 * (timerfd wake-up, dispatch, on_fire, host call) per firing.
 *
 * `bench_host timerfd SECONDS` instead measures the platform's own timer
 * lateness: a bare timerfd + epoll loop at 100 Hz, no libev, no Lua.  bench/run
 * runs it beside bench/lateness.lua, so perch's figures can be read against
 * what the kernel (or hypervisor) delivers to any process.
 *
 * Each variant runs ROUNDS times, interleaved with the others so that clock
 * and cache drift hit them alike; the figure is the fastest round's per-call
 * time (the least disturbed one). */
#include "bench.h"
#include "error.h"
#include "host.h"
#include "loop.h"
#include "perch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#define ROUNDS      5
#define CALLS       400000    /* per round and variant: 2M calls each */
#define LOOP_ITERS  100000    /* iterations of the loop-heavy callback */
#define LOOP_CALLS  10        /* per round */
#define FIRINGS     100000    /* timer dispatch: firings timed */

/* Defined in every state, host or bare, so all variants run the same code. */
static const char script[] =
    "function f() end\n"
    "local n = 0\n"
    "function count() n = n + 1 end\n"
    "function spin(k)\n"
    "  local s = 0\n"
    "  for i = 1, k do s = (s + i * 3) % 1000003 end\n"
    "  return s\n"
    "end\n";

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_host: %s: %s\n", what, rc < 0 ? pr_strerror(rc) : "failed");
    exit(1);
}

/* --------------------------------------------------------------- setup -- */

/* Called through pr_host_pcall with (function, lightuserdata cb): the one
 * place pr_callback_set may raise. */
static int set_cb(lua_State *L)
{
    pr_callback_set(L, lua_touserdata(L, 2), 1, "bench callback");
    return 0;
}

static void host_cb(pr_host_t *h, pr_callback_t *cb, const char *global)
{
    lua_State *L = pr_host_lua(h);
    int rc;

    cb->ref = LUA_NOREF;
    lua_pushcfunction(L, set_cb);
    lua_getglobal(L, global);
    lua_pushlightuserdata(L, cb);
    if ((rc = pr_host_pcall(h, 2, 0, "bench setup", NULL)) < 0)
        die("pr_callback_set", rc);
}

static pr_host_t *host_new(pr_loop_t *loop, int budget)
{
    pr_host_opts_t opts;
    pr_host_t *h;
    lua_State *L;
    int rc;

    pr_host_opts_default(&opts);
    if (!budget)
        opts.budget = 0;  /* no hook at all */
    if ((rc = pr_host_create(&h, &opts, loop)) < 0)
        die("pr_host_create", rc);
    if ((rc = pr_lua_open(h)) < 0)
        die("pr_lua_open", rc);
    L = pr_host_lua(h);
    if (luaL_loadstring(L, script) != LUA_OK)
        die(lua_tostring(L, -1), 0);
    if ((rc = pr_host_pcall(h, 0, 0, "bench script", NULL)) < 0)
        die("bench script", rc);
    return h;
}

/* The baseline: a state as plain as Lua makes it, function by registry ref
 * (which is also how the host finds a callback). */
static lua_State *bare_new(void)
{
    lua_State *L = luaL_newstate();
    if (!L)
        die("luaL_newstate", PR_ENOMEM);
    luaL_openlibs(L);
    if (luaL_dostring(L, script) != LUA_OK)
        die(lua_tostring(L, -1), 0);
    return L;
}

static int bare_ref(lua_State *L, const char *global)
{
    lua_getglobal(L, global);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* -------------------------------------------------------------- timing -- */

static double time_host(pr_host_t *h, pr_callback_t *cb, int n)
{
    uint64_t t0 = bench_ns();
    for (int i = 0; i < n; i++) {
        int rc = pr_host_call(h, cb, 0, 0);
        bench_keep(rc);
    }
    return (double)(bench_ns() - t0) / n;
}

static double time_bare(lua_State *L, int ref, int n)
{
    uint64_t t0 = bench_ns();
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        int rc = lua_pcall(L, 0, 0, 0);
        bench_keep(rc);
    }
    return (double)(bench_ns() - t0) / n;
}

static double time_host_spin(pr_host_t *h, pr_callback_t *cb, int n)
{
    lua_State *L = pr_host_lua(h);
    uint64_t t0 = bench_ns();
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, LOOP_ITERS);
        if (pr_host_call(h, cb, 1, 1) < 0)
            die("spin", PR_ESCRIPT);
        bench_keep(lua_tointeger(L, -1));
        lua_pop(L, 1);
    }
    return (double)(bench_ns() - t0) / n;
}

static double time_bare_spin(lua_State *L, int ref, int n)
{
    uint64_t t0 = bench_ns();
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        lua_pushinteger(L, LOOP_ITERS);
        lua_pcall(L, 1, 1, 0);
        bench_keep(lua_tointeger(L, -1));
        lua_pop(L, 1);
    }
    return (double)(bench_ns() - t0) / n;
}

static double min2(double a, double b) { return a < b ? a : b; }

/* One trivial system call: the unit the timer path below is made of (it
 * makes three per firing), and on virtual machines far from free. */
static double time_syscall(int n)
{
    uint64_t t0 = bench_ns();
    for (int i = 0; i < n; i++) {
        long r = syscall(SYS_getppid);
        bench_keep(r);
    }
    return (double)(bench_ns() - t0) / n;
}

/* The whole timer path per firing: a repeating timer with a 1 ns period is
 * due on every loop iteration, so each iteration re-arms the timerfd,
 * returns from epoll at once, reads it, dispatches and calls into Lua.  The
 * callback stops the loop after the given number of firings. */
static double time_dispatch(int firings)
{
    static const char chunk[] =
        "local N = ...\n"
        "local n = 0\n"
        "perch.every(1e-6, function()\n"
        "  n = n + 1\n"
        "  if n == N then perch.stop() end\n"
        "end)\n";
    pr_loop_t *loop;
    pr_host_t *h;
    lua_State *L;
    uint64_t t0, dt;
    int rc;

    if ((rc = pr_loop_create(&loop)) < 0)
        die("pr_loop_create", rc);
    h = host_new(loop, 1);
    L = pr_host_lua(h);
    if (luaL_loadstring(L, chunk) != LUA_OK)
        die(lua_tostring(L, -1), 0);
    lua_pushinteger(L, firings);
    if ((rc = pr_host_pcall(h, 1, 0, "dispatch setup", NULL)) < 0)
        die("dispatch setup", rc);
    t0 = bench_ns();
    rc = pr_loop_run(loop);
    dt = bench_ns() - t0;
    if (rc != 1)
        die("timer dispatch did not stop", rc);
    pr_host_destroy(h);
    pr_loop_destroy(loop);
    return (double)dt / firings;
}

/* ------------------------------------------------ platform baseline -- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, as bench/lateness.lua does. */
static int64_t pct(const int64_t *s, int n, double p)
{
    int i = (int)((p / 100 * n) + 0.999999) - 1;
    return s[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static int timerfd_baseline(double seconds)
{
    const int64_t period = 10000000;  /* 100 Hz, as bench/lateness.lua */
    int n = (int)(seconds * 1e9 / period), fd, ep;
    int64_t *s = calloc((size_t)(n > 0 ? n : 1), sizeof *s), due;
    struct epoll_event ev = { .events = EPOLLIN };

    fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!s || n < 1 || fd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("timerfd baseline setup", PR_EINVAL);
    due = pr_time_ns() + period;
    for (int i = 0; i < n; i++, due += period) {
        struct itimerspec its;
        uint64_t exp;
        memset(&its, 0, sizeof its);
        its.it_value.tv_sec = due / 1000000000;
        its.it_value.tv_nsec = due % 1000000000;
        timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
        while (epoll_wait(ep, &ev, 1, -1) < 1)
            ;
        if (read(fd, &exp, sizeof exp) < 0)
            die("timerfd read", PR_EINVAL);
        s[i] = pr_time_ns() - due;
    }
    qsort(s, (size_t)n, sizeof *s, cmp_i64);
    bench_report("timerfd.lateness.p50", pct(s, n, 50) / 1e3, "us", NULL, 0);
    bench_report("timerfd.lateness.p99", pct(s, n, 99) / 1e3, "us", NULL, 0);
    bench_report("timerfd.lateness.max", s[n - 1] / 1e3, "us", NULL, 0);
    close(ep);
    close(fd);
    free(s);
    return 0;
}

/* ---------------------------------------------------------------- main -- */

int main(int argc, char **argv)
{
    pr_loop_t *loop;
    pr_host_t *hb, *hn;
    pr_callback_t f_b, f_n, c_b, s_b, s_n;
    lua_State *B;
    int bf, bc, bs, rc;
    double call_b = 1e30, call_n = 1e30, call_bare = 1e30;
    double cnt_b = 1e30, cnt_bare = 1e30;
    double spin_b = 1e30, spin_n = 1e30, spin_bare = 1e30;
    double dispatch = 1e30, sys = 1e30;

    if (argc == 3 && !strcmp(argv[1], "timerfd"))
        return timerfd_baseline(atof(argv[2]));
    if (argc != 1) {
        fprintf(stderr, "usage: bench_host [timerfd SECONDS]\n");
        return 2;
    }

    if ((rc = pr_loop_create(&loop)) < 0)
        die("pr_loop_create", rc);
    hb = host_new(loop, 1);
    hn = host_new(loop, 0);
    B = bare_new();
    host_cb(hb, &f_b, "f");
    host_cb(hn, &f_n, "f");
    host_cb(hb, &c_b, "count");
    host_cb(hb, &s_b, "spin");
    host_cb(hn, &s_n, "spin");
    bf = bare_ref(B, "f");
    bc = bare_ref(B, "count");
    bs = bare_ref(B, "spin");

    /* Warm up caches, branch predictors and the CPU clock. */
    time_host(hb, &f_b, CALLS / 4);
    time_host(hn, &f_n, CALLS / 4);
    time_bare(B, bf, CALLS / 4);

    for (int r = 0; r < ROUNDS; r++) {
        call_b = min2(call_b, time_host(hb, &f_b, CALLS));
        call_n = min2(call_n, time_host(hn, &f_n, CALLS));
        call_bare = min2(call_bare, time_bare(B, bf, CALLS));
        cnt_b = min2(cnt_b, time_host(hb, &c_b, CALLS));
        cnt_bare = min2(cnt_bare, time_bare(B, bc, CALLS));
        spin_b = min2(spin_b, time_host_spin(hb, &s_b, LOOP_CALLS));
        spin_n = min2(spin_n, time_host_spin(hn, &s_n, LOOP_CALLS));
        spin_bare = min2(spin_bare, time_bare_spin(B, bs, LOOP_CALLS));
    }
    for (int r = 0; r < 3; r++) {
        dispatch = min2(dispatch, time_dispatch(FIRINGS / 3));
        sys = min2(sys, time_syscall(FIRINGS / 3));
    }

    {
        pr_host_stats_t sb, sn;
        pr_host_stats(hb, &sb);
        pr_host_stats(hn, &sn);
        if (sb.errors || sn.errors)
            die("host calls failed", PR_ESCRIPT);
    }

    bench_report("lua_pcall", call_bare, "ns", NULL, 0);
    bench_report("host.call.budget", call_b, "ns", "lua_pcall", call_b / call_bare);
    bench_report("host.call.nobudget", call_n, "ns", "lua_pcall", call_n / call_bare);
    bench_report("host.overhead.budget", call_b - call_bare, "ns", NULL, 0);
    bench_report("host.overhead.nobudget", call_n - call_bare, "ns", NULL, 0);
    bench_report("lua_pcall.counter", cnt_bare, "ns", NULL, 0);
    bench_report("host.call.counter.budget", cnt_b, "ns", "lua_pcall.counter",
                 cnt_b / cnt_bare);
    bench_report("lua_pcall.loop", spin_bare / 1e3, "us", NULL, 0);
    bench_report("host.loop.nobudget", spin_n / 1e3, "us", "lua_pcall.loop",
                 spin_n / spin_bare);
    bench_report("host.loop.budget", spin_b / 1e3, "us", "host.loop.nobudget",
                 spin_b / spin_n);
    bench_report("syscall.getppid", sys, "ns", NULL, 0);
    bench_report("loop.timer.dispatch", dispatch, "ns", "syscall.getppid",
                 dispatch / sys);

    pr_host_destroy(hb);
    pr_host_destroy(hn);
    pr_loop_destroy(loop);
    lua_close(B);
    return 0;
}
