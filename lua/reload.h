/* reload.h - hot reload: replace the running app version with a new one
 * between two callbacks, never with a broken one.
 *
 * The reloader owns the running app version.  It watches the app file and
 * every Lua file the app `require`d from the app's directory (inotify on
 * their directories, so saves by rename are seen too), and reloads when
 * they change (after reload.debounce_ms of quiet), on pr_reloader_request()
 * (SIGHUP, the REPL) and on pr_reloader_reload().  A reload:
 *
 *   1. asks the running version's on_save() for its state (plain data, see
 *      plain.h);
 *   2. builds the new version in a fresh host: main chunk, then
 *      on_reload(state), then check() (each optional global function; check
 *      fails by raising or returning false[, message]);
 *   3. only if all of that succeeded, swaps: the new version's repeating
 *      timers take the phase of the old ones (same period, creation order),
 *      and the old version is destroyed with every C resource it owned.
 *      Its on_stop hooks do not run: they are for the end of the process.
 *
 * Any failure keeps the old version running, logs the error with file:line
 * and counts it.  A failure to compile right after a file event is not
 * final until reload.settle_ms pass with no more writes (an editor may
 * still be writing).  If the new version's callbacks then fail
 * reload.rollback_failures times within reload.rollback_window_s of the
 * swap, the previous version is built again from the source text it ran
 * (kept in memory) with the state saved at the swap, and swapped back in.
 *
 * Everything runs on the loop thread.  The reloader owns its app; the env
 * (pr_app_env_t, with the process-level services) is the caller's and is
 * handed unchanged to every version. */
#ifndef PR_RELOAD_H
#define PR_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "host.h"

typedef struct pr_reloader pr_reloader_t;

typedef struct pr_reload_opts {
    int watch;                  /* reload.watch: watch the files (default on) */
    double debounce_s;          /* reload.debounce_ms: quiet time after the last
                                   file event before reloading (30 ms) */
    double settle_s;            /* reload.settle_ms: a failure right after file
                                   events waits this long for more (300 ms) */
    int rollback_failures;      /* reload.rollback_failures (3; 0 = never) */
    double rollback_window_s;   /* reload.rollback_window_s (10 s) */
} pr_reload_opts_t;

void pr_reload_opts_default(pr_reload_opts_t *o);
/* Read the reload.* keys of "key=value" sets into o (others are left to
 * their owners).  Returns 0, or PR_EINVAL with a message in err. */
int pr_reload_parse_sets(char *const *sets, int nsets, pr_reload_opts_t *o,
                         char *err, size_t errlen);

typedef struct pr_reload_stats {
    uint64_t attempts;      /* reloads tried to the end (ok + failed) */
    uint64_t ok;            /* ... that swapped in a new version */
    uint64_t failed;        /* ... that kept the old one */
    uint64_t rolled_back;   /* automatic returns to the previous version */
    uint64_t unchanged;     /* file events that left every file as it was */
    uint64_t version;       /* versions started: 1 at start, +1 per swap */
    double last_ms;         /* duration of the last swap: build + check + swap */
    int watching;           /* files are being watched */
    char last_error[256];   /* of the last failed reload, "" if none */
} pr_reload_stats_t;

/* Called after each reload that ran to the end: rc 0 (swapped) or PR_E*,
 * why (the string given to pr_reloader_request, "file changed" or
 * "rollback"), msg (the error's first line, or "" on success). */
typedef void (*pr_reload_done_fn)(pr_reloader_t *r, int rc, const char *why,
                                  const char *msg, void *ud);

/* Build the first version of the app at path (logging any error) and start
 * watching if o->watch.  Sets env->reloader.  Returns 0 or PR_E*. */
int pr_reloader_create(pr_reloader_t **out, pr_app_env_t *env, const char *path,
                       const pr_reload_opts_t *o);
/* Destroy the running version (its on_stop hooks do not run: call
 * pr_app_stop() first for that) and stop watching.  Safe with NULL. */
void pr_reloader_destroy(pr_reloader_t *r);

/* Reload soon, even if no file changed: on the loop's next turn, after the
 * callback in progress.  Safe from any loop callback, Lua ones included.
 * why ("SIGHUP", "repl") is logged and passed to the done hook; it must be
 * a static string.  Returns 0. */
int pr_reloader_request(pr_reloader_t *r, const char *why);
/* Reload now.  Only from C outside any call into the app's Lua (a loop
 * callback of C's own): PR_EINVAL otherwise, or while a reload runs.
 * Returns 0 if the new version runs, else PR_E* with the error in err. */
int pr_reloader_reload(pr_reloader_t *r, const char *why, char *err, size_t errlen);

/* The running version and its host.  Both change at every swap: look them
 * up again on each loop turn (a REPL evaluating in the app), never keep
 * them across one. */
pr_app_t *pr_reloader_app(pr_reloader_t *r);
pr_host_t *pr_reloader_host(pr_reloader_t *r);
void pr_reloader_stats(const pr_reloader_t *r, pr_reload_stats_t *st);
void pr_reloader_on_done(pr_reloader_t *r, pr_reload_done_fn fn, void *ud);

#endif
