/* motion.c - background-subtraction motion score (see motion.h): 2x2
 * halving, absdiff + count, running average, lightswitch guard, all through
 * the dispatched u8 kernels. */
#include "motion.h"

#include "error.h"
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

struct pr_motion {
    pr_motion_opts_t o;
    int in_w, in_h;          /* input size the buffers were made for */
    int aw, ah;              /* analysis size */
    int halvings;
    uint8_t *bg;             /* aw * ah */
    uint8_t *tmp[2];         /* ping-pong halving buffers, (in_w/2) * (in_h/2) */
    int have_bg;
    int ls_run;              /* consecutive frames suppressed */
    int follow;              /* frames left in which bg follows each frame */
    pr_motion_stats_t st;
};

void pr_motion_opts_default(pr_motion_opts_t *o)
{
    o->width = 160;
    o->thresh = 25;
    o->shift = 4;
    o->lightswitch = 0.6;
    o->lightswitch_frames = 5;
}

int pr_motion_create(pr_motion_t **out, const pr_motion_opts_t *o)
{
    pr_motion_t *m;
    pr_motion_opts_t def;
    if (!out)
        return PR_EINVAL;
    *out = NULL;
    if (!o) {
        pr_motion_opts_default(&def);
        o = &def;
    }
    if (o->width < 8 || o->thresh < 0 || o->thresh > 254 || o->shift < 0 || o->shift > 8 ||
        !(o->lightswitch > 0) || o->lightswitch_frames < 0)
        return PR_EINVAL;
    if (!(m = calloc(1, sizeof *m)))
        return PR_ENOMEM;
    m->o = *o;
    *out = m;
    return 0;
}

static void free_bufs(pr_motion_t *m)
{
    free(m->bg);
    free(m->tmp[0]);
    free(m->tmp[1]);
    m->bg = m->tmp[0] = m->tmp[1] = NULL;
}

void pr_motion_destroy(pr_motion_t *m)
{
    if (!m)
        return;
    free_bufs(m);
    free(m);
}

void pr_motion_reset(pr_motion_t *m)
{
    if (!m)
        return;
    m->have_bg = 0;
    m->ls_run = 0;
    m->follow = 0;
}

static int resize(pr_motion_t *m, int w, int h)
{
    int aw = w, ah = h, k = 0;
    size_t half = (size_t)(w / 2) * (size_t)(h / 2);
    while (aw > m->o.width && aw >= 2 && ah >= 2) {
        aw /= 2;
        ah /= 2;
        k++;
    }
    free_bufs(m);
    m->bg = malloc((size_t)aw * (size_t)ah);
    if (k > 0) {
        m->tmp[0] = malloc(half);
        m->tmp[1] = k > 1 ? malloc(half / 4 + 1) : NULL;
    }
    if (!m->bg || (k > 0 && !m->tmp[0]) || (k > 1 && !m->tmp[1])) {
        free_bufs(m);
        m->in_w = m->in_h = 0;
        return PR_ENOMEM;
    }
    m->in_w = w;
    m->in_h = h;
    m->aw = aw;
    m->ah = ah;
    m->halvings = k;
    pr_motion_reset(m);
    return 0;
}

/* Halve `halvings` times; returns the analysis image (packed, aw x ah). */
static const uint8_t *shrink(pr_motion_t *m, const pr_kernels_t *k, const uint8_t *src,
                             size_t stride)
{
    int w = m->in_w, h = m->in_h;
    const uint8_t *cur = src;
    for (int i = 0; i < m->halvings; i++) {
        uint8_t *dst = m->tmp[i & 1];
        k->u8_down2x2(cur, (size_t)w, (size_t)h, stride, dst, (size_t)(w / 2));
        w /= 2;
        h /= 2;
        stride = (size_t)w;
        cur = dst;
    }
    if (m->halvings == 0 && stride != (size_t)w) {
        /* A padded input: pack it into tmp once so the kernels see one run. */
        return NULL;
    }
    return cur;
}

int pr_motion_update(pr_motion_t *m, const uint8_t *gray, int w, int h, size_t stride,
                     double *fraction)
{
    const pr_kernels_t *k = pr_kernels();
    const uint8_t *cur;
    size_t n, changed;
    double f;
    int rc;

    if (!m || !gray || !fraction || w <= 0 || h <= 0 || stride < (size_t)w)
        return PR_EINVAL;
    if ((w != m->in_w || h != m->in_h) && (rc = resize(m, w, h)) < 0)
        return rc;
    cur = shrink(m, k, gray, stride);
    if (!cur) {
        if (!m->tmp[0] && !(m->tmp[0] = malloc((size_t)w * (size_t)h)))
            return PR_ENOMEM;
        for (int y = 0; y < h; y++)
            memcpy(m->tmp[0] + (size_t)y * (size_t)w, gray + (size_t)y * stride, (size_t)w);
        cur = m->tmp[0];
    }
    n = (size_t)m->aw * (size_t)m->ah;
    m->st.frames++;
    m->st.width = m->aw;
    m->st.height = m->ah;
    if (!m->have_bg) {
        memcpy(m->bg, cur, n);
        m->have_bg = 1;
        m->st.changed = 0;
        m->st.last = *fraction = 0;
        return 0;
    }
    changed = k->u8_motion(m->bg, cur, n, (uint8_t)m->o.thresh, NULL);
    f = (double)changed / (double)n;
    m->st.changed = changed;
    if (m->o.lightswitch < 1 && f >= m->o.lightswitch && m->ls_run < m->o.lightswitch_frames) {
        if (m->ls_run++ == 0)
            m->st.lightswitches++;
        m->st.suppressed++;
        memcpy(m->bg, cur, n);
        m->follow = m->o.lightswitch_frames;
        m->st.last = *fraction = 0;
        return 0;
    }
    m->ls_run = 0;
    if (m->follow > 0) {
        m->follow--;
        memcpy(m->bg, cur, n);
    } else {
        k->u8_bg_update(m->bg, cur, n, (unsigned)m->o.shift);
    }
    m->st.last = *fraction = f;
    return 0;
}

void pr_motion_stats(const pr_motion_t *m, pr_motion_stats_t *st)
{
    if (m && st)
        *st = m->st;
}
