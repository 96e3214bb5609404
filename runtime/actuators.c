/* actuators.c - requested and effective actuator values, the safety floor
 * between them, and the cpufreq writes that apply them (see actuators.h). */
#include "actuators.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CPUFREQ "devices/system/cpu/cpufreq"

/* One cpufreq policy: what the hardware allows, what it had at creation,
 * and what is in effect now (the value last written, attempted or read). */
typedef struct cpu_pol {
    char name[PR_SENSORS_NAME_LEN];
    pr_sensors_val_t min, max;             /* cpuinfo_*_freq, kHz */
    pr_sensors_val_t base_max;             /* scaling_max_freq at creation */
    char base_gov[PR_SENSORS_NAME_LEN];    /* scaling_governor at creation */
    char avail[PR_SENSORS_GOVS_LEN];       /* scaling_available_governors */
    long long max_cur;                     /* kHz in effect */
    int max_have, max_bad;                 /* known; its last write failed */
    char gov_cur[PR_SENSORS_NAME_LEN];     /* governor in effect ("" unknown) */
    int gov_bad;
} cpu_pol_t;

typedef struct act {
    pr_act_value_t req, eff;
    int clamped;
    int dry;               /* writes only logged: dry-run or no permission */
    uint64_t changes, writes, dry_writes, failures;
    char last_error[256];
} act_t;

struct pr_actuators {
    char root[PATH_MAX - 128];   /* room for CPUFREQ/policyN/attribute */
    int dry_run;
    int npol;
    cpu_pol_t pol[PR_SENSORS_MAX_POLICIES];
    double cpu_lo, cpu_hi;       /* over all policies; NAN if unknown */
    char govs[PR_SENSORS_GOVS_LEN];  /* governors every policy offers */
    int floor_on;
    pr_act_floor_t floor;
    act_t a[PR_ACT_COUNT];
};

static const struct {
    const char *name;
    int type;
} act_info[PR_ACT_COUNT] = {
    [PR_ACT_FPS] = { "fps", PR_ACT_NUMBER },
    [PR_ACT_JPEG_QUALITY] = { "jpeg_quality", PR_ACT_NUMBER },
    [PR_ACT_CPU_MAX_KHZ] = { "cpu_max_khz", PR_ACT_NUMBER },
    [PR_ACT_CPU_GOVERNOR] = { "cpu_governor", PR_ACT_STRING },
    [PR_ACT_UPSTREAM_ALLOWED] = { "upstream_allowed", PR_ACT_BOOLEAN },
};

int pr_actuators_id(const char *name)
{
    for (int i = 0; i < PR_ACT_COUNT; i++)
        if (name && strcmp(name, act_info[i].name) == 0)
            return i;
    return -1;
}

const char *pr_actuators_name(int id)
{
    return id >= 0 && id < PR_ACT_COUNT ? act_info[id].name : NULL;
}

int pr_actuators_type(int id)
{
    return id >= 0 && id < PR_ACT_COUNT ? act_info[id].type : -1;
}

/* ---------------------------------------------------------------- words */

/* Is word one of the space-separated words of list? */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; *p; ) {
        size_t len;
        while (*p == ' ')
            p++;
        len = strcspn(p, " ");
        if (len == n && len > 0 && memcmp(p, word, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* The governors of the first policy that has a list, kept if every other
 * policy with a list offers them too. */
static void common_governors(pr_actuators_t *a)
{
    const char *first = NULL;
    size_t n = 0;

    a->govs[0] = '\0';
    for (int i = 0; i < a->npol && !first; i++)
        if (a->pol[i].avail[0])
            first = a->pol[i].avail;
    for (const char *p = first; p && *p; ) {
        char word[PR_SENSORS_NAME_LEN];
        size_t len;
        int everywhere = 1;
        while (*p == ' ')
            p++;
        len = strcspn(p, " ");
        if (len == 0 || len >= sizeof word) {
            p += len;
            continue;
        }
        memcpy(word, p, len);
        word[len] = '\0';
        p += len;
        for (int i = 0; i < a->npol; i++)
            if (a->pol[i].avail[0] && !has_word(a->pol[i].avail, word))
                everywhere = 0;
        if (everywhere && n + len + 2 <= sizeof a->govs) {
            if (n)
                a->govs[n++] = ' ';
            memcpy(a->govs + n, word, len + 1);
            n += len;
        }
    }
}

/* ----------------------------------------------------------------- create */

int pr_actuators_create(pr_actuators_t **out, const pr_actuators_opts_t *opts)
{
    const char *root = opts && opts->root ? opts->root : "/sys";
    pr_actuators_t *a;
    pr_sensors_t *s;

    if (!out || !opts)
        return PR_EINVAL;
    *out = NULL;
    a = calloc(1, sizeof *a);
    s = malloc(sizeof *s);
    if (!a || !s) {
        free(a);
        free(s);
        return PR_ENOMEM;
    }
    if (strlen(root) >= sizeof a->root) {
        free(a);
        free(s);
        return PR_EINVAL;
    }
    strcpy(a->root, root);
    a->dry_run = opts->dry_run ? 1 : 0;
    a->cpu_lo = a->cpu_hi = NAN;

    /* A missing root reads as no policies: dry-run CPU actuators. */
    pr_sensors_read(root, s, 0);
    a->npol = s->npolicies;
    for (int i = 0; i < a->npol; i++) {
        const pr_sensors_policy_t *sp = &s->policies[i];
        cpu_pol_t *p = &a->pol[i];
        memcpy(p->name, sp->name, sizeof p->name);
        p->min = sp->cpuinfo_min;
        p->max = sp->cpuinfo_max;
        if (p->min.present && p->max.present && p->min.value > p->max.value)
            p->min.present = p->max.present = 0;   /* nonsense: ignore both */
        p->base_max = sp->scaling_max;
        p->max_cur = (long long)sp->scaling_max.value;
        p->max_have = sp->scaling_max.present;
        memcpy(p->base_gov, sp->governor, sizeof p->base_gov);
        memcpy(p->gov_cur, sp->governor, sizeof p->gov_cur);
        memcpy(p->avail, sp->available_governors, sizeof p->avail);
        if (p->min.present && !(a->cpu_lo <= p->min.value))
            a->cpu_lo = p->min.value;
        if (p->max.present && !(a->cpu_hi >= p->max.value))
            a->cpu_hi = p->max.value;
        if (!p->min.present)
            pr_log_warn("cpufreq %s has no cpuinfo_min_freq: the safety floor cannot cap it",
                        p->name);
    }
    common_governors(a);
    free(s);
    for (int i = 0; i < PR_ACT_COUNT; i++)
        a->a[i].dry = a->dry_run;
    if (a->npol == 0) {
        a->a[PR_ACT_CPU_MAX_KHZ].dry = a->a[PR_ACT_CPU_GOVERNOR].dry = 1;
        pr_log_debug("no cpufreq policy under %s/" CPUFREQ ": cpu_max_khz and "
                     "cpu_governor are dry-run", a->root);
    }
    *out = a;
    return 0;
}

void pr_actuators_destroy(pr_actuators_t *a)
{
    free(a);
}

int pr_actuators_dry_run(const pr_actuators_t *a) { return a->dry_run; }
int pr_actuators_npolicies(const pr_actuators_t *a) { return a->npol; }

/* ------------------------------------------------------------------ check */

static void range_of(const pr_actuators_t *a, int id, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (id == PR_ACT_FPS) {
        *lo = 0;
        *hi = PR_ACT_FPS_MAX;
    } else if (id == PR_ACT_JPEG_QUALITY) {
        *lo = 1;
        *hi = 100;
    } else if (id == PR_ACT_CPU_MAX_KHZ) {
        *lo = a->cpu_lo;
        *hi = a->cpu_hi;
    }
}

int pr_actuators_check(const pr_actuators_t *a, int id, const pr_act_value_t *v,
                       char *err, size_t errlen)
{
    char dummy[8];
    const char *name = pr_actuators_name(id);

    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (errlen)
        err[0] = '\0';
    if (!a || !name || !v || !v->set) {
        snprintf(err, errlen, "bad actuator or value");
        return PR_EINVAL;
    }
    if (act_info[id].type == PR_ACT_NUMBER) {
        double lo, hi;
        range_of(a, id, &lo, &hi);
        if (!isfinite(v->num)) {
            snprintf(err, errlen, "%s must be a finite number, got %g", name, v->num);
            return -ERANGE;
        }
        if (id == PR_ACT_CPU_MAX_KHZ && !(v->num > 0 && v->num <= 1e9)) {
            /* Bounded even without cpufreq, so it stays a whole kHz count. */
            snprintf(err, errlen, "%s must be > 0 and <= 1e9 kHz, got %g", name, v->num);
            return -ERANGE;
        }
        if (id == PR_ACT_CPU_MAX_KHZ && ((!isnan(lo) && v->num < lo) ||
                                         (!isnan(hi) && v->num > hi))) {
            char lo_s[24] = "?", hi_s[24] = "?";
            if (!isnan(lo))
                snprintf(lo_s, sizeof lo_s, "%.0f", lo);
            if (!isnan(hi))
                snprintf(hi_s, sizeof hi_s, "%.0f", hi);
            snprintf(err, errlen, "%s %.0f kHz is outside %s..%s kHz "
                     "(cpuinfo_min_freq..cpuinfo_max_freq)", name, v->num, lo_s, hi_s);
            return -ERANGE;
        }
        if (id != PR_ACT_CPU_MAX_KHZ && (v->num < lo || v->num > hi)) {
            snprintf(err, errlen, "%s %g is outside %g..%g", name, v->num, lo, hi);
            return -ERANGE;
        }
    } else if (id == PR_ACT_CPU_GOVERNOR) {
        size_t n = strnlen(v->str, sizeof v->str);
        if (n == 0 || n == sizeof v->str || strpbrk(v->str, " \t\n/")) {
            snprintf(err, errlen, "%s '%.*s' is not a governor name", name,
                     (int)(n < 40 ? n : 40), v->str);
            return -EINVAL;
        }
        for (int i = 0; i < a->npol; i++) {
            const cpu_pol_t *p = &a->pol[i];
            if (p->avail[0] && !has_word(p->avail, v->str)) {
                snprintf(err, errlen, "%s '%s' is not available on %s (%s)", name, v->str,
                         p->name, a->govs[0] ? a->govs : p->avail);
                return -EINVAL;
            }
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- writes */

static int is_permanent(int e)
{
    return e == EACCES || e == EPERM || e == EROFS || e == EISDIR;
}

/* Write text to path whole.  0 or -errno. */
static int write_attr(const char *path, const char *text)
{
    size_t len = strlen(text), off = 0;
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            close(fd);
            return -e;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 && errno != EINTR)
        return -errno;
    return 0;
}

/* Apply one attribute of one policy for actuator id: write, or log what
 * would be written.  Returns 0 (written, or dry-run, including the switch
 * to dry-run on a permission error) or the negated errno of a failure. */
static int put(pr_actuators_t *a, int id, const cpu_pol_t *p, const char *attr,
               const char *text)
{
    act_t *x = &a->a[id];
    char path[PATH_MAX], msg[sizeof x->last_error];
    int rc;

    snprintf(path, sizeof path, "%s/" CPUFREQ "/%s/%s", a->root, p->name, attr);
    if (x->dry) {
        x->dry_writes++;
        pr_log_info("%s (dry-run): would write %s to %s", act_info[id].name, text, path);
        return 0;
    }
    rc = write_attr(path, text);
    if (rc == 0) {
        x->writes++;
        pr_log_debug("%s: wrote %s to %s", act_info[id].name, text, path);
        return 0;
    }
    x->failures++;
    /* A long root may cut the message short: it is for people, not code. */
    if (snprintf(msg, sizeof msg, "cannot write %s to %s: %s", text, path,
                 strerror(-rc)) >= (int)sizeof msg)
        msg[sizeof msg - 2] = '~';
    if (is_permanent(-rc)) {
        x->dry = 1;
        x->dry_writes++;
        pr_log_warn("%s: %s; reporting dry-run from now on", act_info[id].name, msg);
        memcpy(x->last_error, msg, sizeof msg);
        return 0;
    }
    if (strcmp(msg, x->last_error) != 0)   /* a failure streak is logged once */
        pr_log_warn("%s: %s", act_info[id].name, msg);
    memcpy(x->last_error, msg, sizeof msg);
    return rc;
}

/* ----------------------------------------------------------------- settle */

static double clampd(double v, pr_sensors_val_t lo, pr_sensors_val_t hi)
{
    if (lo.present && v < lo.value)
        v = lo.value;
    if (hi.present && v > hi.value)
        v = hi.value;
    return v;
}

/* The scaling_max_freq policy p should have; 0 if nothing to assert. */
static int target_max(const pr_actuators_t *a, const cpu_pol_t *p, int floored,
                      long long *want)
{
    const pr_act_value_t *req = &a->a[PR_ACT_CPU_MAX_KHZ].req;
    if (floored && a->floor_on && p->min.present) {
        *want = llround(p->min.value);
        return 1;
    }
    if (req->set) {
        *want = llround(clampd(req->num, p->min, p->max));
        return 1;
    }
    if (p->base_max.present) {
        *want = llround(p->base_max.value);
        return 1;
    }
    return 0;
}

static int same_value(const pr_act_value_t *x, const pr_act_value_t *y)
{
    return x->set == y->set && (!x->set || (x->num == y->num && !strcmp(x->str, y->str)));
}

/* Effective values from requests and the floor. */
static void settle(pr_actuators_t *a)
{
    for (int id = 0; id < PR_ACT_COUNT; id++) {
        act_t *x = &a->a[id];
        pr_act_value_t e = x->req;
        int clamped = 0;

        if (id == PR_ACT_FPS && a->floor_on && (!e.set || e.num > a->floor.max_fps)) {
            e.set = 1;
            e.num = a->floor.max_fps;
            clamped = 1;
        } else if (id == PR_ACT_CPU_MAX_KHZ && a->npol > 0 && (a->floor_on || e.set)) {
            /* Reported as the highest cap of any policy: no CPU runs
             * faster than this. */
            double hi = -1;
            for (int i = 0; i < a->npol; i++) {
                long long w, u;
                int hasw = target_max(a, &a->pol[i], 1, &w);
                int hasu = e.set && target_max(a, &a->pol[i], 0, &u);
                if (hasw && (double)w > hi)
                    hi = (double)w;
                if (a->floor_on && hasw && (!hasu || w < u))
                    clamped = 1;
            }
            e.set = hi >= 0;
            e.num = e.set ? hi : 0;
        }
        if (!same_value(&e, &x->eff))
            x->changes++;
        x->eff = e;
        x->clamped = clamped;
    }
}

/* Bring every policy's attribute of actuator id to its target.  retry:
 * also rewrite values whose last write failed. */
static int apply(pr_actuators_t *a, int id, int retry)
{
    int first = 0;

    for (int i = 0; i < a->npol; i++) {
        cpu_pol_t *p = &a->pol[i];
        char text[40];
        int rc;

        if (id == PR_ACT_CPU_MAX_KHZ) {
            long long want;
            if (!target_max(a, p, 1, &want))
                continue;
            if (p->max_have && p->max_cur == want && !(p->max_bad && retry))
                continue;
            snprintf(text, sizeof text, "%lld", want);
            rc = put(a, id, p, "scaling_max_freq", text);
            p->max_cur = want;
            p->max_have = 1;
            p->max_bad = rc < 0;
        } else if (id == PR_ACT_CPU_GOVERNOR) {
            const char *want = a->a[id].req.set ? a->a[id].req.str : p->base_gov;
            if (!want[0] || (!strcmp(p->gov_cur, want) && !(p->gov_bad && retry)))
                continue;
            rc = put(a, id, p, "scaling_governor", want);
            snprintf(p->gov_cur, sizeof p->gov_cur, "%s", want);
            p->gov_bad = rc < 0;
        } else {
            return 0;
        }
        if (rc < 0 && !first)
            first = rc;
    }
    return first;
}

/* -------------------------------------------------------------------- API */

int pr_actuators_request(pr_actuators_t *a, int id, const pr_act_value_t *v,
                         char *err, size_t errlen)
{
    pr_act_value_t r;
    int rc = pr_actuators_check(a, id, v, err, errlen);

    if (rc < 0)
        return rc;
    r = *v;
    if (act_info[id].type == PR_ACT_STRING)
        r.num = 0;
    else
        r.str[0] = '\0';
    if (id == PR_ACT_JPEG_QUALITY || id == PR_ACT_CPU_MAX_KHZ)
        r.num = (double)llround(r.num);
    else if (id == PR_ACT_UPSTREAM_ALLOWED)
        r.num = r.num != 0;
    if (a->npol == 0 && (id == PR_ACT_CPU_MAX_KHZ || id == PR_ACT_CPU_GOVERNOR) &&
        !a->a[id].req.set && !a->dry_run)
        pr_log_info("%s: no cpufreq policy under %s/" CPUFREQ ": not applied (dry-run)",
                    act_info[id].name, a->root);
    a->a[id].req = r;
    settle(a);
    rc = apply(a, id, 0);
    if (rc < 0 && err && errlen)
        snprintf(err, errlen, "%s: %s", act_info[id].name, a->a[id].last_error);
    return rc;
}

int pr_actuators_set_floor(pr_actuators_t *a, const pr_act_floor_t *floor)
{
    int rc, rc2;

    a->floor_on = floor != NULL;
    if (floor)
        a->floor = *floor;
    settle(a);
    rc = apply(a, PR_ACT_CPU_MAX_KHZ, 1);
    rc2 = apply(a, PR_ACT_CPU_GOVERNOR, 1);
    return rc < 0 ? rc : rc2;
}

void pr_actuators_state(const pr_actuators_t *a, int id, pr_act_state_t *out)
{
    const act_t *x;

    memset(out, 0, sizeof *out);
    if (!pr_actuators_name(id))
        return;
    x = &a->a[id];
    out->name = act_info[id].name;
    out->type = act_info[id].type;
    out->requested = x->req;
    out->effective = x->eff;
    out->clamped = x->clamped;
    out->dry_run = x->dry;
    range_of(a, id, &out->lo, &out->hi);
    out->choices = id == PR_ACT_CPU_GOVERNOR ? a->govs : "";
    out->changes = x->changes;
    out->writes = x->writes;
    out->dry_writes = x->dry_writes;
    out->failures = x->failures;
    memcpy(out->last_error, x->last_error, sizeof out->last_error);
}
