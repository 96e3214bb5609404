/* host.c - the Lua state, its allocator ceiling, instruction budget and the
 * single protected path from C into Lua.  See host.h for the contract. */
#include "host.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

struct pr_host {
    lua_State *L;
    pr_loop_t *loop;
    pr_host_opts_t opts;
    pr_res_t resources;       /* sentinel of the owned-resource list */

    lua_State *running;       /* thread a pr_host_resume() runs, else NULL */

    /* budget */
    int depth;                /* nesting of host calls; 0: no Lua running */
    int step;                 /* count-hook granularity, instructions */
    uint64_t limit;           /* budget of the call in progress */
    uint64_t used;            /* instructions counted in that call */
    int exceeded;             /* the call in progress ran out */
    char abort_at[160];       /* "file:line" where it ran out */

    /* interrupt polling (pr_host_pcallx) of the call in progress */
    int (*poll)(void *ud);
    void *poll_ud;
    uint64_t polled_at;       /* `used` at the last poll */
    int interrupted;          /* poll() asked to stop: abort as if out of budget */

    /* memory */
    size_t mem_used, mem_peak;
    int mem_refused;          /* the allocator refused growth in this call */
    char mem_at[176];         /* " at file:line" of the first refusal */

    pr_host_stats_t st;
    char last_error[256];     /* first line of the last error logged */
    pr_host_error_fn on_cb_error;
    void *on_cb_error_ud;
};

/* ------------------------------------------------------------- allocator */

/* Remember where the script was when the ceiling was first hit: Lua calls
 * no message handler for memory errors, so there is no traceback to carry
 * the place.  Reading a stack allocates nothing.  The thread read is the
 * main one, or the task being resumed; from a coroutine of the script's own
 * this names the line that resumed it. */
static void note_refusal(pr_host_t *h)
{
    lua_State *L = h->running ? h->running : h->L;
    lua_Debug ar;
    h->mem_at[0] = '\0';
    for (int level = 0; level < 8 && lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(h->mem_at, sizeof h->mem_at, " at %s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

/* Lua's allocator contract: nsize 0 frees; growth may fail (Lua then runs
 * an emergency collection and retries, then raises LUA_ERRMEM); shrinking
 * must not fail.  The ceiling applies only while Lua code runs (depth > 0):
 * allocations the runtime makes between calls are its own bookkeeping and
 * must not fail, since they are not under a pcall. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    pr_host_t *h = ud;
    size_t old = ptr ? osize : 0;  /* with ptr NULL, osize is a type tag */
    void *np;

    if (nsize == 0) {
        free(ptr);
        h->mem_used -= old;
        return NULL;
    }
    if (nsize > old && h->opts.max_bytes && h->depth > 0 &&
        h->mem_used - old + nsize > h->opts.max_bytes) {
        if (!h->mem_refused)
            note_refusal(h);
        h->mem_refused = 1;
        return NULL;
    }
    np = realloc(ptr, nsize);
    if (!np)
        return nsize <= old ? ptr : NULL;  /* a failed shrink keeps the block */
    h->mem_used = h->mem_used - old + nsize;
    if (h->mem_used > h->mem_peak)
        h->mem_peak = h->mem_used;
    return np;
}

static int host_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    pr_log_error("unprotected Lua error (runtime bug): %s", msg ? msg : "?");
    abort();
}

/* ---------------------------------------------------------------- budget */

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    pr_host_t *h = pr_host_of(L);
    int count = lua_gethookcount(L);

    if (h->depth == 0)
        return;  /* a finalizer run by a collection between calls */
    if (!h->opts.budget && !h->poll) {
        /* Budget off: a coroutine created during a polled call kept the
         * hook; it has nothing to do now. */
        lua_sethook(L, NULL, 0, 0);
        return;
    }
    if (!h->exceeded) {
        h->used += (uint64_t)count;
        if (count != h->step)  /* left at 1 by an earlier abort */
            lua_sethook(L, budget_hook, LUA_MASKCOUNT, h->step);
        if (h->poll && h->used - h->polled_at >= PR_HOST_POLL_EVERY) {
            h->polled_at = h->used;
            h->interrupted = h->poll(h->poll_ud) != 0;
        }
        if (!h->interrupted && (!h->limit || h->used <= h->limit))
            return;
        h->exceeded = 1;
    }
    /* Fire on every instruction from now on, here and in the main thread
     * (the caller of a coroutine), until the host call returns to C. */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    if (L != h->L)
        lua_sethook(h->L, budget_hook, LUA_MASKCOUNT, 1);
    lua_getinfo(L, "Sl", ar);
    if (!h->abort_at[0])
        snprintf(h->abort_at, sizeof h->abort_at, "%s:%d", ar->short_src, ar->currentline);
    if (h->interrupted)
        lua_pushfstring(L, "%s:%d: interrupted", ar->short_src, ar->currentline);
    else
        lua_pushfstring(L, "%s:%d: instruction budget exceeded (%I instructions)",
                        ar->short_src, ar->currentline, (lua_Integer)h->limit);
    lua_error(L);
}

/* Guards on the standard library, installed when the budget is on.  They
 * close the ways a script could run Lua code the budget cannot stop; they
 * guard against accidents, not against a script that sets out to break the
 * host (the debug library can always do that).
 *
 * xpcall: a message handler runs with Lua's hooks off when the error was
 * raised from inside a hook, which is how a budget abort is raised, so a
 * handler that loops could never be stopped.  perch's xpcall (a native one:
 * no original left to reach) skips the script's handler once the call has
 * run out of budget; the error passes through as is. */
static int guarded_handler(lua_State *L)
{
    if (pr_host_of(L)->exceeded)
        return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int xpcall_done(lua_State *L, int status, lua_KContext nfixed)
{
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);  /* the (handled) error */
        return 2;
    }
    return lua_gettop(L) - (int)nfixed;  /* true, results... */
}

static int host_xpcall(lua_State *L)
{
    int nargs = lua_gettop(L) - 2;
    int status;

    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);         /* slot 2: the guarded handler */
    lua_pushboolean(L, 1);     /* the first result, on success */
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);       /* [f, handler, true, f, args...] */
    /* with a continuation, so coroutines can still yield inside xpcall */
    status = lua_pcallk(L, nargs, LUA_MULTRET, 2, 2, xpcall_done);
    return xpcall_done(L, status, 2);
}

/* coroutine.create/wrap: each thread counts its instructions down on its
 * own, and only a count that reaches zero is charged, so work done in many
 * short-lived coroutines would never be charged.  Charging a full step for
 * each new coroutine makes the charge an upper bound again. */
static int charge_coroutine(lua_State *L)
{
    pr_host_t *h = pr_host_of(L);

    if (h->depth > 0 && !h->exceeded) {
        h->used += (uint64_t)h->step;
        if (h->used > h->limit) {
            lua_Debug ar;
            /* Arm the per-instruction abort, exactly as the hook does. */
            h->exceeded = 1;
            lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
            if (L != h->L)
                lua_sethook(h->L, budget_hook, LUA_MASKCOUNT, 1);
            if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
                snprintf(h->abort_at, sizeof h->abort_at, "%s:%d", ar.short_src, ar.currentline);
            return luaL_error(L, "instruction budget exceeded (%I instructions)",
                              (lua_Integer)h->limit);
        }
    }
    lua_pushvalue(L, lua_upvalueindex(1));  /* the library's create/wrap */
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* setmetatable: Lua 5.4 runs __gc finalizers with hooks off, so a finalizer
 * written in Lua would be the one place the budget cannot reach (a loop in
 * it would hang a collection, or the shutdown).  Scripts use <close>
 * variables and perch.on_stop instead; C handles keep their own __gc. */
static int host_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "__gc finalizers are not supported in perch scripts "
                             "(they would run outside the instruction budget); "
                             "use a <close> variable or perch.on_stop");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

static int refuse_sethook(lua_State *L)
{
    return luaL_error(L, "debug.sethook is not available: perch's instruction "
                         "budget uses the hook (set lua.budget=0 to turn it off)");
}

static void wrap_field(lua_State *L, const char *name, lua_CFunction guard)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, guard, 1);
    lua_setfield(L, -2, name);
}

/* Runs protected once the libraries are open. */
static int guard_libs(lua_State *L)
{
    lua_pushglobaltable(L);
    lua_pushcfunction(L, host_xpcall);
    lua_setfield(L, -2, "xpcall");
    wrap_field(L, "setmetatable", host_setmetatable);
    lua_pop(L, 1);
    if (lua_getglobal(L, "coroutine") == LUA_TTABLE) {
        wrap_field(L, "create", charge_coroutine);
        wrap_field(L, "wrap", charge_coroutine);
    }
    lua_pop(L, 1);
    if (lua_getglobal(L, "debug") == LUA_TTABLE) {
        lua_pushcfunction(L, refuse_sethook);
        lua_setfield(L, -2, "sethook");
    }
    lua_pop(L, 1);
    return 0;
}

/* ------------------------------------------------------------ the state */

void pr_host_opts_default(pr_host_opts_t *o)
{
    o->max_bytes = (size_t)PR_HOST_DEFAULT_MAX_MB << 20;
    o->budget = PR_HOST_DEFAULT_BUDGET;
    o->load_budget = 10 * (uint64_t)PR_HOST_DEFAULT_BUDGET;
    o->max_failures = PR_HOST_DEFAULT_FAILURES;
}

int pr_host_create(pr_host_t **out, const pr_host_opts_t *opts, pr_loop_t *loop)
{
    pr_host_t *h = calloc(1, sizeof *h);

    if (!h)
        return PR_ENOMEM;
    if (opts)
        h->opts = *opts;
    else
        pr_host_opts_default(&h->opts);
    h->loop = loop;
    h->resources.next = h->resources.prev = &h->resources;
    h->L = lua_newstate(host_alloc, h);
    if (!h->L) {
        free(h);
        return PR_ENOMEM;
    }
    *(pr_host_t **)lua_getextraspace(h->L) = h;  /* copied into coroutines */
    lua_atpanic(h->L, host_panic);
    /* Granularity of the count hook: fine enough to stop near the budget,
     * coarse enough that the hook itself costs little. */
    h->step = h->opts.budget && h->opts.budget < 100000 ? 100 : 1000;
    if (h->opts.budget)
        lua_sethook(h->L, budget_hook, LUA_MASKCOUNT, h->step);
    lua_gc(h->L, LUA_GCGEN, 0, 0);
    luaL_openlibs(h->L);
    if (h->opts.budget) {
        lua_pushcfunction(h->L, guard_libs);
        if (lua_pcall(h->L, 0, 0, 0) != LUA_OK) {
            lua_close(h->L);
            free(h);
            return PR_ENOMEM;
        }
    }
    *out = h;
    return 0;
}

void pr_host_destroy(pr_host_t *h)
{
    if (!h)
        return;
    /* Newest first: later resources may depend on earlier ones. */
    while (h->resources.prev != &h->resources) {
        pr_res_t *r = h->resources.prev;
        pr_host_disown(h, r);
        r->close(r);
    }
    /* Finalizers written in Lua run during lua_close: keep them on a budget
     * so a broken __gc cannot hang shutdown (their errors become warnings). */
    h->depth = 1;
    h->used = 0;
    h->limit = h->opts.budget;
    lua_close(h->L);
    free(h);
}

lua_State *pr_host_lua(pr_host_t *h) { return h->L; }
int pr_host_running(const pr_host_t *h) { return h->depth > 0; }
pr_host_t *pr_host_of(lua_State *L) { return *(pr_host_t **)lua_getextraspace(L); }
pr_loop_t *pr_host_loop(pr_host_t *h) { return h->loop; }
const pr_host_opts_t *pr_host_opts(const pr_host_t *h) { return &h->opts; }

void pr_host_stats(const pr_host_t *h, pr_host_stats_t *st)
{
    *st = h->st;
    st->mem_used = h->mem_used;
    st->mem_peak = h->mem_peak;
}

void pr_host_own(pr_host_t *h, pr_res_t *r)
{
    r->prev = h->resources.prev;
    r->next = &h->resources;
    h->resources.prev->next = r;
    h->resources.prev = r;
}

pr_res_t *pr_host_res_next(pr_host_t *h, pr_res_t *r)
{
    r = r ? r->next : h->resources.next;
    return r == &h->resources ? NULL : r;
}

void pr_host_on_callback_error(pr_host_t *h, pr_host_error_fn fn, void *ud)
{
    h->on_cb_error = fn;
    h->on_cb_error_ud = ud;
}

const char *pr_host_last_error(const pr_host_t *h) { return h->last_error; }

/* Keep the first line of a message for pr_host_last_error(). */
static void note_error(pr_host_t *h, const char *msg)
{
    size_t n = msg ? strcspn(msg, "\n") : 0;
    if (n >= sizeof h->last_error)
        n = sizeof h->last_error - 1;
    memcpy(h->last_error, msg ? msg : "", n);
    h->last_error[n] = '\0';
}

void pr_host_disown(pr_host_t *h, pr_res_t *r)
{
    (void)h;
    if (!r->next)
        return;
    r->prev->next = r->next;
    r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

/* ------------------------------------------------------------ calling in */

/* Message handler: append a traceback to string errors; describe others. */
static int msgh(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Start a host call (or join the one in progress: nested calls share its
 * budget and its interrupt poll; only the outermost call's options count). */
static void call_begin(pr_host_t *h, uint64_t limit, const pr_host_callopts_t *o)
{
    if (h->depth++ == 0) {
        h->used = 0;
        h->limit = limit;
        h->exceeded = 0;
        h->abort_at[0] = '\0';
        h->mem_refused = 0;
        h->interrupted = 0;
        h->poll = o ? o->poll : NULL;
        h->poll_ud = o ? o->poll_ud : NULL;
        h->polled_at = 0;
        if (h->poll && !h->opts.budget)  /* budget off: hook for this call only */
            lua_sethook(h->L, budget_hook, LUA_MASKCOUNT, h->step);
    }
    h->st.calls++;
}

/* End a host call.  Returns 1 if the outermost call ran out of budget (or
 * was interrupted). */
static int call_end(pr_host_t *h, lua_State *co)
{
    if (--h->depth == 0) {
        if (h->exceeded && h->opts.budget) {
            lua_sethook(h->L, budget_hook, LUA_MASKCOUNT, h->step);
            if (co)
                lua_sethook(co, budget_hook, LUA_MASKCOUNT, h->step);
        } else if (h->poll && !h->opts.budget) {
            lua_sethook(h->L, NULL, 0, 0);
        }
        h->poll = NULL;
    }
    return h->exceeded && h->depth == 0;
}

/* What a failed call returns: PR_EBUDGET / -EINTR for an abort by the hook,
 * else by Lua's status. */
static int failure_code(const pr_host_t *h, int status)
{
    if (h->exceeded)
        return h->interrupted ? -EINTR : PR_EBUDGET;
    return status == LUA_ERRMEM ? PR_ENOMEM : PR_ESCRIPT;
}

/* Count and log a failed call whose message (with traceback) is on top of
 * h->L; pops it.  Returns the PR_E* code. */
static int call_failed(pr_host_t *h, int status, const char *what, const char *where)
{
    size_t len;
    const char *msg = lua_tolstring(h->L, -1, &len);
    int rc;

    rc = failure_code(h, status);
    h->st.errors++;
    if (rc == PR_EBUDGET || rc == -EINTR)
        h->st.budget_aborts++;
    else if (rc == PR_ENOMEM)
        h->st.mem_errors++;
    if (h->depth == 0)
        h->exceeded = 0;
    note_error(h, msg ? msg : "(no message)");
    if (rc == PR_ENOMEM && h->mem_refused) {
        pr_log_write(PR_LOG_ERROR, NULL, 0,
                     "%s%s%s failed: memory ceiling of %zu KiB reached%s (%s)",
                     what ? what : "Lua call", where ? " " : "", where ? where : "",
                     h->opts.max_bytes >> 10, h->mem_at, msg ? msg : "not enough memory");
    } else {
        pr_log_write(PR_LOG_ERROR, NULL, 0, "%s%s%s failed: %s",
                     what ? what : "Lua call", where ? " " : "", where ? where : "",
                     msg ? msg : "(no message)");
    }
    lua_pop(h->L, 1);
    if (h->depth == 0)
        lua_gc(h->L, LUA_GCCOLLECT, 0);  /* give back what a failed call left */
    return rc;
}

/* Message of a budget abort the script caught with a pcall whose result
 * went straight back to C (`return pcall(runaway)`): no instruction was
 * left to raise again, but the code did run away, so it fails all the same. */
static void push_caught_abort(pr_host_t *h, lua_State *L)
{
    if (h->interrupted)
        lua_pushfstring(L, "%s: interrupted (the script caught the error)", h->abort_at);
    else
        lua_pushfstring(L, "%s: instruction budget exceeded (%I instructions; "
                        "the script caught the error)", h->abort_at, (lua_Integer)h->limit);
}

static int call_with(pr_host_t *h, int nargs, int nresults, uint64_t limit,
                     const char *what, const char *where, const pr_host_callopts_t *o)
{
    lua_State *L = h->L;
    int base = lua_gettop(L) - nargs;  /* index of the function */
    int status, ran_away, rc;

    lua_pushcfunction(L, msgh);
    lua_insert(L, base);
    call_begin(h, limit, o);
    status = lua_pcall(L, nargs, nresults, base);
    ran_away = call_end(h, NULL);
    if (status == LUA_OK && !ran_away) {
        lua_remove(L, base);
        return 0;
    }
    if (status == LUA_OK) {
        lua_settop(L, base);  /* keep the msgh slot, drop the results */
        push_caught_abort(h, L);
    }
    if (o && o->keep_error) {
        /* The caller shows the message to its user: not the app's failure.
         * An abort raises again on every instruction, so the last raise
         * names wherever that was: name where it began. */
        rc = failure_code(h, status);
        if (h->depth == 0)
            h->exceeded = 0;
        if (rc == -EINTR)
            lua_pushfstring(L, "%s: interrupted", h->abort_at);
        else if (rc == PR_EBUDGET)
            lua_pushfstring(L, "%s: instruction budget exceeded (%I instructions)",
                            h->abort_at, (lua_Integer)h->limit);
        else if (rc == PR_ENOMEM && h->mem_refused)
            lua_pushfstring(L, "memory ceiling of %I KiB reached%s",
                            (lua_Integer)(h->opts.max_bytes >> 10), h->mem_at);
        lua_replace(L, base);  /* over the handler slot (or the pushed message) */
        lua_settop(L, base);
        if (h->depth == 0)
            lua_gc(L, LUA_GCCOLLECT, 0);
        return rc;
    }
    rc = call_failed(h, status, what, where);
    lua_settop(L, base - 1);
    return rc;
}

int pr_host_resume(pr_host_t *h, lua_State *co, int nargs, int *nres,
                   const char *what, const char *where)
{
    lua_State *prev = h->running;
    int status, ran_away, rc;

    call_begin(h, h->opts.budget, NULL);
    h->running = co;
    status = lua_resume(co, h->L, nargs, nres);
    h->running = prev;
    ran_away = call_end(h, co);
    if ((status == LUA_OK || status == LUA_YIELD) && !ran_away)
        return status == LUA_YIELD ? 1 : 0;
    if (status == LUA_OK || status == LUA_YIELD) {
        lua_pop(co, *nres);
        push_caught_abort(h, co);
    }
    /* The traceback is the coroutine's own: it is where the error was.  It
     * is built on the main thread (a dead coroutine cannot run anything),
     * and without calling __tostring: no protection is left to catch an
     * error in it. */
    {
        lua_State *L = h->L;
        int top = lua_gettop(L);
        const char *msg;
        lua_pushvalue(co, -1);
        lua_xmove(co, L, 1);
        msg = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER
                  ? lua_tostring(L, -1)
                  : lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
        luaL_traceback(L, co, msg, 0);
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
    }
    *nres = 1;  /* the error value stays on the coroutine's stack */
    rc = call_failed(h, status, what, where);
    /* A failing task is a failing callback as far as rollback goes. */
    if (h->on_cb_error)
        h->on_cb_error(h, h->on_cb_error_ud);
    return rc;
}

int pr_host_pcall(pr_host_t *h, int nargs, int nresults, const char *what,
                  const char *where)
{
    return call_with(h, nargs, nresults, h->opts.budget, what, where, NULL);
}

int pr_host_pcallx(pr_host_t *h, int nargs, int nresults, const char *what,
                   const char *where, const pr_host_callopts_t *o)
{
    return call_with(h, nargs, nresults, h->opts.budget, what, where, o);
}

void pr_callback_set(lua_State *L, pr_callback_t *cb, int idx, const char *what)
{
    lua_Debug ar;

    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TFUNCTION);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, idx);
    lua_getinfo(L, ">S", &ar);  /* pops one copy */
    if (ar.linedefined > 0)
        snprintf(cb->where, sizeof cb->where, "%s:%d", ar.short_src, ar.linedefined);
    else
        snprintf(cb->where, sizeof cb->where, "%s", ar.short_src);
    cb->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    cb->failures = 0;
    cb->disabled = 0;
    cb->what = what;
}

void pr_callback_unset(lua_State *L, pr_callback_t *cb)
{
    if (cb->ref != LUA_NOREF && cb->ref != LUA_REFNIL)
        luaL_unref(L, LUA_REGISTRYINDEX, cb->ref);
    cb->ref = LUA_NOREF;
}

int pr_host_call(pr_host_t *h, pr_callback_t *cb, int nargs, int nresults)
{
    lua_State *L = h->L;
    int rc;

    if (cb->disabled || cb->ref == LUA_NOREF) {
        lua_pop(L, nargs);
        return PR_EDISABLED;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, cb->ref);
    lua_insert(L, -(nargs + 1));
    rc = pr_host_pcall(h, nargs, nresults, cb->what, cb->where);
    if (rc == 0) {
        cb->failures = 0;
    } else if (h->opts.max_failures > 0 && ++cb->failures >= h->opts.max_failures) {
        cb->disabled = 1;
        h->st.disabled++;
        pr_log_error("%s %s disabled after %d consecutive failures",
                     cb->what ? cb->what : "callback", cb->where, cb->failures);
    }
    if (rc < 0 && h->on_cb_error)
        h->on_cb_error(h, h->on_cb_error_ud);
    return rc;
}

/* Compile (the chunk left on the stack) and run under the load budget. */
static int run_main(pr_host_t *h, int status, const char *path)
{
    lua_State *L = h->L;

    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        pr_log_write(PR_LOG_ERROR, NULL, 0, "load failed: %s", msg ? msg : path);
        note_error(h, msg ? msg : path);
        lua_pop(L, 1);
        h->st.errors++;
        if (status == LUA_ERRMEM)
            h->st.mem_errors++;
        return status == LUA_ERRMEM ? PR_ENOMEM : PR_ESCRIPT;
    }
    return call_with(h, 0, 0, h->opts.load_budget, "main chunk", path, NULL);
}

int pr_host_dofile(pr_host_t *h, const char *path)
{
    int status;

    /* Compiling is not budgeted (no instructions run), but it allocates:
     * count it as a call so the ceiling applies. */
    h->depth++;
    h->mem_refused = 0;
    status = luaL_loadfile(h->L, path);
    h->depth--;
    return run_main(h, status, path);
}

int pr_host_dobuffer(pr_host_t *h, const char *text, size_t len, const char *path)
{
    int status;

    lua_pushfstring(h->L, "@%s", path);
    h->depth++;
    h->mem_refused = 0;
    status = luaL_loadbuffer(h->L, text, len, lua_tostring(h->L, -1));
    h->depth--;
    lua_remove(h->L, -2);  /* the chunk name */
    return run_main(h, status, path);
}
