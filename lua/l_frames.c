/* l_frames.c - perch.frames: frame sources and the perch.frame handle.
 *
 *   local src = perch.frames.source{ kind = "synthetic"|"mjpeg"|"dir", ... }
 *   src:on_frame(function(frame, src) ... end)    -- or src:read() to pull
 *   src:on_end(function(src, why) ... end)
 *   src:set_fps(5) / src:set_fps("actuators"), src:stats(), src:reopen()
 *
 * A source is C's (runtime/frame_source.h), registered with the host; it
 * keeps running when its handle is dropped, like a timer, and closes with
 * src:close(), <close> or the app's teardown.  With fps = "actuators" it
 * follows perch.actuators' effective fps (the policies' vote after the
 * safety floor), polled every 100 ms; fps_default applies until a policy
 * has asked for a rate. */
#include "l_frames.h"
#include "lopt.h"
#include "l_buffer.h"
#include "perch.h"

#include "actuators.h"
#include "device.h"
#include "error.h"
#include "frame_source.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#define FRAME_MT "perch.frame"
#define SOURCE_MT "perch.frames.source"

int pr_l_fail(lua_State *L, const char *msg, int rc, const char *code)
{
    const char *name = rc < 0 && rc > -PR_EBASE ? strerrorname_np(-rc) : NULL;
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, code ? code : name ? name : "EINVAL");
    return 3;
}

/* --------------------------------------------------------------- frames */

void pr_lframe_release(pr_lframe_t *lf)
{
    if (lf->f) {
        pr_frame_unref(lf->f);
        lf->f = NULL;
    }
}

pr_lframe_t *pr_lframe_push(lua_State *L, pr_frame_t *f, int borrowed)
{
    pr_lframe_t *lf = lua_newuserdatauv(L, sizeof *lf, 0);
    memset(lf, 0, sizeof *lf);
    lf->f = f;
    lf->borrowed = borrowed;
    luaL_setmetatable(L, FRAME_MT);
    return lf;
}

pr_frame_t *pr_lframe_new(lua_State *L, pr_frame_fmt_t fmt, int w, int h)
{
    size_t bytes = (size_t)w * (size_t)h * (size_t)pr_frame_fmt_bpp(fmt);
    pr_lframe_t *lf = lua_newuserdatauv(L, sizeof *lf + 63 + bytes, 0);
    memset(lf, 0, sizeof *lf);
    lf->inl.refs = 1;
    lf->inl.fmt = fmt;
    lf->inl.width = w;
    lf->inl.height = h;
    lf->inl.stride = (size_t)w * (size_t)pr_frame_fmt_bpp(fmt);
    lf->inl.len = lf->inl.cap = bytes;
    lf->inl.t_ns = pr_time_ns();
    lf->inl.data = (uint8_t *)(((uintptr_t)(lf + 1) + 63) & ~(uintptr_t)63);
    lf->f = &lf->inl;
    luaL_setmetatable(L, FRAME_MT);
    return lf->f;
}

pr_frame_t *pr_lframe_check(lua_State *L, int idx)
{
    pr_lframe_t *lf = luaL_checkudata(L, idx, FRAME_MT);
    if (!lf->f)
        luaL_error(L, lf->borrowed ? "frame is no longer valid: the frame given to on_frame "
                                     "lives until the callback returns (use frame:keep())"
                                   : "frame is closed");
    return lf->f;
}

const uint8_t *pr_l_jpeg_arg(lua_State *L, int idx, size_t *len)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        return (const uint8_t *)lua_tolstring(L, idx, len);
    if (!luaL_testudata(L, idx, FRAME_MT))
        luaL_argerror(L, idx, lua_pushfstring(L, "JPEG frame or string expected, got %s",
                                              luaL_typename(L, idx)));
    pr_frame_t *f = pr_lframe_check(L, idx);
    if (f->fmt != PR_FRAME_JPEG)
        luaL_argerror(L, idx, lua_pushfstring(L, "JPEG frame expected, got a %s frame",
                                              pr_frame_fmt_name(f->fmt)));
    *len = f->len;
    return f->data;
}

static int fr_index(lua_State *L)
{
    pr_frame_t *f = pr_lframe_check(L, 1);
    const char *k = luaL_checkstring(L, 2);
    if (!strcmp(k, "width"))
        lua_pushinteger(L, f->width);
    else if (!strcmp(k, "height"))
        lua_pushinteger(L, f->height);
    else if (!strcmp(k, "format"))
        lua_pushstring(L, pr_frame_fmt_name(f->fmt));
    else if (!strcmp(k, "seq"))
        lua_pushinteger(L, (lua_Integer)f->seq);
    else if (!strcmp(k, "time"))
        lua_pushnumber(L, (double)f->t_ns * 1e-9);
    else if (!strcmp(k, "size"))
        lua_pushinteger(L, (lua_Integer)f->len);
    else if (!strcmp(k, "stride"))
        lua_pushinteger(L, (lua_Integer)f->stride);
    else {
        lua_getmetatable(L, 1);
        lua_getfield(L, -1, "methods");
        lua_getfield(L, -1, k);
    }
    return 1;
}

static int fr_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)pr_lframe_check(L, 1)->len);
    return 1;
}

static int fr_bytes(lua_State *L)
{
    pr_frame_t *f = pr_lframe_check(L, 1);
    lua_pushlstring(L, (const char *)f->data, f->len);
    return 1;
}

/* A u8 perch.buffer copy of the pixels (or JPEG bytes), for the kernels. */
static int fr_buffer(lua_State *L)
{
    pr_frame_t *f = pr_lframe_check(L, 1);
    pr_lbuf_t *b = pr_lbuf_new(L, PR_BUF_U8, f->len);
    memcpy(b->data, f->data, f->len);
    return 1;
}

static int fr_keep(lua_State *L)
{
    pr_frame_t *f = pr_lframe_check(L, 1);
    if (!f->pool) {
        lua_settop(L, 1);   /* stored in its own userdata: already the script's */
        return 1;
    }
    pr_lframe_push(L, pr_frame_ref(f), 0);
    return 1;
}

static int fr_close(lua_State *L)
{
    pr_lframe_t *lf = luaL_checkudata(L, 1, FRAME_MT);
    if (!lf->borrowed)
        pr_lframe_release(lf);
    return 0;
}

static int fr_tostring(lua_State *L)
{
    pr_lframe_t *lf = luaL_checkudata(L, 1, FRAME_MT);
    pr_frame_t *f = lf->f;
    if (!f)
        lua_pushliteral(L, "perch.frame (released)");
    else
        lua_pushfstring(L, "perch.frame (%s %dx%d, %I bytes, #%I)", pr_frame_fmt_name(f->fmt),
                        f->width, f->height, (lua_Integer)f->len, (lua_Integer)f->seq);
    return 1;
}

/* -------------------------------------------------------------- sources */

typedef struct lsrc {
    pr_res_t res;              /* first: the host's resource list links this */
    pr_host_t *h;
    pr_fsrc_t *s;
    pr_callback_t on_frame, on_end;
    int self_ref;
    int closed;
    pr_device_t *dev;          /* fps = "actuators" */
    int follow;
    double fps_default;
} lsrc_t;

static lsrc_t *check_src(lua_State *L, int idx)
{
    lsrc_t *ls = luaL_checkudata(L, idx, SOURCE_MT);
    if (ls->closed)
        luaL_error(L, "frame source is closed");
    return ls;
}

static void src_close(lsrc_t *ls)
{
    lua_State *L = pr_host_lua(ls->h);
    if (ls->closed)
        return;
    ls->closed = 1;
    pr_fsrc_destroy(ls->s);
    ls->s = NULL;
    pr_host_disown(ls->h, &ls->res);
    pr_callback_unset(L, &ls->on_frame);
    pr_callback_unset(L, &ls->on_end);
    if (ls->self_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, ls->self_ref);
        ls->self_ref = LUA_NOREF;
    }
}

static void res_close(pr_res_t *r)
{
    src_close((lsrc_t *)r);
}

static void on_event(pr_fsrc_t *s, pr_fsrc_event_t ev, pr_frame_t *f, void *ud)
{
    lsrc_t *ls = ud;
    lua_State *L = pr_host_lua(ls->h);
    (void)s;
    if (ls->closed)
        return;
    if (ev == PR_FSRC_FRAME) {
        pr_lframe_t *lf;
        if (ls->on_frame.ref == LUA_NOREF || ls->on_frame.disabled)
            return;
        /* An anchor below the arguments keeps the frame handle alive past
         * the call, so it can be released whatever the callback did. */
        lf = pr_lframe_push(L, pr_frame_ref(f), 1);
        lua_pushvalue(L, -1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, ls->self_ref);
        pr_host_call(ls->h, &ls->on_frame, 2, 0);
        pr_lframe_release(lf);
        lua_pop(L, 1);
        return;
    }
    if (ls->on_end.ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, ls->self_ref);
        lua_pushstring(L, pr_fsrc_error(ls->s));
        pr_host_call(ls->h, &ls->on_end, 2, 0);
    } else {
        pr_log_info("frame source ended: %s", pr_fsrc_error(ls->s));
    }
}

/* fps = "actuators": the effective fps, or fps_default until policies ask. */
static double actuator_fps(void *ud)
{
    lsrc_t *ls = ud;
    pr_act_state_t st;
    pr_actuators_state(pr_device_actuators(ls->dev), PR_ACT_FPS, &st);
    return st.effective.set ? st.effective.num : ls->fps_default;
}

/* The GC releases frames scripts dropped without closing: run it before a
 * source gives up on an empty pool. */
static void pool_empty_gc(void *ud)
{
    lsrc_t *ls = ud;
    if (!pr_host_running(ls->h))
        lua_gc(pr_host_lua(ls->h), LUA_GCCOLLECT);
}

static int read_script(lua_State *L, int t, pr_synth_seg_t *segs, int max)
{
    int n;
    if (lua_getfield(L, t, "script") == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "perch.frames.source: 'script' must be a list of segments, got %s",
                   luaL_typename(L, -1));
    n = (int)luaL_len(L, -1);
    if (n < 1 || n > max)
        luaL_error(L, "perch.frames.source: 'script' needs 1..%d segments, got %d", max, n);
    for (int i = 0; i < n; i++) {
        static const char *const keys[] = { "frames", "move", "light", NULL };
        char what[64];
        lua_rawgeti(L, -1, i + 1);
        snprintf(what, sizeof what, "perch.frames.source: script[%d]", i + 1);
        if (!lua_istable(L, -1))
            luaL_error(L, "%s must be a table", what);
        pr_lopt_keys(L, lua_gettop(L), what, keys);
        segs[i].frames = (uint32_t)pr_lopt_int(L, -1, what, "frames", 1, 1, 1 << 30);
        segs[i].move = pr_lopt_bool(L, -1, what, "move", 0);
        segs[i].light = (int)pr_lopt_int(L, -1, what, "light", 0, -255, 255);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

static int l_source(lua_State *L)
{
    static const char *const keys[] = {
        "kind", "fps", "fps_default", "ring", "keep", "max_frame", "width", "height", "format",
        "quality", "noise", "seed", "script", "path", "loop", NULL,
    };
    static const char *const kinds[] = { "synthetic", "mjpeg", "dir", NULL };
    static const char *const fmts[] = { "jpeg", "gray", "rgb", NULL };
    const char *W = "perch.frames.source";
    pr_host_t *h = pr_host_of(L);
    pr_fsrc_opts_t o;
    pr_synth_seg_t segs[64];
    char err[300];
    lsrc_t *ls;
    int follow = 0, rc;

    pr_fsrc_opts_default(&o);
    pr_lopt_keys(L, 1, W, keys);
    lua_getfield(L, 1, "kind");
    o.kind = (pr_fsrc_kind_t)luaL_checkoption(L, -1, NULL, kinds);
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "fps") == LUA_TSTRING) {
        if (strcmp(lua_tostring(L, -1), "actuators"))
            luaL_error(L, "%s: 'fps' must be a number or \"actuators\"", W);
        follow = 1;
    }
    lua_pop(L, 1);
    if (!follow)
        o.fps = pr_lopt_num(L, 1, W, "fps", 10, 0, 1000);
    o.ring = (size_t)pr_lopt_int(L, 1, W, "ring", 4, 1, 1024);
    o.keep = (size_t)pr_lopt_int(L, 1, W, "keep", 4, 0, 1024);
    o.max_frame = (size_t)pr_lopt_int(L, 1, W, "max_frame", 0, 0, (lua_Integer)1 << 30);
    o.width = (int)pr_lopt_int(L, 1, W, "width", 640, 16, 8192);
    o.height = (int)pr_lopt_int(L, 1, W, "height", 480, 16, 8192);
    lua_getfield(L, 1, "format");
    o.fmt = (pr_frame_fmt_t)luaL_checkoption(L, -1, "gray", fmts);
    lua_pop(L, 1);
    o.quality = (int)pr_lopt_int(L, 1, W, "quality", 85, 1, 100);
    o.noise = (int)pr_lopt_int(L, 1, W, "noise", 0, 0, 64);
    o.seed = (uint32_t)pr_lopt_int(L, 1, W, "seed", 1, 0, 0xFFFFFFFF);
    o.path = pr_lopt_str(L, 1, W, "path", NULL);
    o.loop = pr_lopt_bool(L, 1, W, "loop", 0);
    o.nscript = (size_t)read_script(L, 1, segs, 64);
    o.script = segs;
    if (o.kind != PR_FSRC_SYNTHETIC && !o.path)
        luaL_error(L, "%s: kind '%s' needs 'path'", W, kinds[o.kind]);

    ls = lua_newuserdatauv(L, sizeof *ls, 0);
    memset(ls, 0, sizeof *ls);
    ls->h = h;
    ls->closed = 1;   /* until set up, so __gc does nothing */
    ls->self_ref = LUA_NOREF;
    ls->on_frame.ref = ls->on_end.ref = LUA_NOREF;
    ls->fps_default = pr_lopt_num(L, 1, W, "fps_default", 10, 0, 1000);
    luaL_setmetatable(L, SOURCE_MT);
    if (follow && !(ls->dev = pr_l_actuators_device(L)))
        luaL_error(L, "%s: fps = \"actuators\" needs a device (perch run)", W);
    if (follow)
        o.fps = 0;   /* set by the first poll below, before any tick */
    rc = pr_fsrc_create(&ls->s, pr_host_loop(h), &o, on_event, ls, err, sizeof err);
    if (rc == PR_EINVAL)
        return luaL_error(L, "%s: %s", W, err);
    if (rc < 0)
        return pr_l_fail(L, rc == PR_ENOMEM ? "out of memory" : err, rc, NULL);
    pr_frame_pool_on_empty(pr_fsrc_pool(ls->s), pool_empty_gc, ls);
    ls->res.close = res_close;
    ls->closed = 0;
    pr_host_own(h, &ls->res);
    lua_pushvalue(L, -1);
    ls->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if ((ls->follow = follow))
        pr_fsrc_follow(ls->s, actuator_fps, ls);
    return 1;
}

static int s_on_frame(lua_State *L)
{
    lsrc_t *ls = check_src(L, 1);
    if (lua_isnoneornil(L, 2)) {
        pr_callback_unset(L, &ls->on_frame);
        pr_fsrc_set_delivery(ls->s, 0);
    } else {
        pr_callback_unset(L, &ls->on_frame);
        pr_callback_set(L, &ls->on_frame, 2, "frames on_frame callback");
        pr_fsrc_set_delivery(ls->s, 1);
    }
    lua_settop(L, 1);
    return 1;
}

static int s_on_end(lua_State *L)
{
    lsrc_t *ls = check_src(L, 1);
    pr_callback_unset(L, &ls->on_end);
    if (!lua_isnoneornil(L, 2))
        pr_callback_set(L, &ls->on_end, 2, "frames on_end callback");
    lua_settop(L, 1);
    return 1;
}

static int s_read(lua_State *L)
{
    lsrc_t *ls = check_src(L, 1);
    pr_frame_t *f = pr_fsrc_pop(ls->s);
    if (!f)
        return 0;
    pr_lframe_push(L, f, 0);
    return 1;
}

static int s_set_fps(lua_State *L)
{
    lsrc_t *ls = check_src(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING && !strcmp(lua_tostring(L, 2), "actuators")) {
        if (!ls->dev && !(ls->dev = pr_l_actuators_device(L)))
            return luaL_error(L, "set_fps(\"actuators\") needs a device (perch run)");
        pr_fsrc_follow(ls->s, actuator_fps, ls);
        ls->follow = 1;
    } else {
        double fps = luaL_checknumber(L, 2);
        if (!(fps >= 0 && fps <= 1000))
            return luaL_argerror(L, 2, "fps must be in [0, 1000]");
        pr_fsrc_follow(ls->s, NULL, NULL);
        ls->follow = 0;
        pr_fsrc_set_fps(ls->s, fps);
    }
    lua_settop(L, 1);
    return 1;
}

static int s_stop(lua_State *L)
{
    pr_fsrc_stop(check_src(L, 1)->s);
    lua_settop(L, 1);
    return 1;
}

static int s_start(lua_State *L)
{
    lsrc_t *ls = check_src(L, 1);
    int rc = pr_fsrc_start(ls->s);
    if (rc == PR_ECLOSED)
        return pr_l_fail(L, "the source has ended: use reopen()", rc, "ENDED");
    lua_settop(L, 1);
    return 1;
}

static int s_reopen(lua_State *L)
{
    lsrc_t *ls = check_src(L, 1);
    int rc = pr_fsrc_reopen(ls->s);
    if (rc < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "reopen: %s", rc == -ESPIPE ? "stdin cannot be reopened"
                                                : *pr_fsrc_error(ls->s) ? pr_fsrc_error(ls->s)
                                                : pr_strerror(rc));
        return pr_l_fail(L, msg, rc, NULL);
    }
    lua_settop(L, 1);
    return 1;
}

static void set_u64(lua_State *L, const char *k, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

static int s_stats(lua_State *L)
{
    lsrc_t *ls = check_src(L, 1);
    pr_fsrc_stats_t st;
    pr_fsrc_stats(ls->s, &st);
    lua_createtable(L, 0, 22);
    set_u64(L, "produced", st.produced);
    set_u64(L, "delivered", st.delivered);
    set_u64(L, "dropped", st.dropped);
    set_u64(L, "skipped", st.skipped);
    set_u64(L, "pool_empty", st.pool_empty);
    set_u64(L, "corrupt", st.corrupt);
    set_u64(L, "truncated", st.truncated);
    set_u64(L, "oversize", st.oversize);
    set_u64(L, "garbage", st.garbage);
    set_u64(L, "bytes", st.bytes);
    set_u64(L, "late", st.late);
    set_u64(L, "ends", st.ends);
    set_u64(L, "reopens", st.reopens);
    set_u64(L, "queued", st.queued);
    set_u64(L, "pool_in_use", st.pool_in_use);
    set_u64(L, "pool_capacity", st.pool_capacity);
    lua_pushnumber(L, st.fps);
    lua_setfield(L, -2, "fps");
    lua_pushstring(L, st.state);
    lua_setfield(L, -2, "state");
    lua_pushboolean(L, ls->follow);
    lua_setfield(L, -2, "follows_actuators");
    lua_pushstring(L, pr_fsrc_error(ls->s));
    lua_setfield(L, -2, "error");
    return 1;
}

static int s_close(lua_State *L)
{
    src_close(luaL_checkudata(L, 1, SOURCE_MT));
    return 0;
}

static int s_tostring(lua_State *L)
{
    lsrc_t *ls = luaL_checkudata(L, 1, SOURCE_MT);
    pr_fsrc_stats_t st;
    if (ls->closed) {
        lua_pushliteral(L, "perch.frames.source (closed)");
        return 1;
    }
    pr_fsrc_stats(ls->s, &st);
    lua_pushfstring(L, "perch.frames.source (%s, %I frames)", st.state, (lua_Integer)st.produced);
    return 1;
}

void pr_l_frames_open(lua_State *L)
{
    static const luaL_Reg fmeta[] = {
        { "__index", fr_index }, { "__len", fr_len }, { "__gc", fr_close },
        { "__close", fr_close }, { "__tostring", fr_tostring }, { NULL, NULL },
    };
    static const luaL_Reg fmethods[] = {
        { "bytes", fr_bytes }, { "buffer", fr_buffer }, { "keep", fr_keep },
        { "close", fr_close }, { NULL, NULL },
    };
    static const luaL_Reg smethods[] = {
        { "on_frame", s_on_frame }, { "on_end", s_on_end }, { "read", s_read },
        { "set_fps", s_set_fps }, { "stop", s_stop }, { "start", s_start },
        { "reopen", s_reopen }, { "stats", s_stats }, { "close", s_close }, { NULL, NULL },
    };
    static const luaL_Reg smeta[] = {
        { "__gc", s_close }, { "__close", s_close }, { "__tostring", s_tostring },
        { "__index", NULL }, { NULL, NULL },
    };
    luaL_newmetatable(L, FRAME_MT);
    luaL_setfuncs(L, fmeta, 0);
    luaL_newlib(L, fmethods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    luaL_newmetatable(L, SOURCE_MT);
    luaL_setfuncs(L, smeta, 0);
    luaL_newlib(L, smethods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    lua_newtable(L);
    lua_pushcfunction(L, l_source);
    lua_setfield(L, -2, "source");
    pr_l_sink_open(L);
    lua_setfield(L, -2, "frames");
}
