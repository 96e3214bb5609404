/* actuators.h - what perch controls on the device: what the Lua policies
 * asked for, what the safety floor lets through, and the cpufreq writes.
 *
 * Five actuators, named as in policy decisions:
 *   fps               number 0..1000 frames/s (0: paused)        in-process
 *   jpeg_quality      number 1..100, rounded to a whole number    in-process
 *   cpu_max_khz       kHz -> scaling_max_freq of every cpufreq policy
 *   cpu_governor      name -> scaling_governor of every cpufreq policy
 *   upstream_allowed  boolean                                     in-process
 * In-process actuators have nothing to write: the app reads the effective
 * value and acts on it.
 *
 * Each actuator holds a requested value (the last one policies asked for;
 * unset until they ask) and an effective value: the request after the
 * safety floor (pr_actuators_set_floor).  While a floor is set, effective
 * fps is at most floor.max_fps (min_fps when nothing was requested) and
 * every cpufreq policy is capped at its cpuinfo_min_freq.  When it is lifted
 * the last requests come back; a policy nobody asked a frequency for gets
 * back the scaling_max_freq it had when the actuators were created.
 *
 * Writes go to ROOT/devices/system/cpu/cpufreq/policy<N>/scaling_max_freq
 * and scaling_governor.  A value already in effect is not written again:
 * each policy remembers the value last written (or read at creation), so
 * requests repeated every tick cost no syscall.  A write refused for lack of
 * permission (EACCES, EPERM, EROFS; also EISDIR, an attribute that is not a
 * file) is logged once and that actuator reports dry-run from then on.  Any
 * other failure is logged (once per distinct error), counted, and retried
 * when the value changes or the floor is re-applied.  With opts.dry_run
 * nothing is written: each write that would happen is logged (info) and
 * counted instead.  Without any cpufreq policy the two CPU actuators are
 * dry-run from the start.
 *
 * Not thread-safe: one owner (the loop thread) calls everything. */
#ifndef PR_ACTUATORS_H
#define PR_ACTUATORS_H

#include <stddef.h>
#include <stdint.h>

#include "sensors.h"

typedef enum pr_act_id {
    PR_ACT_FPS,
    PR_ACT_JPEG_QUALITY,
    PR_ACT_CPU_MAX_KHZ,
    PR_ACT_CPU_GOVERNOR,
    PR_ACT_UPSTREAM_ALLOWED,
    PR_ACT_COUNT
} pr_act_id_t;

/* The type of an actuator's value. */
enum { PR_ACT_NUMBER, PR_ACT_BOOLEAN, PR_ACT_STRING };

#define PR_ACT_FPS_MAX 1000.0

typedef struct pr_act_value {
    int set;                        /* 0: no value */
    double num;                     /* numbers; booleans as 0 / 1 */
    char str[PR_SENSORS_NAME_LEN];  /* cpu_governor */
} pr_act_value_t;

typedef struct pr_act_state {
    const char *name;               /* "fps", ... (static) */
    int type;                       /* PR_ACT_NUMBER, ... */
    pr_act_value_t requested, effective;
    int clamped;                    /* the safety floor lowered the request */
    int dry_run;                    /* mode: 1 "dry-run" (nothing written) */
    double lo, hi;                  /* numbers: allowed range; NAN if unknown */
    const char *choices;            /* cpu_governor: governors every policy
                                       offers, space-separated ("" unknown) */
    uint64_t changes;               /* times the effective value changed */
    uint64_t writes;                /* sysfs writes done */
    uint64_t dry_writes;            /* sysfs writes only logged (dry-run) */
    uint64_t failures;              /* sysfs writes that failed */
    char last_error[256];           /* "" if none */
} pr_act_state_t;

typedef struct pr_actuators_opts {
    const char *root;   /* sysfs root, copied; NULL: "/sys" */
    int dry_run;        /* write nothing, log what would be written */
} pr_actuators_opts_t;

/* The safety floor's limits (see pr_actuators_set_floor). */
typedef struct pr_act_floor {
    double max_fps;     /* effective fps is at most this */
} pr_act_floor_t;

typedef struct pr_actuators pr_actuators_t;

/* Read the cpufreq policies under opts->root (their ranges, governors and
 * current scaling_max_freq / scaling_governor) and start with nothing
 * requested, no floor.  A root without cpufreq is fine.  Returns 0,
 * PR_EINVAL (NULL arguments, root too long) or PR_ENOMEM. */
int pr_actuators_create(pr_actuators_t **out, const pr_actuators_opts_t *opts);
/* Writes nothing back.  Safe with NULL. */
void pr_actuators_destroy(pr_actuators_t *a);

/* "fps" -> PR_ACT_FPS, ...; -1 for an unknown name. */
int pr_actuators_id(const char *name);
/* PR_ACT_FPS -> "fps"; NULL out of range. */
const char *pr_actuators_name(int id);
/* PR_ACT_NUMBER, PR_ACT_BOOLEAN or PR_ACT_STRING; -1 out of range. */
int pr_actuators_type(int id);

/* Check v (v->set must be 1) for actuator id against its range and the
 * hardware without changing anything.  Returns 0; -ERANGE for a number
 * outside the allowed range (cpu_max_khz: cpuinfo_min_freq..cpuinfo_max_freq
 * over all policies; a policy with a narrower range gets the value clamped
 * to its own); -EINVAL for a malformed or unavailable governor; PR_EINVAL
 * for a bad id.  err (may be NULL) gets a message naming the actuator, the
 * value and what is allowed. */
int pr_actuators_check(const pr_actuators_t *a, int id, const pr_act_value_t *v,
                       char *err, size_t errlen);

/* Record a request (checked as above; a refused one changes nothing),
 * settle the effective value and write it if it changed.  Returns 0 (also
 * when the write went dry-run), the check's error, or the negated errno of
 * a failed write (the request is kept; err says which file). */
int pr_actuators_request(pr_actuators_t *a, int id, const pr_act_value_t *v,
                         char *err, size_t errlen);

/* Set the safety floor (floor != NULL) or lift it (NULL), settle every
 * effective value and write what changed; failed writes are retried on each
 * call, so calling this on every safety sample keeps trying.  Returns 0 or
 * the negated errno of the first failed write (logged). */
int pr_actuators_set_floor(pr_actuators_t *a, const pr_act_floor_t *floor);

/* Copy actuator id's state into *out (zeroed if id is out of range). */
void pr_actuators_state(const pr_actuators_t *a, int id, pr_act_state_t *out);

/* 1 if opts.dry_run was set. */
int pr_actuators_dry_run(const pr_actuators_t *a);
/* Number of cpufreq policies found at creation. */
int pr_actuators_npolicies(const pr_actuators_t *a);

#endif
