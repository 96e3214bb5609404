/* l_jpeg.c - perch.jpeg: encode, decode, info through one TurboJPEG codec
 * per Lua state (runtime/jpeg.h), so handles and buffers are reused.
 *
 *   perch.jpeg.encode(frame_or_jpeg, quality) -> string
 *       gray/RGB frames are encoded (4:2:0; gray stays gray); a JPEG frame
 *       or string is re-encoded at the quality.  quality nil: the
 *       actuators' effective jpeg_quality, else 85.
 *   perch.jpeg.decode(jpeg, { format = "gray"|"rgb", max_width = 160,
 *                             fast = true }) -> frame (pixels in the handle)
 *   perch.jpeg.info(jpeg) -> { width, height, subsamp }
 *   perch.jpeg.stats() -> { decoded, encoded, errors }
 * A broken JPEG gives nil, message, "EBADMSG". */
#include "l_frames.h"
#include "lopt.h"
#include "perch.h"

#include "actuators.h"
#include "device.h"
#include "error.h"
#include "jpeg.h"

#include <errno.h>
#include <string.h>

#include <lauxlib.h>

#define CTX_MT "perch.jpeg.ctx"
/* Registry key of the state's codec (a CTX_MT userdata). */
static const char CTX_KEY[] = "perch.jpeg.codec";

static int ctx_gc(lua_State *L)
{
    pr_jpeg_t **j = luaL_checkudata(L, 1, CTX_MT);
    pr_jpeg_destroy(*j);
    *j = NULL;
    return 0;
}

pr_jpeg_t *pr_l_jpeg_ctx(lua_State *L)
{
    pr_jpeg_t **j;
    if (lua_getfield(L, LUA_REGISTRYINDEX, CTX_KEY) == LUA_TUSERDATA) {
        j = lua_touserdata(L, -1);
        lua_pop(L, 1);
        return *j;
    }
    lua_pop(L, 1);
    j = lua_newuserdatauv(L, sizeof *j, 0);
    *j = NULL;
    luaL_setmetatable(L, CTX_MT);
    if (pr_jpeg_create(j) < 0)
        luaL_error(L, "perch.jpeg: cannot create the codec (out of memory)");
    lua_setfield(L, LUA_REGISTRYINDEX, CTX_KEY);
    return *j;
}

static int quality_arg(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx)) {
        struct pr_device *d = pr_l_actuators_device(L);
        pr_act_state_t st;
        if (d) {
            pr_actuators_state(pr_device_actuators(d), PR_ACT_JPEG_QUALITY, &st);
            if (st.effective.set)
                return (int)st.effective.num;
        }
        return 85;
    }
    lua_Integer q = luaL_checkinteger(L, idx);
    luaL_argcheck(L, q >= 1 && q <= 100, idx, "quality must be 1..100");
    return (int)q;
}

static int jfail(lua_State *L, pr_jpeg_t *j, int rc)
{
    if (rc == -EBADMSG)
        return pr_l_fail(L, pr_jpeg_error(j), rc, "EBADMSG");
    return pr_l_fail(L, pr_strerror(rc), rc, rc == PR_ENOMEM ? "ENOMEM" : NULL);
}

static int l_encode(lua_State *L)
{
    pr_jpeg_t *j = pr_l_jpeg_ctx(L);
    int q = quality_arg(L, 2), rc;
    const uint8_t *out;
    size_t outlen, len;
    if (lua_type(L, 1) != LUA_TSTRING) {
        pr_frame_t *f = pr_lframe_check(L, 1);
        if (f->fmt != PR_FRAME_JPEG) {
            rc = pr_jpeg_encode(j, f->data, f->width, f->height, f->stride, f->fmt, q, &out,
                                &outlen);
            if (rc < 0)
                return jfail(L, j, rc);
            lua_pushlstring(L, (const char *)out, outlen);
            return 1;
        }
    }
    const uint8_t *in = pr_l_jpeg_arg(L, 1, &len);
    if ((rc = pr_jpeg_transcode(j, in, len, q, &out, &outlen)) < 0)
        return jfail(L, j, rc);
    lua_pushlstring(L, (const char *)out, outlen);
    return 1;
}

static int l_decode(lua_State *L)
{
    static const char *const keys[] = { "format", "max_width", "fast", NULL };
    static const char *const fmts[] = { "gray", "rgb", NULL };
    pr_jpeg_t *j = pr_l_jpeg_ctx(L);
    pr_jpeg_decode_opts_t o = { .fmt = PR_FRAME_GRAY };
    pr_jpeg_info_t in;
    size_t len;
    const uint8_t *data = pr_l_jpeg_arg(L, 1, &len);
    int w, h, rc;
    if (!lua_isnoneornil(L, 2)) {
        const char *W = "perch.jpeg.decode";
        pr_lopt_keys(L, 2, W, keys);
        lua_getfield(L, 2, "format");
        o.fmt = luaL_checkoption(L, -1, "gray", fmts) ? PR_FRAME_RGB : PR_FRAME_GRAY;
        lua_pop(L, 1);
        o.max_width = (int)pr_lopt_int(L, 2, W, "max_width", 0, 0, 65535);
        o.fast = pr_lopt_bool(L, 2, W, "fast", 0);
    }
    if ((rc = pr_jpeg_info(j, data, len, &in)) < 0)
        return jfail(L, j, rc);
    pr_jpeg_scaled_size(in.width, in.height, o.max_width, &w, &h);
    pr_frame_t *f = pr_lframe_new(L, o.fmt, w, h);
    if ((rc = pr_jpeg_decode(j, data, len, &o, f->data, f->cap, &w, &h)) < 0)
        return jfail(L, j, rc);
    if (lua_type(L, 1) != LUA_TSTRING) {
        pr_frame_t *src = pr_lframe_check(L, 1);
        f->seq = src->seq;
        f->t_ns = src->t_ns;
    }
    return 1;
}

static int l_info(lua_State *L)
{
    pr_jpeg_t *j = pr_l_jpeg_ctx(L);
    pr_jpeg_info_t in;
    size_t len;
    const uint8_t *data = pr_l_jpeg_arg(L, 1, &len);
    int rc = pr_jpeg_info(j, data, len, &in);
    if (rc < 0)
        return jfail(L, j, rc);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, in.width);
    lua_setfield(L, -2, "width");
    lua_pushinteger(L, in.height);
    lua_setfield(L, -2, "height");
    lua_pushstring(L, in.subsamp_name);
    lua_setfield(L, -2, "subsamp");
    return 1;
}

static int l_stats(lua_State *L)
{
    pr_jpeg_stats_t st;
    pr_jpeg_stats(pr_l_jpeg_ctx(L), &st);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)st.decoded);
    lua_setfield(L, -2, "decoded");
    lua_pushinteger(L, (lua_Integer)st.encoded);
    lua_setfield(L, -2, "encoded");
    lua_pushinteger(L, (lua_Integer)st.errors);
    lua_setfield(L, -2, "errors");
    return 1;
}

void pr_l_jpeg_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "encode", l_encode }, { "decode", l_decode }, { "info", l_info },
        { "stats", l_stats }, { NULL, NULL },
    };
    luaL_newmetatable(L, CTX_MT);
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "jpeg");
}
