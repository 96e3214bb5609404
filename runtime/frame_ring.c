/* frame_ring.c - drop-oldest queue of frame references (see frame_ring.h):
 * a circular array of pointers. */
#include "frame_ring.h"

#include "error.h"

#include <stdlib.h>

struct pr_frame_ring {
    size_t cap, head, count;     /* head: index of the oldest */
    pr_frame_ring_stats_t st;
    pr_frame_t *slot[];
};

int pr_frame_ring_create(pr_frame_ring_t **out, size_t capacity)
{
    pr_frame_ring_t *r;
    if (!out)
        return PR_EINVAL;
    *out = NULL;
    if (capacity == 0 || capacity > 1u << 20)
        return PR_EINVAL;
    if (!(r = calloc(1, sizeof *r + capacity * sizeof r->slot[0])))
        return PR_ENOMEM;
    r->cap = capacity;
    *out = r;
    return 0;
}

void pr_frame_ring_destroy(pr_frame_ring_t *r)
{
    if (!r)
        return;
    pr_frame_ring_clear(r);
    free(r);
}

int pr_frame_ring_push(pr_frame_ring_t *r, pr_frame_t *f)
{
    int dropped = 0;
    if (!r || !f)
        return PR_EINVAL;
    if (r->count == r->cap) {
        pr_frame_unref(r->slot[r->head]);
        r->head = (r->head + 1) % r->cap;
        r->count--;
        r->st.dropped++;
        dropped = 1;
    }
    r->slot[(r->head + r->count) % r->cap] = f;
    r->count++;
    r->st.pushed++;
    return dropped;
}

pr_frame_t *pr_frame_ring_pop(pr_frame_ring_t *r)
{
    pr_frame_t *f;
    if (!r || r->count == 0)
        return NULL;
    f = r->slot[r->head];
    r->slot[r->head] = NULL;
    r->head = (r->head + 1) % r->cap;
    r->count--;
    r->st.popped++;
    return f;
}

size_t pr_frame_ring_count(const pr_frame_ring_t *r)
{
    return r ? r->count : 0;
}

void pr_frame_ring_clear(pr_frame_ring_t *r)
{
    pr_frame_t *f;
    while ((f = pr_frame_ring_pop(r)) != NULL) {
        r->st.popped--;
        pr_frame_unref(f);
    }
}

void pr_frame_ring_stats(const pr_frame_ring_t *r, pr_frame_ring_stats_t *st)
{
    if (!r || !st)
        return;
    *st = r->st;
    st->count = r->count;
    st->capacity = r->cap;
}
