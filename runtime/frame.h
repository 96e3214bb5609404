/* frame.h - frames: images (JPEG bytes, gray or RGB pixels) in fixed-size
 * blocks of a pool (runtime/pool), reference-counted so a source, its ring
 * and a consumer can share one without copying.
 *
 * A frame pool reserves all its memory at creation: a source with a pool of
 * N frames never holds more than N, however slow its consumer (a frame that
 * finds the pool empty is dropped and counted by its producer).  Pages are
 * only touched as frames fill them, so a pool sized for the largest frame
 * costs resident memory for the frames actually seen.
 *
 * Lifetime: pr_frame_pool_destroy() may be called while frames are still
 * referenced (a script kept one); the pool is then freed when the last of
 * them is released.  Not thread-safe: one thread owns a pool and its
 * frames. */
#ifndef PR_FRAME_H
#define PR_FRAME_H

#include <stddef.h>
#include <stdint.h>

typedef enum pr_frame_fmt {
    PR_FRAME_JPEG,   /* data[0..len) is one complete JPEG; width/height 0 if unknown */
    PR_FRAME_GRAY,   /* 8-bit luma, rows stride bytes apart */
    PR_FRAME_RGB,    /* RGB24, R first, rows stride bytes apart */
} pr_frame_fmt_t;

typedef struct pr_frame_pool pr_frame_pool_t;

typedef struct pr_frame {
    /* private: */
    pr_frame_pool_t *pool;
    int refs;
    /* rw: set by the producer */
    pr_frame_fmt_t fmt;
    int width, height;
    size_t stride;       /* bytes per row (pixels); 0 for JPEG */
    size_t len;          /* bytes of data in use */
    uint64_t seq;        /* the source's frame number, from 1 */
    int64_t t_ns;        /* capture time, CLOCK_MONOTONIC ns */
    /* ro: */
    size_t cap;          /* bytes available at data */
    uint8_t *data;       /* 64-byte aligned */
} pr_frame_t;

typedef struct pr_frame_pool_stats {
    size_t capacity, in_use, high_water;
    size_t frame_bytes;   /* cap of each frame */
    uint64_t empty;       /* allocations that found no free frame */
} pr_frame_pool_stats_t;

/* A pool of nframes frames of at least frame_bytes each.  Returns 0,
 * PR_EINVAL (0 sizes) or PR_ENOMEM. */
int pr_frame_pool_create(pr_frame_pool_t **out, size_t frame_bytes, size_t nframes);
/* Release the owner's hold: freed now if no frame is referenced, else when
 * the last one is released.  NULL is ignored. */
void pr_frame_pool_destroy(pr_frame_pool_t *p);

/* Called once by pr_frame_alloc() when the pool is empty, before it gives
 * up: a Lua binding runs a garbage collection there, since frames a script
 * dropped without closing are only released by their finalizers. */
void pr_frame_pool_on_empty(pr_frame_pool_t *p, void (*fn)(void *ud), void *ud);

/* A frame with one reference (the caller's), fields zeroed but cap and
 * data; NULL when every frame is in use (counted in stats.empty). */
pr_frame_t *pr_frame_alloc(pr_frame_pool_t *p);
pr_frame_t *pr_frame_ref(pr_frame_t *f);
/* Drop one reference; the last one returns the frame to its pool.  NULL is
 * ignored. */
void pr_frame_unref(pr_frame_t *f);

void pr_frame_pool_stats(const pr_frame_pool_t *p, pr_frame_pool_stats_t *st);

/* "jpeg", "gray", "rgb". */
const char *pr_frame_fmt_name(pr_frame_fmt_t fmt);
/* Bytes per pixel: 1 gray, 3 rgb, 0 jpeg. */
int pr_frame_fmt_bpp(pr_frame_fmt_t fmt);

#endif
