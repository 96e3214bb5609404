/* device.c - owns the sensor sampler, the actuators and the safety floor,
 * and feeds the floor every snapshot the sampler delivers (see device.h). */
#include "device.h"
#include "config.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pr_device {
    pr_sampler_t *sampler;
    pr_actuators_t *act;
    pr_safety_t *safety;
    char root[PATH_MAX];
};

void pr_device_opts_default(pr_device_opts_t *o)
{
    o->root = "/sys";
    o->dry_run = 0;
    pr_sampler_opts_default(&o->sensors);
    pr_safety_opts_default(&o->safety);
}

int pr_device_parse_sets(char *const *sets, int nsets, pr_device_opts_t *o,
                         char *err, size_t errlen)
{
    static const struct {
        const char *key, *what;
        double lo, hi;
        size_t off;
    } nums[] = {
        { "safety.crit_c", "a temperature in °C, 1..200", 1, 200,
          offsetof(pr_device_opts_t, safety.crit_c) },
        { "safety.release_c", "a temperature difference in °C, 0..100", 0, 100,
          offsetof(pr_device_opts_t, safety.release_c) },
        { "safety.min_fps", "a frame rate, 0..1000", 0, PR_ACT_FPS_MAX,
          offsetof(pr_device_opts_t, safety.min_fps) },
    };

    for (int i = 0; i < nsets; i++) {
        const char *kv = sets[i], *eq = strchr(kv, '=');
        size_t klen;
        if (!eq)
            continue;   /* pr_app_parse_sets reports it */
        klen = (size_t)(eq - kv);
        /* sysfs.root and sensors.*: the sampler's (it copies the root). */
        if (pr_sampler_opts_set(&o->sensors, kv, klen, eq + 1, err, errlen) < 0)
            return PR_EINVAL;
#define KEY_IS(k) (klen == sizeof(k) - 1 && strncmp(kv, k, klen) == 0)
        if (KEY_IS("sysfs.root")) {
            if (eq[1] == '\0' || strlen(eq + 1) >= PATH_MAX - 128) {
                snprintf(err, errlen, "--set %s: sysfs.root must be a directory path", kv);
                return PR_EINVAL;
            }
            o->root = eq + 1;
        } else if (KEY_IS("actuators.dry_run")) {
            if (!strcmp(eq + 1, "true") || !strcmp(eq + 1, "1"))
                o->dry_run = 1;
            else if (!strcmp(eq + 1, "false") || !strcmp(eq + 1, "0"))
                o->dry_run = 0;
            else {
                snprintf(err, errlen, "--set %s: actuators.dry_run must be true or false", kv);
                return PR_EINVAL;
            }
        } else {
            for (size_t j = 0; j < sizeof nums / sizeof nums[0]; j++) {
                if (klen != strlen(nums[j].key) || strncmp(kv, nums[j].key, klen))
                    continue;
                if (pr_config_num(eq + 1, nums[j].lo, nums[j].hi,
                              (double *)((char *)o + nums[j].off)) < 0) {
                    snprintf(err, errlen, "--set %s: %s must be %s", kv, nums[j].key,
                             nums[j].what);
                    return PR_EINVAL;
                }
            }
        }
#undef KEY_IS
    }
    return pr_sampler_opts_check(&o->sensors, err, errlen);
}

/* The one place snapshots enter the floor: every snapshot the sampler
 * delivers, on the loop thread. */
static void on_snapshot(pr_sampler_t *s, const pr_sensors_t *snap, void *ud)
{
    pr_device_t *d = ud;
    (void)s;
    pr_safety_on_sample(d->safety, snap, pr_time_ns());
}

int pr_device_create(pr_device_t **out, pr_loop_t *loop, const pr_device_opts_t *o)
{
    pr_actuators_opts_t ao;
    pr_device_t *d;
    int rc;

    if (!out || !loop || !o || !o->root || strlen(o->root) >= PATH_MAX - 128)
        return PR_EINVAL;
    *out = NULL;
    d = calloc(1, sizeof *d);
    if (!d)
        return PR_ENOMEM;
    strcpy(d->root, o->root);
    ao.root = d->root;
    ao.dry_run = o->dry_run;
    if ((rc = pr_actuators_create(&d->act, &ao)) < 0 ||
        (rc = pr_safety_create(&d->safety, d->act, &o->safety)) < 0)
        goto err;
    if ((rc = pr_sampler_create(&d->sampler, loop, &o->sensors)) < 0) {
        pr_log_error("sensors: sysfs.root %s: %s", o->sensors.root, pr_strerror(rc));
        goto err;
    }
    if ((rc = pr_sampler_on_sample(d->sampler, on_snapshot, d)) < 0)
        goto err;
    if (o->dry_run)
        pr_log_info("actuators: dry-run: nothing is written, each write is logged");
    /* The sampler read once at create: a device that is already too hot is
     * clamped before any script runs. */
    pr_safety_on_sample(d->safety, pr_sampler_latest(d->sampler), pr_time_ns());
    *out = d;
    return 0;
err:
    pr_sampler_destroy(d->sampler);
    pr_safety_destroy(d->safety);
    pr_actuators_destroy(d->act);
    free(d);
    return rc;
}

void pr_device_destroy(pr_device_t *d)
{
    if (!d)
        return;
    pr_sampler_destroy(d->sampler);
    pr_safety_destroy(d->safety);
    pr_actuators_destroy(d->act);
    free(d);
}

pr_sampler_t *pr_device_sampler(pr_device_t *d) { return d->sampler; }
pr_actuators_t *pr_device_actuators(pr_device_t *d) { return d->act; }
pr_safety_t *pr_device_safety(pr_device_t *d) { return d->safety; }

/* ----------------------------------------------------------- metrics -- */

void pr_device_collect(pr_device_t *d, pr_metrics_out_t *o)
{
    pr_safety_state_t ss;

    for (int id = 0; id < PR_ACT_COUNT; id++) {
        pr_act_state_t st;
        pr_actuators_state(d->act, id, &st);
        if (st.type == PR_ACT_STRING) {
            /* A governor is a name: an info-style gauge, 1 with it in labels. */
            const char *l[] = { "actuator", st.name, "requested",
                                st.requested.set ? st.requested.str : "",
                                "effective", st.effective.set ? st.effective.str : "" };
            pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_actuator_info",
                            "Actuators whose value is a name (the CPU governor)", 3, l, 1);
        } else {
            const char *l[] = { "actuator", st.name };
            if (st.requested.set)
                pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_actuator_requested",
                                "What the policies asked for (booleans as 0/1)", 1, l,
                                st.requested.num);
            if (st.effective.set)
                pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_actuator_effective",
                                "What is in effect, after the safety floor", 1, l,
                                st.effective.num);
        }
        {
            const char *l[] = { "actuator", st.name };
            pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_actuator_clamped",
                            "1 while the safety floor lowers the request", 1, l, st.clamped);
            pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_actuator_changes_total",
                            "Changes of the effective value", 1, l, (double)st.changes);
            pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_actuator_writes_total",
                            "sysfs writes done", 1, l, (double)st.writes);
            pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_actuator_write_failures_total",
                            "sysfs writes that failed", 1, l, (double)st.failures);
        }
    }
    pr_safety_state(d->safety, &ss);
    pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_safety_engaged",
                    "1 while the thermal safety floor is engaged", 0, NULL, ss.engaged);
    pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_safety_engagements_total",
                    "Times the safety floor engaged", 0, NULL, (double)ss.engagements);
    if (ss.known) {
        pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_safety_temperature_celsius",
                        "Temperature of the zone the floor watches", 0, NULL, ss.temp_c);
        pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_safety_critical_celsius",
                        "Its critical temperature", 0, NULL, ss.crit_c);
    }
}
