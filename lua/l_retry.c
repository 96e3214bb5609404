/* l_retry.c - require "perch.retry.core": the part of a retry policy that
 * holds whatever a script does.  lua/perch/retry.lua builds every policy
 * on it and must go through a run for each request:
 *
 *   local pc = core.policy{ attempts = 3, backoff = "full", base_ms = 100,
 *                           cap_ms = 2000, deadline_ms = 5000, timeout_ms = 1000, seed = 7 }
 *   local run = pc:start()
 *   local n, timeout_ms = run:next()     -- attempt number, its timeout | nil, "attempts"|"deadline"
 *   local wait_ms = run:wait(retry_after_ms)   -- before the next | nil, "attempts"|"deadline"
 *
 * The attempt count is clamped here to PR_RETRY_MAX_ATTEMPTS (logged with
 * the script's file:line) and kept in C, so neither a policy table edited
 * after the fact nor a bug in the Lua layer can make more attempts; the
 * overall deadline is counted from start() on the monotonic clock and cuts
 * each attempt's timeout and each wait.  The jitter generator belongs to
 * the policy: seeded from `seed`, or from the clock and address when absent. */
#include "perch.h"

#include "log.h"
#include "loop.h"
#include "retry.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#define POLICY_MT "perch.retry.policy_core"
#define RUN_MT "perch.retry.run"

typedef struct pcore {
    int attempts;            /* clamped to 1..PR_RETRY_MAX_ATTEMPTS */
    lua_Integer requested;   /* what the spec asked for */
    pr_backoff_t mode;
    double base_ms, cap_ms;
    double deadline_ms;      /* 0: none */
    double timeout_ms;       /* per attempt; 0: the request's own or the client's */
    pr_rng_t rng;
} pcore_t;

typedef struct run {
    int max;                 /* copied from the policy at start() */
    int made;                /* attempts started */
    double start_s;          /* monotonic */
    double prev_ms;          /* the last wait, for decorrelated jitter */
} run_t;

/* The innermost frame that is not the library's own Lua: where the
 * script's call came from (src "?" and line 0 if none). */
static int script_where(lua_State *L, char *src, size_t size)
{
    lua_Debug ar;
    snprintf(src, size, "?");
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
            continue;
        if (strncmp(ar.source, "@lua/perch/", 11) == 0)
            continue;
        snprintf(src, size, "%s", ar.short_src);
        return ar.currentline;
    }
    return 0;
}

static double num_field(lua_State *L, const char *key, double dflt, double lo, double hi)
{
    double v;
    int t = lua_getfield(L, 1, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return dflt;
    }
    v = lua_tonumber(L, -1);
    if (t != LUA_TNUMBER || !isfinite(v) || v < lo || v > hi) {
        char msg[200];  /* lua_pushfstring has no %g */
        snprintf(msg, sizeof msg, "retry policy: '%s' must be a number in %g..%g, got ", key, lo, hi);
        luaL_error(L, "%s%s", msg, luaL_tolstring(L, -1, NULL));
    }
    lua_pop(L, 1);
    return v;
}

/* core.policy{...} -> policy core.  The Lua layer checks the keys it owns;
 * these are checked here. */
static int l_policy(lua_State *L)
{
    pcore_t *p;
    const char *mode = "full";
    int m;
    uint64_t seed;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    p = lua_newuserdatauv(L, sizeof *p, 0);  /* at 2, the spec at 1 */
    memset(p, 0, sizeof *p);
    luaL_setmetatable(L, POLICY_MT);

    if (lua_getfield(L, 1, "attempts") == LUA_TNIL) {
        p->requested = 3;
    } else {
        int isint;
        p->requested = lua_tointegerx(L, -1, &isint);
        if (!isint || p->requested < 1)
            return luaL_error(L, "retry policy: 'attempts' must be a whole number >= 1, got %s",
                              luaL_tolstring(L, -1, NULL));
    }
    lua_pop(L, 1);
    p->attempts = pr_retry_clamp_attempts(p->requested);
    if (p->attempts != p->requested) {
        char src[160];
        int line = script_where(L, src, sizeof src);
        pr_log_write(PR_LOG_WARN, src, line,
                     "retry policy: attempts = %lld clamped to %d (the hard maximum)",
                     (long long)p->requested, p->attempts);
    }
    if (lua_getfield(L, 1, "backoff") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "retry policy: 'backoff' must be a string");
        mode = lua_tostring(L, -1);
    }
    if ((m = pr_backoff_parse(mode)) < 0)
        return luaL_error(L, "retry policy: unknown backoff '%s' (full, equal, decorrelated, "
                             "exponential)", mode);
    lua_pop(L, 1);
    p->mode = (pr_backoff_t)m;
    p->base_ms = num_field(L, "base_ms", 100, 1, 3.6e6);
    p->cap_ms = num_field(L, "cap_ms", fmax(p->base_ms, 10000), p->base_ms, 3.6e6);
    p->deadline_ms = num_field(L, "deadline_ms", 0, 1, 8.64e7);
    p->timeout_ms = num_field(L, "timeout_ms", 0, 1, 8.64e7);
    if (lua_getfield(L, 1, "seed") != LUA_TNIL) {
        int isint;
        seed = (uint64_t)lua_tointegerx(L, -1, &isint);
        if (!isint)
            return luaL_error(L, "retry policy: 'seed' must be a whole number");
    } else {
        /* Unseeded: differ between policies and runs, so jitter spreads. */
        seed = (uint64_t)(pr_time_now() * 1e9) ^ (uint64_t)(uintptr_t)p;
    }
    lua_pop(L, 1);
    pr_rng_seed(&p->rng, seed);
    lua_settop(L, 2);
    return 1;
}

static pcore_t *check_policy(lua_State *L) { return luaL_checkudata(L, 1, POLICY_MT); }

/* pc:backoff(n, prev_ms) -> ms: the raw formula (tests, plots). */
static int p_backoff(lua_State *L)
{
    pcore_t *p = check_policy(L);
    lua_Integer n = luaL_checkinteger(L, 2);
    double prev = luaL_optnumber(L, 3, p->base_ms);
    luaL_argcheck(L, n >= 1, 2, "retry number must be >= 1");
    lua_pushnumber(L, pr_retry_backoff(p->mode, p->base_ms, p->cap_ms, (int)(n > 1000 ? 1000 : n),
                                       prev, &p->rng));
    return 1;
}

static int p_info(lua_State *L)
{
    pcore_t *p = check_policy(L);
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, p->attempts);
    lua_setfield(L, -2, "attempts");
    lua_pushinteger(L, p->requested);
    lua_setfield(L, -2, "requested_attempts");
    lua_pushinteger(L, PR_RETRY_MAX_ATTEMPTS);
    lua_setfield(L, -2, "max_attempts");
    lua_pushstring(L, pr_backoff_name(p->mode));
    lua_setfield(L, -2, "backoff");
    lua_pushnumber(L, p->base_ms);
    lua_setfield(L, -2, "base_ms");
    lua_pushnumber(L, p->cap_ms);
    lua_setfield(L, -2, "cap_ms");
    if (p->deadline_ms > 0) {
        lua_pushnumber(L, p->deadline_ms);
        lua_setfield(L, -2, "deadline_ms");
    }
    if (p->timeout_ms > 0) {
        lua_pushnumber(L, p->timeout_ms);
        lua_setfield(L, -2, "timeout_ms");
    }
    return 1;
}

static int p_start(lua_State *L)
{
    check_policy(L);
    run_t *r = lua_newuserdatauv(L, sizeof *r, 1);
    memset(r, 0, sizeof *r);
    r->max = ((pcore_t *)lua_touserdata(L, 1))->attempts;
    r->start_s = pr_time_now();
    r->prev_ms = 0;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);  /* the policy lives as long as its runs */
    luaL_setmetatable(L, RUN_MT);
    return 1;
}

static pcore_t *run_policy(lua_State *L, int idx)
{
    pcore_t *p;
    lua_getiuservalue(L, idx, 1);
    p = lua_touserdata(L, -1);
    lua_pop(L, 1);  /* still referenced by the run */
    return p;
}

static double elapsed_ms(const run_t *r) { return (pr_time_now() - r->start_s) * 1000; }

static int fail(lua_State *L, const char *why)
{
    luaL_pushfail(L);
    lua_pushstring(L, why);
    return 2;
}

/* run:next([timeout_ms]) -> attempt number, timeout_ms (nil: none) |
 * nil, "attempts" | nil, "deadline".  timeout_ms is the request's own; the
 * policy's per-attempt timeout and the deadline's remainder cut it. */
static int r_next(lua_State *L)
{
    run_t *r = luaL_checkudata(L, 1, RUN_MT);
    pcore_t *p = run_policy(L, 1);
    double t = luaL_optnumber(L, 2, 0);

    if (r->made >= r->max)
        return fail(L, "attempts");
    if (p->timeout_ms > 0 && (t <= 0 || p->timeout_ms < t))
        t = p->timeout_ms;
    if (p->deadline_ms > 0) {
        double left = p->deadline_ms - elapsed_ms(r);
        if (left < 1)
            return fail(L, "deadline");
        if (t <= 0 || left < t)
            t = left;
    }
    r->made++;
    lua_pushinteger(L, r->made);
    if (t > 0)
        lua_pushinteger(L, (lua_Integer)fmax(1, floor(t)));
    else
        lua_pushnil(L);
    return 2;
}

/* run:wait([retry_after_ms]) -> ms before the next attempt | nil, "attempts"
 * | nil, "deadline" (the wait would end past it).  A Retry-After wait counts
 * up to cap_ms and replaces a shorter backoff. */
static int r_wait(lua_State *L)
{
    run_t *r = luaL_checkudata(L, 1, RUN_MT);
    pcore_t *p = run_policy(L, 1);
    double w;

    if (r->made < 1)
        return luaL_error(L, "retry run: wait before the first attempt");
    if (r->made >= r->max)
        return fail(L, "attempts");
    w = pr_retry_backoff(p->mode, p->base_ms, p->cap_ms, r->made,
                         r->prev_ms > 0 ? r->prev_ms : p->base_ms, &p->rng);
    if (!lua_isnoneornil(L, 2)) {
        double ra = luaL_checknumber(L, 2);
        if (isfinite(ra) && ra > 0)
            w = fmax(w, fmin(ra, p->cap_ms));
    }
    r->prev_ms = w;
    if (p->deadline_ms > 0 && elapsed_ms(r) + w + 1 > p->deadline_ms)
        return fail(L, "deadline");
    lua_pushnumber(L, w);
    return 1;
}

static int r_info(lua_State *L)
{
    run_t *r = luaL_checkudata(L, 1, RUN_MT);
    lua_pushinteger(L, r->made);
    lua_pushnumber(L, elapsed_ms(r));
    return 2;
}

/* core.retry_after(value) -> ms | nil: a Retry-After header's wait. */
static int l_retry_after(lua_State *L)
{
    double ms;
    if (pr_retry_after_ms(luaL_checkstring(L, 1), time(NULL), &ms) < 0)
        return fail(L, "not delay-seconds or an HTTP date");
    lua_pushnumber(L, ms);
    return 1;
}

static int l_tostring(lua_State *L)
{
    pcore_t *p = check_policy(L);
    lua_pushfstring(L, "perch.retry.policy_core (%d attempts, %s)", p->attempts,
                    pr_backoff_name(p->mode));
    return 1;
}

static int luaopen_retry_core(lua_State *L)
{
    static const luaL_Reg pmethods[] = {
        { "start", p_start }, { "backoff", p_backoff }, { "info", p_info }, { NULL, NULL },
    };
    static const luaL_Reg rmethods[] = {
        { "next", r_next }, { "wait", r_wait }, { "info", r_info }, { NULL, NULL },
    };
    static const luaL_Reg funcs[] = {
        { "policy", l_policy }, { "retry_after", l_retry_after }, { NULL, NULL },
    };
    if (luaL_newmetatable(L, POLICY_MT)) {
        luaL_newlib(L, pmethods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, RUN_MT)) {
        luaL_newlib(L, rmethods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_pushinteger(L, PR_RETRY_MAX_ATTEMPTS);
    lua_setfield(L, -2, "max_attempts");
    return 1;
}

void pr_l_retry_preload(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_retry_core);
    lua_setfield(L, -2, "perch.retry.core");
    lua_pop(L, 1);
}
