/* lopt.c - option tables of the Lua bindings: unknown keys refused with
 * the known ones listed, typed getters with ranges (lopt.h). */
#include "lopt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

void pr_lopt_keys(lua_State *L, int t, const char *what, const char *const *keys)
{
    luaL_checktype(L, t, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        int known = 0;
        if (lua_type(L, -2) == LUA_TSTRING)
            for (const char *const *k = keys; *k && !known; k++)
                known = !strcmp(*k, lua_tostring(L, -2));
        if (!known) {
            luaL_Buffer b;
            lua_pushvalue(L, -2);
            luaL_tolstring(L, -1, NULL);
            luaL_buffinit(L, &b);
            for (const char *const *k = keys; *k; k++) {
                if (k != keys)
                    luaL_addstring(&b, ", ");
                luaL_addstring(&b, *k);
            }
            luaL_pushresult(&b);
            luaL_error(L, "%s: unknown option '%s' (known: %s)", what, lua_tostring(L, -2),
                       lua_tostring(L, -1));
        }
        lua_pop(L, 1);
    }
}

double pr_lopt_num(lua_State *L, int t, const char *what, const char *key, double def,
                   double lo, double hi)
{
    double v;
    int type = lua_getfield(L, t, key);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (type != LUA_TNUMBER)
        luaL_error(L, "%s: '%s' must be a number, got %s", what, key, luaL_typename(L, -1));
    v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!isfinite(v) || v < lo || v > hi) {
        char msg[200];   /* lua_pushfstring has no %g */
        snprintf(msg, sizeof msg, "%s: '%s' must be in [%g, %g], got %g", what, key, lo, hi, v);
        luaL_error(L, "%s", msg);
    }
    return v;
}

lua_Integer pr_lopt_int(lua_State *L, int t, const char *what, const char *key,
                        lua_Integer def, lua_Integer lo, lua_Integer hi)
{
    double v = pr_lopt_num(L, t, what, key, (double)def, (double)lo, (double)hi);
    if (v != floor(v))
        luaL_error(L, "%s: '%s' must be a whole number", what, key);
    return (lua_Integer)v;
}

const char *pr_lopt_str(lua_State *L, int t, const char *what, const char *key,
                        const char *def)
{
    const char *s;
    int type = lua_getfield(L, t, key);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (type != LUA_TSTRING)
        luaL_error(L, "%s: '%s' must be a string, got %s", what, key, luaL_typename(L, -1));
    s = lua_tostring(L, -1);
    lua_pop(L, 1);   /* still referenced by the table */
    return s;
}

int pr_lopt_bool(lua_State *L, int t, const char *what, const char *key, int def)
{
    int type = lua_getfield(L, t, key), v;
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (type != LUA_TBOOLEAN)
        luaL_error(L, "%s: '%s' must be a boolean, got %s", what, key, luaL_typename(L, -1));
    v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}
