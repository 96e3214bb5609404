/* app.h - an app: a host with the perch library, its config, and its main
 * chunk run once.  One app = one script version; tearing it down closes all
 * it owns, which is what lets a later version replace it in the same loop. */
#ifndef PR_APP_H
#define PR_APP_H

#include <stddef.h>

#include "host.h"
#include "loop.h"

typedef struct pr_app pr_app_t;
struct pr_reloader;
struct pr_source;
struct pr_device;
struct pr_metrics;
struct pr_l_http_servers;

/* What an app version gets from the process, as opposed to what it builds
 * itself: the loop, the --set values, and the process-level services that
 * must outlive every version (the reloader; the device: sensor sampler,
 * actuators and safety floor, created once by main.c and handed to each
 * version, so a reload does not restart them).  Owned by the caller; it
 * must outlive every app created with it.  Bindings reach it from Lua with
 * pr_app_env_of(). */
typedef struct pr_app_env {
    pr_loop_t *loop;
    char *const *sets;
    int nsets;
    struct pr_reloader *reloader;  /* set by pr_reloader_create; else NULL */
    struct pr_device *device;      /* sensors, actuators, safety floor; or NULL */
    struct pr_metrics *metrics;    /* the process's metrics registry; or NULL */
    struct pr_l_http_servers *http_servers;  /* listening HTTP servers (l_http_server.c);
                                                start NULL, empty when every app is gone */
} pr_app_env_t;

/* Split "key=value" into host options and the perch.config table.  Keys of
 * the host: lua.max_mb (memory ceiling, MiB), lua.budget (instructions per
 * callback, 0 = off), lua.max_failures (consecutive errors before a callback
 * is disabled, 0 = never).  The sensor keys (sysfs.root, sensors.period_ms,
 * sensors.stale_s, sensors.stuck_s) are checked here too.  Returns 0, or
 * PR_EINVAL with a message in err. */
int pr_app_parse_sets(char *const *sets, int nsets, pr_host_opts_t *opts,
                      char *err, size_t errlen);

/* Create the host, open the library, build perch.config, add the app's
 * directory to package.path and run the main chunk.  Errors are logged
 * (file:line for scripts); returns 0 or a PR_E* code. */
int pr_app_create(pr_app_t **out, pr_loop_t *loop, const char *path,
                  char *const *sets, int nsets);
/* The same within env, with the main chunk and required Lua files read
 * through src (borrowed; must outlive the app): files it already holds are
 * taken from memory, others are read and kept.  src NULL: the app keeps
 * its own.  On failure err (may be NULL) gets the first line of the error,
 * "app.lua:3: boom", which is also logged. */
int pr_app_create_in(pr_app_t **out, pr_app_env_t *env, const char *path,
                     struct pr_source *src, char *err, size_t errlen);
/* The project directory of the app at path, with a trailing '/': the
 * app's own directory, or its parent when that is named "scripts" (the
 * layout perch ships: scripts/ next to policies/), so "scripts/camera.lua"
 * -> "./" and "/opt/p/scripts/cam.lua" -> "/opt/p/".  require searches it
 * after the app's directory; the reloader watches files under both.
 * Returns 0, or PR_EINVAL if buf is too small. */
int pr_app_root(const char *path, char *buf, size_t len);

/* The env of the app whose state L is; NULL outside an app. */
pr_app_env_t *pr_app_env_of(lua_State *L);

/* Run the on_stop hooks (newest first). */
void pr_app_stop(pr_app_t *app);
void pr_app_destroy(pr_app_t *app);
pr_host_t *pr_app_host(pr_app_t *app);

/* Compile path without running it.  Returns 0, or PR_ESCRIPT with the
 * "file:line: message" of the error in err. */
int pr_app_check(const char *path, char *err, size_t errlen);

#endif
