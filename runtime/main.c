/* main.c - the perch command line: run, check, sim, repl, version, help. */
#include "app.h"
#include "device.h"
#include "error.h"
#include "host.h"
#include "kernels.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "reload.h"
#include "perch.h"
#include "repl.h"
#include "version.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: perch <command> [options]\n"
    "\n"
    "commands:\n"
    "  run APP.lua [options]   run an app on the event loop until SIGINT/SIGTERM,\n"
    "                          perch.stop(), the end of --duration, or until\n"
    "                          nothing is left to do\n"
    "  check APP.lua...        compile apps without running them; exit 1 and\n"
    "                          print file:line on the first error\n"
    "  sim POLICY.lua... --trace TRACE.csv [--out CSV] [--plot SVG]\n"
    "      [--compare OTHER.lua]...  replay a sensor trace through policies on a\n"
    "                          simulated clock; `perch sim --help` for more\n"
    "  repl [--socket PATH] [-e CODE] [APP]\n"
    "                          talk to a running app's REPL (see perch repl --help)\n"
    "  version                 print the version\n"
    "  help                    print this help\n"
    "\n"
    "options of run:\n"
    "  --duration SECONDS      stop after this long\n"
    "  --set KEY=VALUE         put VALUE at perch.config.KEY (dots nest); the host\n"
    "                          reads lua.max_mb (memory ceiling, default 64),\n"
    "                          lua.budget (instructions per callback, default\n"
    "                          5000000, 0 = off), lua.max_failures (default 5);\n"
    "                          the safety floor reads sysfs.root (default /sys),\n"
    "                          safety.crit_c (default: the zone's critical trip,\n"
    "                          else 85), safety.release_c (5), safety.min_fps\n"
    "                          (1); sensors: sensors.period_ms (1000),\n"
    "                          sensors.stale_s, sensors.stuck_s; the REPL:\n"
    "                          repl.socket (PATH), repl.enabled (default true);\n"
    "                          perch.http.serve: http.listen (default\n"
    "                          127.0.0.1:8080), http.server.max_body,\n"
    "                          http.server.max_connections, ...\n"
    "  --log-level LEVEL       debug, info, warn or error (default info)\n"
    "  --dry-run               write no actuator (cpufreq), log what would be\n"
    "                          written (also --set actuators.dry_run=true)\n"
    "  --no-watch              do not reload when the app's files change\n"
    "                          (same as --set reload.watch=false; SIGHUP\n"
    "                          still reloads)\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "perch: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage_text);
    return 2;
}

struct run_state {
    pr_loop_t *loop;
    double duration;
    const char *why;  /* why the loop stopped, for the log */
};

static void on_signal(int signum, void *ud)
{
    struct run_state *rs = ud;
    rs->why = signum == SIGINT ? "SIGINT" : "SIGTERM";
    pr_loop_stop(rs->loop);
}

static void on_hup(int signum, void *ud)
{
    pr_reloader_t **reloader = ud;
    (void)signum;
    if (*reloader)  /* NULL while the first version loads */
        pr_reloader_request(*reloader, "SIGHUP");
}

static void on_duration(pr_timer_t *t, void *ud)
{
    struct run_state *rs = ud;
    (void)t;
    rs->why = "end of --duration";
    pr_loop_stop(rs->loop);
}

/* Take an option's value from "--opt=value" or the next argument. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

/* The REPL's view of the app: whichever version runs now. */
static pr_host_t *repl_host(void *ud) { return pr_reloader_host(*(pr_reloader_t **)ud); }

static int repl_reload(void *ud, char *msg, size_t len)
{
    pr_reloader_t *r = *(pr_reloader_t **)ud;
    int rc = pr_reloader_reload(r, "repl", msg, len);
    if (rc == 0) {
        pr_reload_stats_t st;
        pr_reloader_stats(r, &st);
        snprintf(msg, len, "reloaded: version %llu running", (unsigned long long)st.version);
    }
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    const char *path = NULL;
    char **sets = calloc((size_t)argc, sizeof *sets);
    int nsets = 0, rc = 0;
    struct run_state rs = { NULL, 0, NULL };
    pr_host_opts_t opts;
    pr_reload_opts_t ropts;
    pr_app_env_t env = { NULL, NULL, 0, NULL, NULL, NULL, NULL };
    pr_metrics_t *metrics = NULL;
    pr_device_opts_t dopts;
    pr_device_t *device = NULL;
    pr_reloader_t *reloader = NULL;
    pr_app_t *app = NULL;
    int no_watch = 0;
    pr_repl_opts_t repl_opts;
    pr_repl_t *repl = NULL;
    pr_timer_t duration;
    char err[256];
    double t0;

    if (!sets)
        return 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strncmp(a, "--duration", 10) && (a[10] == '\0' || a[10] == '=')) {
            char *end;
            if (!(v = opt_value(argc, argv, &i, "--duration")))
                return free(sets), usage_error("%s needs a value", "--duration");
            errno = 0;
            rs.duration = strtod(v, &end);
            if (errno || *end || end == v || !isfinite(rs.duration) || rs.duration <= 0 ||
                rs.duration > 1e9)
                return free(sets), usage_error("bad --duration '%s' (seconds > 0)", v);
        } else if (!strncmp(a, "--set", 5) && (a[5] == '\0' || a[5] == '=')) {
            if (!(v = opt_value(argc, argv, &i, "--set")))
                return free(sets), usage_error("%s needs KEY=VALUE", "--set");
            sets[nsets++] = (char *)v;
        } else if (!strncmp(a, "--log-level", 11) && (a[11] == '\0' || a[11] == '=')) {
            int lvl;
            if (!(v = opt_value(argc, argv, &i, "--log-level")))
                return free(sets), usage_error("%s needs a level", "--log-level");
            if ((lvl = pr_log_level_parse(v)) < 0)
                return free(sets), usage_error("bad --log-level '%s' (debug, info, warn, error)", v);
            pr_log_set_level(lvl);
        } else if (!strcmp(a, "--dry-run")) {
            static char dry[] = "actuators.dry_run=true";
            sets[nsets++] = dry;   /* argv[i] itself frees the slot */
        } else if (!strcmp(a, "--no-watch")) {
            no_watch = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return free(sets), usage_error("unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            return free(sets), usage_error("unexpected argument '%s' (one app per run)", a);
        }
    }
    if (!path)
        return free(sets), usage_error("%s", "run needs an app: perch run APP.lua");
    pr_host_opts_default(&opts);
    if (pr_app_parse_sets(sets, nsets, &opts, err, sizeof err) < 0 ||
        pr_repl_config(sets, nsets, path, &repl_opts, err, sizeof err) < 0)
        return free(sets), usage_error("%s", err);
    pr_reload_opts_default(&ropts);
    if (pr_reload_parse_sets(sets, nsets, &ropts, err, sizeof err) < 0)
        return free(sets), usage_error("%s", err);
    if (no_watch)
        ropts.watch = 0;

    if (pr_kernels_init(err, sizeof err) < 0) {
        pr_log_error("%s", err);
        free(sets);
        return 1;
    }
    pr_log_debug("kernels: %s", pr_kernels()->isa_name);
    signal(SIGPIPE, SIG_IGN);  /* a closed peer is an error return, not death */
    if ((rc = pr_loop_create(&rs.loop)) < 0) {
        pr_log_error("cannot create the event loop: %s", pr_strerror(rc));
        free(sets);
        return 1;
    }
    pr_loop_on_signal(rs.loop, SIGINT, on_signal, &rs);
    pr_loop_on_signal(rs.loop, SIGTERM, on_signal, &rs);
    pr_loop_on_signal(rs.loop, SIGHUP, on_hup, &reloader);
    pr_timer_init(&duration, on_duration, &rs);
    if (rs.duration > 0)
        pr_timer_start(rs.loop, &duration, rs.duration, 0);

    t0 = pr_time_now();
    /* The actuators and the safety floor belong to the process: every
     * version of the app shares them, so a reload never lifts the floor. */
    pr_device_opts_default(&dopts);
    pr_device_parse_sets(sets, nsets, &dopts, err, sizeof err);  /* checked above */
    if ((rc = pr_device_create(&device, rs.loop, &dopts)) < 0) {
        pr_log_error("cannot set up the actuators and safety floor: %s", pr_strerror(rc));
        pr_loop_destroy(rs.loop);
        free(sets);
        return 1;
    }
    /* The metrics registry too: counters go on across reloads. */
    if ((rc = pr_metrics_create(&metrics)) < 0) {
        pr_log_error("cannot create the metrics registry: %s", pr_strerror(rc));
        pr_device_destroy(device);
        pr_loop_destroy(rs.loop);
        free(sets);
        return 1;
    }
    env = (pr_app_env_t){ rs.loop, sets, nsets, NULL, device, metrics, NULL };
    if (pr_reloader_create(&reloader, &env, path, &ropts) < 0) {
        pr_log_error("%s: not started", path);
        pr_metrics_destroy(metrics);
        pr_device_destroy(device);
        pr_loop_destroy(rs.loop);
        free(sets);
        return 1;
    }
    if (repl_opts.enabled) {
        /* The device keeps running without a REPL rather than not at all. */
        static const pr_repl_hooks_t hooks = { repl_host, repl_reload };
        if (pr_repl_create(&repl, rs.loop, &repl_opts, &hooks, &reloader, err, sizeof err) < 0)
            pr_log_warn("repl: not listening: %s", err);
        else
            pr_log_info("repl: listening on %s", pr_repl_path(repl));
    }
    pr_log_debug("%s: running", path);
    if (pr_loop_run(rs.loop) == 0)
        rs.why = "nothing left to run";
    else if (!rs.why)
        rs.why = "perch.stop()";
    pr_timer_stop(&duration);
    pr_repl_destroy(repl);
    app = pr_reloader_app(reloader);
    pr_app_stop(app);
    {
        pr_host_stats_t st;
        pr_host_stats(pr_app_host(app), &st);
        pr_log_info("%s: stopped (%s) after %.1f s: %llu calls, %llu errors, "
                    "%llu budget aborts, %llu memory errors, %llu disabled; Lua "
                    "memory peak %zu KiB",
                    path, rs.why, pr_time_now() - t0, (unsigned long long)st.calls,
                    (unsigned long long)st.errors, (unsigned long long)st.budget_aborts,
                    (unsigned long long)st.mem_errors, (unsigned long long)st.disabled,
                    st.mem_peak >> 10);
    }
    {
        pr_reload_stats_t st;
        pr_reloader_stats(reloader, &st);
        if (st.attempts || st.unchanged)
            pr_log_info("%s: reloads: %llu ok, %llu failed, %llu rolled back; version %llu",
                        path, (unsigned long long)st.ok, (unsigned long long)st.failed,
                        (unsigned long long)st.rolled_back, (unsigned long long)st.version);
    }
    pr_reloader_destroy(reloader);
    pr_metrics_destroy(metrics);
    pr_device_destroy(device);
    pr_loop_destroy(rs.loop);
    free(sets);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    char err[1024];
    int failed = 0;

    if (argc < 3)
        return usage_error("%s", "check needs an app: perch check APP.lua");
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] == '-')
            return usage_error("unknown option '%s'", argv[i]);
    }
    for (int i = 2; i < argc; i++) {
        if (pr_app_check(argv[i], err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            failed = 1;
        } else {
            printf("%s: ok\n", argv[i]);
        }
    }
    return failed;
}

/* The sim itself is Lua (lua/perch/sim.lua): replaying a trace is running
 * the policies, and they are Lua.  One host, no loop activity, no budget
 * (a 24-hour trace is one long call) and a ceiling large enough for the
 * decisions of a day at 1 s steps. */
static int cmd_sim(int argc, char **argv)
{
    pr_host_opts_t opts;
    pr_loop_t *loop = NULL;
    pr_host_t *h = NULL;
    lua_State *L;
    int rc;

    pr_host_opts_default(&opts);
    opts.budget = opts.load_budget = 0;
    opts.max_bytes = (size_t)2048 << 20;
    if ((rc = pr_loop_create(&loop)) < 0 || (rc = pr_host_create(&h, &opts, loop)) < 0 ||
        (rc = pr_lua_open(h)) < 0) {
        pr_log_error("sim: cannot start: %s", pr_strerror(rc));
        rc = 1;
        goto out;
    }
    L = pr_host_lua(h);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "perch.sim");
    if (pr_host_pcall(h, 1, 1, "loading", "perch.sim") < 0) {
        rc = 1;
        goto out;
    }
    lua_getfield(L, -1, "main");
    lua_remove(L, -2);
    lua_createtable(L, argc - 2, 0);
    for (int i = 2; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    if (pr_host_pcall(h, 1, 1, "sim", NULL) < 0) {
        rc = 1;
        goto out;
    }
    rc = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 1;
    lua_pop(L, 1);
out:
    fflush(stdout);
    pr_host_destroy(h);
    pr_loop_destroy(loop);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;

    pr_log_init();
    if (!cmd)
        return usage_error("%s", "no command given");
    if (!strcmp(cmd, "run"))
        return cmd_run(argc, argv);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc, argv);
    if (!strcmp(cmd, "sim"))
        return cmd_sim(argc, argv);
    if (!strcmp(cmd, "repl"))
        return pr_repl_client_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("perch %s (%s)\n", PERCH_VERSION, LUA_RELEASE);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage_text, stdout);
        return 0;
    }
    return usage_error("unknown command '%s'", cmd);
}
