/* test_sensors.c - the sysfs sensor reader against a fake tree built in a
 * mkdtemp directory: unit conversions, the sign of current and power, absent
 * and malformed files, an empty root, the summary, the Raspberry Pi
 * get_throttled word (decoding, the places it is looked for, bad contents);
 * then the real /sys once, only to show it does not crash (the test build
 * runs under ASan/UBSan). */
#include "error.h"
#include "sensors.h"
#include "tap.h"
#include "sysfs_tree.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define near(a, b) (fabs((a) - (b)) < 1e-9)

/* A reading present with value want. */
static void is_val(pr_sensors_val_t v, double want, const char *name)
{
    if (!ok(v.present && near(v.value, want), "%s", name))
        diag("  got present %d value %.12g, want %.12g", v.present, v.value, want);
}

static void is_absent(pr_sensors_val_t v, const char *name)
{
    if (!ok(!v.present && v.value == 0.0, "%s absent", name))
        diag("  got present %d value %.12g", v.present, v.value);
}

static const pr_sensors_supply_t *supply(const pr_sensors_t *s, const char *name)
{
    for (int i = 0; i < s->nsupplies; i++)
        if (strcmp(s->supplies[i].name, name) == 0)
            return &s->supplies[i];
    return NULL;
}

#define PS "class/power_supply/"
#define TZ "class/thermal/"
#define CF "devices/system/cpu/cpufreq/"
#define FW "devices/platform/soc/soc:firmware"

static void build_tree(void)
{
    /* Battery discharging, driver reports current positive, no power_now. */
    put(PS "BAT0", "type", "Battery\n");
    put(PS "BAT0", "scope", "System\n");
    put(PS "BAT0", "status", "Discharging\n");
    put(PS "BAT0", "capacity", "57\n");
    put(PS "BAT0", "voltage_now", "3850000\n");
    put(PS "BAT0", "current_now", "1200000\n");
    put(PS "BAT0", "energy_now", "21500000\n");
    put(PS "BAT0", "energy_full", "40000000\n");
    put(PS "BAT0", "temp", "315\n");
    /* Mains online. */
    put(PS "AC", "type", "Mains\n");
    put(PS "AC", "online", "1\n");
    /* A mouse's battery: scope Device, and a driver that signs power. */
    put(PS "hidpp_battery_0", "type", "Battery\n");
    put(PS "hidpp_battery_0", "scope", "Device\n");
    put(PS "hidpp_battery_0", "status", "Charging\n");
    put(PS "hidpp_battery_0", "capacity", "90\n");
    put(PS "hidpp_battery_0", "voltage_now", "4100000\n");
    put(PS "hidpp_battery_0", "current_now", "-250000\n");
    put(PS "hidpp_battery_0", "power_now", "-1025000\n");
    put(PS "hidpp_battery_0", "charge_now", "450000\n");
    put(PS "hidpp_battery_0", "charge_full", "500000\n");
    /* Malformed values. */
    put(PS "BAD", "type", "Battery\n");
    put(PS "BAD", "scope", "Device\n");
    put(PS "BAD", "capacity", "abc\n");
    put(PS "BAD", "voltage_now", "");
    put(PS "BAD", "current_now", "99999999999999999999999\n");
    put(PS "BAD", "power_now", "12x\n");
    put(PS "BAD", "temp", " 20\n");
    put(PS "BAD", "online", "-\n");
    {
        char big[1024];
        memset(big, '1', sizeof big - 2);
        big[sizeof big - 2] = '\n';
        big[sizeof big - 1] = '\0';
        put(PS "BAD", "energy_now", big);
        /* Exactly fills the 255-byte read buffer: still a number. */
        memset(big, '0', 254);
        big[254] = '7';
        big[255] = '\0';
        put(PS "hidpp_battery_0", "temp", big);
        memset(big, 'x', sizeof big - 1);
        put(PS "BAD", "status", big);
    }

    put(TZ "thermal_zone0", "type", "cpu-thermal\n");
    put(TZ "thermal_zone0", "temp", "48312\n");
    put(TZ "thermal_zone0", "trip_point_0_type", "passive\n");
    put(TZ "thermal_zone0", "trip_point_0_temp", "75000\n");
    put(TZ "thermal_zone0", "trip_point_0_hyst", "2000\n");
    put(TZ "thermal_zone0", "trip_point_1_type", "critical\n");
    put(TZ "thermal_zone0", "trip_point_1_temp", "90000\n");
    put(TZ "thermal_zone10", "type", "gpu-thermal\n");
    put(TZ "thermal_zone10", "temp", "-5250\n");
    put(TZ "thermal_zone10", "trip_point_0_type", "hot\n");
    put(TZ "thermal_zone10", "trip_point_0_temp", "abc\n");
    /* Not a zone: cooling devices live alongside. */
    put(TZ "cooling_device0", "type", "Processor\n");

    put(CF "policy0", "scaling_governor", "schedutil\n");
    put(CF "policy0", "scaling_available_governors",
        "conservative ondemand userspace powersave performance schedutil \n");
    put(CF "policy0", "scaling_min_freq", "600000\n");
    put(CF "policy0", "scaling_max_freq", "1800000\n");
    put(CF "policy0", "scaling_cur_freq", "1200000\n");
    put(CF "policy0", "cpuinfo_min_freq", "600000\n");
    put(CF "policy0", "cpuinfo_max_freq", "2400000\n");

    put(FW, "get_throttled", "50005\n");
}

/* ------------------------------------------------------------- throttled */

static void test_throttled_parse(void)
{
    static const struct {
        const char *text;
        int rc;
        uint32_t raw;
    } cases[] = {
        { "0", 0, 0 },
        { "0\n", 0, 0 },
        { "50005", 0, 0x50005 },           /* the kernel's "%x": hex */
        { "0x50005", 0, 0x50005 },
        { "throttled=0x80008", 0, 0x80008 },
        { "E000F \n", 0, 0xe000f },
        { "ffffffff", 0, 0xffffffffu },
        { "", PR_EINVAL, 0 },
        { "\n", PR_EINVAL, 0 },
        { "0x", PR_EINVAL, 0 },
        { "abcxyz", PR_EINVAL, 0 },
        { "-1", PR_EINVAL, 0 },
        { " 5", PR_EINVAL, 0 },
        { "5 5", PR_EINVAL, 0 },
        { "100000000", PR_EINVAL, 0 },     /* more than 32 bits */
        { "0x0x5", PR_EINVAL, 0 },
    };
    pr_sensors_throttled_t t;
    int good = 1;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = pr_sensors_throttled_parse(cases[i].text, &t);
        if (rc != cases[i].rc || t.raw != cases[i].raw || t.present != (rc == 0)) {
            diag("  '%s': rc %d raw %#x present %d, want rc %d raw %#x", cases[i].text, rc,
                 t.raw, t.present, cases[i].rc, cases[i].raw);
            good = 0;
        }
    }
    ok(good, "get_throttled texts: hex as the kernel writes it, 0x, throttled=; "
       "junk, signs, blanks, >32 bits refused");
    is_int(pr_sensors_throttled_parse(NULL, &t), PR_EINVAL, "NULL text: PR_EINVAL");

    pr_sensors_throttled_parse("50005", &t);
    ok(t.under_voltage && !t.freq_capped && t.throttled && !t.soft_temp_limit,
       "0x50005: under-voltage and throttled now");
    ok(t.under_voltage_occurred && !t.freq_capped_occurred && t.throttled_occurred
       && !t.soft_temp_limit_occurred, "0x50005: under-voltage and throttling since boot");
    pr_sensors_throttled_parse("a", &t);
    ok(!t.under_voltage && t.freq_capped && !t.throttled && t.soft_temp_limit
       && !t.under_voltage_occurred && !t.throttled_occurred, "0xa: capped, soft limit, nothing since boot");
    pr_sensors_throttled_parse("80000", &t);
    ok(!t.under_voltage && !t.freq_capped && !t.throttled && !t.soft_temp_limit
       && t.soft_temp_limit_occurred && !t.freq_capped_occurred, "0x80000: soft limit since boot only");
    pr_sensors_throttled_parse("2fff0", &t);
    ok(!(t.raw & PR_SENSORS_THROTTLED_NOW) && t.freq_capped_occurred && !t.under_voltage
       && !t.throttled_occurred, "bits 4-15 ignored by the flags");
}

/* The places the firmware node is looked for, in a tree of their own. */
static void test_throttled_paths(void)
{
    static pr_sensors_t s;

    fake_root();
    pr_sensors_read(root, &s, 5);
    ok(!s.throttled.present && s.throttled.raw == 0 && !s.throttled.under_voltage
       && s.throttled.time_ns == 5, "no firmware node: throttled not present");

    put("devices/platform/soc/3f00b840.mailbox", "name", "x\n");
    put("devices/platform/soc/raspberrypi-firmware", "get_throttled", "4\n");
    pr_sensors_read(root, &s, 6);
    ok(s.throttled.present && s.throttled.raw == 4 && s.throttled.throttled,
       "soc/*firmware*/get_throttled found");

    put("devices/platform/soc@107c000000/soc@107c000000:firmware", "get_throttled", "1\n");
    put("devices/platform/soc/raspberrypi-firmware", "get_throttled", "junk\n");
    pr_sensors_read(root, &s, 7);
    ok(!s.throttled.present && !s.throttled.throttled,
       "a malformed soc/ node is not present (not shadowed by another)");
    unput("devices/platform/soc/raspberrypi-firmware", "get_throttled");
    pr_sensors_read(root, &s, 8);
    ok(s.throttled.present && s.throttled.under_voltage && s.throttled.raw == 1,
       "soc@<addr>/*firmware*/get_throttled found when soc/ has none");

    put("devices/platform/soc/soc:firmware", "get_throttled", "");
    pr_sensors_read(root, &s, 9);
    ok(!s.throttled.present, "empty soc:firmware/get_throttled: not present");
    put("devices/platform/soc/soc:firmware", "get_throttled", "0\n");
    pr_sensors_read(root, &s, 10);
    ok(s.throttled.present && s.throttled.raw == 0, "soc:firmware/get_throttled 0: present, all clear");
    cleanup();
}

int main(void)
{
    static pr_sensors_t s;
    pr_sensors_summary_t sum;
    const pr_sensors_supply_t *p;
    const pr_sensors_zone_t *z;
    const pr_sensors_policy_t *c;

    fake_root();
    build_tree();

    is_int(pr_sensors_read(root, &s, 123456789), 0, "fake tree reads");
    is_int(s.nsupplies, 4, "four supplies");
    is_int(s.nzones, 2, "two zones (cooling device skipped)");
    is_int(s.npolicies, 1, "one policy");
    ok(s.time_ns == 123456789 && !s.truncated, "read stamped, not truncated");

    p = supply(&s, "BAT0");
    ok(p != NULL, "BAT0 found");
    if (!p)
        bail_out("no BAT0");
    ok(strcmp(p->type, "Battery") == 0 && strcmp(p->status, "Discharging") == 0
       && strcmp(p->scope, "System") == 0 && !p->is_device, "BAT0 strings, system scope");
    is_val(p->capacity, 57.0, "capacity 57 %");
    is_val(p->voltage, 3.85, "voltage_now 3850000 uV -> 3.85 V");
    is_val(p->current, -1.2, "current_now +1200000 uA while discharging -> -1.2 A");
    is_val(p->power, -(3.85 * 1.2), "power derived: -|V*A| while discharging");
    ok(p->power_derived, "power marked derived");
    is_val(p->energy_now, 21.5, "energy_now uWh -> Wh");
    is_val(p->energy_full, 40.0, "energy_full uWh -> Wh");
    is_val(p->temp, 31.5, "temp tenths -> 31.5 C");
    is_absent(p->online, "BAT0 online");
    is_absent(p->charge_now, "BAT0 charge_now");
    is_absent(p->charge_full, "BAT0 charge_full");
    ok(p->time_ns == 123456789, "supply stamped");

    p = supply(&s, "AC");
    ok(p && strcmp(p->type, "Mains") == 0 && p->scope[0] == '\0' && !p->is_device
       && p->status[0] == '\0', "AC: Mains, no scope, no status");
    if (!p)
        bail_out("no AC");
    is_val(p->online, 1.0, "AC online");
    is_absent(p->voltage, "AC voltage");
    is_absent(p->power, "AC power (nothing to derive from)");

    p = supply(&s, "hidpp_battery_0");
    ok(p && p->is_device, "peripheral battery flagged is_device");
    if (!p)
        bail_out("no hidpp_battery_0");
    is_val(p->current, 0.25, "current -250000 uA while charging -> +0.25 A");
    is_val(p->power, 1.025, "power_now -1025000 uW while charging -> +1.025 W");
    ok(!p->power_derived, "power_now read, not derived");
    is_val(p->temp, 0.7, "a 255-byte number that fills the buffer still reads");
    is_val(p->charge_now, 0.45, "charge_now uAh -> Ah");
    is_val(p->charge_full, 0.5, "charge_full uAh -> Ah");

    p = supply(&s, "BAD");
    ok(p != NULL, "malformed supply still listed");
    if (!p)
        bail_out("no BAD");
    is_absent(p->capacity, "'abc'");
    is_absent(p->voltage, "empty file");
    is_absent(p->current, "99999999999999999999999");
    is_absent(p->power, "'12x' (and nothing to derive)");
    is_absent(p->temp, "leading blank");
    is_absent(p->online, "lone '-'");
    is_absent(p->energy_now, "a 1 KiB number");
    ok(p->status[0] == '\0', "over-long status is empty");

    z = &s.zones[0];
    ok(strcmp(z->name, "thermal_zone0") == 0 && strcmp(z->type, "cpu-thermal") == 0,
       "zone 0 first, type");
    is_val(z->temp, 48.312, "zone temp 48312 m°C -> 48.312 °C");
    is_int(z->ntrips, 2, "zone 0 has two trips");
    ok(strcmp(z->trips[0].type, "passive") == 0 && strcmp(z->trips[1].type, "critical") == 0,
       "trip types");
    is_val(z->trips[0].temp, 75.0, "trip 0 temp");
    is_val(z->trips[0].hyst, 2.0, "trip 0 hyst");
    is_val(z->trips[1].temp, 90.0, "trip 1 temp");
    is_absent(z->trips[1].hyst, "trip 1 hyst");
    ok(z->time_ns == 123456789, "zone stamped");
    z = &s.zones[1];
    ok(strcmp(z->name, "thermal_zone10") == 0 && strcmp(z->type, "gpu-thermal") == 0,
       "zone 10 sorted after zone 0");
    is_val(z->temp, -5.25, "negative zone temp");
    is_int(z->ntrips, 1, "zone 10 has one trip");
    is_absent(z->trips[0].temp, "malformed trip temp");

    c = &s.policies[0];
    ok(strcmp(c->name, "policy0") == 0 && strcmp(c->governor, "schedutil") == 0,
       "policy0 governor");
    ok(strcmp(c->available_governors,
              "conservative ondemand userspace powersave performance schedutil") == 0,
       "available governors, trailing blank stripped");
    is_val(c->scaling_min, 600000.0, "scaling_min_freq kHz");
    is_val(c->scaling_max, 1800000.0, "scaling_max_freq kHz");
    is_val(c->scaling_cur, 1200000.0, "scaling_cur_freq kHz");
    is_val(c->cpuinfo_min, 600000.0, "cpuinfo_min_freq kHz");
    is_val(c->cpuinfo_max, 2400000.0, "cpuinfo_max_freq kHz");
    ok(c->time_ns == 123456789, "policy stamped");

    ok(s.throttled.present && s.throttled.raw == 0x50005 && s.throttled.under_voltage
       && s.throttled.throttled && s.throttled.under_voltage_occurred
       && s.throttled.time_ns == 123456789, "soc:firmware/get_throttled 50005 read and decoded");

    pr_sensors_summary(&s, &sum);
    ok(sum.has_ac_supply && sum.on_ac, "summary: on AC");
    ok(sum.has_battery && sum.battery >= 0
       && strcmp(s.supplies[sum.battery].name, "BAT0") == 0, "summary: battery is BAT0, not the mouse");
    ok(sum.discharging, "summary: discharging");
    is_val(sum.capacity, 57.0, "summary: capacity");
    ok(sum.has_thermal, "summary: has thermal");
    is_val(sum.max_temp, 48.312, "summary: hottest zone");

    /* AC offline: the peripheral's charging does not count. */
    put(PS "AC", "online", "0\n");
    pr_sensors_read(root, &s, 2);
    pr_sensors_summary(&s, &sum);
    ok(sum.has_ac_supply && !sum.on_ac && sum.time_ns == 2, "summary: AC offline");

    cleanup();

    /* An empty root: no battery, no zone, said explicitly. */
    fake_root();
    is_int(pr_sensors_read(root, &s, 7), 0, "empty root reads");
    ok(s.nsupplies == 0 && s.nzones == 0 && s.npolicies == 0, "empty root: all counts 0");
    pr_sensors_summary(&s, &sum);
    ok(!sum.has_battery && sum.battery == -1 && !sum.discharging && !sum.capacity.present,
       "empty root: no battery");
    ok(!sum.has_ac_supply && !sum.on_ac, "empty root: no AC supply");
    ok(!sum.has_thermal && !sum.max_temp.present, "empty root: no thermal zone");
    cleanup();

    is_int(pr_sensors_read(root, &s, 0), -ENOENT, "removed root: -ENOENT");
    test_throttled_parse();
    test_throttled_paths();
    is_int(pr_sensors_read(NULL, &s, 0), PR_EINVAL, "NULL root: PR_EINVAL");
    is_int(pr_sensors_read("/", NULL, 0), PR_EINVAL, "NULL out: PR_EINVAL");

    /* The real thing, if there is one: only that it does not crash. */
    if (access("/sys", F_OK) == 0) {
        int rc = pr_sensors_read("/sys", &s, 1);
        pr_sensors_summary(&s, &sum);
        ok(rc == 0, "/sys read (%d supplies, %d zones, %d policies)",
           s.nsupplies, s.nzones, s.npolicies);
    }
    return exit_status();
}
