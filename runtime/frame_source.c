/* frame_source.c - the common part of every frame source (see
 * frame_source.h): pool, ring, rate, delivery, end reporting.  The
 * backends (source_*.c) only make frames. */
#include "fsrc_impl.h"

#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((size_t)1 << 20)
#define CATCH_UP 4   /* frames one late tick may make up */

void pr_fsrc_opts_default(pr_fsrc_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->kind = PR_FSRC_SYNTHETIC;
    o->fps = 10;
    o->ring = 4;
    o->keep = 4;
    o->width = 640;
    o->height = 480;
    o->fmt = PR_FRAME_GRAY;
    o->quality = 85;
    o->seed = 1;
}

const char *pr_fsrc_kind_name(pr_fsrc_kind_t k)
{
    return k == PR_FSRC_MJPEG ? "mjpeg" : k == PR_FSRC_DIR ? "dir" : "synthetic";
}

static void free_source(pr_fsrc_t *s)
{
    if (s->be && s->be_state)
        s->be->close(s);
    pr_frame_ring_destroy(s->ring);
    pr_frame_pool_destroy(s->pool);
    free(s->path);
    free(s->script);
    free(s);
}

/* ------------------------------------------------------------- delivery */

static void arm_delivery(pr_fsrc_t *s)
{
    if (s->dead || !s->cb || pr_timer_active(&s->deliver))
        return;
    if ((s->delivery && pr_frame_ring_count(s->ring)) || s->end_pending)
        pr_timer_start(s->loop, &s->deliver, 0, 0);
}

static void on_deliver(pr_timer_t *t, void *ud)
{
    pr_fsrc_t *s = ud;
    pr_frame_t *f = NULL;
    (void)t;
    if (s->delivery)
        f = pr_frame_ring_pop(s->ring);
    s->in_cb++;
    if (f) {
        s->st.delivered++;
        s->cb(s, PR_FSRC_FRAME, f, s->ud);
        pr_frame_unref(f);
    } else if (s->end_pending && pr_frame_ring_count(s->ring) == 0) {
        s->end_pending = 0;
        s->cb(s, PR_FSRC_END, NULL, s->ud);
    }
    s->in_cb--;
    if (s->dead) {
        if (!s->in_cb)
            free_source(s);
        return;
    }
    arm_delivery(s);
}

void fsrc_emit(pr_fsrc_t *s, pr_frame_t *f)
{
    f->seq = ++s->seq;
    if (!f->t_ns)
        f->t_ns = pr_time_ns();
    if (pr_frame_ring_push(s->ring, f) == 1)
        s->st.dropped++;
    s->st.produced++;
    arm_delivery(s);
}

pr_frame_t *fsrc_frame(pr_fsrc_t *s)
{
    pr_frame_t *f = pr_frame_alloc(s->pool);
    if (!f)
        s->st.pool_empty++;
    return f;
}

int fsrc_admit(pr_fsrc_t *s)
{
    int64_t now = pr_time_ns();
    double cap = (double)s->o.ring;
    if (s->fps <= 0 || s->state != FS_RUNNING) {
        s->st.skipped++;
        return 0;
    }
    /* A token bucket: credit accrues at fps and holds up to a ring's
     * worth, so the average rate is kept while a burst (a pipe's backlog
     * after a busy moment) still reaches the ring, which keeps the newest. */
    if (s->last_admit_ns)
        s->tokens += (double)(now - s->last_admit_ns) * 1e-9 * s->fps;
    s->last_admit_ns = now;
    if (s->tokens > cap)
        s->tokens = cap;
    if (s->tokens < 1) {
        s->st.skipped++;
        return 0;
    }
    s->tokens -= 1;
    return 1;
}

void fsrc_end(pr_fsrc_t *s, const char *why)
{
    snprintf(s->err, sizeof s->err, "%s", why);
    if (s->be->watch)
        s->be->watch(s, 0);
    pr_timer_stop(&s->tick);
    s->state = FS_ENDED;
    s->st.ends++;
    s->end_pending = 1;
    arm_delivery(s);
}

/* ----------------------------------------------------------------- rate */

static void on_tick(pr_timer_t *t, void *ud)
{
    pr_fsrc_t *s = ud;
    uint64_t missed = t->missed - s->tick_missed, n = 1 + missed;
    s->tick_missed = t->missed;
    s->st.late += missed;
    /* Catch up a few periods, not all: more than a ring's worth would only
     * be dropped again, and a source that cannot keep its rate (rendering a
     * synthetic frame takes longer than the period) must not spiral. */
    if (n > s->o.ring + 1)
        n = s->o.ring + 1;
    if (n > CATCH_UP)
        n = CATCH_UP;
    s->be->tick(s, n);
}

/* Bring the tick timer / fd watcher in line with state and rate. */
static int apply(pr_fsrc_t *s)
{
    int run = s->state == FS_RUNNING || s->state == FS_PAUSED;
    if (run)
        s->state = s->fps > 0 ? FS_RUNNING : FS_PAUSED;
    if (s->timer_driven) {
        if (s->state != FS_RUNNING) {
            pr_timer_stop(&s->tick);
            return 0;
        }
        double period = 1.0 / s->fps;
        if (pr_timer_active(&s->tick) && fabs((double)pr_timer_period(&s->tick) * 1e-9 - period) < 1e-9)
            return 0;
        int rc = pr_timer_start(s->loop, &s->tick, period, period);
        s->tick_missed = s->tick.missed;
        return rc;
    }
    /* fd-driven sources keep reading while paused, so the writer never
     * blocks; fsrc_admit() skips the frames. */
    return run && s->be->watch ? s->be->watch(s, 1) : 0;
}

int pr_fsrc_set_fps(pr_fsrc_t *s, double fps)
{
    if (!s || !isfinite(fps) || fps < 0 || fps > 1000)
        return PR_EINVAL;
    if (fps == s->fps)
        return 0;
    s->fps = fps;
    s->st.fps = fps;
    s->tokens = (double)s->o.ring;   /* start with a full bucket */
    s->last_admit_ns = 0;
    return apply(s);
}

static void on_poll(pr_timer_t *t, void *ud)
{
    pr_fsrc_t *s = ud;
    (void)t;
    if (s->rate_fn)
        pr_fsrc_set_fps(s, s->rate_fn(s->rate_ud));
}

void pr_fsrc_follow(pr_fsrc_t *s, double (*fn)(void *ud), void *ud)
{
    if (!s)
        return;
    s->rate_fn = fn;
    s->rate_ud = ud;
    if (!fn) {
        pr_timer_stop(&s->poll);
        return;
    }
    pr_fsrc_set_fps(s, fn(ud));
    pr_timer_start(s->loop, &s->poll, 0.1, 0.1);
}

/* ------------------------------------------------------------ lifecycle */

int pr_fsrc_create(pr_fsrc_t **out, pr_loop_t *loop, const pr_fsrc_opts_t *o,
                   pr_fsrc_cb cb, void *ud, char *err, size_t errlen)
{
    pr_fsrc_t *s;
    int rc;
    size_t nframes;

    if (!out || !loop || !o)
        return PR_EINVAL;
    *out = NULL;
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return PR_EINVAL; } while (0)
    if (!isfinite(o->fps) || o->fps < 0 || o->fps > 1000)
        BAD("fps must be 0..1000");
    if (o->ring < 1 || o->ring > 1024 || o->keep > 1024)
        BAD("ring must be 1..1024 frames and keep 0..1024");
    if (o->kind == PR_FSRC_SYNTHETIC) {
        if (o->width < 16 || o->height < 16 || o->width > 8192 || o->height > 8192)
            BAD("width and height must be 16..8192");
        if (o->fmt != PR_FRAME_GRAY && o->fmt != PR_FRAME_RGB && o->fmt != PR_FRAME_JPEG)
            BAD("unknown format");
        if (o->quality < 1 || o->quality > 100)
            BAD("quality must be 1..100");
        if (o->noise < 0 || o->noise > 64)
            BAD("noise must be 0..64");
        for (size_t i = 0; i < o->nscript; i++)
            if (o->script[i].frames == 0 || o->script[i].light < -255 || o->script[i].light > 255)
                BAD("script segment %zu: frames must be >= 1 and light -255..255", i + 1);
    } else if (!o->path || !*o->path) {
        BAD("%s source needs a path", pr_fsrc_kind_name(o->kind));
    }
#undef BAD
    if (!(s = calloc(1, sizeof *s)))
        return PR_ENOMEM;
    s->loop = loop;
    s->o = *o;
    s->cb = cb;
    s->ud = ud;
    s->state = FS_RUNNING;
    s->be = o->kind == PR_FSRC_MJPEG ? &pr_fsrc_mjpeg
          : o->kind == PR_FSRC_DIR ? &pr_fsrc_dir : &pr_fsrc_synthetic;
    pr_timer_init(&s->tick, on_tick, s);
    pr_timer_init(&s->deliver, on_deliver, s);
    pr_timer_init(&s->poll, on_poll, s);
    pr_timer_set_weak(&s->poll, 1);
    rc = PR_ENOMEM;
    if (o->path && !(s->path = strdup(o->path)))
        goto fail;
    s->o.path = s->path;
    if (o->nscript) {
        if (!(s->script = malloc(o->nscript * sizeof *s->script)))
            goto fail;
        memcpy(s->script, o->script, o->nscript * sizeof *s->script);
    }
    s->o.script = s->script;
    if (!s->o.max_frame) {
        if (o->kind == PR_FSRC_SYNTHETIC)
            /* RGB is the largest; a JPEG of the pattern is far smaller. */
            s->o.max_frame = (size_t)o->width * (size_t)o->height *
                             (o->fmt == PR_FRAME_GRAY ? 1 : 3);
        else
            s->o.max_frame = 2 * MIB;
    }
    nframes = s->o.ring + s->o.keep + 1;   /* +1: the frame being filled */
    if ((rc = pr_frame_pool_create(&s->pool, s->o.max_frame, nframes)) < 0 ||
        (rc = pr_frame_ring_create(&s->ring, s->o.ring)) < 0)
        goto fail;
    if ((rc = s->be->open(s)) < 0) {
        snprintf(err, errlen, "%s", s->err);
        goto fail;
    }
    s->fps = -1;
    if ((rc = pr_fsrc_set_fps(s, o->fps)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    free_source(s);
    return rc;
}

void pr_fsrc_destroy(pr_fsrc_t *s)
{
    if (!s || s->dead)
        return;
    s->dead = 1;
    pr_timer_stop(&s->tick);
    pr_timer_stop(&s->poll);
    if (s->be->watch)
        s->be->watch(s, 0);
    pr_frame_ring_clear(s->ring);
    if (s->in_cb) {
        /* on_deliver frees it when the callback returns. */
        return;
    }
    pr_timer_stop(&s->deliver);
    free_source(s);
}

void pr_fsrc_set_delivery(pr_fsrc_t *s, int on)
{
    if (!s)
        return;
    s->delivery = on;
    if (!on)
        pr_timer_stop(&s->deliver);
    arm_delivery(s);
}

pr_frame_t *pr_fsrc_pop(pr_fsrc_t *s)
{
    pr_frame_t *f = s ? pr_frame_ring_pop(s->ring) : NULL;
    if (f)
        s->st.delivered++;
    return f;
}

void pr_fsrc_stop(pr_fsrc_t *s)
{
    if (!s || s->state == FS_ENDED)
        return;
    s->state = FS_STOPPED;
    pr_timer_stop(&s->tick);
    if (s->be->watch)
        s->be->watch(s, 0);
}

int pr_fsrc_start(pr_fsrc_t *s)
{
    if (!s)
        return PR_EINVAL;
    if (s->state == FS_ENDED)
        return PR_ECLOSED;
    if (s->state == FS_STOPPED)
        s->state = FS_RUNNING;
    return apply(s);
}

int pr_fsrc_reopen(pr_fsrc_t *s)
{
    int rc;
    if (!s)
        return PR_EINVAL;
    if ((rc = s->be->reopen(s)) < 0)
        return rc;
    s->st.reopens++;
    s->err[0] = '\0';
    s->end_pending = 0;
    s->state = FS_RUNNING;
    s->tokens = (double)s->o.ring;   /* start with a full bucket */
    s->last_admit_ns = 0;
    return apply(s);
}

void pr_fsrc_stats(const pr_fsrc_t *s, pr_fsrc_stats_t *st)
{
    static const char *const names[] = { "running", "paused", "ended", "stopped" };
    pr_frame_pool_stats_t ps;
    if (!s || !st)
        return;
    *st = s->st;
    st->queued = pr_frame_ring_count(s->ring);
    pr_frame_pool_stats(s->pool, &ps);
    st->pool_in_use = ps.in_use;
    st->pool_capacity = ps.capacity;
    st->fps = s->fps;
    st->state = names[s->state];
}

const char *pr_fsrc_error(const pr_fsrc_t *s)
{
    return s ? s->err : "";
}

pr_frame_pool_t *pr_fsrc_pool(pr_fsrc_t *s)
{
    return s ? s->pool : NULL;
}
