/* pool.h - fixed-size block pools: all memory reserved at creation, then
 * O(1) alloc/free that never calls malloc, so a running device cannot fail
 * or stall in the allocator once its pools are built.
 *
 * A pool hands out blocks of one size from one arena.  Typical use: frame
 * buffers, request contexts, ring records that outlive a callback.
 *
 * Threads: a pool has no lock.  All calls on one pool must come from one
 * thread at a time (or be serialised by the caller).  A block, once handed
 * out, belongs to the caller and may be passed to and used by any thread;
 * only the pr_pool_* calls themselves need serialising.
 *
 * Errors are negative PR_E* codes from error.h; pr_strerror() describes them.
 */
#ifndef PR_POOL_H
#define PR_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Every block starts on a PR_POOL_ALIGN boundary and every block size is a
 * multiple of it: one cache line, and enough for any scalar or SIMD type up
 * to AVX-512. */
#define PR_POOL_ALIGN 64

typedef struct pr_pool pr_pool_t;

/* A snapshot filled by pr_pool_stats(). */
typedef struct pr_pool_stats {
    size_t   in_use;     /* blocks handed out and not yet freed */
    size_t   high_water; /* largest in_use ever seen */
    uint64_t failures;   /* pr_pool_alloc() calls that returned NULL */
    size_t   capacity;   /* total number of blocks */
    size_t   block_size; /* bytes per block, after rounding up to PR_POOL_ALIGN */
} pr_pool_stats_t;

/* Create a pool of nblocks blocks of at least block_size bytes each.
 *
 * block_size is rounded up to a multiple of PR_POOL_ALIGN.  The arena
 * (nblocks * rounded size) and a one-byte-per-block state table are
 * allocated here and nowhere else.  Pages of the arena are not touched, so
 * the kernel may still fault them in on first use; see pr_pool_prewarm().
 *
 * On success stores the pool in *out and returns 0; the caller owns it and
 * releases it with pr_pool_destroy().  On failure *out is set to NULL (when
 * out is not NULL) and:
 *   PR_EINVAL  out is NULL, block_size or nblocks is 0
 *   PR_ENOMEM  the arena size overflows size_t, or allocation failed */
int pr_pool_create(pr_pool_t **out, size_t block_size, size_t nblocks);

/* Release the pool and its arena.  Every block handed out by it becomes
 * invalid at once, whether freed or not; the caller must have stopped using
 * them.  NULL is ignored. */
void pr_pool_destroy(pr_pool_t *pool);

/* Take one block.  O(1).
 *
 * Returns a PR_POOL_ALIGN-aligned block of stats.block_size bytes whose
 * contents are unspecified (not zeroed), owned by the caller until passed
 * to pr_pool_free().  The most recently freed block is reused first, so it
 * is likely still in cache.  Returns NULL when every block is in use (the
 * failure is counted in stats.failures) or when pool is NULL. */
void *pr_pool_alloc(pr_pool_t *pool);

/* Give a block back.  O(1).
 *
 * Returns 0 on success; freeing NULL is a no-op that returns 0, like
 * free().  Returns PR_EINVAL, and changes nothing, when pool is NULL or p is
 * not a block currently handed out by this pool: a pointer outside the
 * arena, a pointer inside the arena but not at the start of a block, a
 * block already freed (double free) or never handed out.  Those are bugs in
 * the caller; they are reported rather than aborting because a field device
 * should log and carry on, not crash. */
int pr_pool_free(pr_pool_t *pool, void *p);

/* Return 1 when p points anywhere inside this pool's arena (a block start
 * or an interior pointer, whether the block is in use or not), else 0.
 * O(1).  Lets a caller holding several pools find the one a pointer came
 * from; pr_pool_free() still checks that it is a live block start. */
int pr_pool_owns(const pr_pool_t *pool, const void *p);

/* Touch every page of the arena that belongs to a free block, so the first
 * pr_pool_alloc() of each block does not take a page fault (a latency
 * spike in a frame path).  O(nblocks + pages).  Blocks in use are left
 * alone: their owners may be writing them from another thread.  Contents of
 * free blocks stay unspecified.  Call it at start-up, after creation; it
 * does not lock the pages (use mlockall() for that).  NULL is ignored. */
void pr_pool_prewarm(pr_pool_t *pool);

/* Fill *st with a snapshot of the pool's counters.  O(1). */
void pr_pool_stats(const pr_pool_t *pool, pr_pool_stats_t *st);

#endif
