/* l_json.c - perch.json: decode JSON text into Lua values and encode them
 * back.
 *
 *   local v, err = perch.json.decode(text, { max_depth = 128, max_bytes = 8 << 20 })
 *   local s, err = perch.json.encode(v, { sort_keys = true, max_depth = 128 })
 *
 * Decoding is cJSON's (Debian's libcjson): the grammar, escapes and surrogate
 * pairs are its job.  Three things it does not do are done here, in one
 * linear pre-scan of the text before cJSON sees it: the depth limit (cJSON's
 * own is a compile-time 1000), line:col in error messages (cJSON only gives
 * an offset), and integers: cJSON parses every number into a double, so
 * while the tree is turned into Lua values a second cursor walks the number
 * literals of the text in the same (document) order, and a literal without
 * '.', 'e' or 'E' that fits 64 bits becomes a Lua integer, exactly.
 *
 * Encoding is written here (a JSON writer is short), for what cJSON's printer
 * gets wrong for Lua: 64-bit integers (it prints through a double), strings
 * with NUL bytes, and floats that happen to be whole (1.0 is written "1.0",
 * so it decodes as a float again).  Keys are sorted by default so equal
 * tables give equal text.
 *
 * JSON null is perch.json.null (a light userdata), in arrays and objects
 * alike, so no key vanishes.  Decoded arrays carry the perch.json.array
 * metatable, so an empty array encodes back as [] (an empty plain table is
 * {}); perch.json.array(t) marks a table the same way.
 *
 * Wrong arguments raise; text that is not JSON, or a value JSON cannot hold,
 * returns nil, "json: line:col: message" / "json.encode: path: message". */
#include "perch.h"
#include "l_json.h"
#include "lopt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lauxlib.h>

#define ARRAY_MT "perch.json.array"
#define TREE_MT "perch.json.tree"
#define BUF_MT "perch.json.buf"

#define DEFAULT_MAX_DEPTH 128
#define HARD_MAX_DEPTH 1000   /* cJSON's CJSON_NESTING_LIMIT */
#define DEFAULT_MAX_BYTES ((lua_Integer)8 << 20)

/* ------------------------------------------------------------ options */

/* Integer option `key` of the table at idx in [lo, hi], or dflt. */
static lua_Integer opt_int(lua_State *L, int idx, const char *fn, const char *key,
                           lua_Integer lo, lua_Integer hi, lua_Integer dflt)
{
    lua_Integer v;
    int isint;

    if (idx == 0 || lua_getfield(L, idx, key) == LUA_TNIL) {
        if (idx)
            lua_pop(L, 1);
        return dflt;
    }
    v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < lo || v > hi)
        luaL_error(L, "%s: option '%s' must be a whole number in %I..%I, got %s", fn, key, lo,
                   hi, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return v;
}

/* The options table at idx (0 if absent), its keys checked against allowed. */
static int opts_table(lua_State *L, int idx, const char *fn, const char *const *allowed)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    pr_lopt_keys(L, idx, fn, allowed);
    return idx;
}

/* ------------------------------------------------------------- decode */

typedef struct scan {
    const char *s;
    size_t len;
    size_t pos;   /* number cursor: where to look for the next literal */
} scan_t;

/* Line and column (1-based, columns in bytes) of offset off. */
static void line_col(const char *s, size_t off, int *line, int *col)
{
    int l = 1;
    size_t bol = 0;
    for (size_t i = 0; i < off; i++)
        if (s[i] == '\n') {
            l++;
            bol = i + 1;
        }
    *line = l;
    *col = (int)(off - bol) + 1;
}

static int decode_fail(lua_State *L, const char *s, size_t off, const char *msg)
{
    int line, col;
    line_col(s, off, &line, &col);
    luaL_pushfail(L);
    lua_pushfstring(L, "json: %d:%d: %s", line, col, msg);
    return 2;
}

/* Before cJSON: nesting deeper than max_depth, a NUL byte, \u0000 in a
 * string (cJSON's strings end at NUL, so it would cut the value short), or
 * a string left open (cJSON would point inside it).
 * Returns the offending offset, or (size_t)-1 with *why unset. */
static size_t prescan(const char *s, size_t len, int max_depth, const char **why)
{
    int depth = 0, in_str = 0;
    size_t str_start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\0') {
            *why = "NUL byte in the text";
            return i;
        }
        if (in_str) {
            if (c == '\\') {
                if (i + 5 < len && memcmp(s + i + 1, "u0000", 5) == 0) {
                    *why = "\\u0000 in a string is not supported";
                    return i;
                }
                i++;  /* the escaped character cannot end the string */
            } else if (c == '"') {
                in_str = 0;
            }
        } else if (c == '"') {
            in_str = 1;
            str_start = i;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                *why = NULL;
                return i;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    if (in_str) {
        *why = "unterminated string";
        return str_start;
    }
    return (size_t)-1;
}

/* The next number literal at or after sc->pos (outside strings); sets
 * start and n and moves the cursor past it.  Only called for a text cJSON
 * accepted, which has exactly as many literals as number items. */
static void next_number(scan_t *sc, const char **start, size_t *n)
{
    size_t i = sc->pos;
    int in_str = 0;
    for (; i < sc->len; i++) {
        char c = sc->s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            break;
        }
    }
    *start = sc->s + i;
    while (i < sc->len && sc->s[i] && strchr("+-.eE0123456789", sc->s[i]))
        i++;
    *n = (size_t)(sc->s + i - *start);
    sc->pos = i;
}

/* Check the number item against its literal in the text (the next one
 * after the cursor).  Returns 0 with *is_int and *iv set for a literal that
 * is an exact 64-bit integer; or -1 with *bad at the literal and *why set:
 * a leading zero (cJSON takes it, JSON does not) or a magnitude beyond a
 * double. */
static int number_literal(scan_t *sc, const cJSON *item, size_t *bad, const char **why,
                          int *is_int, long long *iv)
{
    const char *lit;
    size_t n;
    next_number(sc, &lit, &n);
    *is_int = 0;
    {
        const char *d = lit + (n > 0 && *lit == '-');
        if (d + 1 < lit + n && d[0] == '0' && d[1] >= '0' && d[1] <= '9') {
            *bad = (size_t)(lit - sc->s);
            *why = "a number cannot start with 0";
            return -1;
        }
    }
    if (n > 0 && n < 32 && !memchr(lit, '.', n) && !memchr(lit, 'e', n) && !memchr(lit, 'E', n)) {
        char tmp[32];
        char *end;
        memcpy(tmp, lit, n);
        tmp[n] = '\0';
        errno = 0;
        *iv = strtoll(tmp, &end, 10);
        if (errno == 0 && *end == '\0') {
            *is_int = 1;
            return 0;
        }
    }
    if (!isfinite(item->valuedouble)) {
        *bad = (size_t)(lit - sc->s);
        *why = "number out of range";
        return -1;
    }
    return 0;  /* a float, or beyond 64 bits: valuedouble */
}

/* Push the number item, exact for an integer literal.  Returns 0, or -1
 * with *bad and *why set (number_literal). */
static int push_number(lua_State *L, scan_t *sc, const cJSON *item, size_t *bad,
                       const char **why)
{
    long long v;
    int is_int;
    if (number_literal(sc, item, bad, why, &is_int, &v) < 0)
        return -1;
    if (is_int)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, (lua_Number)item->valuedouble);
    return 0;
}

/* Push the item as a Lua value.  Returns 0, or -1 (*bad, *why set) with
 * nothing pushed by this level. */
static int push_item(lua_State *L, scan_t *sc, const cJSON *item, size_t *bad, const char **why)
{
    luaL_checkstack(L, 4, "json: nesting too deep");
    if (cJSON_IsNull(item)) {
        lua_pushlightuserdata(L, NULL);
    } else if (cJSON_IsFalse(item) || cJSON_IsTrue(item)) {
        lua_pushboolean(L, cJSON_IsTrue(item));
    } else if (cJSON_IsNumber(item)) {
        return push_number(L, sc, item, bad, why);
    } else if (cJSON_IsString(item)) {
        lua_pushstring(L, item->valuestring);
    } else if (cJSON_IsArray(item)) {
        lua_Integer i = 0;
        lua_newtable(L);
        for (const cJSON *c = item->child; c; c = c->next) {
            if (push_item(L, sc, c, bad, why) < 0) {
                lua_pop(L, 1);
                return -1;
            }
            lua_rawseti(L, -2, ++i);
        }
        luaL_setmetatable(L, ARRAY_MT);
    } else {  /* object; a repeated key: the last one wins */
        lua_newtable(L);
        for (const cJSON *c = item->child; c; c = c->next) {
            lua_pushstring(L, c->string);
            if (push_item(L, sc, c, bad, why) < 0) {
                lua_pop(L, 2);
                return -1;
            }
            lua_rawset(L, -3);
        }
    }
    return 0;
}

static int tree_gc(lua_State *L)
{
    cJSON **root = luaL_checkudata(L, 1, TREE_MT);
    cJSON_Delete(*root);
    *root = NULL;
    return 0;
}

static int l_decode(lua_State *L)
{
    static const char *const keys[] = { "max_depth", "max_bytes", NULL };
    size_t len, bad;
    const char *s = luaL_checklstring(L, 1, &len);
    int o = opts_table(L, 2, "json.decode", keys);
    int max_depth = (int)opt_int(L, o, "json.decode", "max_depth", 1, HARD_MAX_DEPTH,
                                 DEFAULT_MAX_DEPTH);
    lua_Integer max_bytes = opt_int(L, o, "json.decode", "max_bytes", 1,
                                    (lua_Integer)1 << 40, DEFAULT_MAX_BYTES);
    const char *why = NULL, *end = NULL;
    char msg[80];
    cJSON **root;
    scan_t sc = { s, len, 0 };

    if ((lua_Integer)len > max_bytes) {
        luaL_pushfail(L);
        lua_pushfstring(L, "json: text of %I bytes is over max_bytes (%I)", (lua_Integer)len,
                        max_bytes);
        return 2;
    }
    if ((bad = prescan(s, len, max_depth, &why)) != (size_t)-1) {
        if (!why) {
            snprintf(msg, sizeof msg, "nesting deeper than %d", max_depth);
            why = msg;
        }
        return decode_fail(L, s, bad, why);
    }
    /* The tree lives in a userdata, so a memory error while building the
     * Lua values below still frees it. */
    root = lua_newuserdatauv(L, sizeof *root, 0);
    *root = NULL;
    luaL_setmetatable(L, TREE_MT);
    /* len + 1: Lua strings are NUL-terminated, and cJSON wants the NUL
     * inside the length to accept the end of the text. */
    *root = cJSON_ParseWithLengthOpts(s, len + 1, &end, 1);
    if (!*root) {
        size_t off = end ? (size_t)(end - s) : 0;
        if (off >= len) {
            off = len;
            snprintf(msg, sizeof msg, "unexpected end of input");
        } else {
            /* cJSON stops where it gave up: at the bad byte, or inside the
             * token it could not read. */
            unsigned char c = (unsigned char)s[off];
            if (c >= 0x20 && c < 0x7f)
                snprintf(msg, sizeof msg, "unexpected '%c'", c);
            else
                snprintf(msg, sizeof msg, "unexpected byte 0x%02x", c);
        }
        return decode_fail(L, s, off, msg);
    }
    if (push_item(L, &sc, *root, &bad, &why) < 0)
        return decode_fail(L, s, bad, why);
    cJSON_Delete(*root);
    *root = NULL;
    return 1;
}

/* The numbers of a parsed tree, in document order, as push_item meets
 * them: 0 if each is one perch.json.decode takes. */
static int check_numbers(scan_t *sc, const cJSON *item)
{
    size_t bad;
    const char *why;
    long long v;
    int is_int;
    if (cJSON_IsNumber(item))
        return number_literal(sc, item, &bad, &why, &is_int, &v);
    if (cJSON_IsArray(item) || cJSON_IsObject(item))
        for (const cJSON *c = item->child; c; c = c->next)
            if (check_numbers(sc, c) < 0)
                return -1;
    return 0;
}

cJSON *pr_json_parse_checked(const char *s, size_t len, int max_depth, size_t max_bytes)
{
    const char *why = NULL, *end = NULL;
    scan_t sc = { s, len, 0 };
    cJSON *root;

    if (len > max_bytes || max_depth < 1 || max_depth > HARD_MAX_DEPTH || s[len] != '\0' ||
        prescan(s, len, max_depth, &why) != (size_t)-1)
        return NULL;
    if (!(root = cJSON_ParseWithLengthOpts(s, len + 1, &end, 1)))
        return NULL;
    if (check_numbers(&sc, root) < 0) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* ------------------------------------------------------------- encode */

/* An output buffer in memory from the state's allocator, so the memory
 * ceiling applies; a userdata owns it, so a raise cannot leak it. */
typedef struct buf {
    char *p;
    size_t len, cap;
    lua_Alloc alloc;
    void *ud;
} buf_t;

static int buf_gc(lua_State *L)
{
    buf_t *b = luaL_checkudata(L, 1, BUF_MT);
    if (b->p)
        b->alloc(b->ud, b->p, b->cap, 0);
    b->p = NULL;
    b->cap = 0;
    return 0;
}

static void buf_add(lua_State *L, buf_t *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap < b->len + n)
            cap *= 2;
        p = b->alloc(b->ud, b->p, b->cap, cap);
        if (!p)
            luaL_error(L, "json.encode: not enough memory");
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

#define ADD_LIT(L, b, lit) buf_add(L, b, lit, sizeof lit - 1)

typedef struct enc {
    lua_State *L;
    buf_t *b;
    int sort, max_depth;
    const char *err;   /* why encoding stopped; the path is added on the way up */
} enc_t;

static void add_string(enc_t *e, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    ADD_LIT(e->L, e->b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 2;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_add(e->L, e->b, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        buf_add(e->L, e->b, esc, elen);
    }
    buf_add(e->L, e->b, s + run, n - run);
    ADD_LIT(e->L, e->b, "\"");
}

static int add_number(enc_t *e, int idx)
{
    char tmp[48];
    int n;
    if (lua_isinteger(e->L, idx)) {
        n = snprintf(tmp, sizeof tmp, LUA_INTEGER_FMT, (LUA_INTEGER)lua_tointeger(e->L, idx));
    } else {
        double d = (double)lua_tonumber(e->L, idx);
        if (!isfinite(d)) {
            e->err = isnan(d) ? "NaN has no JSON form" : "infinity has no JSON form";
            return -1;
        }
        /* The shortest of %.15g..%.17g that reads back as the same double. */
        for (int prec = 15; prec <= 17; prec++) {
            n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
        if (!strpbrk(tmp, ".eE"))  /* keep it a float when read back */
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".0");
    }
    buf_add(e->L, e->b, tmp, (size_t)n);
    return 0;
}

static int encode_value(enc_t *e, int idx, int depth);

/* On the way up from an error, prepend this level's key to the path kept
 * on the stack top. */
static void path_key(enc_t *e, int key_idx)
{
    lua_State *L = e->L;
    if (lua_type(L, key_idx) == LUA_TNUMBER)
        lua_pushfstring(L, "[%I]", (lua_Integer)lua_tointeger(L, key_idx));
    else
        lua_pushfstring(L, ".%s", lua_tostring(L, key_idx));
    lua_insert(L, -2);
    lua_concat(L, 2);
}

typedef struct key {
    const char *p;
    size_t n;
} objkey_t;

static int key_cmp(const void *a, const void *b)
{
    const objkey_t *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The table at idx: an array (marked, or keys exactly 1..n with n > 0) or an
 * object (string keys only).  Returns -1 with e->err and the path string
 * pushed. */
static int encode_table(enc_t *e, int idx, int depth)
{
    lua_State *L = e->L;
    lua_Integer n = 0, count = 0;
    int marked = 0, strings = 0, others = 0;

    if (depth >= e->max_depth) {
        e->err = "nesting too deep (a cycle?)";
        lua_pushliteral(L, "");
        return -1;
    }
    luaL_checkstack(L, 6, "json.encode: nesting too deep");
    if (lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, ARRAY_MT);
        marked = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        if (lua_type(L, -1) == LUA_TSTRING)
            strings++;
        else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1)
            n = lua_tointeger(L, -1) > n ? lua_tointeger(L, -1) : n;
        else
            others++;
    }
    if (strings == 0 && others == 0 && n == count && (n > 0 || marked)) {
        ADD_LIT(L, e->b, "[");
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1)
                ADD_LIT(L, e->b, ",");
            lua_rawgeti(L, idx, i);
            if (encode_value(e, lua_gettop(L), depth + 1) < 0) {
                lua_pushinteger(L, i);
                lua_insert(L, -2);
                path_key(e, -2);
                lua_remove(L, -2);
                lua_remove(L, -2);
                return -1;
            }
            lua_pop(L, 1);
        }
        ADD_LIT(L, e->b, "]");
        return 0;
    }
    if (strings != count) {
        e->err = "a table with keys other than strings is not a JSON array (keys 1..n) "
                 "or object (string keys)";
        lua_pushliteral(L, "");
        return -1;
    }
    /* An object: keys collected (anchored by the table itself, which
     * encoding does not change), sorted if asked, written in that order. */
    {
        objkey_t *keys = lua_newuserdatauv(L, (size_t)count * sizeof *keys + 1, 0);
        int kidx = lua_gettop(L);
        lua_Integer k = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            lua_pop(L, 1);
            keys[k].p = lua_tolstring(L, -1, &keys[k].n);
            k++;
        }
        if (e->sort)
            qsort(keys, (size_t)count, sizeof *keys, key_cmp);
        ADD_LIT(L, e->b, "{");
        for (lua_Integer i = 0; i < count; i++) {
            if (i > 0)
                ADD_LIT(L, e->b, ",");
            add_string(e, keys[i].p, keys[i].n);
            ADD_LIT(L, e->b, ":");
            lua_pushlstring(L, keys[i].p, keys[i].n);
            lua_pushvalue(L, -1);
            lua_rawget(L, idx);
            if (encode_value(e, lua_gettop(L), depth + 1) < 0) {
                path_key(e, -3);     /* path on top, then value, then key */
                lua_replace(L, kidx);
                lua_settop(L, kidx);
                return -1;
            }
            lua_pop(L, 2);
        }
        ADD_LIT(L, e->b, "}");
        lua_pop(L, 1);  /* keys */
    }
    return 0;
}

/* Encode the value at idx.  On failure returns -1 with e->err set and the
 * (so far) path pushed on the stack. */
static int encode_value(enc_t *e, int idx, int depth)
{
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        ADD_LIT(L, e->b, "null");
        return 0;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            ADD_LIT(L, e->b, "true");
        else
            ADD_LIT(L, e->b, "false");
        return 0;
    case LUA_TNUMBER:
        if (add_number(e, idx) < 0) {
            lua_pushliteral(L, "");
            return -1;
        }
        return 0;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        add_string(e, s, n);
        return 0;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) {
            ADD_LIT(L, e->b, "null");
            return 0;
        }
        break;
    case LUA_TTABLE:
        return encode_table(e, idx, depth);
    default:
        break;
    }
    e->err = lua_type(L, idx) == LUA_TFUNCTION ? "a function has no JSON form"
           : lua_type(L, idx) == LUA_TTHREAD   ? "a thread has no JSON form"
                                               : "a userdata has no JSON form";
    lua_pushliteral(L, "");
    return -1;
}

static int l_encode(lua_State *L)
{
    static const char *const keys[] = { "sort_keys", "max_depth", NULL };
    int o, max_depth, sort = 1;
    buf_t *b;
    enc_t e;

    luaL_checkany(L, 1);
    o = opts_table(L, 2, "json.encode", keys);
    max_depth = (int)opt_int(L, o, "json.encode", "max_depth", 1, HARD_MAX_DEPTH,
                             DEFAULT_MAX_DEPTH);
    if (o && lua_getfield(L, o, "sort_keys") != LUA_TNIL) {
        if (!lua_isboolean(L, -1))
            return luaL_error(L, "json.encode: option 'sort_keys' must be a boolean");
        sort = lua_toboolean(L, -1);
    }
    lua_settop(L, 1);
    b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    b->alloc = lua_getallocf(L, &b->ud);
    luaL_setmetatable(L, BUF_MT);
    e.L = L;
    e.b = b;
    e.sort = sort;
    e.max_depth = max_depth;
    e.err = NULL;
    if (encode_value(&e, 1, 0) < 0) {
        size_t plen;
        const char *path = lua_tolstring(L, -1, &plen);
        char msg[320];
        /* a cycle makes a long path: its start says enough */
        snprintf(msg, sizeof msg, "json.encode: value%.120s%s: %s", path,
                 plen > 120 ? "..." : "", e.err);
        luaL_pushfail(L);
        lua_pushstring(L, msg);
        return 2;
    }
    lua_pushlstring(L, b->p ? b->p : "", b->len);
    lua_pushcfunction(L, buf_gc);
    lua_pushvalue(L, 2);
    lua_call(L, 1, 0);
    return 1;
}

/* perch.json.array(t): mark t as an array (so {} encodes as []); returns t. */
static int l_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    luaL_setmetatable(L, ARRAY_MT);
    return 1;
}

void pr_l_json_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "decode", l_decode }, { "encode", l_encode }, { "array", l_array }, { NULL, NULL },
    };
    luaL_newmetatable(L, ARRAY_MT);
    lua_pushliteral(L, "json array");
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
    luaL_newmetatable(L, TREE_MT);
    lua_pushcfunction(L, tree_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, BUF_MT);
    lua_pushcfunction(L, buf_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_setfield(L, -2, "json");
}
