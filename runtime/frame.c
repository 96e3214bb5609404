/* frame.c - pool-backed, reference-counted frames (see frame.h).  Each pool
 * block is a pr_frame_t header padded to PR_POOL_ALIGN, then the data. */
#include "frame.h"

#include "error.h"
#include "pool.h"

#include <stdlib.h>
#include <string.h>

#define HDR (((sizeof(pr_frame_t) + PR_POOL_ALIGN - 1) / PR_POOL_ALIGN) * PR_POOL_ALIGN)

struct pr_frame_pool {
    pr_pool_t *pool;
    size_t frame_bytes;
    int dead;                   /* destroyed by its owner; frames still out */
    uint64_t empty;
    void (*on_empty)(void *ud);
    void *on_empty_ud;
};

int pr_frame_pool_create(pr_frame_pool_t **out, size_t frame_bytes, size_t nframes)
{
    pr_frame_pool_t *p;
    int rc;
    if (!out)
        return PR_EINVAL;
    *out = NULL;
    if (!frame_bytes || !nframes || frame_bytes > SIZE_MAX / 2)
        return PR_EINVAL;
    if (!(p = calloc(1, sizeof *p)))
        return PR_ENOMEM;
    rc = pr_pool_create(&p->pool, HDR + frame_bytes, nframes);
    if (rc < 0) {
        free(p);
        return rc;
    }
    pr_pool_stats_t st;
    pr_pool_stats(p->pool, &st);
    p->frame_bytes = st.block_size - HDR;
    *out = p;
    return 0;
}

static void pool_free(pr_frame_pool_t *p)
{
    pr_pool_destroy(p->pool);
    free(p);
}

void pr_frame_pool_destroy(pr_frame_pool_t *p)
{
    pr_pool_stats_t st;
    if (!p)
        return;
    pr_pool_stats(p->pool, &st);
    p->on_empty = NULL;
    if (st.in_use == 0)
        pool_free(p);
    else
        p->dead = 1;
}

void pr_frame_pool_on_empty(pr_frame_pool_t *p, void (*fn)(void *ud), void *ud)
{
    if (!p)
        return;
    p->on_empty = fn;
    p->on_empty_ud = ud;
}

pr_frame_t *pr_frame_alloc(pr_frame_pool_t *p)
{
    uint8_t *b;
    pr_frame_t *f;
    if (!p || p->dead)
        return NULL;
    b = pr_pool_alloc(p->pool);
    if (!b && p->on_empty) {
        p->on_empty(p->on_empty_ud);
        b = pr_pool_alloc(p->pool);
    }
    if (!b) {
        p->empty++;
        return NULL;
    }
    f = (pr_frame_t *)b;
    memset(f, 0, sizeof *f);
    f->pool = p;
    f->refs = 1;
    f->cap = p->frame_bytes;
    f->data = b + HDR;
    return f;
}

pr_frame_t *pr_frame_ref(pr_frame_t *f)
{
    if (f)
        f->refs++;
    return f;
}

void pr_frame_unref(pr_frame_t *f)
{
    pr_frame_pool_t *p;
    pr_pool_stats_t st;
    if (!f || --f->refs > 0)
        return;
    p = f->pool;
    if (!p)
        return;   /* storage owned by someone else (a Lua userdata) */
    pr_pool_free(p->pool, f);
    if (p->dead) {
        pr_pool_stats(p->pool, &st);
        if (st.in_use == 0)
            pool_free(p);
    }
}

void pr_frame_pool_stats(const pr_frame_pool_t *p, pr_frame_pool_stats_t *st)
{
    pr_pool_stats_t ps;
    if (!p || !st)
        return;
    pr_pool_stats(p->pool, &ps);
    st->capacity = ps.capacity;
    st->in_use = ps.in_use;
    st->high_water = ps.high_water;
    st->frame_bytes = p->frame_bytes;
    st->empty = p->empty;
}

const char *pr_frame_fmt_name(pr_frame_fmt_t fmt)
{
    switch (fmt) {
    case PR_FRAME_GRAY: return "gray";
    case PR_FRAME_RGB: return "rgb";
    default: return "jpeg";
    }
}

int pr_frame_fmt_bpp(pr_frame_fmt_t fmt)
{
    return fmt == PR_FRAME_GRAY ? 1 : fmt == PR_FRAME_RGB ? 3 : 0;
}
