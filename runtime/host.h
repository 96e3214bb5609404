/* host.h - the Lua host: one Lua 5.4 state per app and the one way C calls
 * into it.
 *
 * Every call from C into Lua goes through pr_host_pcall()/pr_host_call(),
 * which
 *   1. runs the function under lua_pcall with a traceback handler; an error
 *      is logged once (with the script's file:line) and counted, and never
 *      takes the process down;
 *   2. enforces an instruction budget per call with a count hook.  Once the
 *      budget is spent the hook re-arms itself to fire on every instruction
 *      of every coroutine, so a pcall inside the script cannot swallow the
 *      abort: each further instruction raises again until control is back
 *      in C;
 *   3. enforces a memory ceiling for the whole state through its lua_Alloc:
 *      growth past it fails as a Lua memory error inside the call.
 * A callback (pr_callback_t) that fails max_failures times in a row is
 * disabled and says so in the log; its owner (a timer, ...) stops using it.
 *
 * Ownership: C owns every resource with a lifetime (timers now; sockets,
 * files, caches later).  Each embeds a pr_res_t and registers it with the
 * host; Lua only holds userdata handles pointing at them.  Destroying the
 * host closes every registered resource, newest first, before closing the
 * Lua state, so an app version can be torn down (or replaced by a reloaded
 * one) without leaking anything. */
#ifndef PR_HOST_H
#define PR_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "loop.h"

typedef struct pr_host pr_host_t;

typedef struct pr_host_opts {
    size_t max_bytes;      /* memory ceiling of the state; 0: none */
    uint64_t budget;       /* instructions per call; 0: no hook at all */
    uint64_t load_budget;  /* instructions for running a main chunk */
    int max_failures;      /* consecutive failures before disabling; 0: never */
} pr_host_opts_t;

#define PR_HOST_DEFAULT_MAX_MB     64
#define PR_HOST_DEFAULT_BUDGET     5000000u
#define PR_HOST_DEFAULT_FAILURES   5

void pr_host_opts_default(pr_host_opts_t *opts);

typedef struct pr_host_stats {
    uint64_t calls;          /* calls into Lua through the host */
    uint64_t errors;         /* calls that failed, for whatever reason */
    uint64_t budget_aborts;  /* ... of which ran out of instructions */
    uint64_t mem_errors;     /* ... of which hit the memory ceiling */
    uint64_t disabled;       /* callbacks disabled after repeated failures */
    size_t mem_used, mem_peak;
} pr_host_stats_t;

/* A resource owned by C on behalf of the app.  close() must release it and
 * may be called while the Lua state still exists; after it the host forgets
 * the resource. */
typedef struct pr_res pr_res_t;
struct pr_res {
    pr_res_t *prev, *next;
    void (*close)(pr_res_t *res);
};

/* A Lua function C will call later, with its failure accounting. */
typedef struct pr_callback {
    int ref;              /* registry reference; LUA_NOREF when unset */
    int failures;         /* consecutive */
    int disabled;
    const char *what;     /* static description: "timer callback" */
    char where[96];       /* where the function was defined: "app.lua:12" */
} pr_callback_t;

/* Create a state with the standard libraries open.  The loop is borrowed and
 * must outlive the host.  Returns 0 or PR_ENOMEM. */
int pr_host_create(pr_host_t **out, const pr_host_opts_t *opts, pr_loop_t *loop);
/* Close all registered resources, then the Lua state (its finalizers run
 * under the budget).  Safe with NULL. */
void pr_host_destroy(pr_host_t *h);

lua_State *pr_host_lua(pr_host_t *h);
/* 1 while a call into this host's Lua is in progress (C called from Lua). */
int pr_host_running(const pr_host_t *h);
pr_host_t *pr_host_of(lua_State *L);    /* works from any coroutine */
pr_loop_t *pr_host_loop(pr_host_t *h);
void pr_host_stats(const pr_host_t *h, pr_host_stats_t *st);
const pr_host_opts_t *pr_host_opts(const pr_host_t *h);

void pr_host_own(pr_host_t *h, pr_res_t *res);
void pr_host_disown(pr_host_t *h, pr_res_t *res);
/* Walk the registered resources, oldest first: NULL gives the first, the
 * last gives NULL.  Do not own or disown while walking. */
pr_res_t *pr_host_res_next(pr_host_t *h, pr_res_t *res);

/* Call the function below `nargs` arguments on top of the stack.  On success
 * leaves nresults results and returns 0; on failure pops everything, logs
 * "<what> <where> failed: <message + traceback>" and returns PR_ESCRIPT,
 * PR_EBUDGET or PR_ENOMEM.  `where` may be NULL. */
int pr_host_pcall(pr_host_t *h, int nargs, int nresults,
                  const char *what, const char *where);

/* Resume coroutine co (a thread of h's state: fresh, with its function and
 * nargs arguments on its stack, or suspended, with nargs resume values) as
 * one host call: the same budget, ceiling, logging and counting as
 * pr_host_pcall, applied to this slice of the coroutine's run.  Returns 1 if
 * it yielded, 0 if it returned (either way *nres values are on its stack),
 * or PR_ESCRIPT/PR_EBUDGET/PR_ENOMEM if it failed: the error is logged with
 * the coroutine's traceback, and the error value is left on top of co's
 * stack (*nres = 1); co is dead.  Call it from C (loop callbacks), not from
 * inside the coroutine. */
int pr_host_resume(pr_host_t *h, lua_State *co, int nargs, int *nres,
                   const char *what, const char *where);

/* A call made on behalf of an interactive user (the REPL).
 *
 * poll: called from the count hook about every PR_HOST_POLL_EVERY
 * instructions while the call runs (the hook is installed for the call even
 * with the budget off).  Nonzero aborts the call exactly like a spent
 * budget, so the script cannot catch it, with the message "file:line:
 * interrupted", and the call returns -EINTR.  It runs inside a Lua hook:
 * it must not touch the Lua state.  Only the outermost call's poll counts.
 * keep_error: on failure leave the message (with traceback) as the one value
 * in place of the function instead of logging it and counting it in the
 * stats: the failure is the user's, who sees the message, not the app's. */
#define PR_HOST_POLL_EVERY 100000u
typedef struct pr_host_callopts {
    int (*poll)(void *ud);
    void *poll_ud;
    int keep_error;
} pr_host_callopts_t;

int pr_host_pcallx(pr_host_t *h, int nargs, int nresults, const char *what,
                   const char *where, const pr_host_callopts_t *co);

/* Store the function at stack index idx as a callback (raises a Lua error if
 * it is not a function: call from a C function bound to Lua). */
void pr_callback_set(lua_State *L, pr_callback_t *cb, int idx, const char *what);
void pr_callback_unset(lua_State *L, pr_callback_t *cb);
/* Call a callback with nargs arguments already pushed.  PR_EDISABLED (args
 * popped) if it is disabled or unset; otherwise as pr_host_pcall, plus the
 * failure accounting that may disable it. */
int pr_host_call(pr_host_t *h, pr_callback_t *cb, int nargs, int nresults);

/* Called after a callback (pr_host_call) failed, once its failure is
 * counted: the reloader watches a new version's health this way.  It runs
 * while the host call is still unwinding, so it must not destroy the host;
 * defer anything heavy.  One hook per host; fn NULL removes it. */
typedef void (*pr_host_error_fn)(pr_host_t *h, void *ud);
void pr_host_on_callback_error(pr_host_t *h, pr_host_error_fn fn, void *ud);

/* First line of the last error logged by a call into this host ("app.lua:3:
 * boom"), "" if none.  Valid until the next call. */
const char *pr_host_last_error(const pr_host_t *h);

/* Load and run a file as a main chunk under the load budget.  A syntax error
 * is logged with file:line.  Returns 0 or PR_ESCRIPT/PR_EBUDGET/PR_ENOMEM. */
int pr_host_dofile(pr_host_t *h, const char *path);
/* The same for a chunk already in memory; path names it in messages. */
int pr_host_dobuffer(pr_host_t *h, const char *text, size_t len, const char *path);

#endif
