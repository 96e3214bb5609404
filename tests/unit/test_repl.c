/* test_repl.c - the REPL server in one process: interruptible host calls
 * (pr_host_pcallx), the repl.* config keys, the default directory's checks,
 * and the wire protocol spoken over a real unix socket. */
#include "tap.h"

#include "error.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "perch.h"
#include "repl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <lauxlib.h>

static pr_loop_t *loop;
static char tmpdir[] = "/tmp/perch-test-repl.XXXXXX";

static pr_host_t *new_host(uint64_t budget)
{
    pr_host_opts_t o;
    pr_host_t *h = NULL;
    pr_host_opts_default(&o);
    o.budget = budget;
    if (pr_host_create(&h, &o, loop) != 0 || pr_lua_open(h) != 0)
        bail_out("host");
    return h;
}

static int polls, poll_after;
static int count_poll(void *ud)
{
    (void)ud;
    return ++polls >= poll_after;
}

static int runx(pr_host_t *h, const char *code, int stop_after)
{
    pr_host_callopts_t co = { count_poll, NULL, 1 };
    lua_State *L = pr_host_lua(h);
    polls = 0;
    poll_after = stop_after;
    if (luaL_loadbuffer(L, code, strlen(code), "=in") != LUA_OK)
        bail_out("compile");
    return pr_host_pcallx(h, 0, 1, "test", NULL, &co);
}

/* ------------------------------------------------------- host interrupts */

static void test_interrupt(uint64_t budget)
{
    pr_host_t *h = new_host(budget);
    lua_State *L = pr_host_lua(h);
    pr_host_stats_t st;
    int rc;

    rc = runx(h, "while true do end", 3);
    is_int(rc, -EINTR, budget ? "poll interrupts a loop (budget on, large)"
                              : "poll interrupts a loop (budget off)");
    ok(lua_isstring(L, -1) && !strcmp(lua_tostring(L, -1), "in:1: interrupted"),
       "... the message names where: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    is_int(polls, 3, "... polled until it said stop");
    rc = runx(h, "for i = 1, 1e12 do pcall(function() while true do end end) end", 2);
    is_int(rc, -EINTR, "pcall in the script cannot swallow the interrupt");
    lua_pop(L, 1);
    rc = runx(h, "local co = coroutine.wrap(function() while true do end end) pcall(co)", 2);
    is_int(rc, -EINTR, "nor a coroutine");
    lua_pop(L, 1);
    rc = runx(h, "error('plain')", 1000);
    is_int(rc, PR_ESCRIPT, "a script error with keep_error");
    ok(lua_isstring(L, -1) && strstr(lua_tostring(L, -1), "in:1: plain") &&
       strstr(lua_tostring(L, -1), "stack traceback"), "... leaves message and traceback");
    lua_pop(L, 1);
    pr_host_stats(h, &st);
    is_int(st.errors, 0, "... and the failures are not the app's (not counted)");
    rc = runx(h, "local n = 0 for i = 1, 1000 do n = n + i end return n", 1000);
    is_int(rc, 0, "a call after the interrupts runs");
    is_int(lua_tointeger(L, -1), 500500, "... to its result");
    lua_pop(L, 1);
    if (!budget)
        ok(lua_gethook(L) == NULL, "budget off: no hook is left behind");
    else
        ok(lua_gethookcount(L) > 1, "budget on: the budget's hook is back to its step");
    is_int(lua_gettop(L), 0, "the stack is balanced");
    pr_host_destroy(h);
}

/* ---------------------------------------------------------------- config */

static void test_config(void)
{
    pr_repl_opts_t o;
    char err[256];
    char *sets1[] = { "a.b=1" };
    char *sets2[] = { "repl.enabled=false", "repl.socket=/run/x.sock" };
    char *sets3[] = { "repl.enabled=no" };
    char long_path[200];
    char *sets4[] = { long_path };

    is_int(pr_repl_config(sets1, 1, "dir/my app.lua", &o, err, sizeof err), 0, "config: defaults");
    ok(o.enabled && !o.path && !strcmp(o.app_name, "my_app"),
       "... enabled, default path, app named after the script: %s", o.app_name);
    is_int(pr_repl_config(sets2, 2, "x.lua", &o, err, sizeof err), 0, "config: set keys");
    ok(!o.enabled && o.path && !strcmp(o.path, "/run/x.sock"), "... read");
    is_int(pr_repl_config(sets3, 1, "x.lua", &o, err, sizeof err), PR_EINVAL,
           "config: a bad boolean is refused");
    ok(strstr(err, "repl.enabled must be true or false") != NULL, "... saying why: %s", err);
    snprintf(long_path, sizeof long_path, "repl.socket=/%0150d", 0);
    is_int(pr_repl_config(sets4, 1, "x.lua", &o, err, sizeof err), PR_EINVAL,
           "config: a socket path too long for sun_path is refused");
}

static void test_default_dir(void)
{
    char dir[256], want[300], err[256];
    int rc;

    setenv("XDG_RUNTIME_DIR", tmpdir, 1);
    rc = pr_repl_default_dir(dir, sizeof dir, 1, err, sizeof err);
    snprintf(want, sizeof want, "%s/perch", tmpdir);
    ok(rc == 0 && !strcmp(dir, want), "default dir under $XDG_RUNTIME_DIR: %s", dir);
    chmod(want, 0755);
    rc = pr_repl_default_dir(dir, sizeof dir, 1, err, sizeof err);
    is_int(rc, PR_EINVAL, "a default dir open to others is refused");
    ok(strstr(err, "not a private directory") != NULL, "... saying why: %s", err);
    rmdir(want);
    unsetenv("XDG_RUNTIME_DIR");
}

/* -------------------------------------------------------------- protocol */

static pr_host_t *proto_host;
static pr_host_t *cur_host(void *ud) { (void)ud; return proto_host; }

static void on_pump(pr_timer_t *t, void *ud)
{
    (void)t;
    pr_loop_stop(ud);
}

/* Let the loop serve for a moment. */
static void pump(void)
{
    pr_timer_t t;
    pr_timer_init(&t, on_pump, loop);
    pr_timer_start(loop, &t, 0.05, 0);
    pr_loop_run(loop);
    pr_timer_stop(&t);
}

static void send_frame(int fd, int type, const char *p, size_t len)
{
    unsigned char hdr[5] = { (unsigned char)type, (unsigned char)(len >> 24),
                             (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                             (unsigned char)len };
    if (write(fd, hdr, 5) != 5 || (len && write(fd, p, len) != (ssize_t)len))
        bail_out("write");
}

/* Pump until one whole reply frame arrived; its type, text in buf. */
static int reply(int fd, char *buf, size_t cap)
{
    static char in[1 << 16];
    static size_t have;
    for (int i = 0; i < 100; i++) {
        ssize_t n;
        size_t len;
        pump();
        while ((n = recv(fd, in + have, sizeof in - have, MSG_DONTWAIT)) > 0)
            have += (size_t)n;
        if (have >= 5) {
            len = (size_t)(unsigned char)in[1] << 24 | (size_t)(unsigned char)in[2] << 16 |
                  (size_t)(unsigned char)in[3] << 8 | (unsigned char)in[4];
            if (have >= 5 + len) {
                int type = in[0];
                snprintf(buf, cap, "%.*s", (int)len, in + 5);
                memmove(in, in + 5 + len, have - 5 - len);
                have -= 5 + len;
                return type;
            }
        }
        if (n == 0)
            return -1;  /* closed */
    }
    return 0;
}

static void test_protocol(void)
{
    pr_repl_hooks_t hooks = { cur_host, NULL };
    pr_repl_opts_t o = { 1, NULL, "proto" };
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    char path[100], err[256], buf[4096];
    pr_repl_t *r = NULL;
    int fd, type;

    proto_host = new_host(PR_HOST_DEFAULT_BUDGET);
    snprintf(path, sizeof path, "%s/proto.sock", tmpdir);
    o.path = path;
    is_int(pr_repl_create(&r, loop, &o, &hooks, NULL, err, sizeof err), 0, "server listens");
    ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
       "socket file, mode 0600");

    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        bail_out("connect");
    type = reply(fd, buf, sizeof buf);
    ok(type == 'H' && !strncmp(buf, "perch ", 6) && strstr(buf, "\tproto\t"),
       "hello names perch and the app: %s", buf);
    is_int(pr_repl_sessions(r), 1, "one session");

    send_frame(fd, 'E', "1 + 1", 5);
    type = reply(fd, buf, sizeof buf);
    ok(type == 'R' && !strcmp(buf, "2"), "'E' -> 'R' with the value: %c %s", type, buf);
    send_frame(fd, 'L', "if true then", 12);
    is_int(reply(fd, buf, sizeof buf), 'M', "'L' of an incomplete chunk -> 'M'");
    send_frame(fd, 'L', "print('in')", 11);
    is_int(reply(fd, buf, sizeof buf), 'M', "... still incomplete -> 'M'");
    send_frame(fd, 'K', "", 0);
    is_int(reply(fd, buf, sizeof buf), 'R', "'K' cancels it");
    send_frame(fd, 'L', "end", 3);
    type = reply(fd, buf, sizeof buf);
    ok(type == 'X' && strstr(buf, "<eof> expected near 'end'"),
       "... so a lone 'end' is an error: %s", buf);
    send_frame(fd, 'C', "pri", 3);
    type = reply(fd, buf, sizeof buf);
    ok(type == 'C' && !strcmp(buf, "print"), "'C' completes names: %s", buf);
    send_frame(fd, 'C', "string.up", 9);
    type = reply(fd, buf, sizeof buf);
    ok(type == 'C' && !strcmp(buf, "string.upper"), "... fields: %s", buf);
    send_frame(fd, 'I', "", 0);
    send_frame(fd, 'E', ":reload", 7);
    type = reply(fd, buf, sizeof buf);
    ok(type == 'X' && !strcmp(buf, "reload not available"),
       "an idle 'I' is ignored; :reload without a hook: %s", buf);
    send_frame(fd, 'E', ":nope", 5);
    type = reply(fd, buf, sizeof buf);
    ok(type == 'X' && strstr(buf, "unknown command ':nope'"), "unknown command: %s", buf);
    send_frame(fd, 'Q', "", 0);
    type = reply(fd, buf, sizeof buf);
    ok(type == 'X' && strstr(buf, "protocol error"), "unknown message type: %s", buf);
    is_int(reply(fd, buf, sizeof buf), -1, "... and the server closes the connection");
    is_int(pr_repl_sessions(r), 0, "the session is gone");
    close(fd);

    pr_repl_destroy(r);
    ok(stat(path, &st) < 0 && errno == ENOENT, "destroy removes the socket file");
    pr_host_destroy(proto_host);
}

int main(void)
{
    pr_log_init();
    pr_log_set_level(PR_LOG_WARN);
    if (!mkdtemp(tmpdir) || pr_loop_create(&loop) != 0)
        bail_out("setup");
    plan(51);
    test_interrupt(0);
    test_interrupt(1ull << 50);
    test_config();
    test_default_dir();
    test_protocol();
    pr_loop_destroy(loop);
    rmdir(tmpdir);
    return exit_status();
}
