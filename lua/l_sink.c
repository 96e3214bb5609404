/* l_sink.c - perch.frames.dir_sink: JPEG files into a rotated directory
 * (runtime/sink_dir.h).
 *
 *   local sink = assert(perch.frames.dir_sink{ path = "/var/lib/cam",
 *       max_files = 1000, max_bytes = 200e6, prefix = "frame", fsync = false })
 *   local name, err, code = sink:write(jpeg)   -- a string or a JPEG frame
 *
 * A failed write (a full disk: ENOSPC, no permission: EACCES, ...) returns
 * nil, message, code and is counted; the log says so once per kind of
 * failure and again when writes work again, so a full disk does not flood
 * the journal.  The sink stays usable. */
#include "l_frames.h"
#include "lopt.h"
#include "perch.h"

#include "error.h"
#include "log.h"
#include "sink_dir.h"

#include <string.h>

#include <lauxlib.h>

#define SINK_MT "perch.frames.dir_sink"

typedef struct lsink {
    pr_sink_dir_t *s;
    int logged;        /* errno last logged; 0 while writes succeed */
} lsink_t;

static lsink_t *check_sink(lua_State *L, int idx)
{
    lsink_t *k = luaL_checkudata(L, idx, SINK_MT);
    if (!k->s)
        luaL_error(L, "dir sink is closed");
    return k;
}

static int l_dir_sink(lua_State *L)
{
    static const char *const keys[] = { "path", "max_files", "max_bytes", "prefix", "ext",
                                        "fsync", NULL };
    const char *W = "perch.frames.dir_sink";
    pr_sink_dir_opts_t o = { 0 };
    char err[300];
    lsink_t *k;
    int rc;
    pr_lopt_keys(L, 1, W, keys);
    o.path = pr_lopt_str(L, 1, W, "path", NULL);
    if (!o.path)
        return luaL_error(L, "%s: needs 'path'", W);
    o.max_files = (size_t)pr_lopt_int(L, 1, W, "max_files", 0, 0, (lua_Integer)1 << 40);
    o.max_bytes = (uint64_t)pr_lopt_num(L, 1, W, "max_bytes", 0, 0, 1e18);
    o.prefix = pr_lopt_str(L, 1, W, "prefix", NULL);
    o.ext = pr_lopt_str(L, 1, W, "ext", NULL);
    o.fsync = pr_lopt_bool(L, 1, W, "fsync", 0);
    k = lua_newuserdatauv(L, sizeof *k, 0);
    memset(k, 0, sizeof *k);
    luaL_setmetatable(L, SINK_MT);
    rc = pr_sink_dir_create(&k->s, &o, err, sizeof err);
    if (rc == PR_EINVAL)
        return luaL_error(L, "%s: %s", W, err);
    if (rc < 0)
        return pr_l_fail(L, rc == PR_ENOMEM ? "out of memory" : err, rc,
                         rc == PR_ENOMEM ? "ENOMEM" : NULL);
    return 1;
}

static int k_write(lua_State *L)
{
    lsink_t *k = check_sink(L, 1);
    char name[160], err[400];
    size_t len;
    const uint8_t *data = pr_l_jpeg_arg(L, 2, &len);
    int rc = pr_sink_dir_write(k->s, data, len, name, sizeof name, err, sizeof err);
    if (rc < 0) {
        if (k->logged != rc)
            pr_log_warn("dir sink: %s (counted; further failures like it are not logged)", err);
        k->logged = rc;
        return pr_l_fail(L, err, rc, NULL);
    }
    if (k->logged) {
        pr_log_info("dir sink %s: writing again", pr_sink_dir_path(k->s));
        k->logged = 0;
    }
    lua_pushstring(L, name);
    return 1;
}

static int k_stats(lua_State *L)
{
    pr_sink_dir_stats_t st;
    pr_sink_dir_stats(check_sink(L, 1)->s, &st);
    lua_createtable(L, 0, 8);
#define F(name) (lua_pushinteger(L, (lua_Integer)st.name), lua_setfield(L, -2, #name))
    F(written);
    F(bytes_written);
    F(failures);
    F(removed);
    F(files);
    F(bytes);
    F(next_seq);
#undef F
    if (st.last_error) {
        lua_pushstring(L, strerrorname_np(-st.last_error));
        lua_setfield(L, -2, "last_error");
    }
    return 1;
}

static int k_close(lua_State *L)
{
    lsink_t *k = luaL_checkudata(L, 1, SINK_MT);
    pr_sink_dir_destroy(k->s);
    k->s = NULL;
    return 0;
}

static int k_tostring(lua_State *L)
{
    lsink_t *k = luaL_checkudata(L, 1, SINK_MT);
    if (!k->s)
        lua_pushliteral(L, "perch.frames.dir_sink (closed)");
    else
        lua_pushfstring(L, "perch.frames.dir_sink (%s)", pr_sink_dir_path(k->s));
    return 1;
}

void pr_l_sink_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "write", k_write }, { "stats", k_stats }, { "close", k_close }, { NULL, NULL },
    };
    static const luaL_Reg meta[] = {
        { "__gc", k_close }, { "__close", k_close }, { "__tostring", k_tostring },
        { "__index", NULL }, { NULL, NULL },
    };
    luaL_newmetatable(L, SINK_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_dir_sink);
    lua_setfield(L, -2, "dir_sink");
}
