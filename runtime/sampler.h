/* sampler.h - live sensors without blocking the loop.
 *
 * A worker thread calls pr_sensors_read(root) every period and hands the
 * snapshot to the loop thread through a pr_async_t (sysfs reads can stall
 * for tens of milliseconds on an I2C fuel gauge or an ACPI embedded
 * controller; the loop must not).  On the loop thread the sampler keeps the
 * latest snapshot, tracks every reading perch cares about, and calls its
 * subscribers (the safety floor, Lua's perch.sensors.on_sample).
 *
 * Tracked readings, each by (kind, entry name):
 *   supply capacity, voltage, current, power   per power_supply entry
 *   zone temperature                           per thermal zone
 *   cpufreq scaling_cur                        per policy
 *   the throttled word                         (entry name "")
 * For each the sampler remembers the last good value, when it was last read
 * successfully (read_ns) and when it last changed (changed_ns), and says
 *   stale  the reading has not been read successfully for more than stale_s:
 *          its file vanished or stopped parsing, its entry disappeared, or
 *          the worker itself is stuck in a read.  Judged against the time of
 *          the query, so a hung worker makes everything stale.
 *   stuck  it has been read successfully but not changed for more than
 *          stuck_s, for readings that fluctuate on healthy hardware: zone
 *          temperatures, and a battery's voltage, current and power while
 *          it is Charging or Discharging.  Capacity, cpufreq, the
 *          throttled word and a Full / Not charging battery legitimately sit
 *          still for hours and are never stuck.  stuck_s 0 turns it off.
 *
 * Threads: create/destroy, pr_sampler_sample_now() and every getter are for
 * the loop thread only.  Times are pr_time_ns() (CLOCK_MONOTONIC). */
#ifndef PR_SAMPLER_H
#define PR_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "sensors.h"

typedef struct pr_sampler pr_sampler_t;

typedef struct pr_sampler_opts {
    const char *root;   /* sysfs root, "/sys"; copied at create */
    double period_s;    /* between reads; default 1 */
    double stale_s;     /* default 0: max(5 s, 3 periods) */
    double stuck_s;     /* default 300; 0: never stuck */
} pr_sampler_opts_t;

#define PR_SAMPLER_ROOT_MAX 256

void pr_sampler_opts_default(pr_sampler_opts_t *o);
/* Apply one configuration key: sysfs.root, sensors.period_ms,
 * sensors.stale_s, sensors.stuck_s.  Returns 1 if key is one of them and
 * value is good, 0 if key is not the sampler's, PR_EINVAL (message naming
 * the key in err) for a bad value.  o->root then points into value. */
int pr_sampler_opts_set(pr_sampler_opts_t *o, const char *key, size_t keylen,
                        const char *value, char *err, size_t errlen);
/* Check the options as a whole (stale_s must exceed the period).  0 or
 * PR_EINVAL with a message in err. */
int pr_sampler_opts_check(const pr_sampler_opts_t *o, char *err, size_t errlen);

/* Read once synchronously (so the first snapshot is there at once), then
 * start the worker.  The loop is borrowed and must outlive the sampler.
 * Returns 0; PR_EINVAL for bad options (logged); a negated errno if the
 * root is not a readable directory (-ENOENT, -ENOTDIR) or the thread
 * cannot start; PR_ENOMEM. */
int pr_sampler_create(pr_sampler_t **out, pr_loop_t *loop, const pr_sampler_opts_t *o);
/* Stop and join the worker (waits for a read in progress), free all.
 * Safe with NULL.  Subscribers are not called. */
void pr_sampler_destroy(pr_sampler_t *s);

/* Read now on the calling (loop) thread, update the tracking and call the
 * subscribers, as if the worker had delivered.  0 or the read's error (the
 * latest snapshot is then kept). */
int pr_sampler_sample_now(pr_sampler_t *s);

/* Take in the worker's newest snapshot now if one is waiting, without
 * waiting for the loop to run the hand-over (the main chunk runs before
 * the loop does; a long callback delays it).  The subscribers hear of it
 * when the loop runs the hand-over.  Cheap: a mutex and a pointer swap. */
void pr_sampler_poll(pr_sampler_t *s);

/* The latest snapshot; owned by the sampler, valid until the next one
 * arrives (on the loop thread: until the current callback returns). */
const pr_sensors_t *pr_sampler_latest(const pr_sampler_t *s);
const pr_sampler_opts_t *pr_sampler_opts(const pr_sampler_t *s);

/* Subscribers: cb(s, snapshot, ud) on the loop thread after each new
 * snapshot (the readings are already judged).  At most PR_SAMPLER_MAX_SUBS;
 * PR_EFULL beyond.  A callback may unsubscribe itself or others. */
#define PR_SAMPLER_MAX_SUBS 16
typedef void (*pr_sampler_cb)(pr_sampler_t *s, const pr_sensors_t *snap, void *ud);
int pr_sampler_on_sample(pr_sampler_t *s, pr_sampler_cb cb, void *ud);
/* Remove the (cb, ud) pair; harmless if absent. */
void pr_sampler_off_sample(pr_sampler_t *s, pr_sampler_cb cb, void *ud);

typedef enum pr_sampler_kind {
    PR_SAMPLER_CAPACITY,   /* supply capacity, % */
    PR_SAMPLER_VOLTAGE,    /* supply voltage, V */
    PR_SAMPLER_CURRENT,    /* supply current, A (signed) */
    PR_SAMPLER_POWER,      /* supply power, W (signed; read or derived) */
    PR_SAMPLER_TEMP,       /* thermal zone temperature, °C */
    PR_SAMPLER_FREQ,       /* cpufreq scaling_cur, kHz */
    PR_SAMPLER_THROTTLED,  /* get_throttled word; name "" */
    PR_SAMPLER_NKINDS
} pr_sampler_kind_t;

/* What the sampler knows about one reading at time now_ns. */
typedef struct pr_sampler_reading {
    double value;        /* the last good value */
    int64_t read_ns;     /* last successful read */
    int64_t changed_ns;  /* last change (or first read) */
    double age_s;        /* now - read_ns, seconds */
    int current;         /* in the latest snapshot and parsed there */
    int stale, stuck;
} pr_sampler_reading_t;

/* Look up (kind, name) ("BAT0", "thermal_zone0", "policy0", "" for the
 * throttled word) at now_ns (pr_time_ns(), or a test's clock).  Returns 0
 * with *r filled, or PR_EEMPTY if that reading was never read successfully
 * (missing: no such entry, or its file never parsed). */
int pr_sampler_reading(const pr_sampler_t *s, pr_sampler_kind_t kind, const char *name,
                       int64_t now_ns, pr_sampler_reading_t *r);

/* The policy inputs the sensors provide (CONTRACT section 1), judged at
 * now_ns.  Each is a value, or why there is none: "missing" (no such
 * sensor), "stale" or "stuck" (see above).  Booleans are 0 / 1. */
typedef struct pr_sampler_input {
    double value;
    const char *why;   /* NULL when value holds; else a static string */
} pr_sampler_input_t;

typedef struct pr_sampler_inputs {
    pr_sampler_input_t battery;    /* %, the first System battery */
    pr_sampler_input_t on_ac;      /* a Mains/USB supply online; without any
                                      such supply: no battery -> 1 (the board
                                      runs from external power), else from
                                      the battery's status */
    pr_sampler_input_t charging;   /* battery status "Charging" */
    pr_sampler_input_t power_w;    /* battery power, W, < 0 discharging */
    pr_sampler_input_t temp;       /* hottest zone that is neither stale
                                      nor stuck, °C */
    pr_sampler_input_t temp_crit;  /* that zone's "critical" trip, °C */
    pr_sampler_input_t throttled;  /* get_throttled bits 0-3 non-zero */
    int has_battery, has_thermal, discharging;
    int hot_zone;                  /* index in the latest snapshot, or -1 */
} pr_sampler_inputs_t;

void pr_sampler_inputs(const pr_sampler_t *s, int64_t now_ns, pr_sampler_inputs_t *in);

typedef struct pr_sampler_stats {
    uint64_t reads;        /* pr_sensors_read calls, both threads */
    uint64_t read_errors;  /* ... that failed (root gone) */
    uint64_t delivered;    /* snapshots taken in by the loop thread */
    uint64_t overwritten;  /* worker snapshots replaced before the loop took them */
    int64_t max_read_ns;   /* slowest read */
    int last_error;        /* 0 or the last read's error */
} pr_sampler_stats_t;
void pr_sampler_stats(const pr_sampler_t *s, pr_sampler_stats_t *st);

#endif
