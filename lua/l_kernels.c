/* l_kernels.c - perch.kernels: the numeric kernels as seen from Lua. */
#include "perch.h"

#include "kernels.h"

#include <lauxlib.h>

/* perch.kernels.isa() -> the name of the variant set dispatch picked. */
static int l_isa(lua_State *L)
{
    lua_pushstring(L, pr_kernels()->isa_name);
    return 1;
}

void pr_l_kernels_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "isa", l_isa },
        { NULL, NULL },
    };
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "kernels");
}
