/* l_npy.c - perch.npy.load(path) -> f32 buffer, shape | nil, message. */
#include "l_buffer.h"
#include "npy.h"
#include "perch.h"

#include <lauxlib.h>

/* Largest element count a load may ask for: what the state's memory
 * ceiling could hold at all (the ceiling then decides for real). */
static size_t max_elems(lua_State *L)
{
    const pr_host_opts_t *o = pr_host_opts(pr_host_of(L));
    return o->max_bytes ? o->max_bytes / 4 : ((size_t)1 << 31);
}

int pr_l_npy_load(lua_State *L, const char *path, pr_lbuf_t **out, pr_npy_t *hdr)
{
    char err[320];
    pr_lbuf_t *b;

    if (pr_npy_open(hdr, path, max_elems(L), err, sizeof err) < 0) {
        lua_pushstring(L, err);
        return -1;
    }
    /* Allocating the buffer may raise (memory ceiling): no FILE may be
     * open then, so close after the header and reopen for the data. */
    pr_npy_close(hdr);
    b = pr_lbuf_new(L, PR_BUF_F32, hdr->count);
    if (pr_npy_open(hdr, path, max_elems(L), err, sizeof err) < 0) {
        lua_pop(L, 1);
        lua_pushstring(L, err);  /* the file changed under us */
        return -1;
    }
    if (pr_npy_read_f32(hdr, b->data, err, sizeof err) < 0) {
        pr_npy_close(hdr);
        lua_pop(L, 1);
        lua_pushfstring(L, "%s: %s", path, err);
        return -1;
    }
    pr_npy_close(hdr);
    *out = b;
    return 0;
}

static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    pr_lbuf_t *b;
    pr_npy_t hdr;

    if (pr_l_npy_load(L, path, &b, &hdr) < 0) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    lua_createtable(L, hdr.ndim, 0);
    for (int i = 0; i < hdr.ndim; i++) {
        lua_pushinteger(L, (lua_Integer)hdr.shape[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 2;
}

void pr_l_npy_open(lua_State *L)
{
    static const luaL_Reg funcs[] = { { "load", l_load }, { NULL, NULL } };
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "npy");
}
