/* test_app.c - an app version can be torn down and a new one loaded into
 * the same loop: everything the old one owned is closed, nothing leaks
 * (AddressSanitizer's leak check runs at exit in the test build). */
#include "app.h"
#include "error.h"
#include "loop.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void write_app(const char *src)
{
    FILE *f = fopen(path, "w");
    if (!f)
        bail_out("cannot write the app file");
    fputs(src, f);
    fclose(f);
}

static void on_stop_loop(pr_timer_t *t, void *ud)
{
    (void)t;
    pr_loop_stop(ud);
}

int main(void)
{
    pr_loop_t *loop;
    pr_app_t *v1 = NULL, *v2 = NULL;
    pr_timer_t stopper;
    pr_host_stats_t st;
    char *sets[] = { "lua.max_mb=8", "app.name=v1" };

    plan(12);
    snprintf(path, sizeof path, "/tmp/perch-test-app-%d.lua", (int)getpid());
    if (pr_loop_create(&loop) < 0)
        bail_out("no loop");

    /* Version 1: three timers (one with a dropped handle) and a hook. */
    write_app("ticks = 0\n"
              "perch.every(5, function() ticks = ticks + 1 end)\n"
              "perch.every(7, function() end)\n"
              "local keep = perch.after(100000, function() end)\n"
              "perch.on_stop(function() stopped = perch.config.app.name end)\n");
    is_int(pr_app_create(&v1, loop, path, sets, 2), 0, "version 1 loads");
    is_int(pr_loop_active_timers(loop), 3, "its three timers are active");

    pr_timer_init(&stopper, on_stop_loop, loop);
    pr_timer_start(loop, &stopper, 0.1, 0);
    pr_loop_run(loop);
    lua_State *L = pr_host_lua(pr_app_host(v1));
    lua_getglobal(L, "ticks");
    ok(lua_tointeger(L, -1) >= 5, "version 1 ran its timers (%d ticks)", (int)lua_tointeger(L, -1));
    lua_pop(L, 1);

    pr_app_stop(v1);
    lua_getglobal(L, "stopped");
    ok(lua_isstring(L, -1) && !strcmp(lua_tostring(L, -1), "v1"), "on_stop hook ran with the config");
    lua_pop(L, 1);
    pr_app_destroy(v1);
    is_int(pr_loop_active_timers(loop), 0, "destroying version 1 stopped all its timers");

    /* Version 2 in the same loop. */
    write_app("n = 0\nperch.every(5, function() n = n + 1 end)\n");
    is_int(pr_app_create(&v2, loop, path, NULL, 0), 0, "version 2 loads into the same loop");
    is_int(pr_loop_active_timers(loop), 1, "only version 2's timer is active");
    pr_timer_start(loop, &stopper, 0.05, 0);
    is_int(pr_loop_run(loop), 1, "the loop runs version 2");
    L = pr_host_lua(pr_app_host(v2));
    lua_getglobal(L, "n");
    ok(lua_tointeger(L, -1) >= 3, "version 2's timer ran");
    lua_pop(L, 1);
    pr_host_stats(pr_app_host(v2), &st);
    is_int(st.errors, 0, "no errors");
    pr_app_destroy(v2);

    /* A version that fails to load leaves nothing behind. */
    write_app("perch.every(5, function() end)\nerror('broken')\n");
    is_int(pr_app_create(&v2, loop, path, NULL, 0), PR_ESCRIPT, "a failing main chunk is refused");
    is_int(pr_loop_active_timers(loop), 0, "and its timer does not stay behind");

    pr_loop_destroy(loop);
    unlink(path);
    return exit_status();
}
