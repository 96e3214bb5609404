/* sampler.c - a worker thread reads the sensors every period; the loop
 * thread takes the snapshots in and judges every reading's age (see
 * sampler.h).
 *
 * Hand-over is triple buffering: the worker fills `back`, then under the
 * mutex swaps it with `mid` and sets `fresh`; the loop thread's async
 * callback swaps `mid` with `front`.  No snapshot is copied, neither side
 * waits for the other longer than a pointer swap, and a slow loop only
 * means the worker's older snapshot is replaced (counted as overwritten).
 * pr_sampler_poll() does the same swap on demand, so a script reading the
 * sensors before the loop runs still gets the newest snapshot.  `scratch`
 * is the loop thread's own buffer for pr_sampler_sample_now(). */
#include "sampler.h"
#include "config.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Every reading one snapshot can hold, plus room for entries that come and
 * go (a USB supply plugged in under a new name). */
#define MAX_TRACKS (4 * PR_SENSORS_MAX_SUPPLIES + PR_SENSORS_MAX_ZONES + \
                    PR_SENSORS_MAX_POLICIES + 1 + 16)

#define DEFAULT_STALE_S 5.0
#define DEFAULT_STUCK_S 300.0

typedef struct track {
    unsigned char used, kind;
    unsigned char current;    /* parsed in the latest snapshot */
    unsigned char eligible;   /* may be stuck (see sampler.h) */
    char name[PR_SENSORS_NAME_LEN];
    double value;             /* last good value */
    int64_t read_ns, changed_ns;
} track_t;

struct sub {
    pr_sampler_cb cb;
    void *ud;
};

struct pr_sampler {
    pr_sampler_opts_t opts;
    char root[PR_SAMPLER_ROOT_MAX];
    int64_t period_ns, stale_ns, stuck_ns;
    int64_t first_due_ns;         /* set before the worker starts */
    pr_loop_t *loop;
    pr_async_t async;

    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;            /* wakes the worker early to quit */
    /* under mu: */
    int quit, fresh;
    pr_sensors_t *mid;
    uint64_t reads, read_errors, overwritten;
    int64_t max_read_ns;
    int last_error;
    /* worker only: */
    pr_sensors_t *back;
    /* loop thread only: */
    pr_sensors_t *front, *scratch;
    uint64_t delivered;
    int unnotified;               /* front is newer than the subscribers know */
    int logged_error;             /* the read error last logged, 0 after recovery */
    int ntracks;
    track_t tracks[MAX_TRACKS];
    struct sub subs[PR_SAMPLER_MAX_SUBS];
    pr_sensors_t bufs[4];
};

/* ---------------------------------------------------------------- options */

void pr_sampler_opts_default(pr_sampler_opts_t *o)
{
    o->root = "/sys";
    o->period_s = 1.0;
    o->stale_s = 0.0;
    o->stuck_s = DEFAULT_STUCK_S;
}

#define KEY_IS(k) (keylen == sizeof(k) - 1 && !strncmp(key, k, keylen))

int pr_sampler_opts_set(pr_sampler_opts_t *o, const char *key, size_t keylen,
                        const char *value, char *err, size_t errlen)
{
    double v;

    if (KEY_IS("sysfs.root")) {
        if (!*value || strlen(value) >= PR_SAMPLER_ROOT_MAX) {
            snprintf(err, errlen, "--set sysfs.root=%s: sysfs.root must be a directory "
                     "path of 1 to %d bytes", value, PR_SAMPLER_ROOT_MAX - 1);
            return PR_EINVAL;
        }
        o->root = value;
    } else if (KEY_IS("sensors.period_ms")) {
        if (pr_config_num(value, 1, 3600000, &v)) {
            snprintf(err, errlen, "--set sensors.period_ms=%s: sensors.period_ms must be "
                     "a number of milliseconds from 1 to 3600000", value);
            return PR_EINVAL;
        }
        o->period_s = v / 1000.0;
    } else if (KEY_IS("sensors.stale_s")) {
        if (pr_config_num(value, 0, 1e6, &v) || v == 0) {
            snprintf(err, errlen, "--set sensors.stale_s=%s: sensors.stale_s must be a "
                     "number of seconds > 0", value);
            return PR_EINVAL;
        }
        o->stale_s = v;
    } else if (KEY_IS("sensors.stuck_s")) {
        if (pr_config_num(value, 0, 1e9, &v)) {
            snprintf(err, errlen, "--set sensors.stuck_s=%s: sensors.stuck_s must be a "
                     "number of seconds >= 0 (0: never stuck)", value);
            return PR_EINVAL;
        }
        o->stuck_s = v;
    } else {
        return 0;
    }
    return 1;
}

/* The stale limit in force: the one set, else 5 s or 3 periods. */
static double stale_s(const pr_sampler_opts_t *o)
{
    if (o->stale_s > 0)
        return o->stale_s;
    return o->period_s * 3 > DEFAULT_STALE_S ? o->period_s * 3 : DEFAULT_STALE_S;
}

int pr_sampler_opts_check(const pr_sampler_opts_t *o, char *err, size_t errlen)
{
    if (!o->root || !*o->root || strlen(o->root) >= PR_SAMPLER_ROOT_MAX) {
        snprintf(err, errlen, "sysfs.root must be a directory path of 1 to %d bytes",
                 PR_SAMPLER_ROOT_MAX - 1);
        return PR_EINVAL;
    }
    if (!(o->period_s >= 0.001 && o->period_s <= 3600) || !(o->stuck_s >= 0)) {
        snprintf(err, errlen, "sensors.period_ms must be 1 to 3600000 and "
                 "sensors.stuck_s >= 0");
        return PR_EINVAL;
    }
    /* Otherwise every reading would go stale between two reads. */
    if (stale_s(o) <= o->period_s) {
        snprintf(err, errlen, "sensors.stale_s (%g s) must be longer than "
                 "sensors.period_ms (%g ms)", o->stale_s, o->period_s * 1000.0);
        return PR_EINVAL;
    }
    return 0;
}

/* --------------------------------------------------------------- tracking */

static track_t *find(const pr_sampler_t *s, int kind, const char *name)
{
    for (int i = 0; i < s->ntracks; i++) {
        const track_t *k = &s->tracks[i];
        if (k->used && k->kind == kind && !strcmp(k->name, name))
            return (track_t *)k;
    }
    return NULL;
}

/* A slot for a reading seen for the first time: a free one, else the one
 * not in the latest snapshot that was read longest ago.  NULL when every
 * slot is current (cannot happen with MAX_TRACKS as sized). */
static track_t *alloc_track(pr_sampler_t *s, int kind, const char *name)
{
    track_t *k = NULL;
    if (s->ntracks < MAX_TRACKS) {
        k = &s->tracks[s->ntracks++];
    } else {
        for (int i = 0; i < s->ntracks; i++) {
            track_t *c = &s->tracks[i];
            if (!c->current && (!k || c->read_ns < k->read_ns))
                k = c;
        }
        if (!k)
            return NULL;
    }
    memset(k, 0, sizeof *k);
    k->used = 1;
    k->kind = (unsigned char)kind;
    snprintf(k->name, sizeof k->name, "%s", name);
    return k;
}

/* One reading of the snapshot taken at t. */
static void see(pr_sampler_t *s, int kind, const char *name, pr_sensors_val_t v,
                int eligible, int64_t t)
{
    track_t *k = find(s, kind, name);
    int fresh_track = 0;

    if (!v.present) {
        /* Keep the last good value; its read_ns ages towards stale. */
        if (k)
            k->eligible = (unsigned char)eligible;
        return;
    }
    if (!k) {
        if (!(k = alloc_track(s, kind, name)))
            return;
        fresh_track = 1;
    }
    /* A change restarts the stuck clock; so does becoming eligible (a Full
     * battery's steady voltage starts to count when it is unplugged). */
    if (fresh_track || k->value != v.value || (eligible && !k->eligible))
        k->changed_ns = t;
    k->value = v.value;
    k->read_ns = t;
    k->current = 1;
    k->eligible = (unsigned char)eligible;
}

static void update_tracks(pr_sampler_t *s)
{
    const pr_sensors_t *snap = s->front;
    int64_t t = snap->time_ns;

    for (int i = 0; i < s->ntracks; i++)
        s->tracks[i].current = 0;
    for (int i = 0; i < snap->nsupplies; i++) {
        const pr_sensors_supply_t *p = &snap->supplies[i];
        int moving = strcmp(p->type, "Battery") == 0
                     && (strcmp(p->status, "Charging") == 0
                         || strcmp(p->status, "Discharging") == 0);
        see(s, PR_SAMPLER_CAPACITY, p->name, p->capacity, 0, t);
        see(s, PR_SAMPLER_VOLTAGE, p->name, p->voltage, moving, t);
        see(s, PR_SAMPLER_CURRENT, p->name, p->current, moving, t);
        see(s, PR_SAMPLER_POWER, p->name, p->power, moving, t);
    }
    for (int i = 0; i < snap->nzones; i++)
        see(s, PR_SAMPLER_TEMP, snap->zones[i].name, snap->zones[i].temp, 1, t);
    for (int i = 0; i < snap->npolicies; i++)
        see(s, PR_SAMPLER_FREQ, snap->policies[i].name, snap->policies[i].scaling_cur, 0, t);
    {
        pr_sensors_val_t w = { (double)snap->throttled.raw, snap->throttled.present };
        see(s, PR_SAMPLER_THROTTLED, "", w, 0, t);
    }
}

/* Tell the subscribers about the front snapshot, once. */
static void notify(pr_sampler_t *s)
{
    if (!s->unnotified)
        return;
    s->unnotified = 0;
    for (int i = 0; i < PR_SAMPLER_MAX_SUBS; i++) {
        /* Re-read each slot: a callback may remove itself or others. */
        pr_sampler_cb cb = s->subs[i].cb;
        if (cb)
            cb(s, s->front, s->subs[i].ud);
    }
}

int pr_sampler_reading(const pr_sampler_t *s, pr_sampler_kind_t kind, const char *name,
                       int64_t now_ns, pr_sampler_reading_t *r)
{
    const track_t *k = find(s, (int)kind, name ? name : "");

    memset(r, 0, sizeof *r);
    if (!k)
        return PR_EEMPTY;
    r->value = k->value;
    r->read_ns = k->read_ns;
    r->changed_ns = k->changed_ns;
    r->age_s = (double)(now_ns - k->read_ns) / 1e9;
    r->current = k->current;
    r->stale = now_ns - k->read_ns > s->stale_ns;
    r->stuck = !r->stale && s->stuck_ns > 0 && k->eligible
               && k->read_ns - k->changed_ns > s->stuck_ns;
    return 0;
}

/* ----------------------------------------------------------------- inputs */

static const char MISSING[] = "missing", STALE[] = "stale", STUCK[] = "stuck";

static void set_val(pr_sampler_input_t *in, double v)
{
    in->value = v;
    in->why = NULL;
}

static void set_why(pr_sampler_input_t *in, const char *why)
{
    in->value = 0;
    in->why = why;
}

/* A tracked reading as an input: its value, or why not. */
static void from_reading(const pr_sampler_t *s, pr_sampler_kind_t kind, const char *name,
                         int64_t now, pr_sampler_input_t *in)
{
    pr_sampler_reading_t r;
    if (pr_sampler_reading(s, kind, name, now, &r) < 0)
        set_why(in, MISSING);
    else if (r.stale)
        set_why(in, STALE);
    else if (r.stuck)
        set_why(in, STUCK);
    else
        set_val(in, r.value);
}

void pr_sampler_inputs(const pr_sampler_t *s, int64_t now, pr_sampler_inputs_t *in)
{
    const pr_sensors_t *snap = s->front;
    pr_sensors_summary_t sum;
    const char *temp_why = MISSING;
    double hot = 0;

    memset(in, 0, sizeof *in);
    pr_sensors_summary(snap, &sum);
    in->has_battery = sum.has_battery;
    in->has_thermal = sum.has_thermal;
    in->discharging = sum.discharging;
    in->hot_zone = -1;

    if (sum.has_battery) {
        const pr_sensors_supply_t *b = &snap->supplies[sum.battery];
        from_reading(s, PR_SAMPLER_CAPACITY, b->name, now, &in->battery);
        from_reading(s, PR_SAMPLER_POWER, b->name, now, &in->power_w);
        if (b->status[0] && strcmp(b->status, "Unknown") != 0)
            set_val(&in->charging, strcmp(b->status, "Charging") == 0);
        else
            set_why(&in->charging, MISSING);
    } else {
        set_why(&in->battery, MISSING);
        set_why(&in->power_w, MISSING);
        set_why(&in->charging, MISSING);
    }

    if (sum.has_ac_supply) {
        set_val(&in->on_ac, sum.on_ac);
    } else if (!sum.has_battery) {
        set_val(&in->on_ac, 1);   /* nothing else can be powering it */
    } else {
        const char *st = snap->supplies[sum.battery].status;
        if (!strcmp(st, "Discharging"))
            set_val(&in->on_ac, 0);
        else if (!strcmp(st, "Charging") || !strcmp(st, "Full") || !strcmp(st, "Not charging"))
            set_val(&in->on_ac, 1);
        else
            set_why(&in->on_ac, MISSING);
    }

    /* Hottest zone among the trustworthy ones; if none is, say why. */
    for (int i = 0; i < snap->nzones; i++) {
        pr_sampler_input_t t;
        from_reading(s, PR_SAMPLER_TEMP, snap->zones[i].name, now, &t);
        if (!t.why) {
            if (in->hot_zone < 0 || t.value > hot) {
                in->hot_zone = i;
                hot = t.value;
            }
        } else if (t.why != MISSING) {
            temp_why = t.why;
        }
    }
    if (in->hot_zone >= 0) {
        const pr_sensors_zone_t *z = &snap->zones[in->hot_zone];
        set_val(&in->temp, hot);
        set_why(&in->temp_crit, MISSING);
        for (int j = 0; j < z->ntrips; j++)
            if (!strcmp(z->trips[j].type, "critical") && z->trips[j].temp.present) {
                set_val(&in->temp_crit, z->trips[j].temp.value);
                break;
            }
    } else {
        set_why(&in->temp, temp_why);
        set_why(&in->temp_crit, temp_why);
    }

    from_reading(s, PR_SAMPLER_THROTTLED, "", now, &in->throttled);
    if (!in->throttled.why)
        in->throttled.value = ((uint32_t)in->throttled.value & PR_SENSORS_THROTTLED_NOW) != 0;
}

/* ----------------------------------------------------------------- worker */

static struct timespec to_timespec(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
    return ts;
}

static void *worker(void *arg)
{
    pr_sampler_t *s = arg;
    int64_t due = s->first_due_ns;

    pthread_mutex_lock(&s->mu);
    while (!s->quit) {
        struct timespec ts = to_timespec(due);
        int64_t t0, t1;
        int rc, wake;

        /* Sleep until due; destroy signals the condition to end it early. */
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT)
            continue;   /* woken (or spurious): re-check quit and the time */
        pthread_mutex_unlock(&s->mu);

        t0 = pr_time_ns();
        rc = pr_sensors_read(s->root, s->back, t0);
        t1 = pr_time_ns();

        pthread_mutex_lock(&s->mu);
        s->reads++;
        if (t1 - t0 > s->max_read_ns)
            s->max_read_ns = t1 - t0;
        wake = rc != s->last_error;   /* an error appeared or went away */
        s->last_error = rc;
        if (rc < 0) {
            s->read_errors++;
        } else {
            pr_sensors_t *tmp = s->mid;
            if (s->fresh)
                s->overwritten++;
            s->mid = s->back;
            s->back = tmp;
            s->fresh = 1;
            wake = 1;
        }
        /* Drift-free, but a late read skips the periods it missed rather
         * than reading in a burst. */
        due += s->period_ns;
        if (due <= t1)
            due = t1 + s->period_ns;
        pthread_mutex_unlock(&s->mu);
        if (wake)
            pr_async_send(&s->async);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Loop thread: take the worker's snapshot if it is newer than ours and
 * judge it; the subscribers hear of it from notify().  Returns 1 if taken. */
static int take(pr_sampler_t *s)
{
    int took = 0, err;

    pthread_mutex_lock(&s->mu);
    if (s->fresh) {
        if (s->mid->time_ns > s->front->time_ns) {
            pr_sensors_t *tmp = s->front;
            s->front = s->mid;
            s->mid = tmp;
            took = 1;
        }
        s->fresh = 0;
    }
    err = s->last_error;
    pthread_mutex_unlock(&s->mu);

    /* Log a failing root once, and its recovery once. */
    if (err < 0 && err != s->logged_error)
        pr_log_warn("sensors: cannot read %s: %s (readings go stale)", s->root,
                    pr_strerror(err));
    else if (err == 0 && s->logged_error < 0)
        pr_log_info("sensors: %s readable again", s->root);
    s->logged_error = err;
    if (took) {
        s->delivered++;
        update_tracks(s);
        s->unnotified = 1;
    }
    return took;
}

static void on_async(pr_async_t *a, void *ud)
{
    pr_sampler_t *s = ud;
    (void)a;
    take(s);
    notify(s);
}

void pr_sampler_poll(pr_sampler_t *s) { take(s); }

/* -------------------------------------------------------------------- API */

int pr_sampler_create(pr_sampler_t **out, pr_loop_t *loop, const pr_sampler_opts_t *o)
{
    pr_sampler_opts_t def;
    pthread_condattr_t ca;
    sigset_t all, old;
    pr_sampler_t *s;
    char err[192];
    struct stat st;
    int rc;

    if (!o) {
        pr_sampler_opts_default(&def);
        o = &def;
    }
    if (!out || !loop)
        return PR_EINVAL;
    if (pr_sampler_opts_check(o, err, sizeof err) < 0) {
        pr_log_error("%s", err);
        return PR_EINVAL;
    }
    if (stat(o->root, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (!(s = calloc(1, sizeof *s)))
        return PR_ENOMEM;
    s->opts = *o;
    snprintf(s->root, sizeof s->root, "%s", o->root);
    s->opts.root = s->root;
    s->period_ns = (int64_t)llround(o->period_s * 1e9);
    s->stale_ns = (int64_t)llround(stale_s(o) * 1e9);
    s->opts.stale_s = stale_s(o);
    s->stuck_ns = (int64_t)llround(o->stuck_s * 1e9);
    s->loop = loop;
    s->front = &s->bufs[0];
    s->scratch = &s->bufs[1];
    s->mid = &s->bufs[2];
    s->back = &s->bufs[3];

    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* pr_time_ns's clock */
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);

    /* The first snapshot synchronously, so it is there before any script. */
    if ((rc = pr_sampler_sample_now(s)) < 0)
        goto err;
    pr_async_init(&s->async, on_async, s);
    if ((rc = pr_async_start(loop, &s->async)) < 0)
        goto err;
    s->first_due_ns = s->front->time_ns + s->period_ns;
    /* The worker blocks every signal (it inherits the mask), so SIGINT and
     * SIGTERM reach the loop thread, where libev expects them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->thread, NULL, worker, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        rc = -rc;
        goto err;
    }
    s->thread_started = 1;
    *out = s;
    return 0;
err:
    pr_sampler_destroy(s);
    return rc;
}

void pr_sampler_destroy(pr_sampler_t *s)
{
    if (!s)
        return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->quit = 1;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    /* After the join nothing sends any more; stopping drops a pending one. */
    pr_async_stop(&s->async);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int pr_sampler_sample_now(pr_sampler_t *s)
{
    int64_t t0 = pr_time_ns(), t1;
    int rc = pr_sensors_read(s->root, s->scratch, t0);
    pr_sensors_t *tmp;

    t1 = pr_time_ns();
    pthread_mutex_lock(&s->mu);
    s->reads++;
    if (t1 - t0 > s->max_read_ns)
        s->max_read_ns = t1 - t0;
    if (rc < 0)
        s->read_errors++;
    pthread_mutex_unlock(&s->mu);
    if (rc < 0)
        return rc;
    tmp = s->front;
    s->front = s->scratch;
    s->scratch = tmp;
    s->delivered++;
    update_tracks(s);
    s->unnotified = 1;
    notify(s);
    return 0;
}

const pr_sensors_t *pr_sampler_latest(const pr_sampler_t *s) { return s->front; }
const pr_sampler_opts_t *pr_sampler_opts(const pr_sampler_t *s) { return &s->opts; }

int pr_sampler_on_sample(pr_sampler_t *s, pr_sampler_cb cb, void *ud)
{
    if (!cb)
        return PR_EINVAL;
    for (int i = 0; i < PR_SAMPLER_MAX_SUBS; i++)
        if (!s->subs[i].cb) {
            s->subs[i].cb = cb;
            s->subs[i].ud = ud;
            return 0;
        }
    return PR_EFULL;
}

void pr_sampler_off_sample(pr_sampler_t *s, pr_sampler_cb cb, void *ud)
{
    for (int i = 0; i < PR_SAMPLER_MAX_SUBS; i++)
        if (s->subs[i].cb == cb && s->subs[i].ud == ud) {
            s->subs[i].cb = NULL;
            s->subs[i].ud = NULL;
        }
}

void pr_sampler_stats(const pr_sampler_t *s, pr_sampler_stats_t *st)
{
    pr_sampler_t *m = (pr_sampler_t *)s;   /* the mutex is not logically state */
    pthread_mutex_lock(&m->mu);
    st->reads = s->reads;
    st->read_errors = s->read_errors;
    st->overwritten = s->overwritten;
    st->max_read_ns = s->max_read_ns;
    st->last_error = s->last_error;
    pthread_mutex_unlock(&m->mu);
    st->delivered = s->delivered;
}
