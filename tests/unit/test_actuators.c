/* test_actuators.c - requested and effective actuator values against a fake
 * cpufreq tree: writes land in the files, a value already in effect is not
 * written again, values outside cpuinfo_min..max are refused (or clamped per
 * policy), an unavailable governor is refused, the safety floor caps fps
 * and frequencies and lifting it brings the requests back, dry-run writes
 * nothing, an unwritable attribute is logged once and goes dry-run, other
 * write failures are logged once per streak and retried. */
#include "actuators.h"
#include "error.h"
#include "fakesys.h"
#include "tap.h"

#include <math.h>

#define P0 "devices/system/cpu/cpufreq/policy0"
#define P4 "devices/system/cpu/cpufreq/policy4"

/* Two policies, as on a big.LITTLE board. */
static void build_tree(void)
{
    fs_put(P0, "cpuinfo_min_freq", "600000\n");
    fs_put(P0, "cpuinfo_max_freq", "1800000\n");
    fs_put(P0, "scaling_max_freq", "1800000\n");
    fs_put(P0, "scaling_governor", "schedutil\n");
    fs_put(P0, "scaling_available_governors", "ondemand powersave performance schedutil \n");
    fs_put(P4, "cpuinfo_min_freq", "800000\n");
    fs_put(P4, "cpuinfo_max_freq", "2400000\n");
    fs_put(P4, "scaling_max_freq", "2400000\n");
    fs_put(P4, "scaling_governor", "schedutil\n");
    fs_put(P4, "scaling_available_governors", "ondemand performance schedutil\n");
}

static pr_act_value_t num(double x)
{
    pr_act_value_t v = { 1, x, "" };
    return v;
}

static pr_act_value_t str(const char *s)
{
    pr_act_value_t v = { 1, 0, "" };
    snprintf(v.str, sizeof v.str, "%s", s);
    return v;
}

static pr_act_state_t state(const pr_actuators_t *a, int id)
{
    pr_act_state_t s;
    pr_actuators_state(a, id, &s);
    return s;
}

static int req(pr_actuators_t *a, int id, pr_act_value_t v, char *err, size_t errlen)
{
    return pr_actuators_request(a, id, &v, err, errlen);
}

static void is_file(const char *dir, const char *name, const char *want, const char *what)
{
    const char *got = fs_get(dir, name);
    if (!ok(strcmp(got, want) == 0, "%s", what))
        diag("  %s/%s holds '%s', want '%s'", dir, name, got, want);
}

static pr_actuators_t *make(int dry_run)
{
    pr_actuators_opts_t o = { fs_root, dry_run };
    pr_actuators_t *a = NULL;
    if (pr_actuators_create(&a, &o) != 0)
        bail_out("pr_actuators_create");
    return a;
}

static void test_names(void)
{
    is_int(pr_actuators_id("fps"), PR_ACT_FPS, "fps by name");
    is_int(pr_actuators_id("upstream_allowed"), PR_ACT_UPSTREAM_ALLOWED, "upstream_allowed by name");
    is_int(pr_actuators_id("fpss"), -1, "unknown name: -1");
    ok(pr_actuators_name(PR_ACT_COUNT) == NULL, "no name past the last actuator");
    is_int(pr_actuators_type(PR_ACT_CPU_GOVERNOR), PR_ACT_STRING, "cpu_governor is a string");
}

static void test_writes(void)
{
    pr_actuators_t *a = make(0);
    pr_act_state_t s;
    char err[256];

    is_int(pr_actuators_npolicies(a), 2, "two cpufreq policies found");
    s = state(a, PR_ACT_CPU_MAX_KHZ);
    ok(s.lo == 600000 && s.hi == 2400000, "allowed range is 600000..2400000 kHz (%.0f..%.0f)",
       s.lo, s.hi);
    ok(!s.requested.set && !s.effective.set && !s.dry_run, "nothing requested, mode write");
    ok(!strcmp(state(a, PR_ACT_CPU_GOVERNOR).choices, "ondemand performance schedutil"),
       "governors every policy offers: %s", state(a, PR_ACT_CPU_GOVERNOR).choices);

    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(1200000), err, sizeof err), 0, "request 1200000 kHz");
    is_file(P0, "scaling_max_freq", "1200000", "policy0 written");
    is_file(P4, "scaling_max_freq", "1200000", "policy4 written");
    is_int(state(a, PR_ACT_CPU_MAX_KHZ).writes, 2, "two writes counted");

    /* The same value again: no write (the file is changed behind our back
     * to prove nothing touches it). */
    fs_put(P0, "scaling_max_freq", "777\n");
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(1200000), err, sizeof err), 0, "same request again");
    is_file(P0, "scaling_max_freq", "777", "a value already in effect is not rewritten");
    is_int(state(a, PR_ACT_CPU_MAX_KHZ).writes, 2, "still two writes");

    /* Inside the overall range, above policy0's own maximum: clamped there. */
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(2000000), err, sizeof err), 0, "request 2000000 kHz");
    is_file(P0, "scaling_max_freq", "1800000", "policy0 clamped to its cpuinfo_max");
    is_file(P4, "scaling_max_freq", "2000000", "policy4 takes it as is");
    s = state(a, PR_ACT_CPU_MAX_KHZ);
    ok(s.requested.num == 2000000 && s.effective.num == 2000000 && !s.clamped,
       "requested = effective = 2000000");

    /* Outside every policy's range: refused, nothing changes. */
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(3000000), err, sizeof err), -ERANGE,
           "3000000 kHz refused with -ERANGE");
    ok(strstr(err, "cpu_max_khz 3000000 kHz") && strstr(err, "600000..2400000"),
       "message names the value and the range: %s", err);
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(100), err, sizeof err), -ERANGE, "100 kHz refused");
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(NAN), err, sizeof err), -ERANGE, "NaN refused");
    is_int(state(a, PR_ACT_CPU_MAX_KHZ).requested.num, 2000000, "request unchanged");
    is_file(P4, "scaling_max_freq", "2000000", "file unchanged");

    /* Governors. */
    is_int(req(a, PR_ACT_CPU_GOVERNOR, str("powersave"), err, sizeof err), -EINVAL,
           "a governor policy4 lacks is refused");
    ok(strstr(err, "'powersave'") && strstr(err, "policy4") && strstr(err, "ondemand performance"),
       "message names it and what is available: %s", err);
    is_int(req(a, PR_ACT_CPU_GOVERNOR, str("turbo mode"), err, sizeof err), -EINVAL,
           "a malformed name is refused");
    is_file(P0, "scaling_governor", "schedutil", "governor untouched");
    is_int(req(a, PR_ACT_CPU_GOVERNOR, str("performance"), err, sizeof err), 0,
           "performance is available everywhere");
    is_file(P0, "scaling_governor", "performance", "policy0 governor written");
    is_file(P4, "scaling_governor", "performance", "policy4 governor written");

    /* In-process actuators. */
    is_int(req(a, PR_ACT_FPS, num(1001), err, sizeof err), -ERANGE, "fps 1001 refused");
    ok(strstr(err, "fps 1001") && strstr(err, "0..1000"), "message: %s", err);
    is_int(req(a, PR_ACT_FPS, num(-1), err, sizeof err), -ERANGE, "negative fps refused");
    is_int(req(a, PR_ACT_JPEG_QUALITY, num(0), err, sizeof err), -ERANGE, "jpeg_quality 0 refused");
    is_int(req(a, PR_ACT_JPEG_QUALITY, num(85.4), err, sizeof err), 0, "jpeg_quality 85.4");
    is_int(state(a, PR_ACT_JPEG_QUALITY).effective.num, 85, "rounded to 85");
    is_int(req(a, PR_ACT_UPSTREAM_ALLOWED, num(0), err, sizeof err), 0, "upstream_allowed false");
    s = state(a, PR_ACT_UPSTREAM_ALLOWED);
    ok(s.effective.set && s.effective.num == 0 && s.changes == 1, "effective false, one change");
    pr_actuators_destroy(a);
}

static void test_floor(void)
{
    pr_actuators_t *a;
    pr_act_floor_t f = { 1 };
    pr_act_state_t s;
    char err[256];

    build_tree();
    a = make(0);
    req(a, PR_ACT_FPS, num(30), err, sizeof err);
    req(a, PR_ACT_CPU_MAX_KHZ, num(1500000), err, sizeof err);
    is_int(pr_actuators_set_floor(a, &f), 0, "floor set");
    s = state(a, PR_ACT_FPS);
    ok(s.requested.num == 30 && s.effective.num == 1 && s.clamped, "fps: requested 30, effective 1, clamped");
    is_file(P0, "scaling_max_freq", "600000", "policy0 at its cpuinfo_min");
    is_file(P4, "scaling_max_freq", "800000", "policy4 at its cpuinfo_min");
    s = state(a, PR_ACT_CPU_MAX_KHZ);
    ok(s.requested.num == 1500000 && s.effective.num == 800000 && s.clamped,
       "cpu_max_khz: requested 1500000, effective 800000 (no CPU above), clamped");

    /* Requests while the floor holds are kept but do not pass. */
    req(a, PR_ACT_CPU_MAX_KHZ, num(2400000), err, sizeof err);
    req(a, PR_ACT_FPS, num(60), err, sizeof err);
    is_file(P4, "scaling_max_freq", "800000", "a request cannot lift the floor");
    is_int(state(a, PR_ACT_FPS).effective.num, 1, "nor can an fps request");
    req(a, PR_ACT_FPS, num(0.5), err, sizeof err);
    s = state(a, PR_ACT_FPS);
    ok(s.effective.num == 0.5 && !s.clamped, "a request below the floor's fps passes unclamped");
    req(a, PR_ACT_FPS, num(60), err, sizeof err);
    is_int(state(a, PR_ACT_CPU_MAX_KHZ).writes, 4, "4 writes: the request, then the floor");
    pr_actuators_set_floor(a, &f);
    is_int(state(a, PR_ACT_CPU_MAX_KHZ).writes, 4, "setting the same floor again writes nothing");

    is_int(pr_actuators_set_floor(a, NULL), 0, "floor lifted");
    is_file(P0, "scaling_max_freq", "1800000", "policy0 back to the last request (clamped)");
    is_file(P4, "scaling_max_freq", "2400000", "policy4 back to the last request");
    s = state(a, PR_ACT_FPS);
    ok(s.effective.num == 60 && !s.clamped, "fps back to the last request");
    pr_actuators_destroy(a);

    /* Nothing requested: the floor still sets fps and frequencies, and
     * lifting it restores what the policies had at creation. */
    build_tree();
    a = make(0);
    pr_actuators_set_floor(a, &f);
    s = state(a, PR_ACT_FPS);
    ok(!s.requested.set && s.effective.set && s.effective.num == 1 && s.clamped,
       "fps: nothing requested, effective 1 under the floor");
    is_file(P0, "scaling_max_freq", "600000", "policy0 floored");
    pr_actuators_set_floor(a, NULL);
    is_file(P0, "scaling_max_freq", "1800000", "policy0 restored to its value at creation");
    is_file(P4, "scaling_max_freq", "2400000", "policy4 restored");
    ok(!state(a, PR_ACT_FPS).effective.set && !state(a, PR_ACT_CPU_MAX_KHZ).effective.set,
       "no effective value once the floor is gone and nothing was requested");
    pr_actuators_destroy(a);
}

static void test_dry_run(void)
{
    pr_actuators_t *a;
    pr_act_floor_t f = { 1 };
    pr_act_state_t s;
    long mark;

    build_tree();
    a = make(1);
    mark = fs_log_mark();
    ok(pr_actuators_dry_run(a) && state(a, PR_ACT_FPS).dry_run, "every actuator reports dry-run");
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(1000000), NULL, 0), 0, "request in dry-run");
    is_int(req(a, PR_ACT_CPU_GOVERNOR, str("ondemand"), NULL, 0), 0, "governor in dry-run");
    pr_actuators_set_floor(a, &f);
    is_file(P0, "scaling_max_freq", "1800000", "nothing written to scaling_max_freq");
    is_file(P0, "scaling_governor", "schedutil", "nothing written to scaling_governor");
    s = state(a, PR_ACT_CPU_MAX_KHZ);
    ok(s.writes == 0 && s.dry_writes == 4 && s.effective.num == 800000,
       "4 would-be writes counted, effective still computed (%llu)",
       (unsigned long long)s.dry_writes);
    is_int(fs_log_count(mark, "would write 600000 to "), 1, "the would-be write is logged");
    pr_actuators_destroy(a);
}

static void test_unwritable(void)
{
    pr_actuators_t *a;
    pr_act_state_t s;
    char path[PATH_MAX], err[256];
    long mark;

    /* scaling_max_freq is a directory: no open for writing, even as root. */
    build_tree();
    remove(fs_path(path, sizeof path, P0, "scaling_max_freq"));
    fs_mkdirs(P0 "/scaling_max_freq");
    a = make(0);
    mark = fs_log_mark();
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(1000000), err, sizeof err), 0,
           "an unwritable attribute is not an error for the request");
    s = state(a, PR_ACT_CPU_MAX_KHZ);
    ok(s.dry_run && s.failures == 1 && strstr(s.last_error, "scaling_max_freq"),
       "cpu_max_khz now dry-run, one failure: %s", s.last_error);
    ok(!state(a, PR_ACT_CPU_GOVERNOR).dry_run, "the governor is still written");
    req(a, PR_ACT_CPU_MAX_KHZ, num(1100000), err, sizeof err);
    req(a, PR_ACT_CPU_MAX_KHZ, num(1200000), err, sizeof err);
    is_int(fs_log_count(mark, "reporting dry-run from now on"), 1, "logged once");
    is_int(state(a, PR_ACT_CPU_MAX_KHZ).failures, 1, "no further attempts");
    is_file(P4, "scaling_max_freq", "2400000", "policy4 not written either (dry-run)");
    pr_actuators_destroy(a);
    rmdir(fs_path(path, sizeof path, P0, "scaling_max_freq"));

    /* A read-only file stops only non-root writers. */
    build_tree();
    chmod(fs_path(path, sizeof path, P0, "scaling_governor"), 0444);
    if (geteuid() == 0) {
        ok(1, "read-only file goes dry-run # SKIP running as root: chmod does not stop writes");
    } else {
        a = make(0);
        req(a, PR_ACT_CPU_GOVERNOR, str("ondemand"), err, sizeof err);
        s = state(a, PR_ACT_CPU_GOVERNOR);
        ok(s.dry_run && strstr(s.last_error, "Permission denied"),
           "read-only file goes dry-run: %s", s.last_error);
        pr_actuators_destroy(a);
    }
    chmod(path, 0644);

    /* Some other failure (a full device): logged once per streak, counted,
     * retried by the floor. */
    build_tree();
    remove(fs_path(path, sizeof path, P0, "scaling_max_freq"));
    if (symlink("/dev/full", path) != 0)
        bail_out("symlink to /dev/full");
    a = make(0);
    mark = fs_log_mark();
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(1000000), err, sizeof err), -ENOSPC,
           "a failed write returns its errno");
    ok(strstr(err, "No space left") && strstr(err, "policy0/scaling_max_freq"), "message: %s", err);
    is_file(P4, "scaling_max_freq", "1000000", "the other policy is still written");
    req(a, PR_ACT_CPU_MAX_KHZ, num(1000000), err, sizeof err);
    is_int(state(a, PR_ACT_CPU_MAX_KHZ).failures, 1, "the same request does not retry");
    {
        pr_act_floor_t f = { 1 };
        pr_actuators_set_floor(a, &f);
        pr_actuators_set_floor(a, &f);
    }
    s = state(a, PR_ACT_CPU_MAX_KHZ);
    ok(s.failures == 3 && !s.dry_run, "the floor retries it (%llu failures), still mode write",
       (unsigned long long)s.failures);
    is_int(fs_log_count(mark, "No space left"), 2, "logged once per distinct error");
    pr_actuators_destroy(a);
    remove(path);
}

static void test_no_cpufreq(void)
{
    pr_actuators_t *a;
    pr_actuators_opts_t o = { "/nonexistent/perch-sysfs", 0 };
    char err[256];

    is_int(pr_actuators_create(&a, &o), 0, "a root without cpufreq is fine");
    is_int(pr_actuators_npolicies(a), 0, "no policy");
    ok(state(a, PR_ACT_CPU_MAX_KHZ).dry_run && state(a, PR_ACT_CPU_GOVERNOR).dry_run &&
       !state(a, PR_ACT_FPS).dry_run, "the CPU actuators are dry-run, fps is not");
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(1234567), err, sizeof err), 0,
           "any positive frequency is accepted");
    is_int(state(a, PR_ACT_CPU_MAX_KHZ).effective.num, 1234567, "and reported");
    is_int(req(a, PR_ACT_CPU_MAX_KHZ, num(1e300), err, sizeof err), -ERANGE,
           "but not an absurd one");
    pr_actuators_destroy(a);
    o.root = NULL;
    ok(pr_actuators_create(NULL, &o) == PR_EINVAL, "NULL out: PR_EINVAL");
}

int main(void)
{
    fs_init("actuators");
    fs_log_capture();
    build_tree();
    test_names();
    test_writes();
    test_floor();
    test_dry_run();
    test_unwritable();
    test_no_cpufreq();
    fs_cleanup();
    return exit_status();
}
