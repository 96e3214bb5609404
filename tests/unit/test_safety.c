/* test_safety.c - the thermal safety floor: engages at the zone's critical
 * trip point (85 °C without one, safety.crit_c when set), holds until the
 * temperature is below critical minus the release margin, does not flap on a
 * temperature oscillating around either threshold, never engages on missing
 * data (and says so once), and drives the actuators of a fake sysfs tree:
 * fps down to min_fps, scaling_max_freq down to cpuinfo_min, the requests
 * back on release, no write per sample. */
#include "actuators.h"
#include "error.h"
#include "fakesys.h"
#include "safety.h"
#include "sensors.h"
#include "tap.h"

#include <math.h>

static pr_sensors_t snap;   /* ~20 KiB: not on the stack */

/* One zone at temp °C with a critical trip at crit °C (NAN: no trip). */
static const pr_sensors_t *one_zone(double temp, double crit)
{
    memset(&snap, 0, sizeof snap);
    snap.nzones = 1;
    snprintf(snap.zones[0].name, sizeof snap.zones[0].name, "thermal_zone0");
    snprintf(snap.zones[0].type, sizeof snap.zones[0].type, "cpu-thermal");
    snap.zones[0].temp.value = temp;
    snap.zones[0].temp.present = !isnan(temp);
    snprintf(snap.zones[0].trips[0].type, PR_SENSORS_NAME_LEN, "passive");
    snap.zones[0].trips[0].temp.value = 60;
    snap.zones[0].trips[0].temp.present = 1;
    snap.zones[0].ntrips = 1;
    if (!isnan(crit)) {
        snprintf(snap.zones[0].trips[1].type, PR_SENSORS_NAME_LEN, "critical");
        snap.zones[0].trips[1].temp.value = crit;
        snap.zones[0].trips[1].temp.present = 1;
        snap.zones[0].ntrips = 2;
    }
    return &snap;
}

static pr_safety_t *make(pr_actuators_t *act, double crit_c, double min_fps)
{
    pr_safety_opts_t o;
    pr_safety_t *s;
    pr_safety_opts_default(&o);
    o.crit_c = crit_c;
    o.min_fps = min_fps;
    if (pr_safety_create(&s, act, &o) != 0)
        bail_out("pr_safety_create");
    return s;
}

static int engaged(const pr_safety_t *s)
{
    pr_safety_state_t st;
    pr_safety_state(s, &st);
    return st.engaged;
}

static pr_safety_state_t state(const pr_safety_t *s)
{
    pr_safety_state_t st;
    pr_safety_state(s, &st);
    return st;
}

static void test_options(void)
{
    pr_safety_opts_t o;
    pr_safety_t *s;

    pr_safety_opts_default(&o);
    ok(isnan(o.crit_c) && o.release_c == 5 && o.min_fps == 1,
       "defaults: crit from the trip point, release 5 °C, min_fps 1");
    o.crit_c = 0;
    is_int(pr_safety_create(&s, NULL, &o), PR_EINVAL, "crit_c 0 refused");
    pr_safety_opts_default(&o);
    o.release_c = -1;
    is_int(pr_safety_create(&s, NULL, &o), PR_EINVAL, "negative release_c refused");
    pr_safety_opts_default(&o);
    o.min_fps = 5000;
    is_int(pr_safety_create(&s, NULL, &o), PR_EINVAL, "min_fps 5000 refused");
}

static void test_trip_and_hysteresis(void)
{
    pr_safety_t *s = make(NULL, NAN, 1);
    pr_safety_state_t st;
    long mark = fs_log_mark();

    pr_safety_on_sample(s, one_zone(89.9, 90), 1000);
    ok(!engaged(s), "89.9 °C, critical trip 90: not engaged");
    pr_safety_on_sample(s, one_zone(90.0, 90), 2000);
    st = state(s);
    ok(st.engaged && st.since_ns == 2000 && st.crit_c == 90 && st.temp_c == 90,
       "90.0 °C: engaged at the trip point, since the sample's time");
    is_int(fs_log_count(mark, "WARN"), 1, "engaging is a warning");
    is_int(fs_log_count(mark, "at 90.0 °C >= critical 90.0 °C"), 1, "with the temperature");
    pr_safety_on_sample(s, one_zone(87, 90), 3000);
    ok(engaged(s), "87 °C: still engaged");
    pr_safety_on_sample(s, one_zone(85.0, 90), 4000);
    ok(engaged(s), "85.0 °C (= crit - release): still engaged");
    pr_safety_on_sample(s, one_zone(84.9, 90), 5000);
    st = state(s);
    ok(!st.engaged && st.released_ns == 5000, "84.9 °C: released");
    is_int(fs_log_count(mark, "floor released: thermal_zone0 at 84.9 °C < 85.0 °C"), 1,
           "releasing is logged with the temperature");
    is_int(fs_log_count(mark, "INFO"), 1, "at info");

    /* A temperature oscillating around the critical point, then around
     * the release point: one engagement, one release. */
    for (int i = 0; i < 100; i++)
        pr_safety_on_sample(s, one_zone(i % 2 ? 91 : 89, 90), 10000 + i);
    st = state(s);
    ok(st.engaged && st.engagements == 2, "oscillating 89/91 °C: engaged once more (%llu engagements in all)",
       (unsigned long long)st.engagements);
    for (int i = 0; i < 100; i++)
        pr_safety_on_sample(s, one_zone(i % 2 ? 85.5 : 86.5, 90), 20000 + i);
    ok(engaged(s), "oscillating 85.5/86.5 °C above the release point: holds");
    for (int i = 0; i < 100; i++)
        pr_safety_on_sample(s, one_zone(i % 2 ? 84.5 : 89.5, 90), 30000 + i);
    st = state(s);
    ok(!st.engaged && st.engagements == 2, "oscillating 84.5/89.5 °C: released once, not re-engaged");
    is_int(fs_log_count(mark, "floor engaged"), 2, "two engagements logged in all");
    is_int(fs_log_count(mark, "floor released"), 2, "two releases logged in all");
    is_int(st.samples, 305, "every sample counted");
    pr_safety_destroy(s);
}

static void test_crit_sources(void)
{
    pr_safety_t *s = make(NULL, NAN, 1);
    pr_sensors_t *two;

    pr_safety_on_sample(s, one_zone(84.9, NAN), 1);
    ok(!engaged(s), "no critical trip: 84.9 °C does not engage");
    pr_safety_on_sample(s, one_zone(85, NAN), 2);
    ok(engaged(s) && state(s).crit_c == 85, "no critical trip: 85 °C engages");
    pr_safety_destroy(s);

    s = make(NULL, NAN, 1);
    pr_safety_on_sample(s, one_zone(86, 0), 1);
    ok(engaged(s) && state(s).crit_c == 85, "a critical trip at 0 °C (disabled) means 85");
    pr_safety_destroy(s);

    s = make(NULL, 70, 1);
    pr_safety_on_sample(s, one_zone(69.9, 90), 1);
    ok(!engaged(s), "safety.crit_c 70: 69.9 °C does not engage");
    pr_safety_on_sample(s, one_zone(70, 90), 2);
    ok(engaged(s) && state(s).crit_c == 70, "safety.crit_c 70 overrides the trip point at 90");
    pr_safety_on_sample(s, one_zone(65, 90), 3);
    ok(engaged(s), "65 °C: holds (release below 65)");
    pr_safety_on_sample(s, one_zone(64.9, 90), 4);
    ok(!engaged(s), "64.9 °C: released");
    pr_safety_destroy(s);

    /* Two zones: a cooler one past its own (lower) critical trip decides. */
    s = make(NULL, NAN, 1);
    two = (pr_sensors_t *)one_zone(80, 100);
    two->nzones = 2;
    two->zones[1] = two->zones[0];
    snprintf(two->zones[1].name, PR_SENSORS_NAME_LEN, "thermal_zone1");
    two->zones[1].temp.value = 76;
    two->zones[1].trips[1].temp.value = 75;
    pr_safety_on_sample(s, two, 1);
    ok(engaged(s) && !strcmp(state(s).zone, "thermal_zone1") && state(s).crit_c == 75,
       "two zones: the one past its critical trip engages the floor and is reported");
    pr_safety_destroy(s);
}

static void test_missing(void)
{
    pr_safety_t *s = make(NULL, NAN, 1);
    pr_sensors_t none;
    long mark = fs_log_mark();

    memset(&none, 0, sizeof none);
    for (int i = 0; i < 5; i++)
        pr_safety_on_sample(s, &none, i);
    pr_safety_on_sample(s, NULL, 6);
    ok(!engaged(s) && !state(s).known && isnan(state(s).temp_c),
       "no thermal zone: not engaged, temperature unknown");
    is_int(fs_log_count(mark, "no thermal zone"), 1, "said once");
    for (int i = 0; i < 5; i++)
        pr_safety_on_sample(s, one_zone(NAN, 90), 10 + i);
    ok(!engaged(s), "a zone without a reading: not engaged");
    is_int(fs_log_count(mark, "no temperature reading"), 0,
           "no second message while readings stay missing");

    /* Readings back, hot, then lost while engaged: the floor holds. */
    pr_safety_on_sample(s, one_zone(95, 90), 20);
    is_int(fs_log_count(mark, "temperature readings back"), 1, "readings back: said");
    ok(engaged(s), "95 °C: engaged");
    mark = fs_log_mark();
    for (int i = 0; i < 5; i++)
        pr_safety_on_sample(s, one_zone(NAN, 90), 30 + i);
    ok(engaged(s), "reading lost while engaged: holds");
    is_int(fs_log_count(mark, "holding the floor"), 1, "said once, as a warning");
    pr_safety_on_sample(s, one_zone(80, 90), 40);
    ok(!engaged(s), "a reading below the release point releases it");
    pr_safety_destroy(s);

    s = make(NULL, NAN, 1);
    mark = fs_log_mark();
    pr_safety_on_sample(s, one_zone(NAN, 90), 1);
    pr_safety_on_sample(s, one_zone(NAN, 90), 2);
    is_int(fs_log_count(mark, "1 thermal zone but no temperature reading"), 1,
           "a zone without readings: warned once");
    pr_safety_destroy(s);
}

#define TZ "class/thermal/thermal_zone0"
#define P0 "devices/system/cpu/cpufreq/policy0"

/* The floor over real actuators, fed from a fake sysfs tree. */
static void test_with_actuators(void)
{
    pr_actuators_opts_t ao = { NULL, 0 };
    pr_actuators_t *act;
    pr_safety_t *s;
    pr_act_value_t fps = { 1, 30, "" }, khz = { 1, 1500000, "" }, up = { 1, 2400000, "" };
    pr_act_state_t as;
    uint64_t writes;

    fs_put(TZ, "type", "cpu-thermal\n");
    fs_put(TZ, "temp", "95000\n");
    fs_put(TZ, "trip_point_0_type", "critical\n");
    fs_put(TZ, "trip_point_0_temp", "90000\n");
    fs_put(P0, "cpuinfo_min_freq", "600000\n");
    fs_put(P0, "cpuinfo_max_freq", "2400000\n");
    fs_put(P0, "scaling_max_freq", "2400000\n");
    ao.root = fs_root;
    if (pr_actuators_create(&act, &ao) != 0)
        bail_out("pr_actuators_create");
    s = make(act, NAN, 2);
    pr_actuators_request(act, PR_ACT_FPS, &fps, NULL, 0);
    pr_actuators_request(act, PR_ACT_CPU_MAX_KHZ, &khz, NULL, 0);
    is_int(atoi(fs_get(P0, "scaling_max_freq")), 1500000, "cool start: the request is written");

    if (pr_sensors_read(fs_root, &snap, 100) != 0)
        bail_out("pr_sensors_read");
    pr_safety_on_sample(s, &snap, 100);
    ok(engaged(s) && state(s).temp_c == 95, "95 °C over the 90 °C trip read from sysfs: engaged");
    pr_actuators_state(act, PR_ACT_FPS, &as);
    ok(as.effective.num == 2 && as.clamped, "effective fps is safety.min_fps (2)");
    is_int(atoi(fs_get(P0, "scaling_max_freq")), 600000, "scaling_max_freq holds cpuinfo_min");

    pr_actuators_request(act, PR_ACT_CPU_MAX_KHZ, &up, NULL, 0);
    is_int(atoi(fs_get(P0, "scaling_max_freq")), 600000, "a request for 2400000 cannot lift it");
    pr_actuators_state(act, PR_ACT_CPU_MAX_KHZ, &as);
    writes = as.writes;
    for (int i = 0; i < 10; i++) {
        pr_sensors_read(fs_root, &snap, 200 + i);
        pr_safety_on_sample(s, &snap, 200 + i);
    }
    pr_actuators_state(act, PR_ACT_CPU_MAX_KHZ, &as);
    is_int(as.writes, writes, "ten more hot samples: no sysfs write");

    fs_put(TZ, "temp", "86000\n");
    pr_sensors_read(fs_root, &snap, 300);
    pr_safety_on_sample(s, &snap, 300);
    ok(engaged(s), "86 °C: holds");
    fs_put(TZ, "temp", "84000\n");
    pr_sensors_read(fs_root, &snap, 400);
    pr_safety_on_sample(s, &snap, 400);
    ok(!engaged(s), "84 °C: released");
    is_int(atoi(fs_get(P0, "scaling_max_freq")), 2400000, "the last request comes back");
    pr_actuators_state(act, PR_ACT_FPS, &as);
    ok(as.effective.num == 30 && !as.clamped, "fps 30 again");
    pr_safety_destroy(s);
    pr_actuators_destroy(act);
}

int main(void)
{
    fs_init("safety");
    fs_log_capture();
    test_options();
    test_trip_and_hysteresis();
    test_crit_sources();
    test_missing();
    test_with_actuators();
    fs_cleanup();
    return exit_status();
}
