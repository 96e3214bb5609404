/* l_metrics.c - perch.metrics: counters, gauges and histograms a script
 * defines, exposed with the built-in ones on GET /metrics.
 *
 *   local hits = perch.metrics.counter("app_hits", "Hits by route", { "route" })
 *   hits:inc({ route = "/v1/query" })            -- app_hits_total{route="/v1/query"}
 *   local lat = perch.metrics.histogram("app_seconds", "Latency", { 0.01, 0.1, 1 })
 *   lat:observe(0.042, { route = "/v1/query" })  -- label names from the first use
 *   perch.metrics.gauge("app_queue", "Queued jobs"):set(3)
 *
 * Families live in the process's registry (the app env), not in the Lua
 * state: a reloaded version that defines the same family gets the same
 * one, and its counts go on.  A family defined without label names takes
 * them from its first use (the keys of that labels table, sorted); from
 * then on every use must give those and no others.  Counter names get
 * "_total" appended unless they end in it.  Wrong arguments raise. */
#include "perch.h"

#include "app.h"
#include "error.h"
#include "log.h"
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define METRIC_MT "perch.metric"

typedef struct lmetric {
    pr_metrics_t *m;
    pr_metric_t *f;        /* NULL until the first use fixes the label names */
    int type;
    int nbuckets;
    double buckets[PR_METRICS_MAX_BUCKETS];
    int warned;            /* "too many series" said once */
    char name[128];
    /* user value 1: the help text */
} lmetric_t;

static const char *const type_names[] = { "counter", "gauge", "histogram" };

static pr_metrics_t *registry(lua_State *L)
{
    pr_app_env_t *env = pr_app_env_of(L);
    if (!env || !env->metrics)
        luaL_error(L, "perch.metrics: no metrics registry in this process");
    return env->metrics;
}

/* Create (or find) the family with these label names. */
static void bind_family(lua_State *L, lmetric_t *lm, int ud, int n, const char *const *labels)
{
    char err[256];
    int rc;
    lua_getiuservalue(L, ud, 1);
    rc = pr_metrics_family(lm->m, lm->type, lm->name, lua_tostring(L, -1), n, labels,
                           lm->nbuckets, lm->buckets, &lm->f, err, sizeof err);
    lua_pop(L, 1);
    if (rc == PR_ENOMEM)
        luaL_error(L, "perch.metrics: out of memory");
    if (rc < 0)
        luaL_error(L, "perch.metrics: %s", err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Label values for the table at idx (or none if idx is 0), in the
 * family's label order; binds the family on first use. */
static void label_values(lua_State *L, lmetric_t *lm, int idx, const char **values)
{
    int n;

    if (idx && lua_type(L, idx) != LUA_TTABLE)
        luaL_error(L, "%s: labels must be a table of name = value, got %s", lm->name,
                   luaL_typename(L, idx));
    if (!lm->f) {
        const char *names[PR_METRICS_MAX_LABELS];
        n = 0;
        if (idx) {
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                lua_pop(L, 1);
                if (lua_type(L, -1) != LUA_TSTRING)
                    luaL_error(L, "%s: label names must be strings", lm->name);
                if (n == PR_METRICS_MAX_LABELS)
                    luaL_error(L, "%s: at most %d labels", lm->name, PR_METRICS_MAX_LABELS);
                names[n++] = lua_tostring(L, -1);  /* anchored by the table */
            }
        }
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        bind_family(L, lm, 1, n, names);
    }
    n = pr_metric_nlabels(lm->f);
    luaL_checkstack(L, 2 * n + 8, "perch.metrics");
    for (int i = 0; i < n; i++) {
        const char *name = pr_metric_label(lm->f, i);
        int t = idx ? lua_getfield(L, idx, name) : LUA_TNIL;
        if (t == LUA_TNIL)
            values[i] = "";
        else if (t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN)
            values[i] = luaL_tolstring(L, -1, NULL);  /* stays on the stack */
        else
            luaL_error(L, "%s: label '%s' must be a string, number or boolean, got %s", lm->name,
                       name, luaL_typename(L, -1));
    }
    if (idx) {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            int known = 0;
            lua_pop(L, 1);
            for (int i = 0; i < n && lua_type(L, -1) == LUA_TSTRING; i++)
                known |= !strcmp(lua_tostring(L, -1), pr_metric_label(lm->f, i));
            if (!known) {
                luaL_Buffer b;
                luaL_buffinit(L, &b);
                for (int i = 0; i < n; i++) {
                    if (i)
                        luaL_addstring(&b, ", ");
                    luaL_addstring(&b, pr_metric_label(lm->f, i));
                }
                if (!n)
                    luaL_addstring(&b, "none");
                luaL_pushresult(&b);
                luaL_where(L, 1);
                lua_pushfstring(L, "%s: unknown label '", lm->name);
                luaL_tolstring(L, -4, NULL);
                lua_pushfstring(L, "' (its labels: %s)", lua_tostring(L, -4));
                lua_concat(L, 4);
                lua_error(L);
            }
        }
    }
}

static void check_rc(lua_State *L, lmetric_t *lm, int rc)
{
    if (rc == PR_EFULL && !lm->warned) {
        lm->warned = 1;
        pr_log_warn("perch.metrics: %s has %d label sets already: new ones are dropped",
                    lm->name, PR_METRICS_MAX_SERIES);
    } else if (rc == PR_ENOMEM) {
        luaL_error(L, "%s: out of memory", lm->name);
    }
}

static lmetric_t *check_metric(lua_State *L, int type, const char *method)
{
    lmetric_t *lm = luaL_checkudata(L, 1, METRIC_MT);
    lua_settop(L, 3);  /* label values pile up above the arguments */
    if (type >= 0 && lm->type != type &&
        !(type == PR_METRIC_COUNTER && lm->type == PR_METRIC_GAUGE))
        luaL_error(L, "%s is a %s: it has no :%s()", lm->name, type_names[lm->type], method);
    return lm;
}

static double check_value(lua_State *L, int idx, lmetric_t *lm)
{
    double v = luaL_checknumber(L, idx);
    if (isnan(v))
        luaL_error(L, "%s: the value is NaN", lm->name);
    return v;
}

/* counter:inc([labels][, n]), gauge:inc(...) too; n defaults to 1. */
static int m_inc(lua_State *L)
{
    lmetric_t *lm = check_metric(L, PR_METRIC_COUNTER, "inc");
    const char *values[PR_METRICS_MAX_LABELS];
    int lidx = 0;
    double n = 1;

    if (lua_type(L, 2) == LUA_TNUMBER) {  /* inc(n[, labels]) */
        n = check_value(L, 2, lm);
        lidx = lua_istable(L, 3) ? 3 : 0;
    } else {
        lidx = lua_isnoneornil(L, 2) ? 0 : 2;
        if (!lua_isnoneornil(L, 3))
            n = check_value(L, 3, lm);
    }
    if (lm->type == PR_METRIC_COUNTER && n < 0)
        return luaL_error(L, "%s: a counter only goes up (inc by %f)", lm->name, n);
    label_values(L, lm, lidx, values);
    check_rc(L, lm, pr_metric_add(lm->f, values, n));
    return 0;
}

/* obj:METHOD(v[, labels]) for set, add (gauges) and observe (histograms). */
static int update(lua_State *L, int type, const char *method,
                  int (*fn)(pr_metric_t *, const char *const *, double))
{
    lmetric_t *lm = check_metric(L, type, method);
    const char *values[PR_METRICS_MAX_LABELS];
    double v = check_value(L, 2, lm);
    label_values(L, lm, lua_isnoneornil(L, 3) ? 0 : 3, values);
    check_rc(L, lm, fn(lm->f, values, v));
    return 0;
}

static int m_set(lua_State *L) { return update(L, PR_METRIC_GAUGE, "set", pr_metric_set); }
static int m_add(lua_State *L) { return update(L, PR_METRIC_GAUGE, "add", pr_metric_add); }
static int m_observe(lua_State *L)
{
    return update(L, PR_METRIC_HISTOGRAM, "observe", pr_metric_observe);
}

/* counter or gauge:get([labels]): the current value (tests, the REPL). */
static int m_get(lua_State *L)
{
    lmetric_t *lm = check_metric(L, -1, "get");
    const char *values[PR_METRICS_MAX_LABELS];
    if (lm->type == PR_METRIC_HISTOGRAM)
        return luaL_error(L, "%s is a histogram: it has no :get()", lm->name);
    label_values(L, lm, lua_isnoneornil(L, 2) ? 0 : 2, values);
    lua_pushnumber(L, pr_metric_get(lm->f, values));
    return 1;
}

pr_metric_t *pr_l_metric_family(lua_State *L, int idx)
{
    lmetric_t *lm = luaL_testudata(L, idx, METRIC_MT);
    return lm ? lm->f : NULL;
}

static int m_tostring(lua_State *L)
{
    lmetric_t *lm = luaL_checkudata(L, 1, METRIC_MT);
    lua_pushfstring(L, "perch.metrics.%s (%s)", type_names[lm->type], lm->name);
    return 1;
}

/* ------------------------------------------------------------ defining -- */

static int define(lua_State *L, int type)
{
    const char *fn = type_names[type];
    const char *name = luaL_checkstring(L, 1);
    const char *help = luaL_optstring(L, 2, "");
    int lidx = type == PR_METRIC_HISTOGRAM ? 4 : 3;
    lmetric_t *lm;
    size_t nlen = strlen(name);
    int ud;

    lua_settop(L, lidx);  /* the handle goes above every argument */
    if (!pr_metrics_valid_name(name, 0))
        return luaL_error(L, "perch.metrics.%s: '%s' is not a valid metric name "
                             "([a-zA-Z_:][a-zA-Z0-9_:]*)", fn, name);
    if (nlen > 100)
        return luaL_error(L, "perch.metrics.%s: name longer than 100 bytes", fn);
    lm = lua_newuserdatauv(L, sizeof *lm, 1);
    ud = lua_gettop(L);
    memset(lm, 0, sizeof *lm);
    lm->m = registry(L);
    lm->type = type;
    snprintf(lm->name, sizeof lm->name, "%s%s", name,
             type == PR_METRIC_COUNTER && (nlen < 6 || strcmp(name + nlen - 6, "_total"))
                 ? "_total" : "");
    luaL_setmetatable(L, METRIC_MT);
    lua_pushstring(L, help);
    lua_setiuservalue(L, -2, 1);
    if (type == PR_METRIC_HISTOGRAM) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lm->nbuckets = (int)luaL_len(L, 3);
        if (lm->nbuckets < 1 || lm->nbuckets > PR_METRICS_MAX_BUCKETS)
            return luaL_error(L, "perch.metrics.histogram: %s needs 1..%d bucket bounds", name,
                              PR_METRICS_MAX_BUCKETS);
        for (int i = 0; i < lm->nbuckets; i++) {
            lua_rawgeti(L, 3, i + 1);
            if (!lua_isnumber(L, -1))
                return luaL_error(L, "perch.metrics.histogram: %s: bucket %d is not a number",
                                  name, i + 1);
            lm->buckets[i] = lua_tonumber(L, -1);
            lua_pop(L, 1);
            if (!isfinite(lm->buckets[i]) || (i > 0 && lm->buckets[i] <= lm->buckets[i - 1]))
                return luaL_error(L, "perch.metrics.histogram: %s: bucket bounds must be "
                                     "finite and strictly increasing", name);
        }
    }
    if (!lua_isnoneornil(L, lidx)) {
        const char *names[PR_METRICS_MAX_LABELS];
        int n;
        luaL_checktype(L, lidx, LUA_TTABLE);
        n = (int)luaL_len(L, lidx);
        if (n > PR_METRICS_MAX_LABELS)
            return luaL_error(L, "perch.metrics.%s: %s: at most %d labels", fn, name,
                              PR_METRICS_MAX_LABELS);
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, lidx, i + 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "perch.metrics.%s: %s: label names must be strings", fn,
                                  name);
            names[i] = lua_tostring(L, -1);  /* anchored by the table */
            lua_pop(L, 1);
        }
        bind_family(L, lm, ud, n, names);
    }
    return 1;
}

static int l_counter(lua_State *L) { return define(L, PR_METRIC_COUNTER); }
static int l_gauge(lua_State *L) { return define(L, PR_METRIC_GAUGE); }
static int l_histogram(lua_State *L) { return define(L, PR_METRIC_HISTOGRAM); }

/* perch.metrics.expose(): the text GET /metrics would answer now. */
static int l_expose(lua_State *L)
{
    char *text;
    size_t len;
    if (pr_metrics_expose(registry(L), &text, &len) < 0)
        return luaL_error(L, "perch.metrics.expose: out of memory");
    lua_pushlstring(L, text, len);
    free(text);
    return 1;
}

void pr_l_metrics_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "inc", m_inc }, { "set", m_set }, { "add", m_add }, { "observe", m_observe },
        { "get", m_get }, { NULL, NULL },
    };
    static const luaL_Reg funcs[] = {
        { "counter", l_counter }, { "gauge", l_gauge }, { "histogram", l_histogram },
        { "expose", l_expose }, { NULL, NULL },
    };
    luaL_newmetatable(L, METRIC_MT);
    lua_pushcfunction(L, m_tostring);
    lua_setfield(L, -2, "__tostring");
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "metrics");
}
