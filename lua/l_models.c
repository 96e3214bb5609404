/* l_models.c - perch.esn and perch.snn: an echo-state reservoir and a layer
 * of leaky integrate-and-fire neurons, on the list_nn.h kernels.
 *
 *   local r = perch.esn.new{ units = n, inputs = m, w_in = f32 (n*m),
 *                            w = { row_ptr = i32 (n+1), col = i32, val = f32 },
 *                            bias = f32 (n) or nil, leak = a }
 *   r:step(u)          -- u f32 (m); returns the state buffer (live)
 *   r:state() r:reset()
 *
 *   local s = perch.snn.new{ neurons = n, inputs = m,
 *                            weights = f32 (m*n, presynaptic-major)
 *                            -- or csr = { row_ptr = i32 (m+1), col = i32, val = f32 },
 *                            decay = d, threshold = th, v_reset = vr, refractory = k }
 *   local out, count = s:step(spikes_in)   -- u8 (m), nonzero = spike; nil = none
 *   s:potentials() s:reset()
 *
 * The float buffers given (weights, values, bias) are kept by reference in the
 * object's user value table, so changing them changes the model.  The CSR
 * index arrays are validated and copied, so the kernels can trust them
 * whatever Lua later writes into the originals.  Every buffer the model needs
 * is allocated at creation: a step allocates nothing. */
#include "kernels.h"
#include "l_buffer.h"
#include "perch.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#define ESN_MT "perch.esn"
#define SNN_MT "perch.snn"
#define BUFFER_MT "perch.buffer"
/* sizes and indexes meet int32 CSR arrays */
#define MAX_DIM ((lua_Integer)INT32_MAX - 1)

typedef struct esn {
    size_t n, m;
    float a;
    const float *w_in, *val, *b;
    const int32_t *row_ptr, *col;   /* private copies */
    float *x, *pre;
} esn_t;

typedef struct snn {
    size_t n, m;
    float decay, threshold, v_reset;
    int32_t refr_steps;
    const float *w;                 /* dense, or NULL */
    const int32_t *row_ptr, *idx;   /* CSR (private copies) */
    const float *val;
    float *v;
    int32_t *refr;
    uint8_t *out, *zero_in;
} snn_t;

/* user values: 1 the table of kept buffers, 2 and 3 the buffers methods return */
enum { UV_KEEP = 1, UV_A = 2, UV_B = 3, UV_COUNT = 3 };

/* Keep the value at `value` alive: append it to the object's keep table. */
static void keep(lua_State *L, int obj, int value)
{
    value = lua_absindex(L, value);
    lua_getiuservalue(L, obj, UV_KEEP);
    lua_pushvalue(L, value);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
}

/* A new zeroed buffer kept by the object; left off the stack. */
static void *new_kept(lua_State *L, int obj, pr_buf_type_t type, size_t n)
{
    pr_lbuf_t *b = pr_lbuf_new(L, type, n);
    keep(L, obj, -1);
    lua_pop(L, 1);
    return b->data;
}

/* A new zeroed buffer stored as user value `uv` (returned by a method). */
static void *new_slot(lua_State *L, int obj, int uv, pr_buf_type_t type, size_t n)
{
    pr_lbuf_t *b = pr_lbuf_new(L, type, n);
    lua_setiuservalue(L, obj, uv);
    return b->data;
}

/* spec.name as an integer in lo..hi. */
static size_t get_dim(lua_State *L, const char *who, int spec, const char *name, lua_Integer lo,
                      lua_Integer hi)
{
    int isint;
    lua_Integer v;
    lua_getfield(L, spec, name);
    v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < lo || v > hi)
        luaL_error(L, "%s: '%s' must be an integer in %I..%I, got %s", who, name, lo, hi,
                   luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return (size_t)v;
}

/* spec.name as a finite number; def if nil and has_def. */
static float get_num(lua_State *L, const char *who, int spec, const char *name, int has_def,
                     float def)
{
    int isnum;
    lua_Number v;
    if (lua_getfield(L, spec, name) == LUA_TNIL && has_def) {
        lua_pop(L, 1);
        return def;
    }
    v = lua_tonumberx(L, -1, &isnum);
    if (!isnum || !(fabs(v) <= FLT_MAX))   /* also NaN; the float cast is safe after */
        luaL_error(L, "%s: '%s' must be a finite number, got %s", who, name,
                   luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return (float)v;
}

/* tbl.name, which must be a buffer of `type` (or nil when optional: then
 * NULL and nothing pushed).  The buffer stays on the stack. */
static pr_lbuf_t *get_buf(lua_State *L, const char *who, int tbl, const char *prefix,
                          const char *name, pr_buf_type_t type, int optional)
{
    pr_lbuf_t *b;
    if (lua_getfield(L, tbl, name) == LUA_TNIL && optional) {
        lua_pop(L, 1);
        return NULL;
    }
    b = luaL_testudata(L, -1, BUFFER_MT);
    if (!b || b->type != type)
        luaL_error(L, "%s: '%s%s': %s buffer expected, got %s", who, prefix, name,
                   pr_lbuf_type_name(type),
                   b ? lua_pushfstring(L, "%s buffer", pr_lbuf_type_name(b->type))
                     : luaL_typename(L, -1));
    return b;
}

static void need_len(lua_State *L, const char *who, const char *prefix, const char *name,
                     const pr_lbuf_t *b, size_t want, const char *what)
{
    if (b->n != want)
        luaL_error(L, "%s: '%s%s' has %I values, %s needs %I", who, prefix, name,
                   (lua_Integer)b->n, what, (lua_Integer)want);
}

/* Check a CSR matrix of `rows` rows over `cols` columns at spec field
 * `field` (a table { row_ptr, col, val }), copy its index arrays into
 * buffers kept by obj and keep val.  distinct: columns must not repeat
 * within a row. */
static void get_csr(lua_State *L, const char *who, int spec, int obj, const char *field,
                    size_t rows, size_t cols, int distinct, const int32_t **row_ptr,
                    const int32_t **col, const float **val)
{
    char prefix[32];
    pr_lbuf_t *rp, *cb, *vb;
    int32_t *rpc, *cc;
    int tbl;

    if (lua_getfield(L, spec, field) != LUA_TTABLE)
        luaL_error(L, "%s: '%s' must be a table { row_ptr = i32, col = i32, val = f32 }, got %s",
                   who, field, luaL_typename(L, -1));
    tbl = lua_gettop(L);
    snprintf(prefix, sizeof prefix, "%s.", field);
    rp = get_buf(L, who, tbl, prefix, "row_ptr", PR_BUF_I32, 0);
    cb = get_buf(L, who, tbl, prefix, "col", PR_BUF_I32, 0);
    vb = get_buf(L, who, tbl, prefix, "val", PR_BUF_F32, 0);
    need_len(L, who, prefix, "row_ptr", rp, rows + 1, "rows + 1");
    if (vb->n != cb->n)
        luaL_error(L, "%s: '%sval' has %I values but '%scol' has %I", who, prefix,
                   (lua_Integer)vb->n, prefix, (lua_Integer)cb->n);
    rpc = new_kept(L, obj, PR_BUF_I32, rows + 1);
    cc = new_kept(L, obj, PR_BUF_I32, cb->n);
    memcpy(rpc, rp->data, (rows + 1) * sizeof *rpc);
    if (cb->n)
        memcpy(cc, cb->data, cb->n * sizeof *cc);
    if (rpc[0] != 0)
        luaL_error(L, "%s: '%srow_ptr' must start at 0, got %d", who, prefix, (int)rpc[0]);
    for (size_t r = 0; r < rows; r++)
        if (rpc[r + 1] < rpc[r])
            luaL_error(L, "%s: '%srow_ptr' decreases at entry %I (%d after %d)", who, prefix,
                       (lua_Integer)r + 2, (int)rpc[r + 1], (int)rpc[r]);
    if ((size_t)rpc[rows] != cb->n)
        luaL_error(L, "%s: '%srow_ptr' ends at %d but '%scol' and '%sval' have %I values", who,
                   prefix, (int)rpc[rows], prefix, prefix, (lua_Integer)cb->n);
    for (size_t k = 0; k < cb->n; k++)
        if (cc[k] < 0 || (size_t)cc[k] >= cols)
            luaL_error(L, "%s: '%scol' entry %I is %d, must be in 0..%I", who, prefix,
                       (lua_Integer)k + 1, (int)cc[k], (lua_Integer)cols - 1);
    if (distinct && cb->n) {
        /* seen[c] = 1 + the last row that used column c */
        pr_lbuf_t *sb = pr_lbuf_new(L, PR_BUF_I32, cols);
        int32_t *seen = sb->data;
        for (size_t r = 0; r < rows; r++)
            for (int32_t k = rpc[r]; k < rpc[r + 1]; k++) {
                if (seen[cc[k]] == (int32_t)r + 1)
                    luaL_error(L, "%s: '%scol' repeats %d within row %I (0-based)", who, prefix,
                               (int)cc[k], (lua_Integer)r);
                seen[cc[k]] = (int32_t)r + 1;
            }
        lua_pop(L, 1);
    }
    keep(L, obj, -1);   /* val */
    *row_ptr = rpc;
    *col = cc;
    *val = vb->data;
    lua_settop(L, tbl - 1);
}

/* ---- perch.esn ---- */

static esn_t *check_esn(lua_State *L, int idx) { return luaL_checkudata(L, idx, ESN_MT); }

/* perch.esn.new(spec) -> esn */
static int esn_new(lua_State *L)
{
    static const char who[] = "perch.esn.new";
    esn_t *e;
    pr_lbuf_t *b;
    int obj;
    lua_Number a;
    int isnum;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    e = lua_newuserdatauv(L, sizeof *e, UV_COUNT);
    memset(e, 0, sizeof *e);
    obj = lua_gettop(L);
    lua_newtable(L);
    lua_setiuservalue(L, obj, UV_KEEP);
    luaL_setmetatable(L, ESN_MT);

    e->n = get_dim(L, who, 1, "units", 1, MAX_DIM);
    e->m = get_dim(L, who, 1, "inputs", 1, MAX_DIM);

    lua_getfield(L, 1, "leak");
    a = lua_tonumberx(L, -1, &isnum);
    if (!isnum || !(a > 0 && a <= 1))
        luaL_error(L, "%s: 'leak' must be a number in (0, 1], got %s", who,
                   luaL_tolstring(L, -1, NULL));
    e->a = (float)a;
    if (!(e->a > 0))   /* a tiny positive double can round to 0 */
        luaL_error(L, "%s: 'leak' is too small for a float", who);
    lua_settop(L, obj);

    b = get_buf(L, who, 1, "", "w_in", PR_BUF_F32, 0);
    if (e->m > SIZE_MAX / e->n)
        luaL_error(L, "%s: units x inputs is too large", who);
    need_len(L, who, "", "w_in", b, e->n * e->m, "units x inputs");
    e->w_in = b->data;
    keep(L, obj, -1);
    lua_settop(L, obj);

    b = get_buf(L, who, 1, "", "bias", PR_BUF_F32, 1);
    if (b) {
        need_len(L, who, "", "bias", b, e->n, "units");
        e->b = b->data;
        keep(L, obj, -1);
        lua_settop(L, obj);
    }

    get_csr(L, who, 1, obj, "w", e->n, e->n, 0, &e->row_ptr, &e->col, &e->val);

    e->x = new_slot(L, obj, UV_A, PR_BUF_F32, e->n);
    e->pre = new_kept(L, obj, PR_BUF_F32, e->n);
    lua_settop(L, obj);
    return 1;
}

/* esn:step(u) -> state */
static int esn_step(lua_State *L)
{
    esn_t *e = check_esn(L, 1);
    pr_lbuf_t *u = pr_lbuf_check(L, 2, PR_BUF_F32);
    if (u->n != e->m)
        return luaL_argerror(L, 2, lua_pushfstring(L, "input has %I values, the reservoir takes %I",
                                                   (lua_Integer)u->n, (lua_Integer)e->m));
    pr_kernels()->esn_update(e->x, e->n, u->data, e->m, e->w_in, e->row_ptr, e->col, e->val,
                             e->b, e->a, e->pre);
    lua_getiuservalue(L, 1, UV_A);
    return 1;
}

/* esn:state() -> the live state buffer */
static int esn_state(lua_State *L)
{
    check_esn(L, 1);
    lua_getiuservalue(L, 1, UV_A);
    return 1;
}

/* esn:reset() -> esn */
static int esn_reset(lua_State *L)
{
    esn_t *e = check_esn(L, 1);
    memset(e->x, 0, e->n * sizeof *e->x);
    lua_settop(L, 1);
    return 1;
}

static int esn_tostring(lua_State *L)
{
    esn_t *e = check_esn(L, 1);
    lua_pushfstring(L, "perch.esn (%I units, %I inputs)", (lua_Integer)e->n, (lua_Integer)e->m);
    return 1;
}

/* ---- perch.snn ---- */

static snn_t *check_snn(lua_State *L, int idx) { return luaL_checkudata(L, idx, SNN_MT); }

static void snn_clear(snn_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->v[i] = s->v_reset;
    memset(s->refr, 0, s->n * sizeof *s->refr);
    memset(s->out, 0, s->n);
}

/* perch.snn.new(spec) -> snn */
static int snn_new(lua_State *L)
{
    static const char who[] = "perch.snn.new";
    snn_t *s;
    int obj, has_w, has_csr;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    s = lua_newuserdatauv(L, sizeof *s, UV_COUNT);
    memset(s, 0, sizeof *s);
    obj = lua_gettop(L);
    lua_newtable(L);
    lua_setiuservalue(L, obj, UV_KEEP);
    luaL_setmetatable(L, SNN_MT);

    s->n = get_dim(L, who, 1, "neurons", 1, MAX_DIM);
    s->m = get_dim(L, who, 1, "inputs", 1, MAX_DIM);
    s->decay = get_num(L, who, 1, "decay", 0, 0);
    if (!(s->decay >= 0 && s->decay <= 1))
        luaL_error(L, "%s: 'decay' must be in [0, 1], got %f", who, (lua_Number)s->decay);
    s->threshold = get_num(L, who, 1, "threshold", 0, 0);
    s->v_reset = get_num(L, who, 1, "v_reset", 1, 0);
    if (lua_getfield(L, 1, "refractory") == LUA_TNIL)
        s->refr_steps = 0;
    else
        s->refr_steps = (int32_t)get_dim(L, who, 1, "refractory", 0, INT32_MAX);
    lua_settop(L, obj);

    has_w = lua_getfield(L, 1, "weights") != LUA_TNIL;
    has_csr = lua_getfield(L, 1, "csr") != LUA_TNIL;
    lua_settop(L, obj);
    if (has_w == has_csr)
        luaL_error(L, "%s: give exactly one of 'weights' (dense f32) and 'csr' ({ row_ptr, col, "
                   "val })", who);
    if (has_w) {
        pr_lbuf_t *b = get_buf(L, who, 1, "", "weights", PR_BUF_F32, 0);
        if (s->m > SIZE_MAX / s->n)
            luaL_error(L, "%s: inputs x neurons is too large", who);
        need_len(L, who, "", "weights", b, s->m * s->n, "inputs x neurons");
        s->w = b->data;
        keep(L, obj, -1);
        lua_settop(L, obj);
    } else {
        get_csr(L, who, 1, obj, "csr", s->m, s->n, 1, &s->row_ptr, &s->idx, &s->val);
    }

    s->v = new_slot(L, obj, UV_B, PR_BUF_F32, s->n);
    s->out = new_slot(L, obj, UV_A, PR_BUF_U8, s->n);
    s->refr = new_kept(L, obj, PR_BUF_I32, s->n);
    s->zero_in = new_kept(L, obj, PR_BUF_U8, s->m);
    snn_clear(s);
    lua_settop(L, obj);
    return 1;
}

/* snn:step([spikes_in]) -> spikes_out, count */
static int snn_step(lua_State *L)
{
    snn_t *s = check_snn(L, 1);
    const uint8_t *in = s->zero_in;
    const pr_kernels_t *k = pr_kernels();
    lua_Integer count = 0;

    if (!lua_isnoneornil(L, 2)) {
        pr_lbuf_t *b = pr_lbuf_check(L, 2, PR_BUF_U8);
        if (b->n != s->m)
            return luaL_argerror(L, 2, lua_pushfstring(L, "spikes_in has %I values, the layer "
                                                       "takes %I", (lua_Integer)b->n,
                                                       (lua_Integer)s->m));
        in = b->data;
    }
    if (s->w)
        k->lif_step(s->n, s->v, s->refr, in, s->m, s->w, s->decay, s->threshold, s->v_reset,
                    s->refr_steps, s->out);
    else
        k->lif_step_csr(s->n, s->v, s->refr, in, s->m, s->row_ptr, s->idx, s->val, s->decay,
                        s->threshold, s->v_reset, s->refr_steps, s->out);
    for (size_t i = 0; i < s->n; i++)
        count += s->out[i] != 0;
    lua_getiuservalue(L, 1, UV_A);
    lua_pushinteger(L, count);
    return 2;
}

/* snn:potentials() -> the live f32 membrane potentials */
static int snn_potentials(lua_State *L)
{
    check_snn(L, 1);
    lua_getiuservalue(L, 1, UV_B);
    return 1;
}

/* snn:spikes() -> the live u8 spikes of the last step */
static int snn_spikes(lua_State *L)
{
    check_snn(L, 1);
    lua_getiuservalue(L, 1, UV_A);
    return 1;
}

/* snn:reset() -> snn */
static int snn_reset(lua_State *L)
{
    snn_clear(check_snn(L, 1));
    lua_settop(L, 1);
    return 1;
}

static int snn_tostring(lua_State *L)
{
    snn_t *s = check_snn(L, 1);
    lua_pushfstring(L, "perch.snn (%I neurons, %I inputs, %s)", (lua_Integer)s->n,
                    (lua_Integer)s->m, s->w ? "dense" : "csr");
    return 1;
}

static void new_class(lua_State *L, const char *mt, const luaL_Reg *methods,
                      lua_CFunction tostring, lua_CFunction ctor, const char *field)
{
    luaL_newmetatable(L, mt);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, ctor);
    lua_setfield(L, -2, "new");
    lua_setfield(L, -2, field);
}

/* Adds perch.esn and perch.snn to the perch table on top of the stack. */
void pr_l_models_open(lua_State *L)
{
    static const luaL_Reg esn_methods[] = {
        { "step", esn_step }, { "state", esn_state }, { "reset", esn_reset }, { NULL, NULL },
    };
    static const luaL_Reg snn_methods[] = {
        { "step", snn_step },   { "potentials", snn_potentials }, { "spikes", snn_spikes },
        { "reset", snn_reset }, { NULL, NULL },
    };
    new_class(L, ESN_MT, esn_methods, esn_tostring, esn_new, "esn");
    new_class(L, SNN_MT, snn_methods, snn_tostring, snn_new, "snn");
}
