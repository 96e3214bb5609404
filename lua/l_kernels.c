/* l_kernels.c - perch.kernels: the numeric kernels as seen from Lua. */
#include "perch.h"

#include "kernels.h"
#include "l_buffer.h"

#include <lauxlib.h>

/* perch.kernels.isa() -> the name of the variant set dispatch picked. */
static int l_isa(lua_State *L)
{
    lua_pushstring(L, pr_kernels()->isa_name);
    return 1;
}

/* Two buffers that must have the same length. */
static size_t same_len(lua_State *L, const pr_lbuf_t *a, const pr_lbuf_t *b, int ib)
{
    if (a->n != b->n)
        luaL_argerror(L, ib, lua_pushfstring(L, "length %I does not match the first buffer's %I",
                                             (lua_Integer)b->n, (lua_Integer)a->n));
    return a->n;
}

/* perch.kernels.dot(a, b) -> number (f32 buffers of equal length) */
static int l_dot(lua_State *L)
{
    pr_lbuf_t *a = pr_lbuf_check(L, 1, PR_BUF_F32), *b = pr_lbuf_check(L, 2, PR_BUF_F32);
    size_t n = same_len(L, a, b, 2);
    lua_pushnumber(L, pr_kernels()->f32_dot(a->data, b->data, n));
    return 1;
}

void pr_l_kernels_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "isa", l_isa },
        { "dot", l_dot },
        { NULL, NULL },
    };
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "kernels");
}
