/* safety.c - the thermal safety floor's state machine (see safety.h). */
#include "safety.h"

#include "error.h"
#include "log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pr_safety {
    pr_safety_opts_t o;
    pr_actuators_t *act;     /* borrowed; may be NULL */
    pr_safety_state_t st;
    int missing_logged;      /* "no reading" said since the last reading */
};

void pr_safety_opts_default(pr_safety_opts_t *o)
{
    o->crit_c = NAN;
    o->release_c = PR_SAFETY_DEFAULT_RELEASE_C;
    o->min_fps = PR_SAFETY_DEFAULT_MIN_FPS;
}

int pr_safety_create(pr_safety_t **out, pr_actuators_t *act, const pr_safety_opts_t *o)
{
    pr_safety_t *s;

    if (!out || !o)
        return PR_EINVAL;
    *out = NULL;
    if ((!isnan(o->crit_c) && !(o->crit_c > 0 && o->crit_c <= 200)) ||
        !(o->release_c >= 0 && o->release_c <= 100) ||
        !(o->min_fps >= 0 && o->min_fps <= PR_ACT_FPS_MAX))
        return PR_EINVAL;
    s = calloc(1, sizeof *s);
    if (!s)
        return PR_ENOMEM;
    s->o = *o;
    s->act = act;
    s->st.temp_c = s->st.crit_c = NAN;
    s->st.release_c = o->release_c;
    *out = s;
    return 0;
}

void pr_safety_destroy(pr_safety_t *s)
{
    free(s);
}

void pr_safety_state(const pr_safety_t *s, pr_safety_state_t *out)
{
    *out = s->st;
}

/* The critical temperature of zone z. */
static double zone_crit(const pr_safety_t *s, const pr_sensors_zone_t *z)
{
    if (!isnan(s->o.crit_c))
        return s->o.crit_c;
    for (int i = 0; i < z->ntrips; i++) {
        const pr_sensors_trip_t *t = &z->trips[i];
        /* Drivers mark a disabled trip with 0 or a negative temperature. */
        if (strcmp(t->type, "critical") == 0 && t->temp.present && t->temp.value > 0)
            return t->temp.value;
    }
    return PR_SAFETY_DEFAULT_CRIT_C;
}

static void set_floor(pr_safety_t *s)
{
    pr_act_floor_t f = { s->o.min_fps };
    if (s->act)
        pr_actuators_set_floor(s->act, &f);
}

void pr_safety_on_sample(pr_safety_t *s, const pr_sensors_t *snap, int64_t now_ns)
{
    pr_safety_state_t *st = &s->st;
    const pr_sensors_zone_t *pick = NULL;
    double margin = 0, crit = NAN;
    int nzones = snap ? snap->nzones : 0;

    st->samples++;
    /* The zone nearest to (or furthest past) its critical temperature. */
    for (int i = 0; i < nzones; i++) {
        const pr_sensors_zone_t *z = &snap->zones[i];
        double c, m;
        if (!z->temp.present)
            continue;
        c = zone_crit(s, z);
        m = z->temp.value - c;
        if (!pick || m > margin || (m == margin && z->temp.value > pick->temp.value)) {
            pick = z;
            margin = m;
            crit = c;
        }
    }

    if (!pick) {
        st->known = 0;
        st->temp_c = NAN;
        if (!s->missing_logged) {
            s->missing_logged = 1;
            if (st->engaged)
                pr_log_warn("safety: no temperature reading (%d thermal zone%s): holding "
                            "the floor until one shows %s has cooled", nzones,
                            nzones == 1 ? "" : "s", st->zone);
            else if (nzones > 0)
                pr_log_warn("safety: %d thermal zone%s but no temperature reading: the "
                            "floor cannot engage until one appears", nzones,
                            nzones == 1 ? "" : "s");
            else
                pr_log_info("safety: no thermal zone: the temperature floor cannot engage "
                            "until one appears");
        }
        if (st->engaged)
            set_floor(s);
        return;
    }

    if (s->missing_logged)
        pr_log_info("safety: temperature readings back: %s at %.1f °C", pick->name,
                    pick->temp.value);
    s->missing_logged = 0;
    st->known = 1;
    st->temp_c = pick->temp.value;
    st->crit_c = crit;
    memcpy(st->zone, pick->name, sizeof st->zone);

    if (!st->engaged && margin >= 0) {
        st->engaged = 1;
        st->since_ns = now_ns;
        st->engagements++;
        pr_log_warn("safety: floor engaged: %s (%s) at %.1f °C >= critical %.1f °C; fps "
                    "at most %g and CPU frequency at its minimum until below %.1f °C",
                    pick->name, pick->type[0] ? pick->type : "?", pick->temp.value, crit,
                    s->o.min_fps, crit - s->o.release_c);
    } else if (st->engaged && margin < -s->o.release_c) {
        st->engaged = 0;
        st->released_ns = now_ns;
        pr_log_info("safety: floor released: %s at %.1f °C < %.1f °C (critical %.1f - "
                    "%.1f) after %.1f s; policies' requests apply again", pick->name,
                    pick->temp.value, crit - s->o.release_c, crit, s->o.release_c,
                    (double)(now_ns - st->since_ns) * 1e-9);
        if (s->act)
            pr_actuators_set_floor(s->act, NULL);
    }
    if (st->engaged)
        set_floor(s);
}
