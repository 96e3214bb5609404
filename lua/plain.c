/* plain.c - encode plain Lua data to bytes and back (see plain.h).
 *
 * Format, one tag byte per value: 'n' nil, 'f' false, 't' true, 'i' +
 * lua_Integer, 'd' + lua_Number, 's' + size_t length + bytes, 'T' + (key,
 * value)* + 'E'.  Native byte order and sizes: the bytes never leave the
 * process. */
#include "plain.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

void pr_plain_free(pr_plain_t *p)
{
    free(p->data);
    p->data = NULL;
    p->len = p->cap = 0;
}

static void put(lua_State *L, pr_plain_t *p, const void *bytes, size_t n)
{
    if (p->cap - p->len < n) {
        size_t ncap = p->cap ? p->cap : 256;
        while (ncap - p->len < n)
            ncap *= 2;
        unsigned char *nd = realloc(p->data, ncap);
        if (!nd)
            luaL_error(L, "out of memory saving the state");
        p->data = nd;
        p->cap = ncap;
    }
    memcpy(p->data + p->len, bytes, n);
    p->len += n;
}

static void put_tag(lua_State *L, pr_plain_t *p, char tag) { put(L, p, &tag, 1); }

struct enc {
    pr_plain_t *out;
    int onstack;      /* index of a table: tables being encoded -> true */
    int path;         /* index of a table: depth -> "key" text, for errors */
    const char *root;
};

/* "state.a[3].b" for the value at depth d (path[1..d] are the keys). */
static const char *where(lua_State *L, struct enc *e, int depth)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, e->root);
    for (int i = 1; i <= depth; i++) {
        lua_rawgeti(L, e->path, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

/* Key text for error paths: .name for identifiers, [k] otherwise. */
static void push_key_text(lua_State *L, int k)
{
    const char *s;
    size_t n;
    int ident = 0;

    if (lua_type(L, k) == LUA_TSTRING) {
        s = lua_tolstring(L, k, &n);
        ident = n > 0 && !(s[0] >= '0' && s[0] <= '9');
        for (size_t i = 0; ident && i < n; i++)
            ident = s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
                    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9');
        if (ident)
            lua_pushfstring(L, ".%s", s);
        else
            lua_pushfstring(L, "[\"%s\"]", s);
    } else if (lua_type(L, k) == LUA_TBOOLEAN) {
        lua_pushstring(L, lua_toboolean(L, k) ? "[true]" : "[false]");
    } else {
        lua_pushfstring(L, "[%s]", luaL_tolstring(L, k, NULL));
        lua_remove(L, -2);
    }
}

static void encode(lua_State *L, struct enc *e, int idx, int depth, int is_key)
{
    pr_plain_t *p = e->out;

    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        put_tag(L, p, 'n');
        return;
    case LUA_TBOOLEAN:
        put_tag(L, p, lua_toboolean(L, idx) ? 't' : 'f');
        return;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            lua_Integer i = lua_tointeger(L, idx);
            put_tag(L, p, 'i');
            put(L, p, &i, sizeof i);
        } else {
            lua_Number d = lua_tonumber(L, idx);
            put_tag(L, p, 'd');
            put(L, p, &d, sizeof d);
        }
        return;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        put_tag(L, p, 's');
        put(L, p, &n, sizeof n);
        put(L, p, s, n);
        return;
    }
    case LUA_TTABLE:
        if (is_key)
            break;
        if (depth >= PR_PLAIN_MAX_DEPTH) {
            luaL_error(L, "%s: nested deeper than %d tables", where(L, e, depth),
                       PR_PLAIN_MAX_DEPTH);
            return;
        }
        lua_pushvalue(L, idx);
        if (lua_rawget(L, e->onstack) != LUA_TNIL)
            luaL_error(L, "%s: a table that contains itself (a cycle); only plain, "
                          "acyclic data crosses a reload", where(L, e, depth));
        lua_pop(L, 1);
        lua_pushvalue(L, idx);
        lua_pushboolean(L, 1);
        lua_rawset(L, e->onstack);
        luaL_checkstack(L, 8, "state too deeply nested");
        put_tag(L, p, 'T');
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            int k = lua_gettop(L) - 1;
            int kt = lua_type(L, k);
            push_key_text(L, k);
            lua_rawseti(L, e->path, depth + 1);
            if (kt != LUA_TSTRING && kt != LUA_TNUMBER && kt != LUA_TBOOLEAN)
                luaL_error(L, "%s: a key that is a %s (keys must be strings, numbers or "
                              "booleans)", where(L, e, depth + 1), luaL_typename(L, k));
            encode(L, e, k, depth + 1, 1);
            encode(L, e, -1, depth + 1, 0);
            lua_pop(L, 1);
        }
        put_tag(L, p, 'E');
        lua_pushvalue(L, idx);
        lua_pushnil(L);
        lua_rawset(L, e->onstack);
        return;
    default:
        break;
    }
    luaL_error(L, "%s is a %s; only nil, booleans, numbers, strings and tables of "
                  "them cross a reload", where(L, e, depth), luaL_typename(L, idx));
}

void pr_plain_encode(lua_State *L, int idx, pr_plain_t *out, const char *root)
{
    struct enc e;
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    e.onstack = lua_gettop(L);
    lua_newtable(L);
    e.path = lua_gettop(L);
    e.out = out;
    e.root = root;
    encode(L, &e, idx, 0, 0);
    lua_pop(L, 2);
}

/* ---------------------------------------------------------------- decode */

struct dec {
    const unsigned char *p, *end;
};

static void take(lua_State *L, struct dec *d, void *dst, size_t n)
{
    if ((size_t)(d->end - d->p) < n)
        luaL_error(L, "saved state is truncated");
    memcpy(dst, d->p, n);
    d->p += n;
}

static void decode(lua_State *L, struct dec *d, int depth)
{
    unsigned char tag;

    if (depth > PR_PLAIN_MAX_DEPTH + 1)
        luaL_error(L, "saved state is nested too deeply");
    luaL_checkstack(L, 4, "saved state is nested too deeply");
    take(L, d, &tag, 1);
    switch (tag) {
    case 'n': lua_pushnil(L); break;
    case 'f': lua_pushboolean(L, 0); break;
    case 't': lua_pushboolean(L, 1); break;
    case 'i': {
        lua_Integer i;
        take(L, d, &i, sizeof i);
        lua_pushinteger(L, i);
        break;
    }
    case 'd': {
        lua_Number x;
        take(L, d, &x, sizeof x);
        lua_pushnumber(L, x);
        break;
    }
    case 's': {
        size_t n;
        take(L, d, &n, sizeof n);
        if ((size_t)(d->end - d->p) < n)
            luaL_error(L, "saved state is truncated");
        lua_pushlstring(L, (const char *)d->p, n);
        d->p += n;
        break;
    }
    case 'T':
        lua_newtable(L);
        for (;;) {
            if (d->p < d->end && *d->p == 'E') {
                d->p++;
                break;
            }
            decode(L, d, depth + 1);
            decode(L, d, depth + 1);
            lua_rawset(L, -3);
        }
        break;
    default:
        luaL_error(L, "saved state is malformed (tag 0x%02x)", (unsigned)tag);
    }
}

void pr_plain_decode(lua_State *L, const pr_plain_t *p)
{
    struct dec d = { p->data, p->data + p->len };
    if (!p->data || p->len == 0) {
        lua_pushnil(L);
        return;
    }
    decode(L, &d, 0);
    if (d.p != d.end)
        luaL_error(L, "saved state has %d trailing bytes", (int)(d.end - d.p));
}
