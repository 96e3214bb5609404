/* test_sampler.c - the sensor sampler against fake sysfs trees: options and
 * their errors, the policy inputs for a discharging, charging, full and
 * battery-less device, readings going stale (file removed, judged at a
 * later time) and stuck (value unchanged), malformed contents, subscribers,
 * and the worker thread delivering a changed file to the loop thread and
 * joining on destroy.  Most checks drive pr_sampler_sample_now() and pass
 * the judging time explicitly, so they do not depend on scheduling. */
#include "error.h"
#include "sysfs_tree.h"
#include "loop.h"
#include "sampler.h"
#include "tap.h"

#include <math.h>
#include <time.h>

#define PS "class/power_supply/"
#define TZ "class/thermal/thermal_zone0"
#define CF "devices/system/cpu/cpufreq/policy0"
#define FW "devices/platform/soc/soc:firmware"
#define S  1000000000ll

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* ---------------------------------------------------------------- options */

static void test_opts(void)
{
    static const struct {
        const char *key, *value;
        int rc;
    } cases[] = {
        { "sysfs.root", "/tmp/x", 1 },
        { "sysfs.root", "", PR_EINVAL },
        { "sensors.period_ms", "20", 1 },
        { "sensors.period_ms", "0.5", PR_EINVAL },
        { "sensors.period_ms", "abc", PR_EINVAL },
        { "sensors.period_ms", "", PR_EINVAL },
        { "sensors.period_ms", "10ms", PR_EINVAL },
        { "sensors.period_ms", "inf", PR_EINVAL },
        { "sensors.period_ms", "3600001", PR_EINVAL },
        { "sensors.stale_s", "0.2", 1 },
        { "sensors.stale_s", "0", PR_EINVAL },
        { "sensors.stale_s", "-1", PR_EINVAL },
        { "sensors.stale_s", "nan", PR_EINVAL },
        { "sensors.stuck_s", "0", 1 },
        { "sensors.stuck_s", "-0.1", PR_EINVAL },
        { "sensors.stuck_s", "x", PR_EINVAL },
        { "sensors.other", "1", 0 },
        { "sysfs.rootx", "1", 0 },
        { "lua.budget", "1", 0 },
    };
    pr_sampler_opts_t o;
    char err[256];
    int good = 1;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        pr_sampler_opts_default(&o);
        err[0] = '\0';
        rc = pr_sampler_opts_set(&o, cases[i].key, strlen(cases[i].key), cases[i].value,
                                 err, sizeof err);
        if (rc != cases[i].rc || (rc < 0 && !strstr(err, cases[i].key))) {
            diag("  %s=%s: rc %d '%s', want %d", cases[i].key, cases[i].value, rc, err,
                 cases[i].rc);
            good = 0;
        }
    }
    ok(good, "option values: good ones taken, bad ones refused naming the key, "
       "others left alone");

    pr_sampler_opts_default(&o);
    ok(pr_sampler_opts_check(&o, err, sizeof err) == 0 && !strcmp(o.root, "/sys")
       && o.period_s == 1.0, "defaults: /sys every second, and they check");
    pr_sampler_opts_set(&o, "sensors.period_ms", 17, "1000", err, sizeof err);
    pr_sampler_opts_set(&o, "sensors.stale_s", 15, "0.5", err, sizeof err);
    is_int(pr_sampler_opts_check(&o, err, sizeof err), PR_EINVAL,
           "stale_s shorter than the period: PR_EINVAL");
    ok(strstr(err, "sensors.stale_s") && strstr(err, "sensors.period_ms"),
       "and the message names both keys: %s", err);
    pr_sampler_opts_default(&o);
    pr_sampler_opts_set(&o, "sensors.period_ms", 17, "60000", err, sizeof err);
    ok(pr_sampler_opts_check(&o, err, sizeof err) == 0,
       "a long period with the default stale_s: the default follows (3 periods)");
}

static void test_create_errors(pr_loop_t *loop)
{
    pr_sampler_opts_t o;
    pr_sampler_t *s = NULL;

    pr_sampler_opts_default(&o);
    o.root = "/nonexistent/perch-sysfs";
    is_int(pr_sampler_create(&s, loop, &o), -ENOENT, "missing root: -ENOENT");
    o.root = "/dev/null";
    is_int(pr_sampler_create(&s, loop, &o), -ENOTDIR, "root not a directory: -ENOTDIR");
    o.root = "/tmp";
    o.period_s = 2;
    o.stale_s = 1;
    is_int(pr_sampler_create(&s, loop, &o), PR_EINVAL, "stale_s <= period: PR_EINVAL");
    ok(s == NULL, "nothing made on failure");
    pr_sampler_destroy(NULL);
}

/* --------------------------------------------------------- fake devices */

static void battery(const char *status, const char *cap, const char *uv, const char *ua)
{
    put(PS "BAT0", "type", "Battery\n");
    put(PS "BAT0", "scope", "System\n");
    put(PS "BAT0", "status", status);
    put(PS "BAT0", "capacity", cap);
    put(PS "BAT0", "voltage_now", uv);
    put(PS "BAT0", "current_now", ua);
}

static void build(void)
{
    fake_root();
    battery("Discharging\n", "57\n", "3850000\n", "1200000\n");
    put(PS "AC", "type", "Mains\n");
    put(PS "AC", "online", "0\n");
    put(TZ, "type", "cpu-thermal\n");
    put(TZ, "temp", "48312\n");
    put(TZ, "trip_point_0_type", "critical\n");
    put(TZ, "trip_point_0_temp", "90000\n");
    put("class/thermal/thermal_zone1", "type", "gpu-thermal\n");
    put("class/thermal/thermal_zone1", "temp", "41000\n");
    put(CF, "scaling_cur_freq", "1200000\n");
    put(FW, "get_throttled", "50005\n");
}

/* A sampler whose worker stays asleep (an hour-long period): the test
 * drives every read with pr_sampler_sample_now(). */
static pr_sampler_t *manual(pr_loop_t *loop, double stuck_s)
{
    pr_sampler_opts_t o;
    pr_sampler_t *s;
    pr_sampler_opts_default(&o);
    o.root = root;
    o.period_s = 3600;
    o.stale_s = 7200;
    o.stuck_s = stuck_s;
    if (pr_sampler_create(&s, loop, &o) != 0)
        bail_out("cannot create the sampler");
    return s;
}

#define near(a, b) (fabs((a) - (b)) < 1e-9)

static int is_input(pr_sampler_input_t in, double want)
{
    return !in.why && near(in.value, want);
}

static int why_is(pr_sampler_input_t in, const char *why)
{
    return in.why && !strcmp(in.why, why);
}

static void test_states(pr_loop_t *loop)
{
    pr_sampler_t *s;
    pr_sampler_inputs_t in;
    pr_sampler_reading_t r;
    int64_t t;

    build();
    s = manual(loop, 0);
    t = pr_sampler_latest(s)->time_ns;
    ok(t > 0 && pr_sampler_latest(s)->nsupplies == 2, "first snapshot there at create");

    /* Discharging. */
    pr_sampler_inputs(s, t, &in);
    ok(is_input(in.battery, 57) && is_input(in.on_ac, 0) && is_input(in.charging, 0),
       "discharging: battery 57, not on AC, not charging");
    ok(is_input(in.power_w, -3.85 * 1.2), "discharging: power_w = -V*A");
    ok(is_input(in.temp, 48.312) && is_input(in.temp_crit, 90) && in.hot_zone == 0,
       "hottest zone and its critical trip");
    ok(is_input(in.throttled, 1), "throttled: 0x50005 has bits 0-3 set");
    ok(in.has_battery && in.has_thermal && in.discharging, "has battery, thermal; discharging");
    is_int(pr_sampler_reading(s, PR_SAMPLER_FREQ, "policy0", t, &r), 0, "cpufreq cur tracked");
    ok(r.value == 1200000 && r.current && !r.stale && !r.stuck && r.age_s == 0,
       "cur 1200000 kHz, current, age 0 at its read time");

    /* Charging. */
    battery("Charging\n", "58\n", "4100000\n", "-900000\n");
    put(PS "AC", "online", "1\n");
    put(FW, "get_throttled", "50000\n");
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    pr_sampler_inputs(s, t, &in);
    ok(is_input(in.battery, 58) && is_input(in.on_ac, 1) && is_input(in.charging, 1)
       && !in.discharging, "charging: battery 58, on AC, charging");
    ok(is_input(in.power_w, 4.1 * 0.9), "charging: power_w positive");
    ok(is_input(in.throttled, 0), "throttled: 0x50000 is only history");

    /* Full on AC. */
    battery("Full\n", "100\n", "4200000\n", "0\n");
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    pr_sampler_inputs(s, t, &in);
    ok(is_input(in.battery, 100) && is_input(in.on_ac, 1) && is_input(in.charging, 0)
       && is_input(in.power_w, 0), "full: 100 %%, on AC, not charging, 0 W");

    /* No AC supply entry: the battery's status decides. */
    unput_dir(PS "AC");
    pr_sampler_sample_now(s);
    pr_sampler_inputs(s, pr_sampler_latest(s)->time_ns, &in);
    ok(is_input(in.on_ac, 1), "no AC entry, battery Full: on AC");
    battery("Discharging\n", "99\n", "4190000\n", "500000\n");
    pr_sampler_sample_now(s);
    pr_sampler_inputs(s, pr_sampler_latest(s)->time_ns, &in);
    ok(is_input(in.on_ac, 0), "no AC entry, battery Discharging: not on AC");

    /* No battery at all. */
    unput_dir(PS "BAT0");
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    pr_sampler_inputs(s, t, &in);
    ok(!in.has_battery && why_is(in.battery, "missing") && why_is(in.power_w, "missing")
       && why_is(in.charging, "missing"), "no battery: battery, power_w, charging missing");
    ok(is_input(in.on_ac, 1), "no battery and no AC entry: on external power");

    /* Stale: the zone's temp file goes; its last value stays until stale_s. */
    unput(TZ, "temp");
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    is_int(pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone0", t, &r), 0,
           "removed file: reading still known");
    ok(!r.current && !r.stale && near(r.value, 48.312) && r.age_s > 0,
       "not current, last value kept, ageing, not stale yet");
    pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone0", r.read_ns + 7201 * S, &r);
    ok(r.stale && !r.stuck, "stale once unread for longer than stale_s");
    pr_sampler_inputs(s, t, &in);
    ok(is_input(in.temp, 48.312) && is_input(in.temp_crit, 90),
       "inputs keep using it within stale_s");
    pr_sampler_inputs(s, r.read_ns + 7201 * S, &in);
    ok(why_is(in.temp, "stale") && why_is(in.temp_crit, "stale"), "then temp is nil: stale");
    /* A hung worker: everything ages, even readings of the latest snapshot. */
    pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone1", t + 7201 * S, &r);
    ok(r.current && r.stale, "no read for stale_s (worker stuck in a read): stale");
    put(TZ, "temp", "50000\n");
    pr_sampler_sample_now(s);
    pr_sampler_inputs(s, pr_sampler_latest(s)->time_ns, &in);
    ok(is_input(in.temp, 50), "file back: fresh again");

    /* Malformed from the start: missing; malformed later: last value, ageing. */
    put(TZ, "temp", "\n");
    put("class/thermal/thermal_zone2", "temp", "hot\n");
    put("class/thermal/thermal_zone3", "temp", "");
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    is_int(pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone2", t, &r), PR_EEMPTY,
           "non-numeric from the start: never read (missing)");
    is_int(pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone3", t, &r), PR_EEMPTY,
           "empty from the start: missing");
    pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone0", t, &r);
    ok(!r.current && near(r.value, 50), "emptied later: last value kept, not current");
    pr_sampler_inputs(s, t, &in);
    ok(is_input(in.temp, 50) && in.hot_zone == 0, "the hottest good zone still counts");
    pr_sampler_inputs(s, t + 7201 * S, &in);
    ok(why_is(in.temp, "stale"), "all zones stale later: temp stale");
    put(FW, "get_throttled", "zz\n");
    pr_sampler_sample_now(s);
    pr_sampler_inputs(s, pr_sampler_latest(s)->time_ns, &in);
    ok(is_input(in.throttled, 0), "malformed throttled word: last value kept for now");
    is_int(pr_sampler_reading(s, PR_SAMPLER_THROTTLED, "nope", t, &r), PR_EEMPTY,
           "an unknown name: PR_EEMPTY");

    pr_sampler_destroy(s);
    cleanup();

    /* An empty tree: everything missing, nothing else. */
    fake_root();
    s = manual(loop, 0);
    pr_sampler_inputs(s, pr_sampler_latest(s)->time_ns, &in);
    ok(!in.has_battery && !in.has_thermal && why_is(in.battery, "missing")
       && why_is(in.temp, "missing") && why_is(in.temp_crit, "missing")
       && why_is(in.throttled, "missing") && is_input(in.on_ac, 1),
       "empty tree: no battery, no thermal, no firmware node; on external power");
    pr_sampler_destroy(s);
    cleanup();
}

static void test_stuck(pr_loop_t *loop)
{
    pr_sampler_t *s;
    pr_sampler_inputs_t in;
    pr_sampler_reading_t r;
    int64_t t;

    build();
    s = manual(loop, 0.05);
    sleep_ms(80);
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone0", t, &r);
    ok(r.stuck && !r.stale && r.read_ns - r.changed_ns >= 80000000,
       "zone temp unchanged for longer than stuck_s: stuck");
    pr_sampler_reading(s, PR_SAMPLER_VOLTAGE, "BAT0", t, &r);
    ok(r.stuck, "a discharging battery's unchanged voltage: stuck");
    pr_sampler_reading(s, PR_SAMPLER_CAPACITY, "BAT0", t, &r);
    ok(!r.stuck, "capacity is never stuck");
    pr_sampler_reading(s, PR_SAMPLER_FREQ, "policy0", t, &r);
    ok(!r.stuck, "cpufreq cur is never stuck");
    pr_sampler_inputs(s, t, &in);
    ok(why_is(in.temp, "stuck") && why_is(in.power_w, "stuck") && is_input(in.battery, 57),
       "inputs: temp and power_w nil (stuck), battery still there");

    put(TZ, "temp", "48313\n");
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone0", t, &r);
    ok(!r.stuck && r.changed_ns == t, "a change clears stuck");
    pr_sampler_inputs(s, t, &in);
    ok(is_input(in.temp, 48.313), "and the zone counts again");

    /* Full on AC: voltage and current sit still legitimately. */
    battery("Full\n", "100\n", "4200000\n", "0\n");
    pr_sampler_sample_now(s);
    sleep_ms(80);
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    pr_sampler_reading(s, PR_SAMPLER_VOLTAGE, "BAT0", t, &r);
    ok(!r.stuck, "a Full battery's steady voltage is not stuck");
    pr_sampler_inputs(s, t, &in);
    ok(is_input(in.battery, 100) && is_input(in.power_w, 0), "full: battery and power_w valid");
    /* Unplugged: the stuck clock starts when it starts moving. */
    battery("Discharging\n", "100\n", "4200000\n", "0\n");
    pr_sampler_sample_now(s);
    t = pr_sampler_latest(s)->time_ns;
    pr_sampler_reading(s, PR_SAMPLER_VOLTAGE, "BAT0", t, &r);
    ok(!r.stuck && r.changed_ns == t, "unplugged: the stuck clock restarts");
    pr_sampler_destroy(s);

    /* stuck_s 0: never stuck. */
    s = manual(loop, 0);
    sleep_ms(20);
    pr_sampler_sample_now(s);
    pr_sampler_reading(s, PR_SAMPLER_TEMP, "thermal_zone1", pr_sampler_latest(s)->time_ns, &r);
    ok(!r.stuck, "stuck_s 0: off");
    pr_sampler_destroy(s);
    cleanup();
}

/* ------------------------------------------------------------ subscribers */

struct seen {
    int calls;
    int64_t last_time;
    pr_sampler_t *s;
    void *other_ud;
};

static void count_cb(pr_sampler_t *s, const pr_sensors_t *snap, void *ud)
{
    struct seen *w = ud;
    (void)s;
    w->calls++;
    w->last_time = snap->time_ns;
}

static void remove_cb(pr_sampler_t *s, const pr_sensors_t *snap, void *ud)
{
    struct seen *w = ud;
    (void)snap;
    w->calls++;
    pr_sampler_off_sample(s, remove_cb, w);
    pr_sampler_off_sample(s, count_cb, w->other_ud);
}

static void test_subscribers(pr_loop_t *loop)
{
    pr_sampler_t *s;
    struct seen a = { 0 }, b = { 0 }, c = { 0 }, extra[PR_SAMPLER_MAX_SUBS];
    int rc = 0;

    build();
    s = manual(loop, 0);
    is_int(pr_sampler_on_sample(s, count_cb, &a), 0, "subscribe");
    is_int(pr_sampler_on_sample(s, NULL, &a), PR_EINVAL, "NULL callback: PR_EINVAL");
    b.other_ud = &c;
    pr_sampler_on_sample(s, remove_cb, &b);
    pr_sampler_on_sample(s, count_cb, &c);
    pr_sampler_sample_now(s);
    ok(a.calls == 1 && a.last_time == pr_sampler_latest(s)->time_ns,
       "called with the new snapshot");
    ok(b.calls == 1 && c.calls == 0, "a callback may remove itself and a later one");
    pr_sampler_sample_now(s);
    ok(a.calls == 2 && b.calls == 1 && c.calls == 0, "removed ones are not called again");
    for (int i = 0; i < PR_SAMPLER_MAX_SUBS && rc == 0; i++)
        rc = pr_sampler_on_sample(s, count_cb, &extra[i]);
    is_int(rc, PR_EFULL, "more than PR_SAMPLER_MAX_SUBS: PR_EFULL");
    pr_sampler_off_sample(s, count_cb, &a);
    pr_sampler_off_sample(s, count_cb, &a);
    ok(1, "removing twice is harmless");
    pr_sampler_destroy(s);
    cleanup();
}

/* ----------------------------------------------------------------- worker */

struct live {
    pr_loop_t *loop;
    pr_sampler_t *s;
    pr_timer_t change, guard;
    int deliveries, saw_change, changed;
    int64_t changed_at, seen_at;
};

static void live_cb(pr_sampler_t *s, const pr_sensors_t *snap, void *ud)
{
    struct live *l = ud;
    (void)s;
    l->deliveries++;
    for (int i = 0; i < snap->nsupplies; i++)
        if (l->changed && !strcmp(snap->supplies[i].name, "BAT0")
            && snap->supplies[i].capacity.value == 42) {
            l->saw_change = 1;
            l->seen_at = pr_time_ns();
            pr_loop_stop(l->loop);
        }
}

static void change_cb(pr_timer_t *t, void *ud)
{
    struct live *l = ud;
    (void)t;
    put(PS "BAT0", "capacity", "42\n");
    l->changed = 1;
    l->changed_at = pr_time_ns();
}

static void guard_cb(pr_timer_t *t, void *ud)
{
    struct live *l = ud;
    (void)t;
    pr_loop_stop(l->loop);
}

static void test_worker(pr_loop_t *loop)
{
    pr_sampler_opts_t o;
    pr_sampler_stats_t st;
    struct live l;

    build();
    memset(&l, 0, sizeof l);
    l.loop = loop;
    pr_sampler_opts_default(&o);
    o.root = root;
    o.period_s = 0.01;
    o.stale_s = 0.5;
    if (pr_sampler_create(&l.s, loop, &o) != 0)
        bail_out("cannot create the sampler");
    pr_sampler_on_sample(l.s, live_cb, &l);

    /* Before the loop runs: poll takes the worker's newest snapshot in, the
     * subscribers hear of it once the loop runs. */
    {
        int64_t t_create = pr_sampler_latest(l.s)->time_ns;
        pr_sampler_reading_t r;
        sleep_ms(50);
        pr_sampler_poll(l.s);
        ok(pr_sampler_latest(l.s)->time_ns > t_create && l.deliveries == 0,
           "poll: a newer snapshot without the loop running; no subscriber called yet");
        pr_sampler_reading(l.s, PR_SAMPLER_CAPACITY, "BAT0", pr_sampler_latest(l.s)->time_ns, &r);
        ok(r.read_ns == pr_sampler_latest(l.s)->time_ns, "and its readings are judged");
    }
    pr_timer_init(&l.change, change_cb, &l);
    pr_timer_init(&l.guard, guard_cb, &l);
    pr_timer_start(loop, &l.change, 0.05, 0);
    pr_timer_start(loop, &l.guard, 5, 0);   /* backstop, not a timing check */
    pr_loop_run(loop);
    pr_timer_stop(&l.change);
    pr_timer_stop(&l.guard);
    ok(l.saw_change, "the worker delivered a changed file to the loop thread");
    ok(l.deliveries >= 2, "several snapshots delivered (%d)", l.deliveries);
    if (l.saw_change)
        diag("change seen %.1f ms after the write (period 10 ms)",
             (double)(l.seen_at - l.changed_at) / 1e6);
    pr_sampler_stats(l.s, &st);
    ok(st.reads >= 3 && st.delivered >= 3 && st.read_errors == 0 && st.last_error == 0,
       "stats: %llu reads, %llu delivered, %llu overwritten, slowest %.3f ms",
       (unsigned long long)st.reads, (unsigned long long)st.delivered,
       (unsigned long long)st.overwritten, (double)st.max_read_ns / 1e6);

    /* The root disappears (at once: renamed away): reads fail, nothing is
     * delivered, the last snapshot stays and its readings age. */
    {
        char away[sizeof root + 8];
        uint64_t before;
        snprintf(away, sizeof away, "%s.gone", root);
        if (rename(root, away) != 0)
            bail_out("cannot rename the root");
        l.changed = 0;
        pr_timer_start(loop, &l.guard, 0.1, 0);
        pr_loop_run(loop);
        pr_sampler_stats(l.s, &st);
        ok(st.read_errors > 0 && st.last_error == -ENOENT, "root removed: read errors "
           "counted (%llu), last -ENOENT", (unsigned long long)st.read_errors);
        /* A read in flight during the rename may still have delivered;
         * from now on every read fails. */
        before = st.delivered;
        pr_timer_start(loop, &l.guard, 0.1, 0);
        pr_loop_run(loop);
        pr_sampler_stats(l.s, &st);
        ok(st.delivered == before && st.read_errors > 3,
           "while it is gone nothing is delivered; the last snapshot stays");
        if (rename(away, root) != 0)
            bail_out("cannot rename the root back");
    }
    cleanup();

    /* Joins; the hour-long workers above show destroy wakes a sleeping one. */
    pr_sampler_destroy(l.s);
}

int main(void)
{
    pr_loop_t *loop;

    if (pr_loop_create(&loop) != 0)
        bail_out("cannot create a loop");
    test_opts();
    test_create_errors(loop);
    test_states(loop);
    test_stuck(loop);
    test_subscribers(loop);
    test_worker(loop);
    pr_loop_destroy(loop);
    return exit_status();
}
