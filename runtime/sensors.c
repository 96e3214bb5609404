/* sensors.c - read power supplies, thermal zones, cpufreq policies and the
 * Raspberry Pi throttling flags from a sysfs tree into a caller-owned struct (see sensors.h for units and signs).
 *
 * Every attribute is one small file read with open/read/close into a bounded
 * stack buffer; anything that does not parse marks that one value absent. */
#include "sensors.h"

#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Big enough for any numeric attribute and the governor list. */
#define ATTR_BUF 256

/* ---------------------------------------------------------------- files */

/* Read the whole of path into buf (NUL-terminated, trailing whitespace
 * stripped).  Returns the length, or -1 if the file cannot be opened or
 * read, or does not fit in cap - 1 bytes. */
static int read_attr(const char *path, char *buf, size_t cap)
{
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        ssize_t r;
        if (n == cap - 1) {
            /* Full: anything more means the file is too long. */
            char c;
            do
                r = read(fd, &c, 1);
            while (r < 0 && errno == EINTR);
            if (r != 0) {
                close(fd);
                return -1;
            }
            break;
        }
        r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'
                     || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return (int)n;
}

/* dir/name into buf; 0, or -1 if it does not fit. */
static int join(char *buf, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* One decimal integer, optionally signed, nothing else: value * scale. */
static pr_sensors_val_t read_num(const char *dir, const char *name, double scale)
{
    pr_sensors_val_t v = { 0.0, 0 };
    char path[PATH_MAX], buf[ATTR_BUF], *end;
    long long x;

    if (join(path, sizeof path, dir, name) < 0 || read_attr(path, buf, sizeof buf) <= 0)
        return v;
    /* strtoll would skip leading blanks; the kernel never writes them. */
    if (!(buf[0] == '-' || buf[0] == '+' || (buf[0] >= '0' && buf[0] <= '9')))
        return v;
    errno = 0;
    x = strtoll(buf, &end, 10);
    if (errno != 0 || end == buf || *end != '\0')
        return v;
    v.value = (double)x * scale;
    v.present = 1;
    return v;
}

/* A string attribute into dst (cap bytes); "" when absent or too long. */
static void read_str(const char *dir, const char *name, char *dst, size_t cap)
{
    char path[PATH_MAX], buf[ATTR_BUF];
    int n;

    dst[0] = '\0';
    if (join(path, sizeof path, dir, name) < 0)
        return;
    n = read_attr(path, buf, sizeof buf);
    if (n <= 0 || (size_t)n >= cap)
        return;
    memcpy(dst, buf, (size_t)n + 1);
}

/* ------------------------------------------------------------ directories */

typedef char entry_name_t[PR_SENSORS_NAME_LEN];

/* Shorter names first, then bytewise: puts thermal_zone2 before
 * thermal_zone10 and keeps the order stable across reads. */
static int name_cmp(const void *a, const void *b)
{
    const char *x = a, *y = b;
    size_t lx = strlen(x), ly = strlen(y);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x, y);
}

/* Names in dir starting with prefix (any name but dot-files if prefix is
 * ""), sorted, at most max.  Sets *truncated when some were dropped; names
 * too long for an entry are skipped.  Returns the count (0 if no dir). */
static int list_dir(const char *dir, const char *prefix, entry_name_t *names, int max,
                    int *truncated)
{
    size_t plen = strlen(prefix);
    int n = 0;
    struct dirent *de;
    DIR *d = opendir(dir);

    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len >= PR_SENSORS_NAME_LEN)
            continue;
        if (strncmp(de->d_name, prefix, plen) != 0 || len == plen)
            continue;
        if (n == max) {
            /* Keep the smallest names so the choice does not depend on
             * readdir order: replace the largest if this one sorts first. */
            int big = 0;
            *truncated = 1;
            for (int i = 1; i < n; i++)
                if (name_cmp(names[i], names[big]) > 0)
                    big = i;
            if (name_cmp(de->d_name, names[big]) < 0)
                memcpy(names[big], de->d_name, len + 1);
            continue;
        }
        memcpy(names[n++], de->d_name, len + 1);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], name_cmp);
    return n;
}

/* ---------------------------------------------------------------- readers */

/* strlcpy: list_dir already bounds names, this keeps the bound local. */
static void copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void read_supply(const char *dir, const char *name, pr_sensors_supply_t *p,
                        int64_t now_ns)
{
    double sign = 0.0;   /* 0: keep the driver's sign */

    copy_name(p->name, sizeof p->name, name);
    read_str(dir, "type", p->type, sizeof p->type);
    read_str(dir, "scope", p->scope, sizeof p->scope);
    read_str(dir, "status", p->status, sizeof p->status);
    p->is_device = strcmp(p->scope, "Device") == 0;
    p->online = read_num(dir, "online", 1.0);
    p->capacity = read_num(dir, "capacity", 1.0);
    p->voltage = read_num(dir, "voltage_now", 1e-6);
    p->current = read_num(dir, "current_now", 1e-6);
    p->power = read_num(dir, "power_now", 1e-6);
    p->energy_now = read_num(dir, "energy_now", 1e-6);
    p->energy_full = read_num(dir, "energy_full", 1e-6);
    p->charge_now = read_num(dir, "charge_now", 1e-6);
    p->charge_full = read_num(dir, "charge_full", 1e-6);
    p->temp = read_num(dir, "temp", 0.1);
    p->time_ns = now_ns;

    /* Drivers disagree on the sign of current_now (and power_now); the
     * status is the reliable direction. */
    if (strcmp(p->status, "Discharging") == 0)
        sign = -1.0;
    else if (strcmp(p->status, "Charging") == 0)
        sign = 1.0;
    if (sign != 0.0) {
        if (p->current.present)
            p->current.value = sign * fabs(p->current.value);
        if (p->power.present)
            p->power.value = sign * fabs(p->power.value);
    }
    p->power_derived = 0;
    if (!p->power.present && p->voltage.present && p->current.present) {
        double w = fabs(p->voltage.value * p->current.value);
        if (sign == 0.0)
            sign = p->current.value < 0 ? -1.0 : 1.0;
        p->power.value = sign * w;
        p->power.present = 1;
        p->power_derived = 1;
    }
}

static void read_zone(const char *dir, const char *name, pr_sensors_zone_t *z, int64_t now_ns)
{
    copy_name(z->name, sizeof z->name, name);
    read_str(dir, "type", z->type, sizeof z->type);
    z->temp = read_num(dir, "temp", 1e-3);
    z->ntrips = 0;
    for (int i = 0; i < PR_SENSORS_MAX_TRIPS; i++) {
        pr_sensors_trip_t *t = &z->trips[i];
        char attr[48];
        snprintf(attr, sizeof attr, "trip_point_%d_type", i);
        read_str(dir, attr, t->type, sizeof t->type);
        snprintf(attr, sizeof attr, "trip_point_%d_temp", i);
        t->temp = read_num(dir, attr, 1e-3);
        snprintf(attr, sizeof attr, "trip_point_%d_hyst", i);
        t->hyst = read_num(dir, attr, 1e-3);
        if (t->type[0] == '\0' && !t->temp.present) {
            /* Could still exist yet be unreadable; only the numbering
             * matters here: stop at the first gap. */
            char path[PATH_MAX];
            struct stat st;
            snprintf(attr, sizeof attr, "trip_point_%d_temp", i);
            if (join(path, sizeof path, dir, attr) < 0 || stat(path, &st) < 0) {
                snprintf(attr, sizeof attr, "trip_point_%d_type", i);
                if (join(path, sizeof path, dir, attr) < 0 || stat(path, &st) < 0) {
                    memset(t, 0, sizeof *t);
                    break;
                }
            }
        }
        z->ntrips = i + 1;
    }
    z->time_ns = now_ns;
}

static void read_policy(const char *dir, const char *name, pr_sensors_policy_t *c,
                        int64_t now_ns)
{
    copy_name(c->name, sizeof c->name, name);
    read_str(dir, "scaling_governor", c->governor, sizeof c->governor);
    read_str(dir, "scaling_available_governors", c->available_governors,
             sizeof c->available_governors);
    c->scaling_min = read_num(dir, "scaling_min_freq", 1.0);
    c->scaling_max = read_num(dir, "scaling_max_freq", 1.0);
    c->scaling_cur = read_num(dir, "scaling_cur_freq", 1.0);
    c->cpuinfo_min = read_num(dir, "cpuinfo_min_freq", 1.0);
    c->cpuinfo_max = read_num(dir, "cpuinfo_max_freq", 1.0);
    c->time_ns = now_ns;
}

/* A get_throttled in some directory of dir whose name holds "firmware":
 * its path into path.  0, or -1 if none. */
static int find_firmware_attr(const char *dir, char *path, size_t cap)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int rc = -1;

    if (!d)
        return -1;
    while (rc < 0 && (de = readdir(d)) != NULL) {
        int n;
        if (de->d_name[0] == '.' || !strstr(de->d_name, "firmware"))
            continue;
        n = snprintf(path, cap, "%s/%s/get_throttled", dir, de->d_name);
        if (n > 0 && (size_t)n < cap && access(path, F_OK) == 0)
            rc = 0;
    }
    closedir(d);
    return rc;
}

/* Where the firmware node lives: the usual name first (one access), and
 * only when that fails ROOT/devices/platform/soc, then soc<anything>, for a
 * *firmware* directory, so a board without one pays one failed access and
 * one readdir of devices/platform. */
static void read_throttled(const char *root, pr_sensors_throttled_t *t, int64_t now_ns)
{
    char plat[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], buf[ATTR_BUF];
    entry_name_t socs[4];
    int nsocs, found, trunc = 0;

    snprintf(path, sizeof path, "%s/devices/platform/soc/soc:firmware/get_throttled", root);
    found = access(path, F_OK) == 0;
    snprintf(plat, sizeof plat, "%s/devices/platform", root);
    if (!found && join(dir, sizeof dir, plat, "soc") == 0)
        found = find_firmware_attr(dir, path, sizeof path) == 0;
    if (!found) {
        /* "soc@107c000000" and the like; list_dir skips plain "soc". */
        nsocs = list_dir(plat, "soc", socs, 4, &trunc);
        for (int i = 0; i < nsocs && !found; i++)
            if (join(dir, sizeof dir, plat, socs[i]) == 0)
                found = find_firmware_attr(dir, path, sizeof path) == 0;
    }
    /* Anything unreadable or malformed leaves it "not present". */
    if (!found || read_attr(path, buf, sizeof buf) <= 0
        || pr_sensors_throttled_parse(buf, t) < 0)
        memset(t, 0, sizeof *t);
    t->time_ns = now_ns;
}

/* ------------------------------------------------------------------- API */

int pr_sensors_throttled_parse(const char *text, pr_sensors_throttled_t *t)
{
    const char *p = text;
    char *end;
    unsigned long long x;
    size_t n;

    memset(t, 0, sizeof *t);
    if (!p)
        return PR_EINVAL;
    if (strncmp(p, "throttled=", 10) == 0)
        p += 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    /* Hex digits only (strtoull would take blanks, a sign, another "0x"). */
    n = strspn(p, "0123456789abcdefABCDEF");
    if (n == 0 || strspn(p + n, " \t\r\n") != strlen(p + n))
        return PR_EINVAL;
    errno = 0;
    x = strtoull(p, &end, 16);
    if (errno != 0 || end != p + n || x > 0xffffffffull)
        return PR_EINVAL;
    t->present = 1;
    t->raw = (uint32_t)x;
    t->under_voltage = (t->raw >> 0) & 1;
    t->freq_capped = (t->raw >> 1) & 1;
    t->throttled = (t->raw >> 2) & 1;
    t->soft_temp_limit = (t->raw >> 3) & 1;
    t->under_voltage_occurred = (t->raw >> 16) & 1;
    t->freq_capped_occurred = (t->raw >> 17) & 1;
    t->throttled_occurred = (t->raw >> 18) & 1;
    t->soft_temp_limit_occurred = (t->raw >> 19) & 1;
    return 0;
}

int pr_sensors_read(const char *root, pr_sensors_t *out, int64_t now_ns)
{
    char base[PATH_MAX], dir[PATH_MAX];
    entry_name_t names[PR_SENSORS_MAX_ZONES];
    struct stat st;
    int n;

    if (!out)
        return PR_EINVAL;
    memset(out, 0, sizeof *out);
    out->time_ns = now_ns;
    if (!root)
        return PR_EINVAL;
    /* Leave room for the longest suffix appended below. */
    if (strlen(root) + 64 >= sizeof base)
        return PR_EINVAL;
    if (stat(root, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;

    snprintf(base, sizeof base, "%s/class/power_supply", root);
    n = list_dir(base, "", names, PR_SENSORS_MAX_SUPPLIES, &out->truncated);
    for (int i = 0; i < n; i++)
        if (join(dir, sizeof dir, base, names[i]) == 0)
            read_supply(dir, names[i], &out->supplies[out->nsupplies++], now_ns);

    snprintf(base, sizeof base, "%s/class/thermal", root);
    n = list_dir(base, "thermal_zone", names, PR_SENSORS_MAX_ZONES, &out->truncated);
    for (int i = 0; i < n; i++)
        if (join(dir, sizeof dir, base, names[i]) == 0)
            read_zone(dir, names[i], &out->zones[out->nzones++], now_ns);

    snprintf(base, sizeof base, "%s/devices/system/cpu/cpufreq", root);
    n = list_dir(base, "policy", names, PR_SENSORS_MAX_POLICIES, &out->truncated);
    for (int i = 0; i < n; i++)
        if (join(dir, sizeof dir, base, names[i]) == 0)
            read_policy(dir, names[i], &out->policies[out->npolicies++], now_ns);

    read_throttled(root, &out->throttled, now_ns);
    return 0;
}

void pr_sensors_summary(const pr_sensors_t *s, pr_sensors_summary_t *sum)
{
    memset(sum, 0, sizeof *sum);
    sum->battery = -1;
    sum->time_ns = s->time_ns;
    for (int i = 0; i < s->nsupplies; i++) {
        const pr_sensors_supply_t *p = &s->supplies[i];
        if (p->is_device)
            continue;
        if (strcmp(p->type, "Mains") == 0 || strcmp(p->type, "USB") == 0) {
            sum->has_ac_supply = 1;
            if (p->online.present && p->online.value == 1.0)
                sum->on_ac = 1;
        } else if (strcmp(p->type, "Battery") == 0 && !sum->has_battery) {
            sum->has_battery = 1;
            sum->battery = i;
            sum->discharging = strcmp(p->status, "Discharging") == 0;
            sum->capacity = p->capacity;
        }
    }
    sum->has_thermal = s->nzones > 0;
    for (int i = 0; i < s->nzones; i++) {
        const pr_sensors_val_t *t = &s->zones[i].temp;
        if (t->present && (!sum->max_temp.present || t->value > sum->max_temp.value))
            sum->max_temp = *t;
    }
}
