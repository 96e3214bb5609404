/* device.h - the device perch runs on: its sensor sampler, its actuators,
 * and the safety floor over them.
 *
 * One per process: `perch run` creates it once and hands it to every
 * version of the app, so a reload never restarts the sensors or lifts the
 * floor.  Every snapshot the sampler delivers goes to pr_safety_on_sample(),
 * the floor's single entry point, whatever the scripts do; the sampler's
 * first read happens in pr_device_create(), so a device that is already
 * too hot is clamped before any script runs.
 *
 * Config keys (--set key=value), read by pr_device_parse_sets():
 *   sysfs.root          sysfs root (default /sys)
 *   actuators.dry_run   true: write nothing, log what would be written
 *                       (the --dry-run flag of `perch run` sets it)
 *   safety.crit_c       critical temperature, °C (default: each zone's
 *                       critical trip point, else 85)
 *   safety.release_c    hysteresis, °C (default 5)
 *   safety.min_fps      fps while engaged (default 1)
 *   sensors.period_ms, sensors.stale_s, sensors.stuck_s   see sampler.h */
#ifndef PR_DEVICE_H
#define PR_DEVICE_H

#include <stddef.h>

#include "actuators.h"
#include "loop.h"
#include "metrics.h"
#include "safety.h"
#include "sampler.h"

typedef struct pr_device_opts {
    const char *root;         /* borrowed until pr_device_create returns */
    int dry_run;
    pr_sampler_opts_t sensors;
    pr_safety_opts_t safety;
} pr_device_opts_t;

typedef struct pr_device pr_device_t;

void pr_device_opts_default(pr_device_opts_t *o);
/* Take this module's keys from "key=value" strings (others are ignored;
 * the last of a key wins).  o->root points into sets.  Returns 0, or
 * PR_EINVAL with "--set key=value: what is wrong" in err. */
int pr_device_parse_sets(char *const *sets, int nsets, pr_device_opts_t *o,
                         char *err, size_t errlen);

/* Create the actuators and the floor, start the sampler on loop (borrowed;
 * must outlive the device) and feed its first snapshot to the floor.
 * Returns 0, PR_EINVAL, PR_ENOMEM, or the sampler's error (a negated errno
 * when sysfs.root is not a readable directory; logged). */
int pr_device_create(pr_device_t **out, pr_loop_t *loop, const pr_device_opts_t *o);
/* Stops the sampler (joins its thread); writes nothing back.  Safe with
 * NULL. */
void pr_device_destroy(pr_device_t *d);

pr_actuators_t *pr_device_actuators(pr_device_t *d);
pr_safety_t *pr_device_safety(pr_device_t *d);
pr_sampler_t *pr_device_sampler(pr_device_t *d);

/* Emit the actuators' requested and effective values and the safety
 * floor's state into an exposition (a metrics collector calls it). */
void pr_device_collect(pr_device_t *d, pr_metrics_out_t *o);

#endif
