/* device.c - owns the actuators and the safety floor and feeds the floor
 * sensor snapshots from a periodic timer (see device.h). */
#include "device.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pr_device {
    pr_actuators_t *act;
    pr_safety_t *safety;
    pr_timer_t timer;
    char root[PATH_MAX];
    int root_err;          /* the last read's error, logged when it changes */
    pr_sensors_t snap;     /* ~20 KiB: kept here, off the stack */
};

void pr_device_opts_default(pr_device_opts_t *o)
{
    o->root = "/sys";
    o->dry_run = 0;
    o->period_ms = PR_DEVICE_DEFAULT_PERIOD_MS;
    pr_safety_opts_default(&o->safety);
}

/* A finite number in lo..hi, nothing else. */
static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
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
        { "safety.period_ms", "a period in ms, 10..3600000", 10, 3600000,
          offsetof(pr_device_opts_t, period_ms) },
    };

    for (int i = 0; i < nsets; i++) {
        const char *kv = sets[i], *eq = strchr(kv, '=');
        size_t klen;
        if (!eq)
            continue;   /* pr_app_parse_sets reports it */
        klen = (size_t)(eq - kv);
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
                if (parse_num(eq + 1, nums[j].lo, nums[j].hi,
                              (double *)((char *)o + nums[j].off)) < 0) {
                    snprintf(err, errlen, "--set %s: %s must be %s", kv, nums[j].key,
                             nums[j].what);
                    return PR_EINVAL;
                }
            }
        }
#undef KEY_IS
    }
    return 0;
}

/* The one place snapshots enter the floor until the sampler delivers them
 * (then its hook calls pr_safety_on_sample and this timer goes). */
static void sample(pr_device_t *d)
{
    int64_t now = pr_time_ns();
    int rc = pr_sensors_read(d->root, &d->snap, now);

    if (rc < 0 && rc != d->root_err)
        pr_log_warn("sysfs.root %s: %s: no sensor readings", d->root, pr_strerror(rc));
    d->root_err = rc < 0 ? rc : 0;
    pr_safety_on_sample(d->safety, rc < 0 ? NULL : &d->snap, now);
}

static void on_tick(pr_timer_t *t, void *ud)
{
    (void)t;
    sample(ud);
}

int pr_device_create(pr_device_t **out, pr_loop_t *loop, const pr_device_opts_t *o)
{
    pr_actuators_opts_t ao;
    pr_device_t *d;
    int rc;

    if (!out || !loop || !o || !o->root || strlen(o->root) >= PATH_MAX - 128 ||
        !(o->period_ms >= 1))
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
    if (o->dry_run)
        pr_log_info("actuators: dry-run: nothing is written, each write is logged");
    sample(d);
    pr_timer_init(&d->timer, on_tick, d);
    pr_timer_set_weak(&d->timer, 1);
    if ((rc = pr_timer_start(loop, &d->timer, o->period_ms / 1000.0,
                             o->period_ms / 1000.0)) < 0)
        goto err;
    *out = d;
    return 0;
err:
    pr_safety_destroy(d->safety);
    pr_actuators_destroy(d->act);
    free(d);
    return rc;
}

void pr_device_destroy(pr_device_t *d)
{
    if (!d)
        return;
    pr_timer_stop(&d->timer);
    pr_safety_destroy(d->safety);
    pr_actuators_destroy(d->act);
    free(d);
}

pr_actuators_t *pr_device_actuators(pr_device_t *d) { return d->act; }
pr_safety_t *pr_device_safety(pr_device_t *d) { return d->safety; }
