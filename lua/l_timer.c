/* l_timer.c - perch.every / perch.after and the perch.timer handle.
 *
 * The timer record lives in the handle's userdata, but its lifetime is C's:
 * it is registered with the host as a resource, and while the timer is
 * active the record holds a registry reference to its own userdata, so the
 * collector cannot take a running timer whose handle the script dropped
 * (as in luv).  Stopping releases that reference; closing (t:close(), a
 * <close> variable, __gc, or the host going away) also releases the
 * callback.  A closed handle raises on use. */
#include "perch.h"

#include "error.h"
#include "loop.h"

#include <math.h>
#include <stdio.h>

#include <lauxlib.h>

#define TIMER_MT "perch.timer"

typedef struct ltimer {
    pr_res_t res;          /* first: the host's resource list links this */
    pr_timer_t t;
    pr_callback_t cb;
    pr_host_t *h;
    int self_ref;          /* registry ref to the userdata while active */
    int closed;
    double ms;
    int repeat;
    int handed_over;       /* its phase went to a reloaded version's timer */
} ltimer_t;

static ltimer_t *check_timer(lua_State *L, int idx)
{
    ltimer_t *tm = luaL_checkudata(L, idx, TIMER_MT);
    if (tm->closed)
        luaL_error(L, "timer is closed");
    return tm;
}

static void hold(lua_State *L, ltimer_t *tm, int idx)
{
    if (tm->self_ref == LUA_NOREF) {
        lua_pushvalue(L, idx);
        tm->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
}

static void release(lua_State *L, ltimer_t *tm)
{
    if (tm->self_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, tm->self_ref);
        tm->self_ref = LUA_NOREF;
    }
}

static void timer_close(ltimer_t *tm)
{
    lua_State *L = pr_host_lua(tm->h);
    if (tm->closed)
        return;
    tm->closed = 1;
    pr_timer_stop(&tm->t);
    pr_host_disown(tm->h, &tm->res);
    release(L, tm);
    pr_callback_unset(L, &tm->cb);
}

static void res_close(pr_res_t *r)
{
    timer_close((ltimer_t *)r);
}

static void on_fire(pr_timer_t *t, void *ud)
{
    ltimer_t *tm = ud;
    pr_host_t *h = tm->h;
    lua_State *L = pr_host_lua(h);
    int rc;
    (void)t;

    /* Two copies of the handle: the argument, and an anchor that keeps the
     * userdata (and so tm) alive even if the callback closes it. */
    lua_rawgeti(L, LUA_REGISTRYINDEX, tm->self_ref);
    lua_pushvalue(L, -1);
    rc = pr_host_call(h, &tm->cb, 1, 0);
    if (!tm->closed) {
        if (rc == PR_EDISABLED || tm->cb.disabled)
            pr_timer_stop(&tm->t);
        if (!pr_timer_active(&tm->t))
            release(L, tm);  /* one-shot done, or stopped: collectable */
    }
    lua_pop(L, 1);
}

static int start(lua_State *L, int repeat)
{
    double ms = luaL_checknumber(L, 1);
    pr_host_t *h = pr_host_of(L);
    ltimer_t *tm;
    double s;

    luaL_checktype(L, 2, LUA_TFUNCTION);
    if (!isfinite(ms) || ms < 0 || (repeat && ms <= 0) || ms > 1e12)
        return luaL_argerror(L, 1, lua_pushfstring(L, "interval must be %s ms, got %f",
                                                   repeat ? "> 0" : ">= 0", ms));
    tm = lua_newuserdatauv(L, sizeof *tm, 0);
    tm->h = h;
    tm->closed = 1;  /* until fully set up, so __gc does nothing */
    tm->self_ref = LUA_NOREF;
    tm->cb.ref = LUA_NOREF;
    tm->ms = ms;
    tm->repeat = repeat;
    luaL_setmetatable(L, TIMER_MT);
    pr_callback_set(L, &tm->cb, 2, repeat ? "timer callback (every)" : "timer callback (after)");
    pr_timer_init(&tm->t, on_fire, tm);
    tm->res.close = res_close;
    tm->closed = 0;
    pr_host_own(h, &tm->res);
    s = ms / 1000.0;
    if (pr_timer_start(pr_host_loop(h), &tm->t, s, repeat ? s : 0) < 0) {
        timer_close(tm);
        return luaL_error(L, "cannot start timer: out of memory");
    }
    hold(L, tm, -1);
    return 1;
}

static int l_every(lua_State *L) { return start(L, 1); }
static int l_after(lua_State *L) { return start(L, 0); }

static int t_stop(lua_State *L)
{
    ltimer_t *tm = check_timer(L, 1);
    pr_timer_stop(&tm->t);
    release(L, tm);
    lua_settop(L, 1);
    return 1;
}

/* Re-arm with the same interval, from now.  Also re-enables a callback the
 * host disabled after repeated failures: calling again() is the explicit
 * "try it again". */
static int t_again(lua_State *L)
{
    ltimer_t *tm = check_timer(L, 1);
    tm->cb.disabled = 0;
    tm->cb.failures = 0;
    if (pr_timer_again(&tm->t) < 0)
        return luaL_error(L, "cannot start timer: out of memory");
    hold(L, tm, 1);
    lua_settop(L, 1);
    return 1;
}

static int t_active(lua_State *L)
{
    ltimer_t *tm = check_timer(L, 1);
    lua_pushboolean(L, pr_timer_active(&tm->t));
    return 1;
}

static int t_info(lua_State *L)
{
    ltimer_t *tm = check_timer(L, 1);
    lua_createtable(L, 0, 6);
    lua_pushnumber(L, tm->ms);
    lua_setfield(L, -2, "ms");
    lua_pushboolean(L, tm->repeat);
    lua_setfield(L, -2, "repeat");
    lua_pushinteger(L, (lua_Integer)tm->t.fired);
    lua_setfield(L, -2, "fired");
    lua_pushinteger(L, (lua_Integer)tm->t.missed);
    lua_setfield(L, -2, "missed");
    lua_pushboolean(L, tm->cb.disabled);
    lua_setfield(L, -2, "disabled");
    lua_pushnumber(L, (double)tm->t.last_due_ns * 1e-9);
    lua_setfield(L, -2, "due");
    return 1;
}

static int t_close(lua_State *L)
{
    ltimer_t *tm = luaL_checkudata(L, 1, TIMER_MT);
    timer_close(tm);  /* idempotent: closing twice is fine */
    return 0;
}

static int t_tostring(lua_State *L)
{
    ltimer_t *tm = luaL_checkudata(L, 1, TIMER_MT);
    if (tm->closed)
        lua_pushliteral(L, "perch.timer (closed)");
    else
        lua_pushfstring(L, "perch.timer (%s %f ms, %s, %s)", tm->repeat ? "every" : "after",
                        tm->ms, pr_timer_active(&tm->t) ? "active" : "stopped", tm->cb.where);
    return 1;
}

/* ------------------------------------------------------ reload handoff */

static int repeating(pr_res_t *r)
{
    ltimer_t *tm = (ltimer_t *)r;
    return r->close == res_close && !tm->closed && pr_timer_active(&tm->t) &&
           pr_timer_period(&tm->t) > 0;
}

size_t pr_l_timer_adopt_phases(pr_host_t *from, pr_host_t *to)
{
    size_t adopted = 0;

    for (pr_res_t *o = pr_host_res_next(from, NULL); o; o = pr_host_res_next(from, o))
        if (repeating(o))
            ((ltimer_t *)o)->handed_over = 0;
    /* Match by period, in creation order: the first 10 ms timer of the new
     * version takes the phase of the first 10 ms timer of the old one. */
    for (pr_res_t *r = pr_host_res_next(to, NULL); r; r = pr_host_res_next(to, r)) {
        ltimer_t *tm = (ltimer_t *)r;
        if (!repeating(r))
            continue;
        for (pr_res_t *o = pr_host_res_next(from, NULL); o; o = pr_host_res_next(from, o)) {
            ltimer_t *old = (ltimer_t *)o;
            if (!repeating(o) || old->handed_over ||
                pr_timer_period(&old->t) != pr_timer_period(&tm->t))
                continue;
            old->handed_over = 1;
            if (pr_timer_set_due(&tm->t, pr_timer_due(&old->t)) == 0)
                adopted++;
            break;
        }
    }
    return adopted;
}

void pr_l_timer_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "stop", t_stop }, { "again", t_again }, { "active", t_active },
        { "info", t_info }, { "close", t_close }, { NULL, NULL },
    };
    static const luaL_Reg meta[] = {
        { "__gc", t_close }, { "__close", t_close }, { "__tostring", t_tostring },
        { "__index", NULL }, { NULL, NULL },
    };
    luaL_newmetatable(L, TIMER_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    lua_pushcfunction(L, l_every);
    lua_setfield(L, -2, "every");
    lua_pushcfunction(L, l_after);
    lua_setfield(L, -2, "after");
}
