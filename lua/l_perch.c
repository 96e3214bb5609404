/* l_perch.c - the `perch` module table: clocks, stop, on_stop, config, and
 * the parts added by l_timer.c and l_log.c. */
#include "perch.h"

#include "error.h"
#include "loop.h"
#include "version.h"

#include <stdio.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

/* Registry key of the list of on_stop hooks. */
static const char STOP_HOOKS[] = "perch.on_stop";

static int l_now(lua_State *L)
{
    lua_pushnumber(L, pr_time_now());
    return 1;
}

/* Wall-clock seconds since the epoch (CLOCK_REALTIME, µs resolution), for
 * timestamps that leave the device; perch.now() is for intervals. */
static int l_wall(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) * 1e-6);
    return 1;
}

static int l_stop(lua_State *L)
{
    pr_loop_stop(pr_host_loop(pr_host_of(L)));
    return 0;
}

static int l_on_stop(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_getfield(L, LUA_REGISTRYINDEX, STOP_HOOKS);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    return 0;
}

void pr_lua_run_stop_hooks(pr_host_t *h)
{
    lua_State *L = pr_host_lua(h);
    lua_Integer n;

    if (lua_getfield(L, LUA_REGISTRYINDEX, STOP_HOOKS) != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = n; i >= 1; i--) {
        lua_Debug ar;
        char where[96];
        lua_rawgeti(L, -1, i);
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        snprintf(where, sizeof where, "%s:%d", ar.short_src, ar.linedefined);
        pr_host_pcall(h, 0, 0, "on_stop hook", where);
    }
    lua_pop(L, 1);
    /* Hooks run once: a second stop (reload, then exit) must not repeat them. */
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, STOP_HOOKS);
}

/* perch.<name> for an embedded Lua module perch.<name> (perch.policy, ...):
 * required on first use and cached in the table, so scripts need no require
 * and the modules cost nothing until used.  Other absent keys stay nil. */
static int l_index(lua_State *L)
{
    char name[64];
    size_t len;
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;

    if (!k || len > sizeof name - 7)
        return 0;
    snprintf(name, sizeof name, "perch.%s", k);
    if (!pr_l_embed_has(name))
        return 0;
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

static const luaL_Reg perch_funcs[] = {
    { "now", l_now },
    { "wall", l_wall },
    { "stop", l_stop },
    { "on_stop", l_on_stop },
    { NULL, NULL },
};

int luaopen_perch(lua_State *L)
{
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, STOP_HOOKS);

    luaL_newlib(L, perch_funcs);
    lua_pushliteral(L, PERCH_VERSION);
    lua_setfield(L, -2, "version");
    lua_newtable(L);
    lua_setfield(L, -2, "config");
    pr_l_timer_open(L);
    pr_l_task_open(L);
    pr_l_http_open(L);
    pr_l_http_server_open(L);
    pr_l_metrics_open(L);
    pr_l_log_open(L);
    pr_l_buffer_open(L);
    pr_l_npy_open(L);
    pr_l_mlp_open(L);
    pr_l_models_open(L);
    pr_l_cache_open(L);
    pr_l_frames_open(L);
    pr_l_jpeg_open(L);
    pr_l_motion_open(L);
    pr_l_json_open(L);
    pr_l_digest_open(L);
    pr_l_kernels_open(L);
    pr_l_sensors_open(L);
    pr_l_actuators_open(L);
    pr_l_reload_open(L);
    lua_newtable(L);
    lua_pushcfunction(L, l_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    return 1;
}

static int open_protected(lua_State *L)
{
    /* package.searchers[2] = embedded modules, ahead of the file system, so
     * a device always gets the library that matches its binary. */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    for (lua_Integer i = (lua_Integer)luaL_len(L, -1); i >= 2; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, pr_l_embed_searcher);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
    pr_l_retry_preload(L);
    pr_l_query_front_preload(L);

    luaL_requiref(L, "perch", luaopen_perch, 1);
    lua_pop(L, 1);
    return 0;
}

int pr_lua_open(pr_host_t *h)
{
    lua_State *L = pr_host_lua(h);
    lua_pushcfunction(L, open_protected);
    return pr_host_pcall(h, 0, 0, "opening the perch library", NULL);
}
