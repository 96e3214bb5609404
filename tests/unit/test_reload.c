/* test_reload.c - plain-data handoff between states, and the reloader:
 * state carried over, every kind of bad version refused with the old one
 * still running, timers keeping their phase, automatic rollback, file
 * watching of a required module, and 200 reloads that leak no timer, fd or
 * Lua memory (AddressSanitizer's leak check covers the C side at exit). */
#include "app.h"
#include "error.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plain.h"
#include "reload.h"
#include "tap.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

static char dir[64], app_path[96], mod_path[96];

static void write_file(const char *path, const char *src)
{
    FILE *f = fopen(path, "w");
    if (!f)
        bail_out("cannot write a test file");
    fputs(src, f);
    fclose(f);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ------------------------------------------------------------ plain data */

static int enc(lua_State *L)
{
    pr_plain_encode(L, 2, lua_touserdata(L, 1), "state");
    return 0;
}

static int dec(lua_State *L)
{
    pr_plain_decode(L, lua_touserdata(L, 1));
    return 1;
}

/* Encode the value `expr` evaluates to in one state; decode in another and
 * compare with the Lua expression `check` (v is the decoded value).
 * Returns 1 if equal, 0 if not; on an encode error err gets the message. */
static int roundtrip(const char *expr, const char *check, char *err, size_t errlen)
{
    lua_State *a = luaL_newstate(), *b = luaL_newstate();
    pr_plain_t p = { NULL, 0, 0 };
    int good = 0;

    luaL_openlibs(a);
    luaL_openlibs(b);
    err[0] = '\0';
    lua_pushcfunction(a, enc);
    lua_pushlightuserdata(a, &p);
    if (luaL_dostring(a, expr) != LUA_OK) {
        snprintf(err, errlen, "bad test expression: %s", lua_tostring(a, -1));
        goto out;
    }
    if (lua_pcall(a, 2, 0, 0) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(a, -1));
        goto out;
    }
    lua_pushcfunction(b, dec);
    lua_pushlightuserdata(b, &p);
    if (lua_pcall(b, 1, 1, 0) != LUA_OK) {
        snprintf(err, errlen, "decode: %s", lua_tostring(b, -1));
        goto out;
    }
    lua_setglobal(b, "v");
    if (luaL_dostring(b, check) != LUA_OK) {
        snprintf(err, errlen, "check: %s", lua_tostring(b, -1));
        goto out;
    }
    good = lua_toboolean(b, -1);
out:
    pr_plain_free(&p);
    lua_close(a);
    lua_close(b);
    return good;
}

static void test_plain(void)
{
    char err[512];

    ok(roundtrip("return { n = 3, f = 2.5, s = 'a\\0b', yes = true, no = false, "
                 "list = { 10, 20, { deep = 'x' } }, [7] = 'seven', [true] = 1, [1.5] = 'f' }",
                 "return v.n == 3 and math.type(v.n) == 'integer' and v.f == 2.5 and "
                 "v.s == 'a\\0b' and v.yes == true and v.no == false and #v.list == 3 and "
                 "v.list[3].deep == 'x' and v[7] == 'seven' and v[true] == 1 and v[1.5] == 'f'",
                 err, sizeof err), "nested plain data survives the trip %s", err);
    ok(roundtrip("return 42", "return v == 42", err, sizeof err) &&
       roundtrip("return nil", "return v == nil", err, sizeof err) &&
       roundtrip("return 'just text'", "return v == 'just text'", err, sizeof err),
       "scalars and nil at the top");
    ok(roundtrip("local s = { 1 } return { a = s, b = s }",
                 "return v.a[1] == 1 and v.b[1] == 1 and v.a ~= v.b", err, sizeof err),
       "a table reached twice is copied twice");
    ok(roundtrip("return setmetatable({ x = 1 }, { __index = function() return 9 end })",
                 "return v.x == 1 and v.y == nil and getmetatable(v) == nil", err, sizeof err),
       "metatables are dropped");

    ok(!roundtrip("local t = { a = { } } t.a.back = t return t", "return true", err, sizeof err) &&
       strstr(err, "state.a.back") && strstr(err, "cycle"),
       "a cycle is refused, naming where: %s", err);
    ok(!roundtrip("return { cfg = { cb = print } }", "return true", err, sizeof err) &&
       strstr(err, "state.cfg.cb is a function"), "a function is refused, naming it: %s", err);
    ok(!roundtrip("return { [{}] = 1 }", "return true", err, sizeof err) &&
       strstr(err, "keys must be strings, numbers or booleans"), "a table key is refused: %s", err);
    ok(!roundtrip("return { list = { 1, 2, io.stdout } }", "return true", err, sizeof err) &&
       strstr(err, "state.list[3] is a userdata"), "userdata is refused with its index: %s", err);
    ok(!roundtrip("local t = {} local c = t for i = 1, 100 do c.n = {} c = c.n end return t",
                  "return true", err, sizeof err) && strstr(err, "nested deeper than"),
       "nesting is bounded: %s", err);
}

/* ---------------------------------------------------------------- reload */

struct run {
    pr_loop_t *loop;
    int waiting;  /* stop the loop when a reload is done */
    int done, last_rc;
    char last_why[32];
    const char *edit_path, *edit_text;  /* written by the edit timer */
};

static void on_done(pr_reloader_t *r, int rc, const char *why, const char *msg, void *ud)
{
    struct run *run = ud;
    (void)r;
    (void)msg;
    run->done++;
    run->last_rc = rc;
    snprintf(run->last_why, sizeof run->last_why, "%s", why);
    if (run->waiting)
        pr_loop_stop(run->loop);
}

static void on_timeout(pr_timer_t *t, void *ud)
{
    (void)t;
    pr_loop_stop(((struct run *)ud)->loop);
}

static void on_edit(pr_timer_t *t, void *ud)
{
    struct run *run = ud;
    (void)t;
    write_file(run->edit_path, run->edit_text);
}

/* Run the loop until a reload finishes or `seconds` pass. */
static void run_until_done(struct run *run, double seconds)
{
    pr_timer_t limit;
    int before = run->done;
    pr_timer_init(&limit, on_timeout, run);
    pr_timer_start(run->loop, &limit, seconds, 0);
    run->waiting = 1;
    while (run->done == before && pr_timer_active(&limit))
        pr_loop_run(run->loop);
    run->waiting = 0;
    pr_timer_stop(&limit);
}

static void run_for(pr_loop_t *loop, double seconds)
{
    struct run tmp = { loop, 0, 0, 0, "", NULL, NULL };
    pr_timer_t limit;
    pr_timer_init(&limit, on_timeout, &tmp);
    pr_timer_start(loop, &limit, seconds, 0);
    pr_loop_run(loop);
    pr_timer_stop(&limit);
}

/* Push a global without its metamethods (a strict _G would raise). */
static void raw_global(lua_State *L, const char *name)
{
    lua_pushglobaltable(L);
    lua_pushstring(L, name);
    lua_rawget(L, -2);
    lua_remove(L, -2);
}

/* Global `name` of the running version, as an integer (or -1). */
static long long global_int(pr_reloader_t *r, const char *name)
{
    lua_State *L = pr_host_lua(pr_reloader_host(r));
    long long v;
    raw_global(L, name);
    v = lua_isinteger(L, -1) ? (long long)lua_tointeger(L, -1) : -1;
    lua_pop(L, 1);
    return v;
}

static const char *global_str(pr_reloader_t *r, const char *name, char *buf, size_t len)
{
    lua_State *L = pr_host_lua(pr_reloader_host(r));
    raw_global(L, name);
    snprintf(buf, len, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "(none)");
    lua_pop(L, 1);
    return buf;
}

static const char V1[] =
    "VERSION = 1\n"
    "ticks = 0\n"
    "local m = require 'helper'\n"
    "helper_says = m.word\n"
    "perch.every(5, function() ticks = ticks + 1 end)\n"
    "function on_save() return { ticks = ticks, from = VERSION } end\n";

static void write_version(int v, const char *extra)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "VERSION = %d\n"
             "local m = require 'helper'\n"
             "helper_says = m.word\n"
             "perch.every(5, function() ticks = (ticks or 0) + 1 end)\n"
             "perch.every(50, function() end)\n"
             "local keep = perch.after(100000, function() end)\n"
             "function on_save() return { ticks = ticks, from = VERSION } end\n"
             "function on_reload(s) got_from = s and s.from; ticks = s and s.ticks or 0 end\n"
             "%s",
             v, extra ? extra : "");
    write_file(app_path, buf);
}

static void test_reloader(void)
{
    pr_loop_t *loop;
    pr_app_env_t env = { NULL, NULL, 0, NULL, NULL, NULL, NULL };
    pr_reload_opts_t o;
    pr_reloader_t *r;
    pr_reload_stats_t st;
    struct run run;
    pr_app_t *before;
    char err[256], buf[128];
    char *sets[] = { "lua.max_mb=16" };
    int rc;

    if (pr_loop_create(&loop) < 0)
        bail_out("no loop");
    env.loop = loop;
    env.sets = sets;
    env.nsets = 1;
    memset(&run, 0, sizeof run);
    run.loop = loop;
    pr_reload_opts_default(&o);
    o.rollback_failures = 3;
    o.rollback_window_s = 5;

    write_file(mod_path, "return { word = 'one' }\n");
    write_file(app_path, V1);
    is_int(pr_reloader_create(&r, &env, app_path, &o), 0, "the first version starts");
    ok(env.reloader == r, "the env knows its reloader");
    pr_reloader_on_done(r, on_done, &run);
    run_for(loop, 0.05);
    ok(global_int(r, "ticks") > 0, "version 1 runs its timer");

    /* A good version: state handed over. */
    write_version(2, NULL);
    long long ticks_before = global_int(r, "ticks");
    is_int(pr_reloader_reload(r, "test", err, sizeof err), 0, "version 2 swaps in");
    is_int(global_int(r, "VERSION"), 2, "version 2 runs");
    is_int(global_int(r, "got_from"), 1, "on_reload got version 1's on_save()");
    ok(global_int(r, "ticks") == ticks_before, "and its state (%lld ticks)", ticks_before);
    is_int(pr_loop_active_timers(loop), 3, "only version 2's three timers are active");

    /* Bad versions: each refused, version 2 keeps running. */
    static const struct { const char *src, *what, *needle; } bad[] = {
        { "VERSION = 3\nperch.every(5, function() end\n", "a syntax error", "app.lua:3:" },
        { "VERSION = 3\nlocal x = nil\nx.boom = 1\n", "a runtime error at load", "app.lua:3:" },
        { "VERSION = 3\nfunction check() return false, 'sensor missing' end\n",
          "check() returning false", "sensor missing" },
        { "VERSION = 3\nfunction check() error('not ready') end\n", "check() raising",
          "app.lua:2: not ready" },
        { "VERSION = 3\nfunction on_reload(s) error('cannot restore') end\n",
          "on_reload() raising", "app.lua:2: cannot restore" },
        { "VERSION = 3\nrequire 'missing_module'\n", "a missing module", "missing_module" },
        { "\n  \n", "an empty file", "is empty" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        before = pr_reloader_app(r);
        write_file(app_path, bad[i].src);
        rc = pr_reloader_reload(r, "test", err, sizeof err);
        ok(rc < 0 && pr_reloader_app(r) == before && global_int(r, "VERSION") == 2,
           "%s is refused; version 2 keeps running", bad[i].what);
        ok(strstr(err, bad[i].needle) != NULL, "  the error says %s (%s)", bad[i].needle, err);
    }
    is_int(pr_loop_active_timers(loop), 3, "refused versions left no timer behind");
    pr_reloader_stats(r, &st);
    ok(st.attempts == 8 && st.ok == 1 && st.failed == 7 && st.version == 2,
       "counters: %llu attempts, %llu ok, %llu failed, version %llu",
       (unsigned long long)st.attempts, (unsigned long long)st.ok,
       (unsigned long long)st.failed, (unsigned long long)st.version);

    /* on_save that returns what cannot cross: logged, on_reload(nil). */
    write_version(3, "function on_save() return { f = print } end\n");
    is_int(pr_reloader_reload(r, "test", err, sizeof err), 0, "version 3 (bad on_save) swaps in");
    write_version(4, "setmetatable(_G, { __index = function(_, k) error('undeclared ' .. k) end })\n");
    is_int(pr_reloader_reload(r, "test", err, sizeof err), 0,
           "a version after a failing on_save still swaps in");
    is_int(global_int(r, "got_from"), -1, "with on_reload(nil)");
    write_version(4, NULL);
    is_int(pr_reloader_reload(r, "test", err, sizeof err), 0,
           "a strict _G (raising on unknown globals) does not upset the reloader");

    /* A required module edited on disk triggers a reload by itself. */
    run.edit_path = mod_path;
    run.edit_text = "return { word = 'two' }\n";
    {
        pr_timer_t edit;
        pr_timer_init(&edit, on_edit, &run);
        pr_timer_start(loop, &edit, 0.02, 0);
        run_until_done(&run, 5);
        pr_timer_stop(&edit);
    }
    ok(run.last_rc == 0 && !strcmp(global_str(r, "helper_says", buf, sizeof buf), "two"),
       "editing a required module reloads (%s, helper says %s)", run.last_why, buf);

    /* Timers keep their phase: a 100 ms timer ticks on without a gap. */
    write_file(app_path,
               "last = last or 0\nmax_gap = max_gap or 0\n"
               "perch.every(100, function()\n"
               "  local now = perch.now()\n"
               "  if last > 0 and now - last > max_gap then max_gap = now - last end\n"
               "  last = now\n"
               "end)\n"
               "function on_save() return { last = last, max_gap = max_gap } end\n"
               "function on_reload(s) last, max_gap = s.last or 0, s.max_gap or 0 end\n");
    is_int(pr_reloader_reload(r, "test", err, sizeof err), 0, "a 100 ms ticker loads");
    run_for(loop, 0.35);  /* ticks at ~100, 200, 300 ms: now mid-period */
    is_int(pr_reloader_reload(r, "test", err, sizeof err), 0, "it reloads mid-period");
    run_for(loop, 0.3);
    {
        lua_State *L = pr_host_lua(pr_reloader_host(r));
        lua_getglobal(L, "max_gap");
        double gap = lua_tonumber(L, -1);
        lua_pop(L, 1);
        ok(gap > 0.09 && gap < 0.14,
           "the new version's timer took the old one's phase: max gap %.1f ms", gap * 1e3);
    }

    /* Automatic rollback: a new version whose callbacks keep failing. */
    write_version(5, NULL);
    is_int(pr_reloader_reload(r, "test", err, sizeof err), 0, "version 5 loads");
    run_for(loop, 0.03);
    write_version(6, "perch.every(5, function() error('broken tick') end)\n");
    is_int(pr_reloader_reload(r, "test", err, sizeof err), 0, "version 6 (failing ticks) swaps in");
    run_until_done(&run, 5);
    ok(!strcmp(run.last_why, "rollback") && run.last_rc == 0,
       "repeated failures roll back (%s, rc %d)", run.last_why, run.last_rc);
    is_int(global_int(r, "VERSION"), 5, "version 5's source runs again");
    is_int(global_int(r, "got_from"), 5, "with the state version 5 saved at the swap");
    pr_reloader_stats(r, &st);
    is_int(st.rolled_back, 1, "rolled_back counted");

    /* 200 reloads leak nothing. */
    {
        int fds0, timers0;
        size_t mem0 = 0, mem = 0;
        int all_ok = 1;
        pr_host_stats_t hs;

        write_version(7, NULL);
        pr_reloader_reload(r, "test", err, sizeof err);
        run_for(loop, 0.1);  /* the write's file event settles: unchanged */
        fds0 = count_fds();
        timers0 = (int)pr_loop_active_timers(loop);
        for (int i = 0; i < 200; i++) {
            if (i == 10) {
                lua_gc(pr_host_lua(pr_reloader_host(r)), LUA_GCCOLLECT, 0);
                pr_host_stats(pr_reloader_host(r), &hs);
                mem0 = hs.mem_used;
            }
            if (pr_reloader_reload(r, "test", err, sizeof err) < 0)
                all_ok = 0;
            if (i % 50 == 0)
                run_for(loop, 0.01);
        }
        run_for(loop, 0.1);
        lua_gc(pr_host_lua(pr_reloader_host(r)), LUA_GCCOLLECT, 0);
        pr_host_stats(pr_reloader_host(r), &hs);
        mem = hs.mem_used;
        ok(all_ok, "200 reloads all succeed");
        is_int(pr_loop_active_timers(loop), timers0, "live timers stay flat");
        is_int(count_fds(), fds0, "open fds stay flat");
        ok(mem <= mem0 + 1024, "Lua memory stays flat (%zu -> %zu bytes)", mem0, mem);
    }

    pr_reloader_destroy(r);
    ok(env.reloader == NULL, "destroying the reloader clears the env");
    is_int(pr_loop_active_timers(loop), 0, "and stops every timer");
    pr_loop_destroy(loop);
}

int main(void)
{
    pr_log_set_level(PR_LOG_WARN);  /* 200 "reloaded" lines say nothing */
    snprintf(dir, sizeof dir, "/tmp/perch-test-reload-%d", (int)getpid());
    snprintf(app_path, sizeof app_path, "%s/app.lua", dir);
    snprintf(mod_path, sizeof mod_path, "%s/helper.lua", dir);
    if (mkdir(dir, 0700) < 0)
        bail_out("cannot make the test directory");
    test_plain();
    test_reloader();
    unlink(app_path);
    unlink(mod_path);
    rmdir(dir);
    return exit_status();
}
