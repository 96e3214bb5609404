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
        { "u8_motion", l_u8_motion }, { "u8_rgb2gray", l_u8_rgb2gray },
        { "u8_yuyv2gray", l_u8_yuyv2gray }, { "u8_down2x2", l_u8_down2x2 },
        { "u8_bg_update", l_u8_bg_update },
        { "sig_fir", l_sig_fir }, { "sig_gain", l_sig_gain }, { "sig_mix", l_sig_mix },
        { NULL, NULL },
    };
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "kernels");
}
