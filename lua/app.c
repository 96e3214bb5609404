/* app.c - loads an app into a fresh host: options, config, sensors, main
 * chunk. */
#include "app.h"

#include "error.h"
#include "log.h"
#include "perch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

struct pr_app {
    pr_host_t *host;
    pr_sampler_t *sampler;   /* created before the host, destroyed after it */
};

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
    pr_sampler_opts_t sensors;   /* checked here, applied by sensors_open */

    pr_sampler_opts_default(&sensors);
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
        } else if (pr_sampler_opts_set(&sensors, kv, klen, eq + 1, err, errlen) < 0) {
            return PR_EINVAL;
        }
    }
    return pr_sampler_opts_check(&sensors, err, errlen);
}

/* The app's sensor sampler, from the (already checked) --set keys.  One
 * small function so the sampler can later move to an owner that outlives
 * app versions (hot reload), and the app only borrow it. */
static int sensors_open(pr_sampler_t **out, pr_loop_t *loop, char *const *sets, int nsets)
{
    pr_sampler_opts_t o;
    char err[256];
    int rc;

    pr_sampler_opts_default(&o);
    for (int i = 0; i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (eq && pr_sampler_opts_set(&o, sets[i], (size_t)(eq - sets[i]), eq + 1,
                                      err, sizeof err) < 0) {
            pr_log_error("%s", err);
            return PR_EINVAL;
        }
    }
    rc = pr_sampler_create(out, loop, &o);
    if (rc < 0)
        pr_log_error("sensors: sysfs.root %s: %s", o.root, pr_strerror(rc));
    return rc;
}

struct setup_args {
    const char *path;
    char *const *sets;
    int nsets;
    pr_sampler_t *sampler;
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

    pr_l_sensors_attach(L, a->sampler);

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

    /* require finds the app's own modules next to it. */
    slash = strrchr(a->path, '/');
    lua_getglobal(L, "package");
    if (slash) {
        lua_pushlstring(L, a->path, (size_t)(slash - a->path));
        lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", lua_tostring(L, -1), lua_tostring(L, -1));
        lua_remove(L, -2);
    } else {
        lua_pushliteral(L, "./?.lua;./?/init.lua;");
    }
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    return 0;
}

int pr_app_create(pr_app_t **out, pr_loop_t *loop, const char *path,
                  char *const *sets, int nsets)
{
    pr_host_opts_t opts;
    char err[256];
    struct setup_args a = { path, sets, nsets, NULL };
    pr_app_t *app;
    lua_State *L;
    int rc;

    pr_host_opts_default(&opts);
    rc = pr_app_parse_sets(sets, nsets, &opts, err, sizeof err);
    if (rc < 0) {
        pr_log_error("%s", err);
        return rc;
    }
    app = calloc(1, sizeof *app);
    if (!app)
        return PR_ENOMEM;
    rc = sensors_open(&app->sampler, loop, sets, nsets);
    if (rc < 0)
        goto err;
    a.sampler = app->sampler;
    rc = pr_host_create(&app->host, &opts, loop);
    if (rc < 0)
        goto err;
    rc = pr_lua_open(app->host);
    if (rc < 0)
        goto err;
    L = pr_host_lua(app->host);
    lua_pushcfunction(L, setup);
    lua_pushlightuserdata(L, &a);
    rc = pr_host_pcall(app->host, 1, 0, "configuring", path);
    if (rc < 0)
        goto err;
    rc = pr_host_dofile(app->host, path);
    if (rc < 0)
        goto err;
    *out = app;
    return 0;
err:
    pr_host_destroy(app->host);
    pr_sampler_destroy(app->sampler);
    free(app);
    return rc;
}

void pr_app_stop(pr_app_t *app) { pr_lua_run_stop_hooks(app->host); }
pr_host_t *pr_app_host(pr_app_t *app) { return app->host; }
pr_sampler_t *pr_app_sampler(pr_app_t *app) { return app->sampler; }

void pr_app_destroy(pr_app_t *app)
{
    if (!app)
        return;
    /* The host first: it closes the script's sensor subscriptions. */
    pr_host_destroy(app->host);
    pr_sampler_destroy(app->sampler);
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
