/* l_task.h - tasks: Lua coroutines the loop drives, and the one way a
 * binding makes a task wait for something C does (a timer, an HTTP request).
 *
 * A binding that waits (perch.sleep, perch.http.request) is a lua_CFunction
 * that checks it runs in a task, starts its operation, and ends with
 *     return pr_task_wait(L, t, cancel, ud, k, ctx);
 * When the operation completes (in a loop callback, never inside Lua), it
 * calls pr_task_wake(t); at the next loop turn the task resumes, through the
 * host, in the continuation k, which calls pr_task_unwait() and pushes the
 * results the Lua caller sees.  If the task is cancelled or its app torn down
 * before that, cancel(ud) runs instead (from C, no Lua) and must release the
 * operation so it never wakes the task; k then never runs.  If k fails
 * before pr_task_unwait() (a memory error), cancel(ud) also runs, so the
 * operation is released exactly once either way. */
#ifndef PR_L_TASK_H
#define PR_L_TASK_H

#include <lua.h>

typedef struct pr_task pr_task_t;
typedef void (*pr_task_cancel_fn)(void *ud);

/* The task running on L, or a Lua error "<fn>: not inside a task (use
 * perch.spawn)" (also from a coroutine inside a task, and where a yield is
 * impossible: a metamethod or iterator called from C). */
pr_task_t *pr_task_check(lua_State *L, const char *fn);

/* Suspend the running task t (from its own thread L) until pr_task_wake().
 * Does not return to the caller: use it in a return statement. */
int pr_task_wait(lua_State *L, pr_task_t *t, pr_task_cancel_fn cancel, void *ud,
                 lua_KFunction k, lua_KContext ctx);

/* Make a waiting task run again at the next loop turn.  Safe from any loop
 * callback; it never runs Lua by itself. */
void pr_task_wake(pr_task_t *t);

/* From the continuation: the wait is over (cancel will not run any more).
 * Returns the ud given to pr_task_wait(). */
void *pr_task_unwait(pr_task_t *t);

/* ------------------------------------------------ tasks started from C
 *
 * A binding that runs Lua on behalf of something outside (the HTTP server
 * runs each request's handler as a task) starts the task itself and learns
 * how it ended. */
enum { PR_TASK_DONE, PR_TASK_FAILED, PR_TASK_CANCELLED };
/* Called once when the task ends: PR_TASK_DONE (its function returned),
 * PR_TASK_FAILED (it raised; the host logged it) or PR_TASK_CANCELLED
 * (pr_task_cancel, or its app torn down).  Runs from C with no Lua call
 * possible: it must not touch the Lua state. */
typedef void (*pr_task_end_fn)(void *ud, int how);

/* Start a task like perch.spawn(f, ...): the function and its nargs
 * arguments are on top of L's stack (popped).  No handle is left for Lua;
 * the task runs to its end all the same.  where names it in logs (NULL:
 * where f was defined).  It starts at the next loop turn, or at
 * pr_task_start().  Raises on memory errors: call it protected. */
pr_task_t *pr_task_spawn(lua_State *L, int nargs, const char *where, pr_task_end_fn end,
                         void *ud);
/* Run a task's first slice now rather than at the next loop turn, from a
 * loop callback outside any call into its host's Lua (else nothing
 * happens).  The end hook may run before this returns. */
void pr_task_start(pr_task_t *t);
/* Cancel as t:cancel() does (its wait is released, its to-be-closed
 * variables close through the host, its end hook runs), from a loop
 * callback outside any call into the host's Lua (else nothing happens). */
void pr_task_cancel(pr_task_t *t);

#endif
