/* pool.c - fixed-size block pools: one aligned arena, an intrusive LIFO free
 * list and a per-block state byte, so alloc/free are O(1), never malloc, and
 * foreign, misaligned or double frees are refused instead of corrupting it. */
#include "pool.h"

#include "error.h"

#include <stdlib.h>
#include <unistd.h>

/* Under AddressSanitizer, free blocks are poisoned so a use after
 * pr_pool_free() is reported like a use after free(). */
#if defined(__SANITIZE_ADDRESS__)
#define PR_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PR_POOL_ASAN 1
#endif
#endif

#ifdef PR_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

enum { BLOCK_FREE = 0, BLOCK_USED = 1 };

struct pr_pool {
    unsigned char *arena;   /* nblocks * block_size bytes, PR_POOL_ALIGN-aligned */
    unsigned char *state;   /* BLOCK_FREE / BLOCK_USED per block: catches double free */
    void *free_head;        /* freed blocks; each holds the next pointer at offset 0 */
    size_t fresh;           /* blocks [fresh, nblocks) were never handed out */
    size_t block_size;
    size_t nblocks;
    size_t arena_bytes;
    unsigned shift;         /* log2(block_size) when a power of two, else 0 */
    size_t in_use;
    size_t high_water;
    uint64_t failures;
};

/* Block index of an arena offset known to be inside the arena.  A shift
 * when the size allows it: a 64-bit divide costs tens of cycles on small
 * cores, more than the rest of alloc/free together. */
static inline size_t block_index(const pr_pool_t *pool, size_t off)
{
    return pool->shift ? off >> pool->shift : off / pool->block_size;
}

int pr_pool_create(pr_pool_t **out, size_t block_size, size_t nblocks)
{
    pr_pool_t *pool = NULL;
    size_t bs;

    if (!out)
        return PR_EINVAL;
    *out = NULL;
    if (block_size == 0 || nblocks == 0)
        return PR_EINVAL;
    if (block_size > SIZE_MAX - (PR_POOL_ALIGN - 1))
        return PR_ENOMEM;
    bs = (block_size + PR_POOL_ALIGN - 1) & ~(size_t)(PR_POOL_ALIGN - 1);
    if (nblocks > SIZE_MAX / bs)
        return PR_ENOMEM;

    pool = calloc(1, sizeof *pool);
    if (!pool)
        goto err;
    pool->block_size = bs;
    pool->nblocks = nblocks;
    pool->arena_bytes = nblocks * bs;
    if ((bs & (bs - 1)) == 0)
        while (((size_t)1 << pool->shift) < bs)
            pool->shift++;
    /* calloc: every block starts BLOCK_FREE. */
    pool->state = calloc(nblocks, 1);
    if (!pool->state)
        goto err;
    /* aligned_alloc wants a size that is a multiple of the alignment;
     * arena_bytes is, since bs is. */
    pool->arena = aligned_alloc(PR_POOL_ALIGN, pool->arena_bytes);
    if (!pool->arena)
        goto err;
    POISON(pool->arena, pool->arena_bytes);
    *out = pool;
    return 0;

err:
    if (pool) {
        free(pool->state);
        free(pool);
    }
    return PR_ENOMEM;
}

void pr_pool_destroy(pr_pool_t *pool)
{
    if (!pool)
        return;
    UNPOISON(pool->arena, pool->arena_bytes);
    free(pool->arena);
    free(pool->state);
    free(pool);
}

void *pr_pool_alloc(pr_pool_t *pool)
{
    unsigned char *p;

    if (!pool)
        return NULL;
    if (pool->free_head) {
        p = pool->free_head;
        UNPOISON(p, pool->block_size);
        pool->free_head = *(void **)p;
    } else if (pool->fresh < pool->nblocks) {
        /* Hand out never-used blocks in order instead of threading them all
         * onto the free list at creation: that would touch every page up
         * front, which is prewarm's job and the caller's choice. */
        p = pool->arena + pool->fresh * pool->block_size;
        pool->fresh++;
        UNPOISON(p, pool->block_size);
    } else {
        pool->failures++;
        return NULL;
    }
    pool->state[block_index(pool, (size_t)(p - pool->arena))] = BLOCK_USED;
    if (++pool->in_use > pool->high_water)
        pool->high_water = pool->in_use;
    return p;
}

int pr_pool_free(pr_pool_t *pool, void *p)
{
    uintptr_t a = (uintptr_t)p, base;
    size_t off, idx;

    if (!pool)
        return PR_EINVAL;
    if (!p)
        return 0;
    /* Compare as integers: relational operators on pointers into different
     * objects are undefined, and a foreign pointer is exactly that case. */
    base = (uintptr_t)pool->arena;
    if (a < base || a - base >= pool->arena_bytes)
        return PR_EINVAL;
    off = (size_t)(a - base);
    idx = block_index(pool, off);
    if (idx * pool->block_size != off)
        return PR_EINVAL;
    if (pool->state[idx] != BLOCK_USED)
        return PR_EINVAL;
    pool->state[idx] = BLOCK_FREE;
    *(void **)p = pool->free_head;
    pool->free_head = p;
    POISON(p, pool->block_size);
    pool->in_use--;
    return 0;
}

int pr_pool_owns(const pr_pool_t *pool, const void *p)
{
    uintptr_t a = (uintptr_t)p, base;

    if (!pool || !p)
        return 0;
    base = (uintptr_t)pool->arena;
    return a >= base && a - base < pool->arena_bytes;
}

/* Write one byte of the page holding q without changing it: a read alone
 * would only map the shared zero page and the first real write would still
 * fault. */
static void touch(unsigned char *q)
{
    volatile unsigned char *v = q;
    *v = *v;
}

void pr_pool_prewarm(pr_pool_t *pool)
{
    long pg;
    size_t page, i;

    if (!pool)
        return;
    pg = sysconf(_SC_PAGESIZE);
    page = pg > 0 ? (size_t)pg : 4096;

    for (i = 0; i < pool->nblocks; i += page)
        touch(pool->state + i);

    /* Only free blocks: an in-use block may be written concurrently by its
     * owner, and our read-write of the same byte could undo that write.  A
     * page shared with an in-use block is still faulted in through the
     * free block's part of it. */
    for (i = 0; i < pool->nblocks; i++) {
        unsigned char *b = pool->arena + i * pool->block_size;
        unsigned char *end = b + pool->block_size;
        unsigned char *q = b;

        if (pool->state[i] == BLOCK_USED)
            continue;
        UNPOISON(b, pool->block_size);
        while (q < end) {
            touch(q);
            /* next page boundary after q */
            q += page - ((uintptr_t)q & (page - 1));
        }
        POISON(b, pool->block_size);
    }
}

void pr_pool_stats(const pr_pool_t *pool, pr_pool_stats_t *st)
{
    if (!st)
        return;
    if (!pool) {
        *st = (pr_pool_stats_t){0};
        return;
    }
    st->in_use = pool->in_use;
    st->high_water = pool->high_water;
    st->failures = pool->failures;
    st->capacity = pool->nblocks;
    st->block_size = pool->block_size;
}
