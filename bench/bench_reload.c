/* bench_reload.c - how fast a saved edit is running, and whether a 100 Hz
 * timer notices the swap.
 *
 * An app with a 100 Hz timer runs under the reloader with file watching on,
 * as `perch run` does.  Every 200 ms the bench rewrites the app file with
 * the next version number (fopen "w", one write, fclose: what a plain
 * editor save does) and measures, for 50 saves, the time from the end of
 * the write (after fclose) to the new version running (the reloader's done
 * hook, after the swap): that includes the debounce (reload.debounce_ms,
 * 30 ms), so it is what a user waits for.  Also the build-and-swap time
 * alone.
 *
 * Ticks across a swap: the timer is recreated by each version, and takes
 * the old timer's phase; the app carries its tick record through
 * on_save/on_reload and measures every gap between consecutive ticks.  A
 * gap of 1.5 periods or more means a missed tick.  Reported: the largest
 * gap across a swap (against the 10 ms period) and the ticks missed across
 * swaps, then the same over the whole run, which on a busy machine also
 * shows ticks the scheduler made late with no reload involved. */
#include "bench.h"

#include "app.h"
#include "log.h"
#include "loop.h"
#include "reload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lua.h>

#define SAVES 50

static const char APP[] =
    "VERSION = %d\n"
    "local P = 0.010\n"
    "local s = { last = 0, max_gap = 0, max_swap_gap = 0, missed = 0, swap_missed = 0,\n"
    "            ticks = 0, swaps = 0 }\n"
    "local swapped = false\n"
    "perch.every(10, function()\n"
    "  local now = perch.now()\n"
    "  if s.last > 0 then\n"
    "    local gap = now - s.last\n"
    "    if gap > s.max_gap then s.max_gap = gap end\n"
    "    if swapped and gap > s.max_swap_gap then s.max_swap_gap = gap end\n"
    "    if gap >= 1.5 * P then\n"
    "      local m = math.floor(gap / P + 0.5) - 1\n"
    "      s.missed = s.missed + m\n"
    "      if swapped then s.swap_missed = s.swap_missed + m end\n"
    "    end\n"
    "  end\n"
    "  swapped = false\n"
    "  s.last = now\n"
    "  s.ticks = s.ticks + 1\n"
    "end)\n"
    "function on_save() return s end\n"
    "function on_reload(old) if old then s = old; s.swaps = s.swaps + 1; swapped = true end end\n"
    "function check() return type(s) == 'table' end\n"
    "function result() return s end\n";

struct bench {
    pr_loop_t *loop;
    pr_reloader_t *r;
    char path[128];
    int version, saves, done, failed;
    int64_t t_write;
    double latency_ms[SAVES], swap_ms[SAVES];
    pr_timer_t editor;
};

static void write_app(struct bench *b)
{
    FILE *f = fopen(b->path, "w");
    if (!f) {
        perror(b->path);
        exit(1);
    }
    fprintf(f, APP, b->version);
    fclose(f);
    b->t_write = pr_time_ns();
}

static void on_edit(pr_timer_t *t, void *ud)
{
    struct bench *b = ud;
    (void)t;
    if (b->saves == SAVES) {
        pr_timer_stop(&b->editor);
        pr_loop_stop(b->loop);
        return;
    }
    b->version++;
    write_app(b);
}

static void on_done(pr_reloader_t *r, int rc, const char *why, const char *msg, void *ud)
{
    struct bench *b = ud;
    pr_reload_stats_t st;
    int64_t now = pr_time_ns();
    (void)why;
    if (rc < 0) {
        fprintf(stderr, "bench_reload: reload failed: %s\n", msg);
        b->failed++;
        return;
    }
    pr_reloader_stats(r, &st);
    if (b->saves < SAVES) {
        b->latency_ms[b->saves] = (double)(now - b->t_write) / 1e6;
        b->swap_ms[b->saves] = st.last_ms;
        b->saves++;
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    int i = (int)ceil(p / 100 * n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static double field(lua_State *L, const char *k)
{
    double v;
    lua_getfield(L, -1, k);
    v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

int main(void)
{
    struct bench b;
    char dir[64];
    pr_app_env_t env = { NULL, NULL, 0, NULL, NULL, NULL, NULL };
    pr_reload_opts_t o;
    pr_reload_stats_t st;
    lua_State *L;

    memset(&b, 0, sizeof b);
    pr_log_set_level(PR_LOG_WARN);
    snprintf(dir, sizeof dir, "/tmp/perch-bench-reload-%d", (int)getpid());
    if (mkdir(dir, 0700) < 0) {
        perror(dir);
        return 1;
    }
    snprintf(b.path, sizeof b.path, "%s/app.lua", dir);
    b.version = 1;
    write_app(&b);
    if (pr_loop_create(&b.loop) < 0)
        return 1;
    env.loop = b.loop;
    pr_reload_opts_default(&o);
    if (pr_reloader_create(&b.r, &env, b.path, &o) < 0)
        return 1;
    pr_reloader_on_done(b.r, on_done, &b);

    pr_timer_init(&b.editor, on_edit, &b);
    pr_timer_start(b.loop, &b.editor, 0.2, 0.2);
    pr_loop_run(b.loop);

    pr_reloader_stats(b.r, &st);
    L = pr_host_lua(pr_reloader_host(b.r));
    lua_getglobal(L, "result");
    lua_call(L, 0, 1);
    printf("%d saves, %d reloads, %d failed; %.0f ticks over %.0f swaps\n", SAVES, b.saves,
           b.failed, field(L, "ticks"), field(L, "swaps"));
    if (b.saves > 0) {
        qsort(b.latency_ms, (size_t)b.saves, sizeof(double), cmp);
        qsort(b.swap_ms, (size_t)b.saves, sizeof(double), cmp);
        bench_report("reload.latency.p50", pct(b.latency_ms, b.saves, 50), "ms", NULL, 0);
        bench_report("reload.latency.p99", pct(b.latency_ms, b.saves, 99), "ms", NULL, 0);
        bench_report("reload.latency.max", b.latency_ms[b.saves - 1], "ms", NULL, 0);
        bench_report("reload.swap.p50", pct(b.swap_ms, b.saves, 50), "ms", NULL, 0);
        bench_report("reload.swap.p99", pct(b.swap_ms, b.saves, 99), "ms", NULL, 0);
    }
    bench_report("reload.tick.max_gap_at_swap", field(L, "max_swap_gap") * 1e3, "ms", NULL, 0);
    bench_report("reload.tick.missed_at_swap", field(L, "swap_missed"), "count", NULL, 0);
    /* The whole run, swaps or not: what the machine's load adds. */
    bench_report("reload.tick.max_gap", field(L, "max_gap") * 1e3, "ms", NULL, 0);
    bench_report("reload.tick.missed", field(L, "missed"), "count", NULL, 0);
    lua_pop(L, 1);

    pr_reloader_destroy(b.r);
    pr_loop_destroy(b.loop);
    unlink(b.path);
    rmdir(dir);
    return b.saves == SAVES && b.failed == 0 ? 0 : 1;
}
