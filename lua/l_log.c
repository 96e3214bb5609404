/* l_log.c - perch.log.debug/info/warn/error(fmt, ...): string.format, then
 * one log record tagged with the calling script's file:line. */
#include "perch.h"

#include "log.h"

#include <stdio.h>

#include <lauxlib.h>
#include <lualib.h>

static int log_at(lua_State *L, int level)
{
    lua_Debug ar;
    const char *msg;
    size_t len;
    int n = lua_gettop(L);
    char src[128];

    if (!pr_log_enabled(level))
        return 0;  /* no formatting cost for disabled levels */
    if (n > 1) {
        /* upvalue 1 is string.format: its errors name the bad argument */
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_insert(L, 1);
        lua_call(L, n, 1);
        msg = lua_tolstring(L, -1, &len);
    } else {
        msg = luaL_tolstring(L, 1, &len);
    }
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
        snprintf(src, sizeof src, "%s", ar.short_src);
        pr_log_raw(level, src, ar.currentline, msg, len);
    } else {
        pr_log_raw(level, NULL, 0, msg, len);
    }
    return 0;
}

static int l_debug(lua_State *L) { return log_at(L, PR_LOG_DEBUG); }
static int l_info(lua_State *L) { return log_at(L, PR_LOG_INFO); }
static int l_warn(lua_State *L) { return log_at(L, PR_LOG_WARN); }
static int l_error(lua_State *L) { return log_at(L, PR_LOG_ERROR); }

static int l_level(lua_State *L)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    lua_pushstring(L, names[pr_log_get_level()]);
    return 1;
}

void pr_l_log_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "debug", l_debug }, { "info", l_info },
        { "warn", l_warn },   { "error", l_error },
        { NULL, NULL },
    };
    lua_newtable(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, LUA_STRLIBNAME);
    lua_getfield(L, -1, "format");
    lua_replace(L, -3);
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 1);
    lua_pushcfunction(L, l_level);
    lua_setfield(L, -2, "level");
    lua_setfield(L, -2, "log");
}
