/* bench_sensors.c - what one sensor read costs the sampler's thread: a
 * pr_sensors_read() of a fake Raspberry Pi tree (one zone, one policy, the
 * firmware node), of a fake laptop tree (battery, AC, 6 zones, 8 policies)
 * and of this machine's /sys; and what the loop thread pays to judge the
 * readings (pr_sampler_inputs).  Figures in µs / ns per call, best of 5. */
#include "bench.h"
#include "sysfs_tree.h"
#include "loop.h"
#include "sampler.h"
#include "sensors.h"

static pr_sensors_t snap;

static void read_root(void *ctx)
{
    pr_sensors_read(ctx, &snap, 0);
    bench_keep(snap.nzones);
}

static void judge(void *ctx)
{
    pr_sampler_inputs_t in;
    pr_sampler_inputs(ctx, pr_time_ns(), &in);
    bench_keep(in.temp.value);
}

static void zone(int i, const char *temp)
{
    char dir[64];
    snprintf(dir, sizeof dir, "class/thermal/thermal_zone%d", i);
    put(dir, "type", "cpu-thermal\n");
    put(dir, "temp", temp);
    put(dir, "trip_point_0_type", "passive\n");
    put(dir, "trip_point_0_temp", "75000\n");
    put(dir, "trip_point_1_type", "critical\n");
    put(dir, "trip_point_1_temp", "90000\n");
}

static void policy(int i)
{
    char dir[64];
    snprintf(dir, sizeof dir, "devices/system/cpu/cpufreq/policy%d", i);
    put(dir, "scaling_governor", "ondemand\n");
    put(dir, "scaling_available_governors", "conservative ondemand userspace powersave performance schedutil\n");
    put(dir, "scaling_min_freq", "600000\n");
    put(dir, "scaling_max_freq", "1800000\n");
    put(dir, "scaling_cur_freq", "1200000\n");
    put(dir, "cpuinfo_min_freq", "600000\n");
    put(dir, "cpuinfo_max_freq", "1800000\n");
}

static void report_read(const char *name, const char *dir)
{
    double ns = bench_time(read_root, (void *)dir);
    bench_report(name, ns / 1000.0, "us", NULL, 0);
}

int main(void)
{
    pr_loop_t *loop;
    pr_sampler_t *s;
    pr_sampler_opts_t o;

    fake_root();
    zone(0, "48312\n");
    policy(0);
    put("devices/platform/soc/soc:firmware", "get_throttled", "0\n");
    report_read("sensors.read.pi_tree", root);
    cleanup();

    fake_root();
    put("class/power_supply/BAT0", "type", "Battery\n");
    put("class/power_supply/BAT0", "status", "Discharging\n");
    put("class/power_supply/BAT0", "capacity", "57\n");
    put("class/power_supply/BAT0", "voltage_now", "3850000\n");
    put("class/power_supply/BAT0", "current_now", "1200000\n");
    put("class/power_supply/BAT0", "energy_now", "21500000\n");
    put("class/power_supply/BAT0", "energy_full", "40000000\n");
    put("class/power_supply/AC", "type", "Mains\n");
    put("class/power_supply/AC", "online", "0\n");
    for (int i = 0; i < 6; i++)
        zone(i, "45000\n");
    for (int i = 0; i < 8; i++)
        policy(i);
    report_read("sensors.read.laptop_tree", root);

    if (pr_loop_create(&loop) != 0)
        return 1;
    pr_sampler_opts_default(&o);
    o.root = root;
    o.period_s = 3600;   /* the worker stays asleep */
    if (pr_sampler_create(&s, loop, &o) != 0)
        return 1;
    bench_report("sensors.inputs.laptop_tree", bench_time(judge, s), "ns", NULL, 0);
    pr_sampler_destroy(s);
    pr_loop_destroy(loop);
    cleanup();

    report_read("sensors.read.sys", "/sys");
    return 0;
}
