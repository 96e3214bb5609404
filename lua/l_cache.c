/* l_cache.c - perch.cache.open{...} and the perch.cache handle over
 * runtime/cache.
 *
 * The handle's userdata points at a pr_cache_t that C owns: it is registered
 * with the host as a resource, so tearing the app down (or replacing it by
 * a reloaded version) closes the cache even if a script forgot to.  The
 * background purge runs on the host's loop without calling into Lua.
 * Wrong arguments and use of a closed handle raise; failures of the file
 * (not an LMDB file, I/O error, entry too large) return nil, message, code
 * where code is a name: "MDB_INVALID", "ETOOBIG", "ENOENT". */
#include "perch.h"

#include "app.h"
#include "cache.h"
#include "error.h"
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "lopt.h"

#define CACHE_MT "perch.cache"
#define DEFAULT_PURGE_S 1.0

typedef struct lcache {
    pr_res_t res;              /* first: the host's resource list links this */
    pr_cache_t *c;             /* NULL once closed */
    pr_host_t *h;
    pr_metrics_collector_t collector;   /* its stats on /metrics */
} lcache_t;

static lcache_t *check_cache(lua_State *L, int idx)
{
    lcache_t *lc = luaL_checkudata(L, idx, CACHE_MT);
    if (!lc->c)
        luaL_error(L, "cache is closed");
    return lc;
}

pr_cache_t **pr_l_cache_slot(lua_State *L, int idx)
{
    lcache_t *lc = luaL_testudata(L, idx, CACHE_MT);
    return lc ? &lc->c : NULL;
}

static void cache_close(lcache_t *lc)
{
    if (!lc->c)
        return;
    pr_host_disown(lc->h, &lc->res);
    pr_metrics_collector_remove(&lc->collector);
    pr_cache_close(lc->c);
    lc->c = NULL;
}

static void res_close(pr_res_t *r)
{
    cache_close((lcache_t *)r);
}

/* /metrics: one set of series per file (labelled with its path; two
 * handles of one file report the same figures, and the exposition keeps
 * one). */
static void collect(pr_metrics_out_t *o, void *ud)
{
    lcache_t *lc = ud;
    pr_cache_stats_t st;
    const char *l[] = { "cache", pr_cache_path(lc->c) };

    if (pr_cache_stats(lc->c, &st) < 0)
        return;
#define C(name, help, v) pr_metrics_emit(o, PR_METRIC_COUNTER, name, help, 1, l, (double)(v))
#define G(name, help, v) pr_metrics_emit(o, PR_METRIC_GAUGE, name, help, 1, l, (double)(v))
    G("perch_cache_entries", "Entries in the cache file", st.entries);
    G("perch_cache_bytes", "Keys, values and metadata of those entries", st.bytes);
    G("perch_cache_map_bytes", "The map size: the cap", st.map_bytes);
    G("perch_cache_used_bytes", "Pages in use", st.used_bytes);
    C("perch_cache_hits_total", "Fresh gets", st.hits);
    C("perch_cache_misses_total", "Gets that found nothing", st.misses);
    C("perch_cache_stale_total", "Gets served stale", st.stale);
    C("perch_cache_refreshes_total", "Stale gets told to refresh", st.refreshes);
    C("perch_cache_puts_total", "Puts", st.puts);
    C("perch_cache_deletes_total", "Deletes", st.dels);
    C("perch_cache_evictions_total", "Entries dropped for room before expiry", st.evictions);
    C("perch_cache_purged_total", "Entries dropped after their stale deadline", st.purged);
    C("perch_cache_full_retries_total", "Puts retried after the map filled", st.full_retries);
#undef C
#undef G
}

static int fail(lua_State *L, const char *what, int rc)
{
    luaL_pushfail(L);
    if (what)
        lua_pushfstring(L, "%s: %s", what, pr_cache_strerror(rc));
    else
        lua_pushstring(L, pr_cache_strerror(rc));
    lua_pushstring(L, pr_cache_errname(rc));
    return 3;
}

/* A number field of an options table: absent -> def; present must be a
 * number in [lo, hi] (lo itself allowed only if lo_ok). */
static double opt_number(lua_State *L, int t, const char *key, double def, double lo,
                          int lo_ok, double hi)
{
    double v;
    int type = lua_getfield(L, t, key);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (type != LUA_TNUMBER)
        luaL_error(L, "cache option '%s' must be a number, got %s", key, luaL_typename(L, -1));
    v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!isfinite(v) || v < lo || (v == lo && !lo_ok) || v > hi) {
        char msg[160];  /* lua_pushfstring has no %g */
        snprintf(msg, sizeof msg, "cache option '%s' must be %s %.15g and <= %.15g, got %.15g", key,
                 lo_ok ? ">=" : ">", lo, hi, v);
        luaL_error(L, "%s", msg);
    }
    return v;
}

/* The app's default commit policy: perch.config.cache.sync_ms (--set
 * cache.sync_ms=N), else PR_CACHE_DEFAULT_SYNC_MS. */
static double config_sync_ms(lua_State *L)
{
    double v = PR_CACHE_DEFAULT_SYNC_MS;
    int top = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "perch") == LUA_TTABLE && lua_getfield(L, -1, "config") == LUA_TTABLE &&
        lua_getfield(L, -1, "cache") == LUA_TTABLE && lua_getfield(L, -1, "sync_ms") != LUA_TNIL) {
        int isnum;
        v = lua_tonumberx(L, -1, &isnum);
        if (!isnum || v != floor(v) || v < 0 || v > PR_CACHE_SYNC_MS_MAX)
            luaL_error(L, "config cache.sync_ms must be a whole number of ms in 0..%d, got '%s'",
                       PR_CACHE_SYNC_MS_MAX, luaL_tolstring(L, -1, NULL));
    }
    lua_settop(L, top);
    return v;
}

/* perch.cache.open{ path =, max_mb =, default_ttl_s =, stale_s =,
 *                   refresh_timeout_s =, purge_s =, sync_ms = }
 *   -> handle | nil, msg, code */
static int l_open(lua_State *L)
{
    static const char *const keys[] = { "path", "max_mb", "default_ttl_s", "stale_s",
                                        "refresh_timeout_s", "purge_s", "sync_ms", NULL };
    pr_host_t *h = pr_host_of(L);
    const char *path;
    double max_mb, ttl, stale, refresh, purge, sync_ms;
    lcache_t *lc;
    pr_cache_t *c;
    int rc;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    pr_lopt_keys(L, 1, "perch.cache.open", keys);
    if (lua_getfield(L, 1, "path") != LUA_TSTRING || lua_rawlen(L, -1) == 0)
        return luaL_error(L, "cache.open needs 'path' (a non-empty string)");
    path = lua_tostring(L, -1);  /* stays on the stack */
    max_mb = opt_number(L, 1, "max_mb", PR_CACHE_DEFAULT_MAX_MB, 1, 1, 1 << 20);
    if (max_mb != floor(max_mb))
        return luaL_error(L, "cache option 'max_mb' must be a whole number, got %f", max_mb);
    ttl = opt_number(L, 1, "default_ttl_s", PR_CACHE_DEFAULT_TTL_S, 0, 0, 1e9);
    stale = opt_number(L, 1, "stale_s", ttl, 0, 1, 1e9);
    refresh = opt_number(L, 1, "refresh_timeout_s", PR_CACHE_REFRESH_TIMEOUT_S, 0, 0, 1e9);
    purge = opt_number(L, 1, "purge_s", DEFAULT_PURGE_S, 0.001, 1, 1e6);
    sync_ms = opt_number(L, 1, "sync_ms", config_sync_ms(L), 0, 1, PR_CACHE_SYNC_MS_MAX);
    if (sync_ms != floor(sync_ms))
        return luaL_error(L, "cache option 'sync_ms' must be a whole number, got %f", sync_ms);

    /* The userdata first, so a raise below cannot leak an open cache. */
    lc = lua_newuserdatauv(L, sizeof *lc, 0);
    lc->c = NULL;
    lc->h = h;
    lc->res.close = res_close;
    memset(&lc->collector, 0, sizeof lc->collector);
    luaL_setmetatable(L, CACHE_MT);
    if ((rc = pr_cache_open(&c, path, (size_t)max_mb, ttl)) < 0)
        return fail(L, path, rc);
    pr_cache_set_stale(c, stale);
    pr_cache_set_refresh_timeout(c, refresh);
    if ((rc = pr_cache_set_sync(c, (unsigned)sync_ms)) < 0 ||
        (rc = pr_cache_attach(c, pr_host_loop(h), purge)) < 0) {
        pr_cache_close(c);
        return fail(L, path, rc);
    }
    lc->c = c;
    pr_host_own(h, &lc->res);
    {
        pr_app_env_t *env = pr_app_env_of(L);
        pr_metrics_collector_add(env ? env->metrics : NULL, &lc->collector, collect, lc);
    }
    return 1;
}

static const void *check_key(lua_State *L, int idx, size_t *len)
{
    const char *k = luaL_checklstring(L, idx, len);
    if (*len == 0 || *len > PR_CACHE_KEY_MAX)
        luaL_argerror(L, idx, lua_pushfstring(L, "key must be 1..%d bytes, got %d",
                                              PR_CACHE_KEY_MAX, (int)*len));
    return k;
}

/* c:get(key) -> value, "fresh"|"stale", refresh_due, content_type, flags
 *            | nil, "miss" | nil, message, code */
static int c_get(lua_State *L)
{
    lcache_t *lc = check_cache(L, 1);
    size_t klen;
    const void *key = check_key(L, 2, &klen);
    pr_cache_entry_t e;
    int rc = pr_cache_get(lc->c, key, klen, &e);

    if (rc < 0)
        return fail(L, NULL, rc);
    if (e.state == PR_CACHE_MISS) {
        lua_pushnil(L);
        lua_pushliteral(L, "miss");
        return 2;
    }
    lua_pushlstring(L, e.value, e.len);
    if (e.state == PR_CACHE_FRESH)
        lua_pushliteral(L, "fresh");
    else
        lua_pushliteral(L, "stale");
    lua_pushboolean(L, e.refresh_due);
    if (*e.content_type)
        lua_pushstring(L, e.content_type);
    else
        lua_pushnil(L);
    lua_pushinteger(L, (lua_Integer)e.flags);
    return 5;
}

/* c:put(key, value [, ttl_s | { ttl_s =, stale_s =, content_type =, flags = }])
 *   -> true | nil, message, code */
static int c_put(lua_State *L)
{
    static const char *const keys[] = { "ttl_s", "stale_s", "content_type", "flags", NULL };
    lcache_t *lc = check_cache(L, 1);
    size_t klen, vlen;
    const void *key = check_key(L, 2, &klen);
    const char *val = luaL_checklstring(L, 3, &vlen);
    pr_cache_meta_t m = { 0 };
    int rc;

    if (lua_type(L, 4) == LUA_TNUMBER) {
        m.ttl_s = lua_tonumber(L, 4);
        if (!isfinite(m.ttl_s) || m.ttl_s <= 0 || m.ttl_s > 1e9)
            return luaL_argerror(L, 4, lua_pushfstring(L, "ttl_s must be > 0, got %f", m.ttl_s));
    } else if (lua_type(L, 4) == LUA_TTABLE) {
        pr_lopt_keys(L, 4, "cache:put", keys);
        m.ttl_s = opt_number(L, 4, "ttl_s", 0, 0, 0, 1e9);
        /* Lua's stale_s = 0 is "no stale window"; the C API says that with
         * a negative value, its 0 being "the default". */
        double stale = opt_number(L, 4, "stale_s", -1, 0, 1, 1e9);
        m.stale_s = stale < 0 ? 0 : stale == 0 ? -1 : stale;
        if (lua_getfield(L, 4, "content_type") != LUA_TNIL) {
            size_t n;
            if (!lua_isstring(L, -1))
                return luaL_error(L, "cache put option 'content_type' must be a string");
            m.content_type = lua_tolstring(L, -1, &n);  /* stays on the stack */
            if (n > PR_CACHE_CT_MAX || strlen(m.content_type) != n)
                return luaL_error(L, "cache put option 'content_type' must be at most %d "
                                  "bytes without NULs", PR_CACHE_CT_MAX);
        }
        if (lua_getfield(L, 4, "flags") != LUA_TNIL) {
            lua_Integer f;
            int isint;
            f = lua_tointegerx(L, -1, &isint);
            if (!isint || f < 0 || f > (lua_Integer)UINT32_MAX)
                return luaL_error(L, "cache put option 'flags' must be an integer 0..2^32-1");
            m.flags = (uint32_t)f;
        }
    } else if (!lua_isnoneornil(L, 4)) {
        return luaL_typeerror(L, 4, "number, table or nil");
    }
    if ((rc = pr_cache_put(lc->c, key, klen, val, vlen, &m)) < 0)
        return fail(L, NULL, rc);
    lua_pushboolean(L, 1);
    return 1;
}

static int c_del(lua_State *L)
{
    lcache_t *lc = check_cache(L, 1);
    size_t klen;
    const void *key = check_key(L, 2, &klen);
    int rc = pr_cache_del(lc->c, key, klen);
    if (rc < 0)
        return fail(L, NULL, rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:release(key): a refresh failed; let the next stale get claim it. */
static int c_release(lua_State *L)
{
    lcache_t *lc = check_cache(L, 1);
    size_t klen;
    const void *key = check_key(L, 2, &klen);
    pr_cache_release(lc->c, key, klen);
    return 0;
}

/* c:sync() -> true | nil, message, code: fdatasync now what was committed
 * (on the calling thread; the sync thread does it every sync_ms anyway). */
static int c_sync(lua_State *L)
{
    lcache_t *lc = check_cache(L, 1);
    int rc = pr_cache_sync(lc->c);
    if (rc < 0)
        return fail(L, NULL, rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:purge([max]) -> number purged: one batch now, as the timer would. */
static int c_purge(lua_State *L)
{
    lcache_t *lc = check_cache(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, PR_CACHE_PURGE_BATCH);
    unsigned n;
    int rc;
    luaL_argcheck(L, max >= 1 && max <= 1000000, 2, "max must be 1..1000000");
    if ((rc = pr_cache_purge(lc->c, (unsigned)max, PR_CACHE_PURGE_NS, &n)) < 0)
        return fail(L, NULL, rc);
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

static int c_stats(lua_State *L)
{
    lcache_t *lc = check_cache(L, 1);
    pr_cache_stats_t st;
    int rc = pr_cache_stats(lc->c, &st);
    if (rc < 0)
        return fail(L, NULL, rc);
    const struct { const char *name; uint64_t v; } f[] = {
        { "entries", st.entries }, { "bytes", st.bytes }, { "map_bytes", st.map_bytes },
        { "used_bytes", st.used_bytes }, { "hits", st.hits }, { "misses", st.misses },
        { "stale", st.stale }, { "refreshes", st.refreshes }, { "puts", st.puts },
        { "dels", st.dels }, { "evictions", st.evictions }, { "purged", st.purged },
        { "full_retries", st.full_retries }, { "syncs", st.syncs },
        { "sync_errors", st.sync_errors }, { "sync_ms", pr_cache_sync_ms(lc->c) },
        { "orphans", st.orphans }, { "open_drops", st.open_drops },
    };
    lua_createtable(L, 0, (int)(sizeof f / sizeof f[0]));
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        lua_pushinteger(L, (lua_Integer)f[i].v);
        lua_setfield(L, -2, f[i].name);
    }
    return 1;
}

static int c_close(lua_State *L)
{
    cache_close(luaL_checkudata(L, 1, CACHE_MT));  /* idempotent */
    return 0;
}

static int c_tostring(lua_State *L)
{
    lcache_t *lc = luaL_checkudata(L, 1, CACHE_MT);
    if (!lc->c)
        lua_pushliteral(L, "perch.cache (closed)");
    else
        lua_pushfstring(L, "perch.cache (%s)", pr_cache_path(lc->c));
    return 1;
}

void pr_l_cache_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "get", c_get }, { "put", c_put }, { "del", c_del }, { "release", c_release },
        { "purge", c_purge }, { "sync", c_sync }, { "stats", c_stats }, { "close", c_close },
        { NULL, NULL },
    };
    static const luaL_Reg meta[] = {
        { "__gc", c_close }, { "__close", c_close }, { "__tostring", c_tostring },
        { "__index", NULL }, { NULL, NULL },
    };
    static const luaL_Reg funcs[] = { { "open", l_open }, { NULL, NULL } };

    luaL_newmetatable(L, CACHE_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "cache");
}
