/* l_reload.c - perch.reload: the reloader's counters, seen from the app
 * (for logs, /metrics, the REPL).  Without a reloader (an app created by
 * itself, as in the unit tests) the counters are all zero. */
#include "perch.h"

#include "app.h"
#include "reload.h"

#include <lauxlib.h>

static void set_int(lua_State *L, const char *k, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

/* perch.reload.stats() -> { attempts, ok, failed, rolled_back, unchanged,
 * version, last_ms, watching, last_error } */
static int l_stats(lua_State *L)
{
    pr_app_env_t *env = pr_app_env_of(L);
    pr_reload_stats_t st = { 0 };

    if (env && env->reloader)
        pr_reloader_stats(env->reloader, &st);
    else
        st.version = 1;
    lua_createtable(L, 0, 9);
    set_int(L, "attempts", st.attempts);
    set_int(L, "ok", st.ok);
    set_int(L, "failed", st.failed);
    set_int(L, "rolled_back", st.rolled_back);
    set_int(L, "unchanged", st.unchanged);
    set_int(L, "version", st.version);
    lua_pushnumber(L, st.last_ms);
    lua_setfield(L, -2, "last_ms");
    lua_pushboolean(L, st.watching);
    lua_setfield(L, -2, "watching");
    lua_pushstring(L, st.last_error);
    lua_setfield(L, -2, "last_error");
    return 1;
}

void pr_l_reload_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "stats", l_stats },
        { NULL, NULL },
    };
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "reload");
}
