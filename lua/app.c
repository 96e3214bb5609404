/* app.c - loads an app into a fresh host: options, config, device, main
 * chunk. */
#include "app.h"

#include "device.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "perch.h"
#include "reload.h"
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

struct pr_app {
    pr_host_t *host;
    pr_app_env_t *env;
    pr_app_env_t own_env;   /* for pr_app_create(), which takes no env */
    pr_source_t *own_src;   /* when the caller gave no source */
    pr_device_t *own_device;  /* pr_app_create() only: env->device */
    pr_metrics_t *own_metrics;  /* pr_app_create() only: env->metrics */
    pr_metrics_collector_t collector;
};

/* Registry key of the app's env (a light userdata). */
static const char ENV_KEY[] = "perch.env";

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int pr_app_parse_sets(char *const *sets, int nsets, pr_host_opts_t *opts,
                      char *err, size_t errlen)
{
    for (int i = 0; i < nsets; i++) {
        const char *kv = sets[i], *eq = strchr(kv, '=');
        unsigned long long v;
        size_t klen;

        if (!eq || eq == kv) {
            snprintf(err, errlen, "--set %s: expected key=value", kv);
            return PR_EINVAL;
        }
        klen = (size_t)(eq - kv);
        for (size_t j = 0; j < klen; j++) {
            char c = kv[j];
            if (!(c == '_' || c == '.' || c == '-' || (c >= '0' && c <= '9') ||
                  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ||
                (c == '.' && (j == 0 || j == klen - 1 || kv[j - 1] == '.'))) {
                snprintf(err, errlen, "--set %s: bad key (letters, digits, _ - and "
                         "dot-separated parts)", kv);
                return PR_EINVAL;
            }
        }
        if (klen == 10 && !strncmp(kv, "lua.max_mb", klen)) {
            if (parse_uint(eq + 1, 1 << 20, &v) || v == 0) {
                snprintf(err, errlen, "--set %s: lua.max_mb must be a whole number of MiB >= 1", kv);
                return PR_EINVAL;
            }
            opts->max_bytes = (size_t)v << 20;
        } else if (klen == 10 && !strncmp(kv, "lua.budget", klen)) {
            if (parse_uint(eq + 1, 1ull << 50, &v)) {
                snprintf(err, errlen, "--set %s: lua.budget must be a whole number of "
                         "instructions (0 turns the budget off)", kv);
                return PR_EINVAL;
            }
            opts->budget = v;
            opts->load_budget = v * 10;
        } else if (klen == 16 && !strncmp(kv, "lua.max_failures", klen)) {
            if (parse_uint(eq + 1, 1000000, &v)) {
                snprintf(err, errlen, "--set %s: lua.max_failures must be a whole number "
                         "(0 never disables)", kv);
                return PR_EINVAL;
            }
            opts->max_failures = (int)v;
        }
    }
    {
        /* The device's keys (sysfs.root, sensors.*, safety.*, actuators.*)
         * are checked here, so a bad one is a usage error. */
        pr_device_opts_t dev;
        pr_device_opts_default(&dev);
        return pr_device_parse_sets(sets, nsets, &dev, err, errlen);
    }
}

struct setup_args {
    const char *path;
    char *const *sets;
    int nsets;
    pr_app_env_t *env;
    pr_source_t *src;
};

/* Value of a --set: a number or boolean when it reads as one, else text. */
static void push_value(lua_State *L, const char *s)
{
    if (!strcmp(s, "true"))
        lua_pushboolean(L, 1);
    else if (!strcmp(s, "false"))
        lua_pushboolean(L, 0);
    else if (*s == '\0' || lua_stringtonumber(L, s) == 0)
        lua_pushstring(L, s);
}

/* Runs protected: build perch.config (dotted keys become nested tables) and
 * put the app's directory first on package.path. */
static int setup(lua_State *L)
{
    struct setup_args *a = lua_touserdata(L, 1);
    const char *slash;

    if (a->env->device)
        pr_l_sensors_attach(L, pr_device_sampler(a->env->device));

    lua_getglobal(L, "perch");
    lua_getfield(L, -1, "config");
    for (int i = 0; i < a->nsets; i++) {
        const char *kv = a->sets[i], *eq = strchr(kv, '='), *p = kv;
        int top = lua_gettop(L);
        lua_pushvalue(L, -1);
        for (;;) {
            const char *dot = memchr(p, '.', (size_t)(eq - p));
            const char *end = dot ? dot : eq;
            lua_pushlstring(L, p, (size_t)(end - p));
            if (!dot) {
                push_value(L, eq + 1);
                lua_settable(L, -3);
                break;
            }
            lua_pushvalue(L, -1);
            int t = lua_gettable(L, -3);
            if (t == LUA_TNIL) {
                lua_pop(L, 1);
                lua_newtable(L);
                lua_pushvalue(L, -2);
                lua_pushvalue(L, -2);
                lua_settable(L, -5);  /* parent[key] = new table */
            } else if (t != LUA_TTABLE) {
                lua_pushlstring(L, kv, (size_t)(end - kv));
                return luaL_error(L, "--set %s: '%s' is already set to a value",
                                  kv, lua_tostring(L, -1));
            }
            lua_remove(L, -2);  /* the key */
            lua_remove(L, -2);  /* the parent */
            p = dot + 1;
        }
        lua_settop(L, top);
    }
    lua_pop(L, 2);

    /* require finds the app's own modules next to it, then the project's
     * (require "policies.power" from scripts/camera.lua). */
    slash = strrchr(a->path, '/');
    lua_getglobal(L, "package");
    if (slash) {
        lua_pushlstring(L, a->path, (size_t)(slash - a->path));
        lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", lua_tostring(L, -1), lua_tostring(L, -1));
        lua_remove(L, -2);
    } else {
        lua_pushliteral(L, "./?.lua;./?/init.lua;");
    }
    {
        char root[4096];
        if (pr_app_root(a->path, root, sizeof root) == 0 &&
            (!slash || strlen(root) != (size_t)(slash - a->path + 1) ||
             strncmp(root, a->path, strlen(root))))
            lua_pushfstring(L, "%s?.lua;%s?/init.lua;", root, root);
        else
            lua_pushliteral(L, "");
    }
    lua_getfield(L, -3, "path");
    lua_concat(L, 3);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);

    /* required Lua files come through the version's source */
    pr_source_install(L, a->src);
    lua_pushlightuserdata(L, a->env);
    lua_setfield(L, LUA_REGISTRYINDEX, ENV_KEY);
    return 0;
}

/* The device's actuators and safety floor.  They belong to the process, not
 * to one script version: main.c creates them once in the env it hands to
 * every version; only pr_app_create(), which has no env from its caller,
 * makes its own. */
static int device_open(pr_device_t **out, pr_loop_t *loop, char *const *sets, int nsets)
{
    pr_device_opts_t o;
    char err[256];
    int rc;

    pr_device_opts_default(&o);
    if ((rc = pr_device_parse_sets(sets, nsets, &o, err, sizeof err)) < 0) {
        pr_log_error("%s", err);
        return rc;
    }
    if ((rc = pr_device_create(out, loop, &o)) < 0) {
        pr_log_error("cannot set up the actuators and safety floor: %s", pr_strerror(rc));
        return rc;
    }
    return 0;
}

int pr_app_root(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/'), *dir = path, *up;
    size_t dlen, n;

    if (!slash)
        return snprintf(buf, len, "./") < (int)len ? 0 : PR_EINVAL;
    dlen = (size_t)(slash - path);              /* "scripts", "/opt/p/scripts" */
    up = memrchr(path, '/', dlen);
    if (up)
        dir = up + 1;
    n = dlen - (size_t)(dir - path);
    if (n == 7 && !strncmp(dir, "scripts", 7)) {
        if (dir == path)
            n = (size_t)snprintf(buf, len, "./");
        else
            n = (size_t)snprintf(buf, len, "%.*s/", (int)(up - path), path);
    } else {
        n = (size_t)snprintf(buf, len, "%.*s/", (int)dlen, path);
    }
    return n < len ? 0 : PR_EINVAL;
}

pr_app_env_t *pr_app_env_of(lua_State *L)
{
    pr_app_env_t *env;
    lua_getfield(L, LUA_REGISTRYINDEX, ENV_KEY);
    env = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return env;
}

/* /metrics: this version's Lua host, and the process's reloader and
 * device as this version sees them. */
static void collect(pr_metrics_out_t *o, void *ud)
{
    pr_app_t *app = ud;
    pr_host_stats_t hs;

    pr_host_stats(app->host, &hs);
#define C(name, help, v) pr_metrics_emit(o, PR_METRIC_COUNTER, name, help, 0, NULL, (double)(v))
#define G(name, help, v) pr_metrics_emit(o, PR_METRIC_GAUGE, name, help, 0, NULL, (double)(v))
    G("perch_lua_memory_bytes", "Memory of the running version's Lua state", hs.mem_used);
    G("perch_lua_memory_peak_bytes", "Its peak", hs.mem_peak);
    C("perch_lua_calls_total", "Calls from C into Lua (this version)", hs.calls);
    C("perch_lua_errors_total", "Calls into Lua that failed (this version)", hs.errors);
    C("perch_lua_budget_aborts_total", "... of which ran out of instructions", hs.budget_aborts);
    C("perch_lua_memory_errors_total", "... of which hit the memory ceiling", hs.mem_errors);
    C("perch_lua_callbacks_disabled_total", "Callbacks disabled after repeated failures",
      hs.disabled);
    if (app->env->reloader) {
        pr_reload_stats_t rs;
        pr_reloader_stats(app->env->reloader, &rs);
        C("perch_reload_attempts_total", "Reloads tried to the end", rs.attempts);
        C("perch_reload_ok_total", "Reloads that swapped in a new version", rs.ok);
        C("perch_reload_failed_total", "Reloads that kept the old version", rs.failed);
        C("perch_reload_rolled_back_total", "Automatic returns to the previous version",
          rs.rolled_back);
        C("perch_reload_unchanged_total", "File events that changed nothing", rs.unchanged);
        G("perch_app_version", "Versions started: 1 at start, +1 per swap", rs.version);
        G("perch_reload_last_duration_seconds", "Build, check and swap of the last reload",
          rs.last_ms / 1000);
    }
#undef C
#undef G
    if (app->env->device)
        pr_device_collect(app->env->device, o);
}

/* Build app (allocated, zeroed but for env) and run its main chunk. */
static int create(pr_app_t *app, const char *path, pr_source_t *src, char *err,
                  size_t errlen)
{
    pr_host_opts_t opts;
    struct setup_args a = { path, app->env->sets, app->env->nsets, app->env, src };
    const pr_source_file_t *main_file;
    const char *text;
    size_t len;
    lua_State *L;
    int rc;

    pr_host_opts_default(&opts);
    rc = pr_app_parse_sets(app->env->sets, app->env->nsets, &opts, err, errlen);
    if (rc < 0) {
        pr_log_error("%s", err);
        return rc;
    }
    if (!src && (rc = pr_source_create(&app->own_src)) < 0)
        return rc;
    a.src = src = src ? src : app->own_src;
    if ((rc = pr_host_create(&app->host, &opts, app->env->loop)) < 0 ||
        (rc = pr_lua_open(app->host)) < 0)
        goto err;
    L = pr_host_lua(app->host);
    if (app->env->device)
        pr_l_actuators_bind(L, app->env->device);
    lua_pushcfunction(L, setup);
    lua_pushlightuserdata(L, &a);
    if ((rc = pr_host_pcall(app->host, 1, 0, "configuring", path)) < 0)
        goto err;
    if ((rc = pr_source_get(src, path, &main_file)) < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, pr_strerror(rc));
        pr_log_error("%s", err);
        return rc;
    }
    pr_metrics_collector_add(app->env->metrics, &app->collector, collect, app);
    text = pr_source_chunk(main_file, &len);
    if ((rc = pr_host_dobuffer(app->host, text, len, path)) < 0)
        goto err;
    return 0;
err:
    snprintf(err, errlen, "%s", app->host && *pr_host_last_error(app->host)
                                    ? pr_host_last_error(app->host) : pr_strerror(rc));
    return rc;
}

int pr_app_create(pr_app_t **out, pr_loop_t *loop, const char *path,
                  char *const *sets, int nsets)
{
    pr_app_t *app = calloc(1, sizeof *app);
    char err[256];
    int rc;

    if (!app)
        return PR_ENOMEM;
    /* No env from the caller: the app carries one (the sets are read
     * during creation only). */
    app->own_env = (pr_app_env_t){ loop, sets, nsets, NULL, NULL, NULL, NULL };
    app->env = &app->own_env;
    if ((rc = device_open(&app->own_device, loop, sets, nsets)) < 0) {
        free(app);
        return rc;
    }
    app->own_env.device = app->own_device;
    if ((rc = pr_metrics_create(&app->own_metrics)) < 0) {
        pr_app_destroy(app);
        return rc;
    }
    app->own_env.metrics = app->own_metrics;
    if ((rc = create(app, path, NULL, err, sizeof err)) < 0) {
        pr_app_destroy(app);
        return rc;
    }
    *out = app;
    return 0;
}

int pr_app_create_in(pr_app_t **out, pr_app_env_t *env, const char *path,
                     pr_source_t *src, char *err, size_t errlen)
{
    pr_app_t *app = calloc(1, sizeof *app);
    char buf[256];
    int rc;

    if (!err || errlen == 0) {
        err = buf;
        errlen = sizeof buf;
    }
    if (!app) {
        snprintf(err, errlen, "out of memory");
        return PR_ENOMEM;
    }
    app->env = env;
    if ((rc = create(app, path, src, err, errlen)) < 0) {
        pr_app_destroy(app);
        return rc;
    }
    *out = app;
    return 0;
}

void pr_app_stop(pr_app_t *app) { pr_lua_run_stop_hooks(app->host); }
pr_host_t *pr_app_host(pr_app_t *app) { return app->host; }

void pr_app_destroy(pr_app_t *app)
{
    if (!app)
        return;
    pr_metrics_collector_remove(&app->collector);
    /* The host first: it closes the script's sensor subscriptions. */
    pr_host_destroy(app->host);
    pr_source_destroy(app->own_src);
    pr_device_destroy(app->own_device);
    pr_metrics_destroy(app->own_metrics);
    free(app);
}

int pr_app_check(const char *path, char *err, size_t errlen)
{
    lua_State *L = luaL_newstate();
    int rc = 0;

    if (!L) {
        snprintf(err, errlen, "out of memory");
        return PR_ENOMEM;
    }
    if (luaL_loadfile(L, path) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        rc = PR_ESCRIPT;
    }
    lua_close(L);
    return rc;
}
