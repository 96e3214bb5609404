/* safety.h - the thermal safety floor: a C limit no script can lift.
 *
 * Fed sensor snapshots (pr_safety_on_sample, the single entry point: a
 * periodic timer now, the sensor sampler's hook later), it watches every
 * thermal zone against its critical temperature: opts.crit_c when set, else
 * the zone's own "critical" trip point, else 85 °C.  When any zone reaches
 * its critical temperature the floor engages: it sets the actuators' floor
 * (effective fps at most opts.min_fps, every cpufreq policy capped at its
 * cpuinfo_min_freq), whatever the Lua policies request.  It is released only
 * once every zone is below its critical temperature minus opts.release_c, so
 * a temperature hovering around the limit does not flap.  Engaging is logged
 * as a warning and releasing at info, each with the temperature.
 *
 * Missing data never engages the floor: with no thermal zone, or zones
 * without a readable temperature, the floor stays as it was (released, or
 * engaged until a reading shows the zone has cooled) and the log says so
 * once, until readings come back.
 *
 * The zone reported (temp, crit, zone) is the one closest to or furthest
 * past its critical temperature; with one zone, or equal trip points, that
 * is the hottest zone.  Not thread-safe: the loop thread calls everything. */
#ifndef PR_SAFETY_H
#define PR_SAFETY_H

#include <stdint.h>

#include "actuators.h"
#include "sensors.h"

#define PR_SAFETY_DEFAULT_CRIT_C    85.0
#define PR_SAFETY_DEFAULT_RELEASE_C 5.0
#define PR_SAFETY_DEFAULT_MIN_FPS   1.0

typedef struct pr_safety_opts {
    double crit_c;      /* °C for every zone; NAN: each zone's critical trip,
                           else PR_SAFETY_DEFAULT_CRIT_C */
    double release_c;   /* hysteresis, °C >= 0 */
    double min_fps;     /* effective fps while engaged, 0..PR_ACT_FPS_MAX */
} pr_safety_opts_t;

typedef struct pr_safety_state {
    int engaged;
    int known;              /* the last sample had a temperature reading */
    double temp_c;          /* that zone's temperature; NAN if unknown */
    double crit_c;          /* its critical temperature; NAN if unknown */
    double release_c;       /* released below crit_c - release_c */
    char zone[PR_SENSORS_NAME_LEN];   /* "thermal_zone0"; "" if unknown */
    int64_t since_ns;       /* when it last engaged (0: never) */
    int64_t released_ns;    /* when it last released (0: never) */
    uint64_t engagements;   /* times it engaged */
    uint64_t samples;       /* snapshots seen */
} pr_safety_state_t;

typedef struct pr_safety pr_safety_t;

void pr_safety_opts_default(pr_safety_opts_t *o);

/* act is borrowed (must outlive the floor) and may be NULL (the state
 * machine alone, for tests and simulation).  Returns 0, PR_EINVAL for bad
 * options (crit_c not NAN and outside 0..200, release_c outside 0..100,
 * min_fps outside 0..PR_ACT_FPS_MAX) or PR_ENOMEM. */
int pr_safety_create(pr_safety_t **out, pr_actuators_t *act, const pr_safety_opts_t *o);
/* Leaves the actuators' floor as it is.  Safe with NULL. */
void pr_safety_destroy(pr_safety_t *s);

/* Judge one snapshot taken at now_ns (any monotonic clock; perch uses
 * pr_time_ns()).  snap may be NULL when reading failed: treated as "no
 * reading".  While engaged, re-applies the floor to the actuators on every
 * call, so failed writes are retried. */
void pr_safety_on_sample(pr_safety_t *s, const pr_sensors_t *snap, int64_t now_ns);

void pr_safety_state(const pr_safety_t *s, pr_safety_state_t *out);

#endif
