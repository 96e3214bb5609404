/* sensors.h - power supplies, thermal zones and cpufreq policies from sysfs.
 *
 * pr_sensors_read() walks ROOT/class/power_supply/, ROOT/class/thermal/
 * thermal_zone*, ROOT/devices/system/cpu/cpufreq/policy* and the Raspberry
 * Pi firmware's get_throttled flags under a root the caller names ("/sys" on a board, a fake tree in tests) and fills a struct
 * the caller owns: fixed-size arrays, no allocation, nothing to free.
 *
 * Every reading is a pr_sensors_val_t: `present` is 0 when the file does not
 * exist, cannot be read, or holds anything but one decimal integer that fits
 * in 64 bits (empty, "abc", "99999999999999999999999", longer than the read
 * buffer); the value is then 0.  A missing file is never an error.  Strings
 * (type, status, governor, ...) are NUL-terminated and empty when absent.
 *
 * Units are converted from the kernel's to SI-ish ones on the way in:
 *   supply voltage_now    uV   -> V        current_now  uA  -> A
 *          power_now      uW   -> W        energy_*     uWh -> Wh
 *          charge_*       uAh  -> Ah       temp  tenths of C -> C
 *   thermal temp, trip_point_N_temp, trip_point_N_hyst  m°C -> °C
 *   cpufreq *_freq        kHz, kept as kHz
 *
 * Sign convention, whatever sign the driver uses: current and power are
 * negative while the supply's status is "Discharging" (energy leaves the
 * battery) and positive while "Charging"; for any other status they keep the
 * driver's sign.  Without a power_now file, power is derived as
 * |voltage * current| with that same sign, and `power_derived` says so. */
#ifndef PR_SENSORS_H
#define PR_SENSORS_H

#include <stdint.h>

#define PR_SENSORS_MAX_SUPPLIES 8
#define PR_SENSORS_MAX_ZONES    16
#define PR_SENSORS_MAX_TRIPS    16
#define PR_SENSORS_MAX_POLICIES 8
#define PR_SENSORS_NAME_LEN     32   /* names and short strings, with NUL */
#define PR_SENSORS_GOVS_LEN     160  /* scaling_available_governors, with NUL */

typedef struct pr_sensors_val {
    double value;    /* converted value; 0 when absent */
    int present;     /* 1 if the file existed and parsed */
} pr_sensors_val_t;

/* One entry of class/power_supply.  All fields ro. */
typedef struct pr_sensors_supply {
    char name[PR_SENSORS_NAME_LEN];    /* directory name, e.g. "BAT0", "AC" */
    char type[PR_SENSORS_NAME_LEN];    /* "Mains", "Battery", "USB", ... */
    char scope[PR_SENSORS_NAME_LEN];   /* "System", "Device", "Unknown" or "" */
    char status[PR_SENSORS_NAME_LEN];  /* "Charging", "Discharging", "Full",
                                          "Not charging", "Unknown" or "" */
    int is_device;        /* scope is "Device": a peripheral's own battery
                             (mouse, headset); callers should ignore it */
    pr_sensors_val_t online;       /* 0 or 1 */
    pr_sensors_val_t capacity;     /* percent */
    pr_sensors_val_t voltage;      /* V */
    pr_sensors_val_t current;      /* A, signed as above */
    pr_sensors_val_t power;        /* W, signed as above */
    int power_derived;             /* power computed from voltage * current */
    pr_sensors_val_t energy_now;   /* Wh */
    pr_sensors_val_t energy_full;  /* Wh */
    pr_sensors_val_t charge_now;   /* Ah */
    pr_sensors_val_t charge_full;  /* Ah */
    pr_sensors_val_t temp;         /* °C */
    int64_t time_ns;               /* `now_ns` of the read that filled it */
} pr_sensors_supply_t;

typedef struct pr_sensors_trip {
    char type[PR_SENSORS_NAME_LEN];  /* "passive", "active", "hot", "critical" */
    pr_sensors_val_t temp;           /* °C */
    pr_sensors_val_t hyst;           /* °C */
} pr_sensors_trip_t;

/* One class/thermal/thermal_zoneN.  All fields ro. */
typedef struct pr_sensors_zone {
    char name[PR_SENSORS_NAME_LEN];  /* "thermal_zone0" */
    char type[PR_SENSORS_NAME_LEN];  /* "cpu-thermal", "x86_pkg_temp", ... */
    pr_sensors_val_t temp;           /* °C */
    int ntrips;                      /* trip_point_0 .. ntrips-1: numbering
                                        stops at the first N with neither a
                                        _temp nor a _type file */
    pr_sensors_trip_t trips[PR_SENSORS_MAX_TRIPS];
    int64_t time_ns;
} pr_sensors_zone_t;

/* One devices/system/cpu/cpufreq/policyN.  All fields ro. */
typedef struct pr_sensors_policy {
    char name[PR_SENSORS_NAME_LEN];                  /* "policy0" */
    char governor[PR_SENSORS_NAME_LEN];              /* scaling_governor */
    char available_governors[PR_SENSORS_GOVS_LEN];   /* space-separated */
    pr_sensors_val_t scaling_min;   /* kHz */
    pr_sensors_val_t scaling_max;   /* kHz */
    pr_sensors_val_t scaling_cur;   /* kHz */
    pr_sensors_val_t cpuinfo_min;   /* kHz */
    pr_sensors_val_t cpuinfo_max;   /* kHz */
    int64_t time_ns;
} pr_sensors_policy_t;

/* Raspberry Pi firmware throttling flags: get_throttled in
 * ROOT/devices/platform/soc/soc:firmware/, else in any directory whose name
 * holds "firmware" under a ROOT/devices/platform/soc* directory (device-tree
 * names differ between models).  The kernel writes the word with "%x", so
 * bare digits are hex (50005, not fifty thousand and five); a "0x" prefix
 * and vcgencmd's "throttled=0x50005" form are accepted too.  present == 0
 * says "no firmware node" (not a Pi) or a file that did not parse; every
 * flag is then 0.  All fields ro. */
typedef struct pr_sensors_throttled {
    int present;
    uint32_t raw;               /* the whole word */
    /* bits 0-3: now */
    int under_voltage;          /* bit 0: supply below ~4.63 V */
    int freq_capped;            /* bit 1: ARM frequency capped */
    int throttled;              /* bit 2: currently throttled */
    int soft_temp_limit;        /* bit 3: soft temperature limit active */
    /* bits 16-19: has happened since boot */
    int under_voltage_occurred;
    int freq_capped_occurred;
    int throttled_occurred;
    int soft_temp_limit_occurred;
    int64_t time_ns;
} pr_sensors_throttled_t;

#define PR_SENSORS_THROTTLED_NOW   0x0000fu  /* bits 0-3 */
#define PR_SENSORS_THROTTLED_BOOT  0xf0000u  /* bits 16-19 */

/* Everything one pr_sensors_read() saw.  Entries are sorted by name (zones
 * and policies by their number).  When a directory holds more entries than
 * the array, the extra ones are dropped and `truncated` is set. */
typedef struct pr_sensors {
    int64_t time_ns;   /* now_ns passed to pr_sensors_read */
    int nsupplies, nzones, npolicies;
    int truncated;
    pr_sensors_supply_t supplies[PR_SENSORS_MAX_SUPPLIES];
    pr_sensors_zone_t zones[PR_SENSORS_MAX_ZONES];
    pr_sensors_policy_t policies[PR_SENSORS_MAX_POLICIES];
    pr_sensors_throttled_t throttled;
} pr_sensors_t;

/* What a power policy usually wants, said explicitly.  Supplies with
 * is_device set are ignored throughout. */
typedef struct pr_sensors_summary {
    int has_ac_supply;   /* some Mains or USB supply exists */
    int on_ac;           /* some Mains or USB supply has online == 1 */
    int has_battery;     /* some Battery supply exists; 0 = "no battery" */
    int battery;         /* index into supplies[] of the first one, or -1 */
    int discharging;     /* that battery's status is "Discharging" */
    pr_sensors_val_t capacity;  /* that battery's capacity, percent */
    int has_thermal;     /* nzones > 0; 0 = "no thermal zone" */
    pr_sensors_val_t max_temp;  /* hottest zone, °C; absent with no reading */
    int64_t time_ns;
} pr_sensors_summary_t;

/* Read every sensor under root (e.g. "/sys") into *out, stamping each
 * reading with now_ns (any clock the caller uses for staleness).  *out is
 * overwritten entirely.  A root without some or all of the three directories
 * is fine: the counts are 0.  Returns 0; PR_EINVAL if root or out is NULL or
 * root is too long; a negated errno (-ENOENT, -ENOTDIR) if root itself is not
 * a readable directory, with *out then holding empty counts. */
int pr_sensors_read(const char *root, pr_sensors_t *out, int64_t now_ns);

/* Parse a get_throttled text (hex as the kernel writes it, optional "0x",
 * optional "throttled=" prefix, trailing blanks ignored) and decode it into
 * *t (present = 1).  Returns 0, or PR_EINVAL for anything else (empty,
 * non-hex, more than 32 bits), with *t then all zero (present = 0). */
int pr_sensors_throttled_parse(const char *text, pr_sensors_throttled_t *t);

/* Summarise s into *sum (see pr_sensors_summary_t).  Never fails. */
void pr_sensors_summary(const pr_sensors_t *s, pr_sensors_summary_t *sum);

#endif
