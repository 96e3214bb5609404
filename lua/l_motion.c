/* l_motion.c - perch.motion: the motion score of runtime/motion.h.
 *
 *   local m = perch.motion.new{ width = 160, thresh = 25, shift = 4,
 *                               lightswitch = 0.6, lightswitch_frames = 5 }
 *   inputs.motion = m:update(frame)      -- 0..1, or nil, message, code
 *
 * update() takes a gray frame as it is, converts an RGB one to gray, and
 * decodes a JPEG one straight to a small gray image (DCT scaling to at most
 * `width`, fast IDCT): no Lua memory per frame.  The handle owns its C
 * buffers; the collector or m:close() frees them. */
#include "l_frames.h"
#include "lopt.h"
#include "perch.h"

#include "error.h"
#include "jpeg.h"
#include "kernels.h"
#include "motion.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define MOTION_MT "perch.motion"

typedef struct lmotion {
    pr_motion_t *m;
    pr_motion_opts_t o;
    uint8_t *scratch;
    size_t cap;
} lmotion_t;

static lmotion_t *check_motion(lua_State *L, int idx)
{
    lmotion_t *lm = luaL_checkudata(L, idx, MOTION_MT);
    if (!lm->m)
        luaL_error(L, "motion detector is closed");
    return lm;
}

static int l_new(lua_State *L)
{
    static const char *const keys[] = { "width", "thresh", "shift", "lightswitch",
                                        "lightswitch_frames", NULL };
    const char *W = "perch.motion.new";
    lmotion_t *lm;
    pr_motion_opts_t o;
    pr_motion_opts_default(&o);
    if (!lua_isnoneornil(L, 1)) {
        pr_lopt_keys(L, 1, W, keys);
        o.width = (int)pr_lopt_int(L, 1, W, "width", o.width, 8, 8192);
        o.thresh = (int)pr_lopt_int(L, 1, W, "thresh", o.thresh, 0, 254);
        o.shift = (int)pr_lopt_int(L, 1, W, "shift", o.shift, 0, 8);
        o.lightswitch = pr_lopt_num(L, 1, W, "lightswitch", o.lightswitch, 0.01, 1);
        o.lightswitch_frames = (int)pr_lopt_int(L, 1, W, "lightswitch_frames",
                                                o.lightswitch_frames, 0, 1000);
    }
    lm = lua_newuserdatauv(L, sizeof *lm, 0);
    memset(lm, 0, sizeof *lm);
    luaL_setmetatable(L, MOTION_MT);
    lm->o = o;
    if (pr_motion_create(&lm->m, &o) < 0)
        return luaL_error(L, "%s: out of memory", W);
    return 1;
}

static int room(lmotion_t *lm, size_t need)
{
    if (need > lm->cap) {
        uint8_t *b = realloc(lm->scratch, need);
        if (!b)
            return PR_ENOMEM;
        lm->scratch = b;
        lm->cap = need;
    }
    return 0;
}

static int m_update(lua_State *L)
{
    lmotion_t *lm = check_motion(L, 1);
    pr_frame_t *f = pr_lframe_check(L, 2);
    const uint8_t *gray = f->data;
    int w = f->width, h = f->height, rc;
    size_t stride = f->stride;
    double frac;

    if (f->fmt == PR_FRAME_RGB) {
        if ((rc = room(lm, (size_t)w * (size_t)h)) < 0)
            return pr_l_fail(L, "out of memory", rc, "ENOMEM");
        for (int y = 0; y < h; y++)
            pr_kernels()->u8_rgb2gray(f->data + (size_t)y * f->stride,
                                      lm->scratch + (size_t)y * (size_t)w, (size_t)w);
        gray = lm->scratch;
        stride = (size_t)w;
    } else if (f->fmt == PR_FRAME_JPEG) {
        pr_jpeg_t *j = pr_l_jpeg_ctx(L);
        pr_jpeg_decode_opts_t o = { .fmt = PR_FRAME_GRAY, .max_width = lm->o.width, .fast = 1 };
        rc = pr_jpeg_decode(j, f->data, f->len, &o, lm->scratch, lm->cap, &w, &h);
        if (rc == PR_ETOOBIG) {
            if ((rc = room(lm, (size_t)w * (size_t)h)) < 0)
                return pr_l_fail(L, "out of memory", rc, "ENOMEM");
            rc = pr_jpeg_decode(j, f->data, f->len, &o, lm->scratch, lm->cap, &w, &h);
        }
        if (rc < 0)
            return pr_l_fail(L, pr_jpeg_error(j), rc, "EBADMSG");
        gray = lm->scratch;
        stride = (size_t)w;
    }
    if ((rc = pr_motion_update(lm->m, gray, w, h, stride, &frac)) < 0)
        return pr_l_fail(L, pr_strerror(rc), rc, rc == PR_ENOMEM ? "ENOMEM" : NULL);
    lua_pushnumber(L, frac);
    return 1;
}

static int m_reset(lua_State *L)
{
    pr_motion_reset(check_motion(L, 1)->m);
    lua_settop(L, 1);
    return 1;
}

static int m_stats(lua_State *L)
{
    pr_motion_stats_t st;
    pr_motion_stats(check_motion(L, 1)->m, &st);
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, (lua_Integer)st.frames);
    lua_setfield(L, -2, "frames");
    lua_pushinteger(L, (lua_Integer)st.lightswitches);
    lua_setfield(L, -2, "lightswitches");
    lua_pushinteger(L, (lua_Integer)st.suppressed);
    lua_setfield(L, -2, "suppressed");
    lua_pushinteger(L, st.width);
    lua_setfield(L, -2, "width");
    lua_pushinteger(L, st.height);
    lua_setfield(L, -2, "height");
    lua_pushnumber(L, st.last);
    lua_setfield(L, -2, "last");
    lua_pushinteger(L, (lua_Integer)st.changed);
    lua_setfield(L, -2, "changed");
    return 1;
}

static int m_close(lua_State *L)
{
    lmotion_t *lm = luaL_checkudata(L, 1, MOTION_MT);
    pr_motion_destroy(lm->m);
    free(lm->scratch);
    lm->m = NULL;
    lm->scratch = NULL;
    lm->cap = 0;
    return 0;
}

static int m_tostring(lua_State *L)
{
    lmotion_t *lm = luaL_checkudata(L, 1, MOTION_MT);
    if (!lm->m)
        lua_pushliteral(L, "perch.motion (closed)");
    else
        lua_pushfstring(L, "perch.motion (width %d, thresh %d)", lm->o.width, lm->o.thresh);
    return 1;
}

void pr_l_motion_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "update", m_update }, { "reset", m_reset }, { "stats", m_stats },
        { "close", m_close }, { NULL, NULL },
    };
    static const luaL_Reg meta[] = {
        { "__gc", m_close }, { "__close", m_close }, { "__tostring", m_tostring },
        { "__index", NULL }, { NULL, NULL },
    };
    luaL_newmetatable(L, MOTION_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "new");
    lua_setfield(L, -2, "motion");
}
