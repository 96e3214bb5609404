/* device.h - the device perch runs on: its actuators, the safety floor over
 * them, and what feeds the floor sensor snapshots.
 *
 * One per process in the end (the floor must outlive any one script
 * version); for now each app creates one.  Until the sensor sampler
 * delivers snapshots, a weak periodic timer (it does not keep the loop
 * running) reads ROOT with pr_sensors_read() every safety.period_ms and
 * hands the snapshot to pr_safety_on_sample(), the floor's single entry
 * point; the first sample is taken in pr_device_create(), so a device that
 * is already too hot is clamped before any script runs.
 *
 * Config keys (--set key=value), read by pr_device_parse_sets():
 *   sysfs.root          sysfs root (default /sys)
 *   actuators.dry_run   true: write nothing, log what would be written
 *                       (the --dry-run flag of `perch run` sets it)
 *   safety.crit_c       critical temperature, °C (default: each zone's
 *                       critical trip point, else 85)
 *   safety.release_c    hysteresis, °C (default 5)
 *   safety.min_fps      fps while engaged (default 1)
 *   safety.period_ms    sampling period (default 1000) */
#ifndef PR_DEVICE_H
#define PR_DEVICE_H

#include <stddef.h>

#include "actuators.h"
#include "loop.h"
#include "safety.h"

typedef struct pr_device_opts {
    const char *root;         /* borrowed until pr_device_create returns */
    int dry_run;
    double period_ms;
    pr_safety_opts_t safety;
} pr_device_opts_t;

#define PR_DEVICE_DEFAULT_PERIOD_MS 1000.0

typedef struct pr_device pr_device_t;

void pr_device_opts_default(pr_device_opts_t *o);
/* Take this module's keys from "key=value" strings (others are ignored;
 * the last of a key wins).  o->root points into sets.  Returns 0, or
 * PR_EINVAL with "--set key=value: what is wrong" in err. */
int pr_device_parse_sets(char *const *sets, int nsets, pr_device_opts_t *o,
                         char *err, size_t errlen);

/* Create the actuators and the floor, take the first sample, start the
 * sampling timer on loop (borrowed; must outlive the device).  Returns 0,
 * PR_EINVAL or PR_ENOMEM. */
int pr_device_create(pr_device_t **out, pr_loop_t *loop, const pr_device_opts_t *o);
/* Stops the timer; writes nothing back.  Safe with NULL. */
void pr_device_destroy(pr_device_t *d);

pr_actuators_t *pr_device_actuators(pr_device_t *d);
pr_safety_t *pr_device_safety(pr_device_t *d);

#endif
