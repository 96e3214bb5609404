/* l_mlp.c - perch.mlp: small multilayer perceptrons from .npy weights.
 *
 *   local m = assert(perch.mlp.load{
 *     { weights = "l1_w.npy", bias = "l1_b.npy", activation = "relu" },
 *     { weights = "l2_w.npy", bias = "l2_b.npy", activation = "softmax" },
 *   })
 *   m:forward(input, output)      -- f32 buffers of the first and last widths
 *
 * Weights are (out, in) row-major as numpy stores W for y = W @ x + b.  All
 * memory (weights, scratch) is allocated at load inside the Lua state, so a
 * forward pass allocates nothing. */
#include "kernels.h"
#include "l_buffer.h"
#include "npy.h"
#include "perch.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#define MLP_MT "perch.mlp"
#define MAX_LAYERS 16

enum { ACT_LINEAR, ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_SOFTMAX };
static const char *const act_names[] = { "linear", "relu", "tanh", "sigmoid", "softmax", NULL };

typedef struct layer {
    size_t rows, cols;     /* out, in */
    int act;
    const float *w, *b;    /* in buffers kept in the user value table */
    int8_t *q;             /* after quantize(): int8 weights, per-row scales */
    float *qscale;
} layer_t;

typedef struct mlp {
    int n;
    int quantized;
    size_t widest, widest_in;
    layer_t l[MAX_LAYERS];
    float *scratch[2];     /* ping-pong activations */
    int8_t *xq;            /* the quantized input of a layer */
} mlp_t;

static mlp_t *check_mlp(lua_State *L, int idx) { return luaL_checkudata(L, idx, MLP_MT); }

/* Keep a buffer alive: append it to the model's user value table. */
static void keep(lua_State *L, int model, int value)
{
    value = lua_absindex(L, value);  /* -1 would name the table pushed next */
    lua_getiuservalue(L, model, 1);
    lua_pushvalue(L, value);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
}

/* perch.mlp.load(spec) -> model | nil, message */
static int l_load(lua_State *L)
{
    mlp_t *m;
    int n, model;

    luaL_checktype(L, 1, LUA_TTABLE);
    n = (int)luaL_len(L, 1);
    luaL_argcheck(L, n >= 1 && n <= MAX_LAYERS, 1, "between 1 and 16 layers expected");
    m = lua_newuserdatauv(L, sizeof *m, 1);
    memset(m, 0, sizeof *m);
    model = lua_gettop(L);
    lua_newtable(L);
    lua_setiuservalue(L, model, 1);
    luaL_setmetatable(L, MLP_MT);

    for (int i = 0; i < n; i++) {
        layer_t *ly = &m->l[i];
        pr_lbuf_t *wb, *bb;
        pr_npy_t wh, bh;
        const char *wpath, *bpath;

        if (lua_geti(L, 1, i + 1) != LUA_TTABLE)
            return luaL_error(L, "layer %d: table expected", i + 1);
        lua_getfield(L, -1, "weights");
        wpath = lua_tostring(L, -1);
        if (!wpath)
            return luaL_error(L, "layer %d: 'weights' (a .npy path) expected", i + 1);
        lua_getfield(L, -2, "bias");
        bpath = lua_tostring(L, -1);
        lua_getfield(L, -3, "activation");
        ly->act = luaL_checkoption(L, -1, "linear", act_names);
        lua_pop(L, 1);

        if (pr_l_npy_load(L, wpath, &wb, &wh) < 0)
            goto fail;
        if (wh.ndim != 2) {
            lua_pushfstring(L, "%s: layer %d weights must be 2-d (out, in), got %d-d", wpath,
                            i + 1, wh.ndim);
            goto fail;
        }
        ly->rows = wh.shape[0];
        ly->cols = wh.shape[1];
        if (ly->rows == 0 || ly->cols == 0) {
            lua_pushfstring(L, "%s: layer %d has an empty shape", wpath, i + 1);
            goto fail;
        }
        if (i > 0 && ly->cols != m->l[i - 1].rows) {
            lua_pushfstring(L, "%s: layer %d takes %I inputs but layer %d gives %I", wpath, i + 1,
                            (lua_Integer)ly->cols, i, (lua_Integer)m->l[i - 1].rows);
            goto fail;
        }
        ly->w = wb->data;
        keep(L, model, -1);
        lua_pop(L, 1);
        if (bpath) {
            if (pr_l_npy_load(L, bpath, &bb, &bh) < 0)
                goto fail;
            if (bh.count != ly->rows || bh.ndim > 2) {
                lua_pushfstring(L, "%s: layer %d bias has %I values, the weights need %I", bpath,
                                i + 1, (lua_Integer)bh.count, (lua_Integer)ly->rows);
                goto fail;
            }
            ly->b = bb->data;
            keep(L, model, -1);
            lua_pop(L, 1);
        }
        lua_settop(L, model);
        if (ly->rows > m->widest)
            m->widest = ly->rows;
        if (ly->cols > m->widest_in)
            m->widest_in = ly->cols;
        m->n = i + 1;
    }
    for (int k = 0; k < 2; k++) {
        pr_lbuf_t *s = pr_lbuf_new(L, PR_BUF_F32, m->widest);
        m->scratch[k] = s->data;
        keep(L, model, -1);
        lua_pop(L, 1);
    }
    lua_settop(L, model);
    return 1;
fail:
    /* the message is on top */
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
}

static void activate(const pr_kernels_t *k, int act, float *y, size_t n)
{
    switch (act) {
    case ACT_RELU: k->f32_relu(y, y, n); break;
    case ACT_TANH: k->f32_tanh(y, y, n); break;
    case ACT_SIGMOID: k->f32_sigmoid(y, y, n); break;
    case ACT_SOFTMAX: k->f32_softmax(y, y, n); break;
    default: break;
    }
}

/* m:forward(input, output) -> output */
static int m_forward(lua_State *L)
{
    mlp_t *m = check_mlp(L, 1);
    pr_lbuf_t *in = pr_lbuf_check(L, 2, PR_BUF_F32), *out = pr_lbuf_check(L, 3, PR_BUF_F32);
    const pr_kernels_t *k = pr_kernels();
    const float *x = in->data;

    if (in->n != m->l[0].cols)
        return luaL_argerror(L, 2, lua_pushfstring(L, "input has %I values, the model takes %I",
                                                   (lua_Integer)in->n, (lua_Integer)m->l[0].cols));
    if (out->n != m->l[m->n - 1].rows)
        return luaL_argerror(L, 3, lua_pushfstring(L, "output has %I values, the model gives %I",
                                                   (lua_Integer)out->n,
                                                   (lua_Integer)m->l[m->n - 1].rows));
    for (int i = 0; i < m->n; i++) {
        const layer_t *ly = &m->l[i];
        float *y = i == m->n - 1 ? out->data : m->scratch[i & 1];
        if (m->quantized) {
            float xscale;
            k->q8_quantize(x, 1, ly->cols, m->xq, &xscale);
            k->q8_gemv(ly->q, ly->qscale, ly->rows, ly->cols, m->xq, xscale, ly->b, y);
        } else {
            k->f32_gemv_bias(ly->w, x, ly->b, y, ly->rows, ly->cols);
        }
        activate(k, ly->act, y, ly->rows);
        x = y;
    }
    lua_settop(L, 3);
    return 1;
}

/* m:quantize() -> m: int8 weights with per-row scales from now on; each
 * layer's input is quantized per call (symmetric, one scale). */
static int m_quantize(lua_State *L)
{
    mlp_t *m = check_mlp(L, 1);
    const pr_kernels_t *k = pr_kernels();

    if (m->quantized) {
        lua_settop(L, 1);
        return 1;
    }
    for (int i = 0; i < m->n; i++) {
        layer_t *ly = &m->l[i];
        pr_lbuf_t *q = pr_lbuf_new(L, PR_BUF_I8, ly->rows * ly->cols);
        keep(L, 1, -1);
        pr_lbuf_t *sc = pr_lbuf_new(L, PR_BUF_F32, ly->rows);
        keep(L, 1, -1);
        lua_pop(L, 2);
        for (size_t r = 0; r < ly->rows * ly->cols; r++)
            if (!isfinite(ly->w[r]))
                return luaL_error(L, "layer %d has a weight that is not finite", i + 1);
        k->q8_quantize(ly->w, ly->rows, ly->cols, q->data, sc->data);
        ly->q = q->data;
        ly->qscale = sc->data;
    }
    pr_lbuf_t *xq = pr_lbuf_new(L, PR_BUF_I8, m->widest_in);
    keep(L, 1, -1);
    m->xq = xq->data;
    m->quantized = 1;
    lua_settop(L, 1);
    return 1;
}

static int m_info(lua_State *L)
{
    mlp_t *m = check_mlp(L, 1);
    lua_createtable(L, m->n, 0);
    for (int i = 0; i < m->n; i++) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, (lua_Integer)m->l[i].cols);
        lua_setfield(L, -2, "inputs");
        lua_pushinteger(L, (lua_Integer)m->l[i].rows);
        lua_setfield(L, -2, "outputs");
        lua_pushstring(L, act_names[m->l[i].act]);
        lua_setfield(L, -2, "activation");
        lua_pushboolean(L, m->quantized);
        lua_setfield(L, -2, "int8");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int m_tostring(lua_State *L)
{
    mlp_t *m = check_mlp(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "perch.mlp (");
    for (int i = 0; i < m->n; i++) {
        lua_pushfstring(L, i ? "->%I" : "%I->%I", (lua_Integer)(i ? m->l[i].rows : m->l[i].cols),
                        (lua_Integer)m->l[i].rows);
        luaL_addvalue(&b);
    }
    luaL_addstring(&b, ")");
    luaL_pushresult(&b);
    return 1;
}

void pr_l_mlp_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "forward", m_forward }, { "quantize", m_quantize }, { "info", m_info }, { NULL, NULL },
    };
    static const luaL_Reg funcs[] = { { "load", l_load }, { NULL, NULL } };
    luaL_newmetatable(L, MLP_MT);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, m_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "mlp");
}
