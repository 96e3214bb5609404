/* test_host.c - unit tests for runtime/host: creating the state, calling in
 * with results and errors (stack balance, stats, the logged message), the
 * instruction budget against every way a script might swallow the abort
 * (pcall, loops of pcalls, xpcall handlers, coroutines from earlier calls),
 * the memory ceiling, callbacks disabled after repeated failures, owned
 * resources closed by destroy, pr_host_dofile, and finalizers that never
 * return.
 *
 * Scripts that could hang the process run in a child (this executable
 * started again with --job N, through $PERCH_RUNNER under emulation: fork()
 * is unreliable in qemu-user) that is killed after a deadline scaled from a
 * baseline child, so they fail instead of hanging. */
#include "error.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

static pr_loop_t *loop;

/* A known runtime bug: reported as TODO so prove passes, and kept out of the
 * exit status (tap.h counts every failure). */
static void todo_ok(int cond, const char *name, const char *why)
{
    int failed = tap_failed;
    ok(cond, "%s # TODO %s", name, why);
    tap_failed = failed;
}

/* ------------------------------------------------------------- helpers -- */

/* Capture what the runtime logs (stderr) into a temporary file. */
static int cap_saved = -1, cap_fd = -1;

static void cap_begin(void)
{
    char path[] = "/tmp/perch-test-host-XXXXXX";

    fflush(stderr);
    cap_fd = mkstemp(path);
    if (cap_fd < 0)
        bail_out("mkstemp");
    unlink(path);
    cap_saved = dup(STDERR_FILENO);
    dup2(cap_fd, STDERR_FILENO);
}

/* Returns the captured text (malloc'd, NUL-terminated) and restores stderr. */
static char *cap_end(void)
{
    off_t len;
    char *buf;

    fflush(stderr);
    dup2(cap_saved, STDERR_FILENO);
    close(cap_saved);
    len = lseek(cap_fd, 0, SEEK_END);
    buf = malloc((size_t)len + 1);
    if (!buf || pread(cap_fd, buf, (size_t)len, 0) != len)
        bail_out("reading the captured log");
    buf[len] = 0;
    close(cap_fd);
    return buf;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static pr_host_t *new_host(size_t max_bytes, uint64_t budget, int max_failures)
{
    pr_host_opts_t o;
    pr_host_t *h = NULL;

    pr_host_opts_default(&o);
    o.max_bytes = max_bytes;
    o.budget = budget;
    o.load_budget = budget * 2;
    o.max_failures = max_failures;
    if (pr_host_create(&h, &o, loop) != 0 || !h)
        bail_out("pr_host_create");
    return h;
}

/* Compile code as chunk "=test" and call it through the host. */
static int run(pr_host_t *h, const char *code, int nresults)
{
    lua_State *L = pr_host_lua(h);

    if (luaL_loadbuffer(L, code, strlen(code), "=test") != LUA_OK) {
        diag("compile error: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return pr_host_pcall(h, 0, nresults, "test chunk", NULL);
}

static pr_host_stats_t stats(pr_host_t *h)
{
    pr_host_stats_t st;
    pr_host_stats(h, &st);
    return st;
}

/* ----------------------------------------------------------- lifecycle -- */

static void test_create(void)
{
    pr_host_t *h = NULL;
    const pr_host_opts_t *o;
    lua_State *L;
    pr_host_opts_t dflt;

    is_int(pr_host_create(&h, NULL, loop), 0, "create with default options");
    if (!h)
        bail_out("no host");
    L = pr_host_lua(h);
    ok(L != NULL, "it has a Lua state");
    ok(pr_host_of(L) == h, "pr_host_of finds the host from its state");
    ok(pr_host_loop(h) == loop, "pr_host_loop is the loop it was given");
    o = pr_host_opts(h);
    pr_host_opts_default(&dflt);
    ok(o->max_bytes == (size_t)PR_HOST_DEFAULT_MAX_MB << 20 && o->budget == PR_HOST_DEFAULT_BUDGET &&
       o->max_failures == PR_HOST_DEFAULT_FAILURES && o->load_budget == dflt.load_budget,
       "NULL options are the defaults");
    is_int(lua_gettop(L), 0, "the stack starts empty");
    is_int(run(h, "return type(string), type(table), type(coroutine), type(io)", 0), 0,
           "standard libraries are open");
    lua_State *co = lua_newthread(L);
    ok(pr_host_of(co) == h, "pr_host_of works from a coroutine");
    lua_pop(L, 1);
    pr_host_destroy(h);

    pr_host_create(&h, &dflt, loop);
    ok(h && pr_host_opts(h)->budget == dflt.budget, "create with explicit default options");
    pr_host_destroy(h);
    pr_host_destroy(NULL);
    ok(1, "pr_host_destroy(NULL) is safe");
}

/* ------------------------------------------------------------- calling -- */

static void test_pcall(void)
{
    pr_host_t *h = new_host(0, PR_HOST_DEFAULT_BUDGET, 5);
    lua_State *L = pr_host_lua(h);
    pr_host_stats_t st0, st;
    int top;
    char *log;

    top = lua_gettop(L);
    st0 = stats(h);
    luaL_loadstring(L, "local a, b = ... return a * b, a .. '-' .. b, nil, 'x'");
    lua_pushinteger(L, 6);
    lua_pushinteger(L, 7);
    is_int(pr_host_pcall(h, 2, 3, "unit call", NULL), 0, "pcall of a chunk with 2 arguments");
    is_int(lua_gettop(L), top + 3, "leaves exactly nresults values");
    is_int(lua_tointeger(L, -3), 42, "first result");
    ok(lua_isstring(L, -2) && !strcmp(lua_tostring(L, -2), "6-7"), "second result");
    ok(lua_isnil(L, -1), "third result");
    lua_settop(L, top);

    luaL_loadstring(L, "return 1, 2, 3, 4");
    is_int(pr_host_pcall(h, 0, LUA_MULTRET, NULL, NULL), 0, "LUA_MULTRET");
    is_int(lua_gettop(L), top + 4, "all results kept");
    lua_settop(L, top);
    st = stats(h);
    is_int(st.calls - st0.calls, 2, "stats.calls counts both calls");
    is_int(st.errors - st0.errors, 0, "no errors counted");

    /* Errors: PR_ESCRIPT, counted, stack balanced, logged with the place. */
    lua_pushstring(L, "sentinel");
    top = lua_gettop(L);
    st0 = stats(h);
    cap_begin();
    {
        static const char code[] = "local x = 1\nerror('boom ' .. x)";
        luaL_loadbuffer(L, code, sizeof code - 1, "=unit.lua");
    }
    lua_pushinteger(L, 1);
    is_int(pr_host_pcall(h, 1, 2, "unit call", "here.lua:3"), PR_ESCRIPT, "error() returns PR_ESCRIPT");
    log = cap_end();
    is_int(lua_gettop(L), top, "stack balanced after the error (function and arguments popped)");
    ok(lua_isstring(L, -1) && !strcmp(lua_tostring(L, -1), "sentinel"), "what was below is untouched");
    st = stats(h);
    is_int(st.errors - st0.errors, 1, "stats.errors counts it");
    is_int(st.calls - st0.calls, 1, "stats.calls counts it");
    ok(st.budget_aborts == st0.budget_aborts && st.mem_errors == st0.mem_errors,
       "not counted as a budget or memory failure");
    ok(strstr(log, "unit call here.lua:3 failed: unit.lua:2: boom 1") != NULL,
       "logged once as '<what> <where> failed: file:line: message'");
    ok(strstr(log, "stack traceback") != NULL, "with a traceback");
    ok(strstr(log, "ERROR") != NULL, "at level ERROR");
    free(log);

    top = lua_gettop(L);
    is_int(run(h, "local t = nil; return t.x", 1), PR_ESCRIPT, "runtime error: PR_ESCRIPT");
    is_int(lua_gettop(L), top, "stack balanced");
    is_int(run(h, "error({})", 0), PR_ESCRIPT, "error with a table value: PR_ESCRIPT");
    is_int(lua_gettop(L), top, "stack balanced");
    cap_begin();
    is_int(run(h, "error(setmetatable({}, {__tostring = function() return 'custom' end}))", 0),
           PR_ESCRIPT, "error with a __tostring object: PR_ESCRIPT");
    log = cap_end();
    ok(strstr(log, "custom") != NULL, "the object is described with __tostring");
    free(log);
    is_int(lua_gettop(L), top, "stack balanced");
    is_int(run(h, "return 1", 1), 0, "a call after errors succeeds");
    lua_settop(L, 0);
    pr_host_destroy(h);
}

/* -------------------------------------------------------------- budget -- */

#define BUDGET 100000u

/* The normal work a call under the budget must still be able to do:
 * 10000 iterations (~30000 instructions). */
static int normal_work(pr_host_t *h)
{
    lua_State *L = pr_host_lua(h);
    int top = lua_gettop(L), rc;
    long long v;

    rc = run(h, "local s = 0 for i = 1, 10000 do s = s + i end return s", 1);
    if (rc != 0)
        return rc;
    v = (long long)lua_tointeger(L, -1);
    lua_settop(L, top);
    return v == 50005000 ? 0 : -2;
}

static void test_budget(void)
{
    pr_host_t *h = new_host(0, BUDGET, 0);
    lua_State *L = pr_host_lua(h);
    pr_host_stats_t st0, st;
    int64_t t0, t1;
    int top, rc;
    char *log;

    is_int(normal_work(h), 0, "10000 iterations pass under a budget of 100000");

    top = lua_gettop(L);
    st0 = stats(h);
    t0 = now_ns();
    cap_begin();
    rc = run(h, "while true do end", 0);
    log = cap_end();
    t1 = now_ns();
    is_int(rc, PR_EBUDGET, "while true do end: PR_EBUDGET");
    ok(t1 - t0 < 10000000000ll, "returns quickly (%lld ms)", (long long)((t1 - t0) / 1000000));
    is_int(lua_gettop(L), top, "stack balanced");
    st = stats(h);
    is_int(st.budget_aborts - st0.budget_aborts, 1, "stats.budget_aborts counts it");
    is_int(st.errors - st0.errors, 1, "stats.errors too");
    ok(strstr(log, "instruction budget exceeded") && strstr(log, "test:1:"),
       "logged as 'test:1: instruction budget exceeded'");
    free(log);
    is_int(normal_work(h), 0, "after the abort the next call with normal work succeeds");

    /* Once the budget is spent no further instruction runs: not after a
     * pcall that caught the abort, nor in the main thread after the abort
     * killed a coroutine. */
    is_int(run(h, "escaped = nil pcall(function() while true do end end) escaped = true", 0),
           PR_EBUDGET, "abort caught by pcall: PR_EBUDGET");
    is_int(run(h, "return escaped", 1), 0, "read a global");
    ok(lua_isnil(L, -1), "the statement after the pcall never ran");
    lua_settop(L, top);
    is_int(run(h, "local co = coroutine.create(function() while true do end end) "
                  "coroutine.resume(co) escaped = true", 0),
           PR_EBUDGET, "abort inside a coroutine: PR_EBUDGET");
    is_int(run(h, "return escaped", 1), 0, "read a global");
    ok(lua_isnil(L, -1), "the main thread ran nothing after the resume returned");
    lua_settop(L, top);
    is_int(run(h, "local co = coroutine.wrap(function() for i = 1, 1000 do coroutine.yield(i) end end) "
                  "local s = 0 for i = 1, 1000 do s = s + co() end assert(s == 500500)", 0),
           0, "coroutines doing normal work run under the budget");
    /* Many calls after aborts: nothing accumulates. */
    rc = 0;
    for (int i = 0; i < 50 && rc == 0; i++)
        rc = normal_work(h);
    is_int(rc, 0, "50 more normal calls pass");

    /* Work spread over coroutines that each run fewer instructions than the
     * hook's period: ~2 million loop iterations under a budget of 100000. */
    rc = run(h, "local n = 0 "
                "local function node(d) "
                "  if d == 0 then for j = 1, 200 do n = n + 1 end return end "
                "  for i = 1, 10 do coroutine.wrap(node)(d - 1) end "
                "end "
                "node(4) return n", 1);
    if (rc == 0) {
        diag("  the call ran %lld loop iterations under a budget of %u instructions",
             (long long)lua_tointeger(L, -1), BUDGET);
        lua_settop(L, top);
    }
    ok(rc == PR_EBUDGET, "instructions run in short-lived coroutines count against the budget");
    lua_settop(L, top);
    pr_host_destroy(h);

    /* Budget 0: no hook at all, a long finite loop runs to the end. */
    h = new_host(0, 0, 0);
    L = pr_host_lua(h);
    rc = run(h, "local s = 0 for i = 1, 20000000 do s = s + 1 end return s", 1);
    is_int(rc, 0, "budget 0: 20 million iterations pass");
    is_int(lua_tointeger(L, -1), 20000000, "and complete");
    lua_settop(L, 0);
    is_int(stats(h).budget_aborts, 0, "no budget abort");
    pr_host_destroy(h);

    /* Sanity: the same loop is stopped under the default budget. */
    h = new_host(0, PR_HOST_DEFAULT_BUDGET, 0);
    is_int(run(h, "local s = 0 for i = 1, 20000000 do s = s + 1 end return s", 1), PR_EBUDGET,
           "the same loop under the default budget: PR_EBUDGET");
    pr_host_destroy(h);
}

/* -------------------------------------------------------------- memory -- */

#define CEILING ((size_t)8 << 20)

static void test_memory(void)
{
    static const struct {
        const char *name, *code;
    } hogs[] = {
        { "a huge array", "local t = {} for i = 1, 1e8 do t[i] = i end return #t" },
        { "one huge string", "local s = string.rep('x', 64 * 1024 * 1024) return #s" },
        { "many strings", "local t = {} for i = 1, 1e8 do t[i] = 'item ' .. i end return #t" },
        { "string concatenation", "local s = 'x' while true do s = s .. s end" },
        { "a huge hash table", "local t = {} for i = 1, 1e8 do t['k' .. i] = true end" },
    };
    pr_host_t *h = new_host(CEILING, PR_HOST_DEFAULT_BUDGET, 0);
    lua_State *L = pr_host_lua(h);
    pr_host_stats_t st0, st;
    size_t base;
    int top = lua_gettop(L), rc;
    char *log;

    lua_gc(L, LUA_GCCOLLECT, 0);
    base = stats(h).mem_used;
    ok(base > 0 && base < CEILING / 4, "a fresh state uses little (%zu KiB)", base >> 10);

    for (size_t i = 0; i < sizeof hogs / sizeof hogs[0]; i++) {
        st0 = stats(h);
        cap_begin();
        rc = run(h, hogs[i].code, 0);
        log = cap_end();
        is_int(rc, PR_ENOMEM, hogs[i].name);
        st = stats(h);
        ok(st.mem_errors == st0.mem_errors + 1 && st.errors == st0.errors + 1,
           "%s: stats.mem_errors and stats.errors count it", hogs[i].name);
        is_int(lua_gettop(L), top, "stack balanced");
        ok(strstr(log, "memory ceiling of 8192 KiB reached") != NULL,
           "%s: logged as the ceiling", hogs[i].name);
        free(log);
        ok(st.mem_peak <= CEILING, "peak %zu KiB stayed within the ceiling", st.mem_peak >> 10);
        ok(st.mem_used < CEILING, "memory in use after the failed call is below the ceiling "
                                  "(%zu KiB)", st.mem_used >> 10);
        is_int(normal_work(h), 0, "a normal call succeeds afterwards");
        lua_gc(L, LUA_GCCOLLECT, 0);
        st = stats(h);
        ok(st.mem_used < base + (2 << 20), "after a collection memory is back near the start "
                                           "(%zu KiB, started at %zu KiB)",
           st.mem_used >> 10, base >> 10);
    }

    /* Growth that stays below the ceiling works, and is given back. */
    rc = run(h, "local t = {} for i = 1, 100000 do t[i] = i end return #t", 1);
    is_int(rc, 0, "2 MiB of table under an 8 MiB ceiling is fine");
    is_int(lua_tointeger(L, -1), 100000, "and complete");
    lua_settop(L, top);
    is_int(run(h, "big = {} for i = 1, 200000 do big[i] = i end", 0), 0,
           "a global table of 4 MiB is kept");
    ok(stats(h).mem_used > base + (3 << 20), "and accounted for");
    is_int(run(h, "local t = {} for i = 1, 200000 do t[i] = i end", 0), PR_ENOMEM,
           "with it held, another 4 MiB does not fit");
    is_int(run(h, "big = nil collectgarbage()", 0), 0, "dropping it");
    ok(stats(h).mem_used < base + (2 << 20), "gives the memory back");
    is_int(run(h, "local t = {} for i = 1, 200000 do t[i] = i end", 0), 0,
           "then the 4 MiB fit");
    pr_host_destroy(h);
}

/* ----------------------------------------------------------- callbacks -- */

static pr_callback_t g_cb = { .ref = LUA_NOREF };

static int l_set_cb(lua_State *L)
{
    pr_callback_unset(L, &g_cb);
    pr_callback_set(L, &g_cb, 1, "test callback");
    return 0;
}

/* set_cb_rel(f, x): the function given by a negative (relative) index. */
static int l_set_cb_rel(lua_State *L)
{
    lua_settop(L, 2);
    pr_callback_unset(L, &g_cb);
    pr_callback_set(L, &g_cb, -2, "test callback");
    return 0;
}

static int call_cb(pr_host_t *h, const char *arg)
{
    lua_State *L = pr_host_lua(h);
    int top = lua_gettop(L), rc;

    lua_pushstring(L, arg);
    rc = pr_host_call(h, &g_cb, 1, 1);
    if (rc == 0) {
        if (lua_gettop(L) != top + 1 || !lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), arg))
            rc = -1;
        lua_settop(L, top);
    } else if (lua_gettop(L) != top) {
        rc = -2;  /* unbalanced */
    }
    return rc;
}

static void test_callbacks(void)
{
    pr_host_t *h = new_host(0, BUDGET, 3);
    lua_State *L = pr_host_lua(h);
    pr_host_stats_t st0;
    int rc, top;
    char *log;

    lua_register(L, "set_cb", l_set_cb);
    lua_register(L, "set_cb_rel", l_set_cb_rel);
    top = lua_gettop(L);

    is_int(call_cb(h, "ok"), PR_EDISABLED, "an unset callback: PR_EDISABLED, argument popped");

    rc = run(h, "local ok, e = pcall(set_cb, 42) return ok, e", 2);
    is_int(rc, 0, "set_cb(42) in pcall");
    ok(!lua_toboolean(L, -2) && lua_isstring(L, -1) && strstr(lua_tostring(L, -1), "function expected"),
       "pr_callback_set raises 'function expected' on a non-function");
    lua_settop(L, top);

    is_int(run(h, "set_cb(\n"
                  "  function(x)\n"
                  "    if x == 'fail' then error('failing') end\n"
                  "    if x == 'spin' then while true do end end\n"
                  "    return x\n"
                  "  end)", 0),
           0, "set a callback from Lua");
    ok(!strcmp(g_cb.where, "test:2"), "its where is the definition's chunk:line ('%s')", g_cb.where);
    ok(g_cb.what && !strcmp(g_cb.what, "test callback"), "its what is kept");
    is_int(call_cb(h, "ok"), 0, "calling it returns its result");

    st0 = stats(h);
    is_int(call_cb(h, "fail"), PR_ESCRIPT, "failure 1: PR_ESCRIPT");
    is_int(call_cb(h, "spin"), PR_EBUDGET, "failure 2 (budget): PR_EBUDGET");
    is_int(g_cb.failures, 2, "2 consecutive failures counted");
    is_int(call_cb(h, "ok"), 0, "a success in between");
    is_int(g_cb.failures, 0, "resets the count");
    is_int(call_cb(h, "fail"), PR_ESCRIPT, "failure 1 again");
    is_int(call_cb(h, "fail"), PR_ESCRIPT, "failure 2 again");
    is_int(g_cb.disabled, 0, "not disabled after 2 of max_failures 3");
    is_int(stats(h).disabled, st0.disabled, "stats.disabled unchanged");
    cap_begin();
    is_int(call_cb(h, "fail"), PR_ESCRIPT, "failure 3 still reports the script error");
    log = cap_end();
    is_int(g_cb.disabled, 1, "the callback is disabled after max_failures in a row");
    is_int(stats(h).disabled, st0.disabled + 1, "stats.disabled == 1");
    ok(strstr(log, "test callback test:2 disabled after 3 consecutive failures") != NULL,
       "the log says so, with what and where");
    free(log);
    is_int(call_cb(h, "ok"), PR_EDISABLED, "further calls: PR_EDISABLED, argument popped");
    is_int(lua_gettop(L), top, "stack balanced");
    ok(stats(h).errors == st0.errors + 5, "stats.errors counted the 5 failures, not the refusal");

    is_int(run(h, "set_cb(function(x) return x end)", 0), 0, "setting a new function");
    ok(g_cb.disabled == 0 && g_cb.failures == 0, "re-enables it with a clean count");
    is_int(call_cb(h, "again"), 0, "and it can be called");
    pr_callback_unset(L, &g_cb);
    is_int(call_cb(h, "ok"), PR_EDISABLED, "after pr_callback_unset: PR_EDISABLED");
    pr_callback_unset(L, &g_cb);
    ok(1, "unset twice is harmless");

    /* The function given by a relative index. */
    is_int(run(h, "\n\nset_cb_rel(function(x) return x end, 'other')", 0), 0,
           "set a callback given by index -2");
    is_int(call_cb(h, "rel"), 0, "the right function was stored");
    ok(!strcmp(g_cb.where, "test:3"), "and its where names it ('test:3')");
    if (strcmp(g_cb.where, "test:3"))
        diag("  where is '%s'", g_cb.where);
    pr_callback_unset(L, &g_cb);
    pr_host_destroy(h);

    /* max_failures 0: never disabled. */
    h = new_host(0, BUDGET, 0);
    L = pr_host_lua(h);
    lua_register(L, "set_cb", l_set_cb);
    run(h, "set_cb(function(x) if x == 'fail' then error('no') end return x end)", 0);
    rc = 0;
    for (int i = 0; i < 20; i++)
        rc |= call_cb(h, "fail") != PR_ESCRIPT;
    is_int(rc, 0, "max_failures 0: 20 failures in a row");
    is_int(call_cb(h, "ok"), 0, "still callable");
    is_int(stats(h).disabled, 0, "nothing disabled");
    pr_callback_unset(L, &g_cb);
    pr_host_destroy(h);
}

/* ----------------------------------------------------------- resources -- */

struct tres {
    pr_res_t res;   /* first */
    int id;
    int closes;
    pr_host_t *h;
    int state_ok;   /* the Lua state was still usable in close() */
};

static int close_order[8], nclosed;

static void tres_close(pr_res_t *r)
{
    struct tres *t = (struct tres *)r;
    lua_State *L = pr_host_lua(t->h);

    t->closes++;
    if (nclosed < 8)
        close_order[nclosed] = t->id;
    nclosed++;
    lua_getglobal(L, "marker");
    t->state_ok = lua_tointeger(L, -1) == 1234;
    lua_pop(L, 1);
}

static void test_resources(void)
{
    pr_host_t *h = new_host(0, BUDGET, 3);
    struct tres r[4];

    memset(r, 0, sizeof r);
    run(h, "marker = 1234", 0);
    for (int i = 0; i < 4; i++) {
        r[i].id = i;
        r[i].h = h;
        r[i].res.close = tres_close;
        pr_host_own(h, &r[i].res);
    }
    pr_host_disown(h, &r[1].res);
    pr_host_disown(h, &r[1].res);
    ok(1, "disowning twice is harmless");
    nclosed = 0;
    pr_host_destroy(h);
    ok(r[0].closes == 1 && r[2].closes == 1 && r[3].closes == 1,
       "destroy closes each owned resource exactly once");
    is_int(r[1].closes, 0, "a disowned resource is not closed");
    ok(nclosed == 3 && close_order[0] == 3 && close_order[1] == 2 && close_order[2] == 0,
       "newest first");
    ok(r[0].state_ok && r[2].state_ok && r[3].state_ok, "while the Lua state is still usable");

    /* Own, disown, own again: closed once. */
    h = new_host(0, BUDGET, 3);
    memset(r, 0, sizeof r);
    r[0].h = h;
    r[0].res.close = tres_close;
    pr_host_own(h, &r[0].res);
    pr_host_disown(h, &r[0].res);
    pr_host_own(h, &r[0].res);
    nclosed = 0;
    pr_host_destroy(h);
    is_int(r[0].closes, 1, "owned again after disown: closed once");
}

/* -------------------------------------------------------------- dofile -- */

static char *write_tmp(const char *text)
{
    static char paths[4][64];
    static int n;
    char *p = paths[n++ % 4];
    int fd;

    strcpy(p, "/tmp/perch-test-host-XXXXXX.lua");
    fd = mkstemps(p, 4);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        bail_out("writing a temporary script");
    close(fd);
    return p;
}

static void test_dofile(void)
{
    pr_host_t *h = new_host(0, BUDGET, 3);
    lua_State *L = pr_host_lua(h);
    pr_host_stats_t st0;
    char *path, want[128], *log;
    int top = lua_gettop(L);

    path = write_tmp("loaded = 'yes'\nreturn 1\n");
    is_int(pr_host_dofile(h, path), 0, "dofile of a good script");
    lua_getglobal(L, "loaded");
    ok(lua_isstring(L, -1) && !strcmp(lua_tostring(L, -1), "yes"), "it ran");
    lua_settop(L, top);
    is_int(lua_gettop(L), top, "and left nothing on the stack");
    unlink(path);

    path = write_tmp("local x = 1\nx = = 2\n");
    st0 = stats(h);
    cap_begin();
    is_int(pr_host_dofile(h, path), PR_ESCRIPT, "a syntax error: PR_ESCRIPT");
    log = cap_end();
    snprintf(want, sizeof want, "%s:2:", path);
    ok(strstr(log, want) != NULL, "logged with file:line (%s)", want);
    free(log);
    is_int(stats(h).errors, st0.errors + 1, "counted as an error");
    is_int(lua_gettop(L), top, "stack balanced");
    unlink(path);

    is_int(pr_host_dofile(h, "/nonexistent/perch/app.lua"), PR_ESCRIPT, "a missing file: PR_ESCRIPT");
    is_int(lua_gettop(L), top, "stack balanced");

    path = write_tmp("local t = nil\nreturn t.x\n");
    is_int(pr_host_dofile(h, path), PR_ESCRIPT, "a runtime error in the main chunk: PR_ESCRIPT");
    unlink(path);

    path = write_tmp("while true do end\n");
    is_int(pr_host_dofile(h, path), PR_EBUDGET, "a main chunk that never ends: PR_EBUDGET");
    is_int(lua_gettop(L), top, "stack balanced");
    unlink(path);

    /* The load budget (2 x budget here) is what a main chunk gets. */
    path = write_tmp("local s = 0 for i = 1, 60000 do s = s + i end\n");
    is_int(pr_host_dofile(h, path), 0, "a main chunk may use more than a call's budget");
    unlink(path);
    pr_host_destroy(h);
}

/* ------------------------------------------- runaways, in child processes */

/* Scripts that would hang the process if the budget were swallowed run in
 * child processes, at most two at a time, each killed after a deadline
 * scaled from a baseline child.  A child runs `setup` (must succeed), then
 * `code` (must return `want`), checks the stack and stats, then that normal
 * work still passes, and destroys the host (which must not hang either). */
enum { J_RC = 1, J_STACK = 2, J_AFTER = 4, J_SETUP = 8, J_KILLED = -1 };

struct job {
    const char *name, *setup, *code;
    int want;
    const char *todo;   /* a known bug: why it fails */
    pid_t pid;
    int64_t start;
    int status;         /* exit status (J_* bits), J_KILLED, or -2 running */
};

static int job_child(const struct job *j)
{
    pr_host_t *h;
    lua_State *L;
    pr_host_stats_t st0;
    int null = open("/dev/null", O_WRONLY), bits = 0, top, rc;

    alarm(300);  /* in case the parent is gone */
    /* The child's log is only noise here, and its stdout is the parent's
     * TAP stream: it reports through its exit status alone. */
    dup2(null, STDERR_FILENO);
    dup2(null, STDOUT_FILENO);
    close(null);
    if (pr_loop_create(&loop) != 0)
        return J_SETUP;
    h = new_host(0, BUDGET, 0);
    L = pr_host_lua(h);
    if (j->setup && run(h, j->setup, 0) != 0)
        return J_SETUP;
    top = lua_gettop(L);
    st0 = stats(h);
    rc = run(h, j->code, 0);
    if (rc != j->want)
        bits |= J_RC;
    if (lua_gettop(L) != top ||
        (rc == PR_EBUDGET && stats(h).budget_aborts != st0.budget_aborts + 1))
        bits |= J_STACK;
    lua_settop(L, top);
    if (normal_work(h) != 0)
        bits |= J_AFTER;
    pr_host_destroy(h);
    pr_loop_destroy(loop);
    return bits;
}

/* Start this executable again with two arguments, through $PERCH_RUNNER
 * (for example "qemu-aarch64 -L /usr/aarch64-linux-gnu") when set. */
extern char **environ;
static const char *self_path;

static pid_t spawn_self(const char *a1, const char *a2)
{
    char runner[256], *args[16], *save = NULL;
    const char *r = getenv("PERCH_RUNNER");
    int n = 0;
    pid_t pid;

    if (r && *r) {
        snprintf(runner, sizeof runner, "%s", r);
        for (char *w = strtok_r(runner, " ", &save); w && n < 12; w = strtok_r(NULL, " ", &save))
            args[n++] = w;
        args[n++] = (char *)self_path;
    } else {
        args[n++] = (char *)"/proc/self/exe";
    }
    args[n++] = (char *)a1;
    args[n++] = (char *)a2;
    args[n] = NULL;
    fflush(stdout);
    if (posix_spawnp(&pid, args[0], NULL, NULL, args, environ) != 0)
        return -1;
    return pid;
}

static void job_start(struct job *j, int idx)
{
    char arg[16];

    snprintf(arg, sizeof arg, "%d", idx);
    j->start = now_ns();
    j->status = -2;
    j->pid = spawn_self("--job", arg);
    if (j->pid < 0)
        j->status = 127;
}

/* Run jobs[0..n) (the idx-th is runaway_jobs[first + idx]) two at a time. */
static void jobs_run(struct job *jobs, int first, int n, int64_t limit)
{
    int next = 0, running = 0;

    while (next < n || running > 0) {
        while (running < 2 && next < n) {
            job_start(&jobs[next], first + next);
            running += jobs[next].status == -2;
            next++;
        }
        for (int i = 0; i < next; i++) {
            struct job *j = &jobs[i];
            int ws;
            if (j->status != -2)
                continue;
            if (waitpid(j->pid, &ws, WNOHANG) == j->pid) {
                j->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                running--;
            } else if (now_ns() - j->start > limit) {
                kill(j->pid, SIGKILL);
                waitpid(j->pid, NULL, 0);
                j->status = J_KILLED;
                running--;
            }
        }
        if (running > 0) {
            struct timespec ts = { 0, 5000000 };
            nanosleep(&ts, NULL);
        }
    }
}

static void job_report(const struct job *j)
{
    char name[200];

    snprintf(name, sizeof name, "%s: %s", j->name,
             j->want == PR_EBUDGET ? "PR_EBUDGET, balanced, normal work after" : "as expected");
    if (j->todo)
        todo_ok(j->status == 0, name, j->todo);
    else
        ok(j->status == 0, "%s", name);
    if (j->status == J_KILLED)
        diag("  the child hung and was killed");
    else if (j->status > 0)
        diag("  child status %d:%s%s%s%s", j->status, j->status & J_RC ? " wrong return code" : "",
             j->status & J_STACK ? " stack or stats" : "",
             j->status & J_AFTER ? " normal work failed after" : "",
             j->status & J_SETUP ? " setup failed" : "");
}


static struct job runaway_jobs[] = {
    { "baseline child", NULL, "return", 0, NULL, 0, 0, 0 },
    { "bare loop", NULL, "while true do end", PR_EBUDGET, NULL, 0, 0, 0 },
    { "loop inside pcall", NULL,
      "pcall(function() while true do end end) return 'swallowed'", PR_EBUDGET, NULL, 0, 0, 0 },
    { "loop of pcalls", NULL,
      "while true do pcall(function() while true do end end) end", PR_EBUDGET, NULL, 0, 0, 0 },
    { "pcall(pcall, f) forever", NULL,
      "local f = function() while true do end end "
      "for i = 1, math.huge do pcall(pcall, f) end return 'swallowed'", PR_EBUDGET, NULL, 0, 0, 0 },
    { "xpcall with a handler", NULL,
      "xpcall(function() while true do end end, function(e) return e end) return 'swallowed'",
      PR_EBUDGET, NULL, 0, 0, 0 },
    { "loop of xpcalls with debug.traceback", NULL,
      "while true do xpcall(function() while true do end end, debug.traceback) end",
      PR_EBUDGET, NULL, 0, 0, 0 },
    { "loop of xpcalls with a Lua handler", NULL,
      "local n = 0 while true do xpcall(function() while true do end end, "
      "function(e) n = n + 1 return e end) end",
      PR_EBUDGET, NULL, 0, 0, 0 },
    { "xpcall whose handler loops", NULL,
      "xpcall(function() while true do end end, function(e) while true do end end) "
      "return 'swallowed'", PR_EBUDGET, NULL, 0, 0, 0 },
    { "the original xpcall, reached with debug.getupvalue, whose handler loops", NULL,
      "local _, xp = debug.getupvalue(xpcall, 1) "
      "xp(function() while true do end end, function(e) while true do end end) "
      "return 'swallowed'", PR_ESCRIPT, NULL, 0, 0, 0 },
    { "debug.sethook() tried, then a loop", NULL,
      "pcall(debug.sethook) while true do end", PR_EBUDGET, NULL, 0, 0, 0 },
    { "return pcall(loop) as a tail call", NULL,
      "return pcall(function() while true do end end)", PR_EBUDGET, NULL, 0, 0, 0 },
    { "fresh coroutine inside pcall, in a loop", NULL,
      "while true do pcall(coroutine.wrap(function() while true do end end)) end",
      PR_EBUDGET, NULL, 0, 0, 0 },
    { "coroutine.resume of a looping coroutine", NULL,
      "local co = coroutine.create(function() while true do end end) "
      "local ok, e = coroutine.resume(co) return 'swallowed', ok, e", PR_EBUDGET, NULL, 0, 0, 0 },
    { "coroutine created in an earlier call, resumed later",
      "co = coroutine.create(function() coroutine.yield('ready') while true do end end) "
      "assert(select(2, coroutine.resume(co)) == 'ready')",
      "local ok, e = coroutine.resume(co) assert(coroutine.status(co) == 'dead') "
      "return 'swallowed', ok, e", PR_EBUDGET, NULL, 0, 0, 0 },
    { "coroutine from an earlier call looping over pcalls, resumed under pcall",
      "co = coroutine.wrap(function() coroutine.yield() "
      "while true do pcall(function() while true do end end) end end) co()",
      "for i = 1, 1000 do pcall(co) end return 'swallowed'", PR_EBUDGET, NULL, 0, 0, 0 },
    { "pcall in a gsub callback", NULL,
      "string.gsub(string.rep('x', 100000), '.', "
      "function() pcall(function() while true do end end) end) return 'swallowed'",
      PR_EBUDGET, NULL, 0, 0, 0 },
    { "to-be-closed variable in the looping function", NULL,
      "local ok = pcall(function() local x <close> = setmetatable({}, {__close = function() end}) "
      "while true do end end) return 'swallowed'", PR_EBUDGET, NULL, 0, 0, 0 },
    { "__gc that never returns (refused, so no hang at pr_host_destroy)", NULL,
      "g = setmetatable({}, {__gc = function() while true do end end})", PR_ESCRIPT, NULL, 0, 0, 0 },
    { "__gc added after setmetatable (never called by Lua)", NULL,
      "local mt = {} g = setmetatable({}, mt) "
      "mt.__gc = function() while true do end end g = nil collectgarbage() "
      "while true do end", PR_EBUDGET, NULL, 0, 0, 0 },
};

static void test_runaways(void)
{
    struct job *base = &runaway_jobs[0];
    int64_t t0, limit;
    int n = (int)(sizeof runaway_jobs / sizeof runaway_jobs[0]);
    pr_host_t *h = new_host(0, BUDGET, 3);
    char *log;
    int rc;

    /* Lua runs finalizers with hooks off, out of the budget's reach: the
     * host refuses __gc in script metatables, naming the alternatives. */
    cap_begin();
    rc = run(h, "local x = setmetatable({}, {__gc = function() collected = true end})", 0);
    log = cap_end();
    is_int(rc, PR_ESCRIPT, "a metatable with __gc is refused");
    ok(log && strstr(log, "__gc finalizers are not supported") && strstr(log, "<close>"),
       "and the error says why and what to use");
    free(log);
    is_int(run(h, "local mt = {} local x = setmetatable({}, mt) "
                  "return getmetatable(x) == mt", 1), 0, "other metatables are set as usual");
    ok(lua_toboolean(pr_host_lua(h), -1), "setmetatable returns its table");
    lua_pop(pr_host_lua(h), 1);
    pr_host_destroy(h);

    t0 = now_ns();
    jobs_run(base, 0, 1, 300 * 1000000000ll);
    if (base->status == 127) {
        /* Not a failure of the runtime: the executable cannot start itself
         * (under qemu-user without $PERCH_RUNNER, say). */
        for (int i = 1; i < n; i++)
            ok(1, "# SKIP %s: cannot start a child (set PERCH_RUNNER under emulation)",
               runaway_jobs[i].name);
        return;
    }
    limit = 10 * (now_ns() - t0);
    if (limit < 3000000000ll)
        limit = 3000000000ll;
    job_report(base);
    diag("baseline child took %lld ms; each runaway child gets %lld ms",
         (long long)((now_ns() - t0) / 1000000), (long long)(limit / 1000000));
    jobs_run(runaway_jobs + 1, 1, n - 1, limit);
    for (int i = 1; i < n; i++)
        job_report(&runaway_jobs[i]);
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 3 && !strcmp(argv[1], "--job")) {
        int i = atoi(argv[2]);
        if (i < 0 || i >= (int)(sizeof runaway_jobs / sizeof runaway_jobs[0]))
            return 100;
        return job_child(&runaway_jobs[i]);
    }
    alarm(600);  /* backstop: a hang fails the test instead of the suite */
    if (pr_loop_create(&loop) != 0)
        bail_out("pr_loop_create");
    test_create();
    test_pcall();
    test_budget();
    test_memory();
    test_callbacks();
    test_resources();
    test_dofile();
    test_runaways();
    pr_loop_destroy(loop);
    return exit_status();
}
