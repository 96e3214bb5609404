/* l_buffer.c - perch.buffer(type, n), perch.buffer.from(type, t_or_s) and
 * the perch.buffer userdata: 1-based, bounds- and range-checked indexing. */
#include "l_buffer.h"
#include "perch.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#define BUFFER_MT "perch.buffer"
#define MAX_ELEMS ((size_t)1 << 31)  /* 2^31 elements: far past any ceiling */

static const char *const type_names[] = { "f32", "i8", "u8", "i32", NULL };
static const size_t type_size[] = { 4, 1, 1, 4 };

const char *pr_lbuf_type_name(pr_buf_type_t t) { return type_names[t]; }

pr_lbuf_t *pr_lbuf_new(lua_State *L, pr_buf_type_t type, size_t n)
{
    size_t bytes;
    pr_lbuf_t *b;
    uintptr_t p;

    if (n > MAX_ELEMS)
        luaL_error(L, "buffer of %I elements is too large", (lua_Integer)n);
    bytes = n * type_size[type];
    /* header, then up to 63 bytes of padding to the 64-byte boundary */
    b = lua_newuserdatauv(L, sizeof *b + 63 + bytes, 0);
    p = ((uintptr_t)(b + 1) + 63) & ~(uintptr_t)63;
    b->type = type;
    b->n = n;
    b->data = (void *)p;
    memset(b->data, 0, bytes);
    luaL_setmetatable(L, BUFFER_MT);
    return b;
}

pr_lbuf_t *pr_lbuf_check(lua_State *L, int idx, pr_buf_type_t type)
{
    pr_lbuf_t *b = luaL_testudata(L, idx, BUFFER_MT);
    if (!b || b->type != type) {
        const char *got = b ? lua_pushfstring(L, "%s buffer", type_names[b->type])
                            : luaL_typename(L, idx);
        luaL_argerror(L, idx, lua_pushfstring(L, "%s buffer expected, got %s",
                                              type_names[type], got));
    }
    return b;
}

static pr_lbuf_t *check_any(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, BUFFER_MT);
}

static size_t check_index(lua_State *L, pr_lbuf_t *b, int idx)
{
    lua_Integer i;
    int isint;
    i = lua_tointegerx(L, idx, &isint);
    if (!isint)
        luaL_error(L, "%s buffer index must be an integer, got %s", type_names[b->type],
                   luaL_typename(L, idx));
    if (i < 1 || (lua_Unsigned)i > b->n)
        luaL_error(L, "%s buffer index %I out of range (1..%I)", type_names[b->type], i,
                   (lua_Integer)b->n);
    return (size_t)(i - 1);
}

static void push_elem(lua_State *L, const pr_lbuf_t *b, size_t i)
{
    switch (b->type) {
    case PR_BUF_F32: lua_pushnumber(L, ((const float *)b->data)[i]); break;
    case PR_BUF_I8: lua_pushinteger(L, ((const int8_t *)b->data)[i]); break;
    case PR_BUF_U8: lua_pushinteger(L, ((const uint8_t *)b->data)[i]); break;
    default: lua_pushinteger(L, ((const int32_t *)b->data)[i]); break;
    }
}

/* Store the value at stack index v into element i, checking type and range:
 * a value that does not fit is an error, not a silent wrap. */
static void store_elem(lua_State *L, pr_lbuf_t *b, size_t i, int v)
{
    static const lua_Integer lo[] = { 0, -128, 0, INT32_MIN };
    static const lua_Integer hi[] = { 0, 127, 255, INT32_MAX };
    if (b->type == PR_BUF_F32) {
        if (!lua_isnumber(L, v))
            luaL_error(L, "f32 buffer element %I: number expected, got %s", (lua_Integer)i + 1,
                       luaL_typename(L, v));
        ((float *)b->data)[i] = (float)lua_tonumber(L, v);
        return;
    }
    int isint;
    lua_Integer x = lua_tointegerx(L, v, &isint);
    if (!isint || x < lo[b->type] || x > hi[b->type])
        luaL_error(L, "%s buffer element %I: integer in %I..%I expected, got %s",
                   type_names[b->type], (lua_Integer)i + 1, lo[b->type], hi[b->type],
                   lua_isnumber(L, v) ? lua_tostring(L, v) : luaL_typename(L, v));
    switch (b->type) {
    case PR_BUF_I8: ((int8_t *)b->data)[i] = (int8_t)x; break;
    case PR_BUF_U8: ((uint8_t *)b->data)[i] = (uint8_t)x; break;
    default: ((int32_t *)b->data)[i] = (int32_t)x; break;
    }
}

static pr_buf_type_t check_type(lua_State *L, int idx)
{
    return (pr_buf_type_t)luaL_checkoption(L, idx, NULL, type_names);
}

/* perch.buffer(type, n) */
static int l_new(lua_State *L)
{
    pr_buf_type_t t = check_type(L, 2);  /* 1 is the perch.buffer table */
    lua_Integer n = luaL_checkinteger(L, 3);
    luaL_argcheck(L, n >= 0, 3, "size must be >= 0");
    pr_lbuf_new(L, t, (size_t)n);
    return 1;
}

/* perch.buffer.from(type, table_or_string) */
static int l_from(lua_State *L)
{
    pr_buf_type_t t = check_type(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, 2, &len);
        luaL_argcheck(L, t == PR_BUF_U8 || t == PR_BUF_I8, 2,
                      "a string makes only u8 or i8 buffers");
        pr_lbuf_t *b = pr_lbuf_new(L, t, len);
        memcpy(b->data, s, len);
        return 1;
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, 2);
    pr_lbuf_t *b = pr_lbuf_new(L, t, n);
    for (size_t i = 0; i < n; i++) {
        lua_geti(L, 2, (lua_Integer)i + 1);
        store_elem(L, b, i, -1);
        lua_pop(L, 1);
    }
    return 1;
}

static int b_index(lua_State *L)
{
    pr_lbuf_t *b = check_any(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING) {  /* methods */
        lua_getmetatable(L, 1);
        lua_getfield(L, -1, "methods");
        lua_getfield(L, -1, lua_tostring(L, 2));
        return 1;
    }
    push_elem(L, b, check_index(L, b, 2));
    return 1;
}

static int b_newindex(lua_State *L)
{
    pr_lbuf_t *b = check_any(L, 1);
    store_elem(L, b, check_index(L, b, 2), 3);
    return 0;
}

static int b_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_any(L, 1)->n);
    return 1;
}

static int b_tostring(lua_State *L)
{
    pr_lbuf_t *b = check_any(L, 1);
    lua_pushfstring(L, "perch.buffer (%s, %I elements)", type_names[b->type], (lua_Integer)b->n);
    return 1;
}

static int m_totable(lua_State *L)
{
    pr_lbuf_t *b = check_any(L, 1);
    lua_createtable(L, (int)(b->n < 1u << 30 ? b->n : 0), 0);
    for (size_t i = 0; i < b->n; i++) {
        push_elem(L, b, i);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int m_tostring(lua_State *L)
{
    pr_lbuf_t *b = check_any(L, 1);
    if (b->type != PR_BUF_U8)
        return luaL_error(L, "tostring() is for u8 buffers, this one is %s", type_names[b->type]);
    lua_pushlstring(L, b->data, b->n);
    return 1;
}

static int m_type(lua_State *L)
{
    lua_pushstring(L, type_names[check_any(L, 1)->type]);
    return 1;
}

static int m_fill(lua_State *L)
{
    pr_lbuf_t *b = check_any(L, 1);
    luaL_checkany(L, 2);
    if (b->n == 0)
        return 0;
    store_elem(L, b, 0, 2);  /* checks the value once */
    for (size_t i = 1; i < b->n; i++)
        memcpy((char *)b->data + i * type_size[b->type], b->data, type_size[b->type]);
    lua_settop(L, 1);
    return 1;
}

void pr_l_buffer_open(lua_State *L)
{
    static const luaL_Reg meta[] = {
        { "__index", b_index }, { "__newindex", b_newindex }, { "__len", b_len },
        { "__tostring", b_tostring }, { NULL, NULL },
    };
    static const luaL_Reg methods[] = {
        { "totable", m_totable }, { "tostring", m_tostring }, { "type", m_type },
        { "fill", m_fill }, { NULL, NULL },
    };
    luaL_newmetatable(L, BUFFER_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);

    /* perch.buffer: callable table with .from */
    lua_newtable(L);
    lua_pushcfunction(L, l_from);
    lua_setfield(L, -2, "from");
    lua_newtable(L);
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    lua_setfield(L, -2, "buffer");
}
