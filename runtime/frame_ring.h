/* frame_ring.h - a bounded queue of frames between a producer and a
 * consumer on the same thread: when it is full, pushing drops the oldest
 * frame (its reference is released, the drop counted), so a slow consumer
 * sees recent frames and memory never grows.
 *
 * The ring takes over the pushed reference and hands it to whoever pops.
 * Capacity is fixed at creation; no call allocates after that. */
#ifndef PR_FRAME_RING_H
#define PR_FRAME_RING_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

typedef struct pr_frame_ring pr_frame_ring_t;

typedef struct pr_frame_ring_stats {
    uint64_t pushed, popped, dropped;
    size_t count, capacity;
} pr_frame_ring_stats_t;

/* capacity >= 1 frames.  Returns 0, PR_EINVAL or PR_ENOMEM. */
int pr_frame_ring_create(pr_frame_ring_t **out, size_t capacity);
/* Releases the frames still queued.  NULL is ignored. */
void pr_frame_ring_destroy(pr_frame_ring_t *r);

/* Queue f (the ring owns the caller's reference).  Returns 1 if the oldest
 * frame was dropped to make room, 0 otherwise, PR_EINVAL for NULL. */
int pr_frame_ring_push(pr_frame_ring_t *r, pr_frame_t *f);
/* Oldest frame (the caller owns its reference), or NULL when empty. */
pr_frame_t *pr_frame_ring_pop(pr_frame_ring_t *r);
size_t pr_frame_ring_count(const pr_frame_ring_t *r);
/* Release every queued frame (not counted as drops). */
void pr_frame_ring_clear(pr_frame_ring_t *r);
void pr_frame_ring_stats(const pr_frame_ring_t *r, pr_frame_ring_stats_t *st);

#endif
