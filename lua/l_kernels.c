/* l_kernels.c - perch.kernels: the numeric kernels as seen from Lua. */
#include "perch.h"

#include "kernels.h"
#include "l_buffer.h"

#include <math.h>
#include <stdint.h>

#include <lauxlib.h>

/* perch.kernels.isa() -> the name of the variant set dispatch picked. */
static int l_isa(lua_State *L)
{
    lua_pushstring(L, pr_kernels()->isa_name);
    return 1;
}

/* Argument helpers: a buffer of a type, and a length that must match. */
#define F32(i) pr_lbuf_check(L, (i), PR_BUF_F32)
#define U8(i) pr_lbuf_check(L, (i), PR_BUF_U8)

static void need_len(lua_State *L, const pr_lbuf_t *b, int idx, size_t n, const char *what)
{
    if (b->n != n)
        luaL_argerror(L, idx, lua_pushfstring(L, "length %I, %s needs %I", (lua_Integer)b->n,
                                              what, (lua_Integer)n));
}

static float check_f32(lua_State *L, int idx) { return (float)luaL_checknumber(L, idx); }

/* Every binding checks types and sizes, then calls the active variant on
 * the caller's buffers: nothing is allocated.  Output buffers come last and
 * are returned, so calls chain. */

/* f32_dot(a, b) -> number */
static int l_f32_dot(lua_State *L)
{
    pr_lbuf_t *a = F32(1), *b = F32(2);
    need_len(L, b, 2, a->n, "the first buffer's length");
    lua_pushnumber(L, pr_kernels()->f32_dot(a->data, b->data, a->n));
    return 1;
}

/* f32_axpy(a, x, y): y += a*x */
static int l_f32_axpy(lua_State *L)
{
    float a = check_f32(L, 1);
    pr_lbuf_t *x = F32(2), *y = F32(3);
    need_len(L, y, 3, x->n, "x's length");
    pr_kernels()->f32_axpy(a, x->data, y->data, x->n);
    lua_settop(L, 3);
    return 1;
}

/* f32_scale(a, x, y): y = a*x */
static int l_f32_scale(lua_State *L)
{
    float a = check_f32(L, 1);
    pr_lbuf_t *x = F32(2), *y = F32(3);
    need_len(L, y, 3, x->n, "x's length");
    pr_kernels()->f32_scale(a, x->data, y->data, x->n);
    lua_settop(L, 3);
    return 1;
}

/* f32_add(a, b, y): y = a + b */
static int l_f32_add(lua_State *L)
{
    pr_lbuf_t *a = F32(1), *b = F32(2), *y = F32(3);
    need_len(L, b, 2, a->n, "a's length");
    need_len(L, y, 3, a->n, "a's length");
    pr_kernels()->f32_add(a->data, b->data, y->data, a->n);
    lua_settop(L, 3);
    return 1;
}

/* f32_relu(x, y) */
static int l_f32_relu(lua_State *L)
{
    pr_lbuf_t *x = F32(1), *y = F32(2);
    need_len(L, y, 2, x->n, "x's length");
    pr_kernels()->f32_relu(x->data, y->data, x->n);
    lua_settop(L, 2);
    return 1;
}

/* u8_motion(a, b, threshold [, diff]) -> count, fraction changed */
static int l_u8_motion(lua_State *L)
{
    pr_lbuf_t *a = U8(1), *b = U8(2), *d = NULL;
    lua_Integer t = luaL_checkinteger(L, 3);
    size_t count;
    luaL_argcheck(L, t >= 0 && t <= 255, 3, "threshold must be 0..255");
    need_len(L, b, 2, a->n, "a's length");
    if (!lua_isnoneornil(L, 4)) {
        d = U8(4);
        need_len(L, d, 4, a->n, "a's length");
    }
    count = pr_kernels()->u8_motion(a->data, b->data, a->n, (uint8_t)t, d ? d->data : NULL);
    lua_pushinteger(L, (lua_Integer)count);
    lua_pushnumber(L, a->n ? (double)count / (double)a->n : 0.0);
    return 2;
}

/* u8_rgb2gray(rgb, gray): #rgb == 3 * #gray */
static int l_u8_rgb2gray(lua_State *L)
{
    pr_lbuf_t *rgb = U8(1), *g = U8(2);
    need_len(L, rgb, 1, g->n * 3, "3 x the gray buffer's length");
    pr_kernels()->u8_rgb2gray(rgb->data, g->data, g->n);
    lua_settop(L, 2);
    return 1;
}

/* u8_yuyv2gray(yuyv, gray): #yuyv == 2 * #gray */
static int l_u8_yuyv2gray(lua_State *L)
{
    pr_lbuf_t *yuyv = U8(1), *g = U8(2);
    need_len(L, yuyv, 1, g->n * 2, "2 x the gray buffer's length");
    pr_kernels()->u8_yuyv2gray(yuyv->data, g->data, g->n);
    lua_settop(L, 2);
    return 1;
}

/* u8_down2x2(src, w, h, dst): src is w x h, dst (w//2) x (h//2) */
static int l_u8_down2x2(lua_State *L)
{
    pr_lbuf_t *src = U8(1), *dst = U8(4);
    lua_Integer w = luaL_checkinteger(L, 2), h = luaL_checkinteger(L, 3);
    luaL_argcheck(L, w >= 0 && h >= 0, 2, "width and height must be >= 0");
    need_len(L, src, 1, (size_t)w * (size_t)h, "width x height");
    need_len(L, dst, 4, (size_t)(w / 2) * (size_t)(h / 2), "(width/2) x (height/2)");
    pr_kernels()->u8_down2x2(src->data, (size_t)w, (size_t)h, (size_t)w, dst->data, (size_t)(w / 2));
    lua_settop(L, 4);
    return 1;
}

/* u8_bg_update(bg, frame, shift): bg moves 1/2^shift of the way to frame */
static int l_u8_bg_update(lua_State *L)
{
    pr_lbuf_t *bg = U8(1), *f = U8(2);
    lua_Integer shift = luaL_checkinteger(L, 3);
    luaL_argcheck(L, shift >= 0 && shift <= 8, 3, "shift must be 0..8");
    need_len(L, f, 2, bg->n, "the background's length");
    pr_kernels()->u8_bg_update(bg->data, f->data, bg->n, (unsigned)shift);
    lua_settop(L, 1);
    return 1;
}

/* sig_fir(x, taps, y): #y == #x - #taps + 1 ('valid' correlation) */
static int l_sig_fir(lua_State *L)
{
    pr_lbuf_t *x = F32(1), *taps = F32(2), *y = F32(3);
    luaL_argcheck(L, taps->n >= 1 && taps->n <= x->n, 2, "need 1 <= #taps <= #x");
    need_len(L, y, 3, x->n - taps->n + 1, "#x - #taps + 1");
    pr_kernels()->sig_fir(x->data, x->n, taps->data, taps->n, y->data);
    lua_settop(L, 3);
    return 1;
}

/* sig_gain(x, g, y) */
static int l_sig_gain(lua_State *L)
{
    pr_lbuf_t *x = F32(1), *y = F32(3);
    float g = check_f32(L, 2);
    need_len(L, y, 3, x->n, "x's length");
    pr_kernels()->sig_gain(x->data, g, y->data, x->n);
    lua_settop(L, 3);
    return 1;
}

/* sig_mix(a, ga, b, gb, y): y = ga*a + gb*b */
static int l_sig_mix(lua_State *L)
{
    pr_lbuf_t *a = F32(1), *b = F32(3), *y = F32(5);
    float ga = check_f32(L, 2), gb = check_f32(L, 4);
    need_len(L, b, 3, a->n, "a's length");
    need_len(L, y, 5, a->n, "a's length");
    pr_kernels()->sig_mix(a->data, ga, b->data, gb, y->data, a->n);
    lua_settop(L, 5);
    return 1;
}

/* f32_gemv_bias(w, x, bias_or_nil, y): w is #y x #x row-major */
static int l_f32_gemv_bias(lua_State *L)
{
    pr_lbuf_t *w = F32(1), *x = F32(2), *b = NULL, *y = F32(4);
    if (!lua_isnil(L, 3)) {
        b = F32(3);
        need_len(L, b, 3, y->n, "#y");
    }
    need_len(L, w, 1, y->n * x->n, "#y x #x");
    luaL_argcheck(L, y->data != x->data, 4, "y must not be x");
    pr_kernels()->f32_gemv_bias(w->data, x->data, b ? b->data : NULL, y->data, y->n, x->n);
    lua_settop(L, 4);
    return 1;
}

#define UNARY(name)                                             \
    static int l_##name(lua_State *L)                           \
    {                                                           \
        pr_lbuf_t *x = F32(1), *y = F32(2);                     \
        need_len(L, y, 2, x->n, "x's length");                  \
        pr_kernels()->name(x->data, y->data, x->n);             \
        lua_settop(L, 2);                                       \
        return 1;                                               \
    }
UNARY(f32_tanh)
UNARY(f32_sigmoid)
UNARY(f32_exp)
UNARY(f32_softmax)

/* q8_quantize(w, rows, q, scale): w f32 rows x cols, q i8 same size,
 * scale f32 of rows */
static int l_q8_quantize(lua_State *L)
{
    pr_lbuf_t *w = F32(1), *q = pr_lbuf_check(L, 3, PR_BUF_I8), *sc = F32(4);
    lua_Integer rows = luaL_checkinteger(L, 2);
    luaL_argcheck(L, rows >= 1 && w->n % (size_t)rows == 0, 2, "rows must divide #w");
    need_len(L, q, 3, w->n, "#w");
    need_len(L, sc, 4, (size_t)rows, "rows");
    for (size_t i = 0; i < w->n; i++)
        if (!isfinite(((const float *)w->data)[i]))
            return luaL_argerror(L, 1, "weights must be finite");
    pr_kernels()->q8_quantize(w->data, (size_t)rows, w->n / (size_t)rows, q->data, sc->data);
    lua_settop(L, 4);
    return 1;
}

/* q8_gemv(q, scale, x, xscale, bias_or_nil, y): q i8 #y x #x */
static int l_q8_gemv(lua_State *L)
{
    pr_lbuf_t *q = pr_lbuf_check(L, 1, PR_BUF_I8), *sc = F32(2);
    pr_lbuf_t *x = pr_lbuf_check(L, 3, PR_BUF_I8), *b = NULL, *y = F32(6);
    float xscale = check_f32(L, 4);
    if (!lua_isnil(L, 5)) {
        b = F32(5);
        need_len(L, b, 5, y->n, "#y");
    }
    need_len(L, q, 1, y->n * x->n, "#y x #x");
    need_len(L, sc, 2, y->n, "#y");
    for (size_t i = 0; i < x->n; i++)
        if (((const int8_t *)x->data)[i] == -128)
            return luaL_argerror(L, 3, "values must be in -127..127");
    pr_kernels()->q8_gemv(q->data, sc->data, y->n, x->n, x->data, xscale, b ? b->data : NULL,
                          y->data);
    lua_settop(L, 6);
    return 1;
}

/* A CSR matrix of `rows` rows and `cols` columns given as three buffers at
 * stack indexes ir, ic, iv: checked in full on every call (O(nnz)), since a
 * bad index would make the kernel read outside its buffers.  perch.esn and
 * perch.snn check once at creation and are the way to call these kernels in
 * a loop. */
static void check_csr(lua_State *L, int ir, int ic, int iv, size_t rows, size_t cols)
{
    pr_lbuf_t *rp = pr_lbuf_check(L, ir, PR_BUF_I32), *col = pr_lbuf_check(L, ic, PR_BUF_I32);
    pr_lbuf_t *val = F32(iv);
    const int32_t *r = rp->data, *c = col->data;

    need_len(L, rp, ir, rows + 1, "rows + 1");
    need_len(L, val, iv, col->n, "#col");
    if (r[0] != 0 || (size_t)r[rows] != col->n)
        luaL_argerror(L, ir, "row_ptr must start at 0 and end at #col");
    for (size_t i = 0; i < rows; i++)
        if (r[i + 1] < r[i])
            luaL_argerror(L, ir, lua_pushfstring(L, "row_ptr decreases at entry %I",
                                                 (lua_Integer)i + 2));
    for (size_t k = 0; k < col->n; k++)
        if (c[k] < 0 || (size_t)c[k] >= cols)
            luaL_argerror(L, ic, lua_pushfstring(L, "entry %I is %d, must be in 0..%I",
                                                 (lua_Integer)k + 1, (int)c[k],
                                                 (lua_Integer)cols - 1));
}

/* esn_update(x, u, w_in, row_ptr, col, val, bias_or_nil, leak, pre) -> x */
static int l_esn_update(lua_State *L)
{
    pr_lbuf_t *x = F32(1), *u = F32(2), *w_in = F32(3), *b = NULL, *pre = F32(9);
    float a = check_f32(L, 8);
    need_len(L, w_in, 3, x->n * u->n, "#x x #u");
    check_csr(L, 4, 5, 6, x->n, x->n);
    if (!lua_isnil(L, 7)) {
        b = F32(7);
        need_len(L, b, 7, x->n, "#x");
    }
    luaL_argcheck(L, a > 0 && a <= 1, 8, "leak must be in (0, 1]");
    need_len(L, pre, 9, x->n, "#x");
    pr_kernels()->esn_update(x->data, x->n, u->data, u->n, w_in->data,
                             pr_lbuf_check(L, 4, PR_BUF_I32)->data,
                             pr_lbuf_check(L, 5, PR_BUF_I32)->data, F32(6)->data,
                             b ? b->data : NULL, a, pre->data);
    lua_settop(L, 1);
    return 1;
}

/* The arguments lif_step and lif_step_csr share: v, refr, spikes_in (or
 * nil), then after the weights: decay, threshold, v_reset, refr_steps,
 * spikes_out.  Returns m, the number of inputs (from spikes_in, or -1). */
static long lif_common(lua_State *L, int first_param, pr_lbuf_t **v, pr_lbuf_t **refr,
                       pr_lbuf_t **in, pr_lbuf_t **out)
{
    *v = F32(1);
    *refr = pr_lbuf_check(L, 2, PR_BUF_I32);
    need_len(L, *refr, 2, (*v)->n, "#v");
    *in = lua_isnil(L, 3) ? NULL : U8(3);
    luaL_checknumber(L, first_param);
    luaL_checknumber(L, first_param + 1);
    luaL_checknumber(L, first_param + 2);
    luaL_checkinteger(L, first_param + 3);
    *out = U8(first_param + 4);
    need_len(L, *out, first_param + 4, (*v)->n, "#v");
    return *in ? (long)(*in)->n : -1;
}

static int lif_result(lua_State *L, const pr_lbuf_t *out, int idx)
{
    size_t count = 0;
    for (size_t i = 0; i < out->n; i++)
        count += ((const uint8_t *)out->data)[i] != 0;
    lua_pushvalue(L, idx);
    lua_pushinteger(L, (lua_Integer)count);
    return 2;
}

/* lif_step(v, refr, spikes_in_or_nil, w, decay, threshold, v_reset,
 * refr_steps, spikes_out) -> spikes_out, count; w is #inputs x #v */
static int l_lif_step(lua_State *L)
{
    pr_lbuf_t *v, *refr, *in, *out, *w = F32(4);
    long m = lif_common(L, 5, &v, &refr, &in, &out);
    if (v->n == 0 || w->n % v->n)
        return luaL_argerror(L, 4, "#w must be a multiple of #v (inputs x neurons)");
    if (m >= 0)
        need_len(L, w, 4, (size_t)m * v->n, "#spikes_in x #v");
    pr_kernels()->lif_step(v->n, v->data, refr->data, in ? in->data : NULL, w->n / v->n,
                           w->data, check_f32(L, 5), check_f32(L, 6), check_f32(L, 7),
                           (int32_t)lua_tointeger(L, 8), out->data);
    return lif_result(L, out, 9);
}

/* lif_step_csr(v, refr, spikes_in_or_nil, row_ptr, idx, val, decay,
 * threshold, v_reset, refr_steps, spikes_out) -> spikes_out, count; CSR by
 * input (#row_ptr - 1 inputs), idx < #v and distinct within a row */
static int l_lif_step_csr(lua_State *L)
{
    pr_lbuf_t *v, *refr, *in, *out, *rp = pr_lbuf_check(L, 4, PR_BUF_I32);
    long m = lif_common(L, 7, &v, &refr, &in, &out);
    luaL_argcheck(L, rp->n >= 1, 4, "row_ptr needs #inputs + 1 entries");
    if (m >= 0)
        need_len(L, rp, 4, (size_t)m + 1, "#spikes_in + 1");
    check_csr(L, 4, 5, 6, rp->n - 1, v->n);
    pr_kernels()->lif_step_csr(v->n, v->data, refr->data, in ? in->data : NULL, rp->n - 1,
                               rp->data, pr_lbuf_check(L, 5, PR_BUF_I32)->data, F32(6)->data,
                               check_f32(L, 7), check_f32(L, 8), check_f32(L, 9),
                               (int32_t)lua_tointeger(L, 10), out->data);
    return lif_result(L, out, 11);
}

void pr_l_kernels_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "isa", l_isa },
        { "f32_dot", l_f32_dot }, { "f32_axpy", l_f32_axpy }, { "f32_scale", l_f32_scale },
        { "f32_add", l_f32_add }, { "f32_relu", l_f32_relu },
        { "f32_gemv_bias", l_f32_gemv_bias }, { "f32_tanh", l_f32_tanh },
        { "f32_sigmoid", l_f32_sigmoid }, { "f32_exp", l_f32_exp },
        { "f32_softmax", l_f32_softmax },
        { "q8_quantize", l_q8_quantize }, { "q8_gemv", l_q8_gemv },
        { "esn_update", l_esn_update }, { "lif_step", l_lif_step },
        { "lif_step_csr", l_lif_step_csr },
        { "u8_motion", l_u8_motion }, { "u8_rgb2gray", l_u8_rgb2gray },
        { "u8_yuyv2gray", l_u8_yuyv2gray }, { "u8_down2x2", l_u8_down2x2 },
        { "u8_bg_update", l_u8_bg_update },
        { "sig_fir", l_sig_fir }, { "sig_gain", l_sig_gain }, { "sig_mix", l_sig_mix },
        { NULL, NULL },
    };
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "kernels");
}
