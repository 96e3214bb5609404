/* l_task.c - perch.spawn, perch.sleep and the perch.task handle.
 *
 * A task is a Lua thread the loop drives.  Every slice of its run (the start,
 * and each resumption after a wait) is one host call, pr_host_resume(), so
 * the instruction budget and the memory ceiling apply per slice, and an
 * error is logged with its traceback and counted like any callback's.
 * Slices only ever start from a loop callback (the task's own timer): a
 * task never runs nested inside another call into Lua.
 *
 * Ownership as for timers: the record lives in the handle's userdata (whose
 * user value anchors the thread), it is a host resource until it finishes,
 * and while alive it holds a registry reference to its own userdata, so a
 * task whose handle the script dropped still runs.  A finished task keeps
 * its results (or its error) on its thread's stack for join() until the
 * handle is collected.  Tearing the app down cancels every live task from C:
 * its pending wait is released and it never resumes. */
#include "l_task.h"

#include "perch.h"

#include "error.h"
#include "log.h"
#include "loop.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#define TASK_MT "perch.task"

enum { READY, RUNNING, WAITING, DONE, FAILED, CANCELLED };
static const char *const state_names[] = {
    "ready", "running", "waiting", "done", "failed", "cancelled",
};

struct pr_task {
    pr_res_t res;          /* first: the host's resource list links this */
    pr_host_t *h;
    lua_State *co;         /* the thread; anchored by the userdata's user value */
    pr_timer_t timer;      /* start, sleep, wake-up: each slice starts here */
    int self_ref;          /* registry ref to the userdata while alive */
    int state;
    int started;
    int nargs;             /* arguments of the first slice */
    int nres;              /* DONE: results on co's stack; FAILED: 1 (the error) */
    int closed;            /* the handle was closed: methods raise */
    /* the pending wait */
    int has_wait;
    pr_task_cancel_fn wait_cancel;
    void *wait_ud;
    /* join: the task this one waits for, and the tasks waiting for this one */
    pr_task_t *joining;
    pr_task_t *jprev, *jnext;
    pr_task_t *joiners;
    /* tasks started from C (pr_task_spawn): told once when it ends */
    pr_task_end_fn end;
    void *end_ud;
    char where[96];        /* where its function was defined */
};

/* The task whose slice is running.  Slices never nest (they start only
 * from loop callbacks), and the loop is single-threaded. */
static pr_task_t *current;

static int alive(const pr_task_t *t) { return t->state <= WAITING; }

/* ------------------------------------------------------------- joining -- */

static void join_unlink(pr_task_t *j)
{
    pr_task_t *target = j->joining;
    if (!target)
        return;
    if (j->jprev)
        j->jprev->jnext = j->jnext;
    else
        target->joiners = j->jnext;
    if (j->jnext)
        j->jnext->jprev = j->jprev;
    j->jprev = j->jnext = NULL;
    j->joining = NULL;
}

/* Detach every task joining t; wake them unless the app is going away. */
static void release_joiners(pr_task_t *t, int wake)
{
    while (t->joiners) {
        pr_task_t *j = t->joiners;
        join_unlink(j);
        if (wake)
            pr_task_wake(j);
    }
}

/* --------------------------------------------------------------- states -- */

static void drop_wait(pr_task_t *t)
{
    pr_task_cancel_fn fn = t->wait_cancel;
    void *ud = t->wait_ud;
    int had = t->has_wait;

    t->has_wait = 0;
    t->wait_cancel = NULL;
    t->wait_ud = NULL;
    if (had && fn)
        fn(ud);
}

/* The task will never run again: release its wait, its timer, its place in
 * the host's resources and its self-reference (the handle is collectable
 * once the script lets go of it). */
static void retire(pr_task_t *t, int state, int wake_joiners)
{
    lua_State *L = pr_host_lua(t->h);

    t->state = state;
    pr_timer_stop(&t->timer);
    drop_wait(t);
    join_unlink(t);
    release_joiners(t, wake_joiners);
    pr_host_disown(t->h, &t->res);
    if (t->self_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, t->self_ref);
        t->self_ref = LUA_NOREF;
    }
    if (t->end) {
        pr_task_end_fn end = t->end;
        t->end = NULL;
        end(t->end_ud, state == DONE ? PR_TASK_DONE
                       : state == FAILED ? PR_TASK_FAILED : PR_TASK_CANCELLED);
    }
}

/* Run one slice of t, from its timer. */
static void run_slice(pr_timer_t *timer, void *ud)
{
    pr_task_t *t = ud;
    pr_task_t *prev = current;
    int nargs = 0, nres = 0, rc;
    (void)timer;

    if (!t->started) {
        t->started = 1;
        nargs = t->nargs;
    }
    t->state = RUNNING;
    current = t;
    rc = pr_host_resume(t->h, t->co, nargs, &nres, "task", t->where);
    current = prev;
    if (rc == 1) {
        lua_pop(t->co, nres);
        if (t->state == RUNNING) {
            /* A bare coroutine.yield(): no wait to end it, so it only lets
             * the others run, and goes on at the next turn. */
            t->state = READY;
            pr_timer_start(pr_host_loop(t->h), &t->timer, 0, 0);
        }
        return;
    }
    t->nres = nres;
    retire(t, rc == 0 ? DONE : FAILED, 1);
}

/* ------------------------------------------------------------- C side -- */

pr_task_t *pr_task_check(lua_State *L, const char *fn)
{
    if (!current || current->co != L || current->state != RUNNING)
        luaL_error(L, "%s: not inside a task (use perch.spawn)", fn);
    if (!lua_isyieldable(L))
        luaL_error(L, "%s: cannot wait here (called through a metamethod or a C "
                   "function that cannot yield)", fn);
    return current;
}

int pr_task_wait(lua_State *L, pr_task_t *t, pr_task_cancel_fn cancel, void *ud,
                 lua_KFunction k, lua_KContext ctx)
{
    drop_wait(t);  /* none is expected: a task waits for one thing at a time */
    t->has_wait = 1;
    t->wait_cancel = cancel;
    t->wait_ud = ud;
    t->state = WAITING;
    return lua_yieldk(L, 0, ctx, k);
}

void pr_task_wake(pr_task_t *t)
{
    if (t->state != WAITING)
        return;
    t->state = READY;
    if (pr_timer_start(pr_host_loop(t->h), &t->timer, 0, 0) < 0)
        pr_log_error("task %s: cannot schedule its wake-up: out of memory", t->where);
}

void *pr_task_unwait(pr_task_t *t)
{
    void *ud = t->wait_ud;
    t->has_wait = 0;
    t->wait_cancel = NULL;
    t->wait_ud = NULL;
    return ud;
}

/* ------------------------------------------------------------ Lua side -- */

static pr_task_t *check_task(lua_State *L, int idx)
{
    pr_task_t *t = luaL_checkudata(L, idx, TASK_MT);
    if (t->closed)
        luaL_error(L, "task is closed");
    return t;
}

static void res_close(pr_res_t *r)
{
    pr_task_t *t = (pr_task_t *)r;
    /* App teardown: no Lua runs, joiners are going away too. */
    retire(t, CANCELLED, 0);
}

/* Make a task of the function below n - 1 arguments at the top of L's
 * stack (all n popped) and leave its handle there; it starts at the next
 * loop turn.  Raises on memory errors. */
static pr_task_t *spawn(lua_State *L, int n, const char *where)
{
    pr_host_t *h = pr_host_of(L);
    int base = lua_gettop(L) - n + 1;
    lua_Debug ar;
    pr_task_t *t;

    t = lua_newuserdatauv(L, sizeof *t, 1);
    memset(t, 0, sizeof *t);
    t->h = h;
    t->self_ref = LUA_NOREF;
    t->state = CANCELLED;  /* until set up, so __gc has nothing to do */
    luaL_setmetatable(L, TASK_MT);
    t->co = lua_newthread(L);
    lua_setiuservalue(L, -2, 1);
    lua_insert(L, base);   /* the handle below the function */
    t->nargs = n - 1;

    if (where) {
        snprintf(t->where, sizeof t->where, "%s", where);
    } else {
        lua_pushvalue(L, base + 1);
        lua_getinfo(L, ">S", &ar);
        if (ar.linedefined > 0)
            snprintf(t->where, sizeof t->where, "%s:%d", ar.short_src, ar.linedefined);
        else
            snprintf(t->where, sizeof t->where, "%s", ar.short_src);
    }
    lua_xmove(L, t->co, n);  /* the function and its arguments */

    lua_pushvalue(L, -1);
    t->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    pr_timer_init(&t->timer, run_slice, t);
    if (pr_timer_start(pr_host_loop(h), &t->timer, 0, 0) < 0) {
        luaL_unref(L, LUA_REGISTRYINDEX, t->self_ref);
        t->self_ref = LUA_NOREF;
        luaL_error(L, "perch.spawn: out of memory");
    }
    /* Nothing below raises: the task is live from here on. */
    t->state = READY;
    t->res.close = res_close;
    pr_host_own(h, &t->res);
    return t;
}

static int l_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    spawn(L, lua_gettop(L), NULL);
    return 1;
}

pr_task_t *pr_task_spawn(lua_State *L, int nargs, const char *where, pr_task_end_fn end,
                         void *ud)
{
    pr_task_t *t;

    luaL_checkstack(L, 4, "perch.spawn");
    t = spawn(L, nargs + 1, where);
    t->end = end;
    t->end_ud = ud;
    lua_pop(L, 1);  /* no handle for Lua: the self-reference keeps it */
    return t;
}

void pr_task_start(pr_task_t *t)
{
    if (t->state != READY || t->started || pr_host_running(t->h))
        return;
    pr_timer_stop(&t->timer);
    run_slice(&t->timer, t);
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)L;
    (void)status;
    (void)ctx;
    pr_task_unwait(current);
    return 0;
}

static int l_sleep(lua_State *L)
{
    double ms = luaL_checknumber(L, 1);
    pr_task_t *t;

    if (!isfinite(ms) || ms < 0 || ms > 1e12)
        return luaL_argerror(L, 1, lua_pushfstring(L, "perch.sleep: ms must be >= 0, got %f", ms));
    t = pr_task_check(L, "perch.sleep");
    if (pr_timer_start(pr_host_loop(t->h), &t->timer, ms / 1000.0, 0) < 0)
        return luaL_error(L, "perch.sleep: out of memory");
    return pr_task_wait(L, t, NULL, NULL, sleep_k, 0);
}

/* Results of a finished task as join() returns them. */
static int push_outcome(lua_State *L, pr_task_t *t)
{
    if (t->state == DONE) {
        luaL_checkstack(L, t->nres + 1, "too many results to join");
        lua_pushboolean(L, 1);
        for (int i = 0; i < t->nres; i++)
            lua_pushvalue(t->co, -t->nres);  /* copies: other joiners need them too */
        lua_xmove(t->co, L, t->nres);
        return t->nres + 1;
    }
    luaL_pushfail(L);
    if (t->state == FAILED) {
        lua_pushvalue(t->co, -1);
        lua_xmove(t->co, L, 1);
        lua_pushliteral(L, "failed");
    } else {
        lua_pushliteral(L, "task cancelled");
        lua_pushliteral(L, "cancelled");
    }
    return 3;
}

static void join_cancel(void *ud) { join_unlink(ud); }

static int join_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    pr_task_unwait(current);
    /* The handle is still argument 1 of the suspended t:join() call. */
    return push_outcome(L, luaL_checkudata(L, 1, TASK_MT));
}

static int t_join(lua_State *L)
{
    pr_task_t *target = check_task(L, 1);
    pr_task_t *self;

    if (!alive(target))
        return push_outcome(L, target);
    self = pr_task_check(L, "task:join");
    if (target == self)
        return luaL_error(L, "task:join: a task cannot join itself");
    self->joining = target;
    self->jnext = target->joiners;
    if (target->joiners)
        target->joiners->jprev = self;
    target->joiners = self;
    return pr_task_wait(L, self, join_cancel, self, join_k, 0);
}

/* Cancel from Lua: the pending wait is released, then the task's pending
 * to-be-closed variables are closed (their __close runs in the task's
 * thread, under the budget of the call doing the cancel). */
static int cancel(lua_State *L, pr_task_t *t)
{
    int started = t->started;

    if (!alive(t))
        return 0;
    if (t->state == RUNNING)
        return luaL_error(L, "a task cannot cancel itself (return from it instead)");
    retire(t, CANCELLED, 1);
    if (started && lua_resetthread(t->co) != LUA_OK) {
        const char *msg = lua_tostring(t->co, -1);
        pr_log_error("task %s: closing its variables after cancel failed: %s", t->where,
                     msg ? msg : "(error object is not a string)");
    }
    lua_settop(t->co, 0);
    return 1;
}

static int cancel_protected(lua_State *L)
{
    cancel(L, lua_touserdata(L, 1));
    return 0;
}

void pr_task_cancel(pr_task_t *t)
{
    lua_State *L;

    if (!alive(t) || t->state == RUNNING || pr_host_running(t->h))
        return;
    L = pr_host_lua(t->h);
    if (!lua_checkstack(L, 2)) {
        retire(t, CANCELLED, 1);
        return;
    }
    lua_pushcfunction(L, cancel_protected);
    lua_pushlightuserdata(L, t);
    /* Closing its variables runs Lua: through the host, like any call. */
    if (pr_host_pcall(t->h, 1, 0, "cancelling task", t->where) < 0 && alive(t))
        retire(t, CANCELLED, 1);
}

static int t_cancel(lua_State *L)
{
    lua_pushboolean(L, cancel(L, check_task(L, 1)));
    return 1;
}

static int t_status(lua_State *L)
{
    pr_task_t *t = check_task(L, 1);
    lua_pushstring(L, state_names[t->state]);
    return 1;
}

/* close / <close>: cancel a live task, then let go of its results. */
static int t_close(lua_State *L)
{
    pr_task_t *t = luaL_checkudata(L, 1, TASK_MT);
    if (t->closed)
        return 0;
    cancel(L, t);
    t->closed = 1;
    lua_settop(t->co, 0);
    return 0;
}

/* __gc: only reached for a finished task (a live one is referenced) or when
 * the state closes after the host closed every resource: no Lua here. */
static int t_gc(lua_State *L)
{
    pr_task_t *t = luaL_checkudata(L, 1, TASK_MT);
    if (alive(t))
        retire(t, CANCELLED, 0);
    t->closed = 1;
    return 0;
}

static int t_tostring(lua_State *L)
{
    pr_task_t *t = luaL_checkudata(L, 1, TASK_MT);
    if (t->closed)
        lua_pushliteral(L, "perch.task (closed)");
    else
        lua_pushfstring(L, "perch.task (%s, %s)", state_names[t->state], t->where);
    return 1;
}

void pr_l_task_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "cancel", t_cancel }, { "status", t_status }, { "join", t_join },
        { "close", t_close }, { NULL, NULL },
    };
    static const luaL_Reg meta[] = {
        { "__gc", t_gc }, { "__close", t_close }, { "__tostring", t_tostring },
        { "__index", NULL }, { NULL, NULL },
    };
    luaL_newmetatable(L, TASK_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    lua_pushcfunction(L, l_spawn);
    lua_setfield(L, -2, "spawn");
    lua_pushcfunction(L, l_sleep);
    lua_setfield(L, -2, "sleep");
}
