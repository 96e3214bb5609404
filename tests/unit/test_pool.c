/* test_pool.c - unit tests for runtime/pool: sizes and alignment, exhaustion,
 * counters, refusal of bad frees, reuse, prewarm and bad arguments. */
#include "error.h"
#include "pool.h"
#include "tap.h"

#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

static void test_bad_args(void)
{
    pr_pool_t *p = (pr_pool_t *)&p; /* non-NULL junk: must be overwritten */

    is_int(pr_pool_create(NULL, 64, 4), PR_EINVAL, "create: NULL out");
    is_int(pr_pool_create(&p, 0, 4), PR_EINVAL, "create: block_size 0");
    ok(p == NULL, "create: *out cleared on failure");
    is_int(pr_pool_create(&p, 64, 0), PR_EINVAL, "create: nblocks 0");
    is_int(pr_pool_create(&p, SIZE_MAX, 1), PR_ENOMEM, "create: block_size overflows rounding");
    is_int(pr_pool_create(&p, 1 << 20, SIZE_MAX / 1024), PR_ENOMEM,
           "create: arena size overflows size_t");
    ok(pr_pool_alloc(NULL) == NULL, "alloc on NULL pool returns NULL");
    is_int(pr_pool_free(NULL, &p), PR_EINVAL, "free on NULL pool is EINVAL");
    ok(!pr_pool_owns(NULL, &p), "owns on NULL pool is 0");
    pr_pool_destroy(NULL);
    pr_pool_prewarm(NULL);
    ok(1, "destroy/prewarm accept NULL");
}

static size_t rounded(size_t req)
{
    pr_pool_t *p;
    pr_pool_stats_t st = {0};

    if (pr_pool_create(&p, req, 1) != 0)
        return 0;
    pr_pool_stats(p, &st);
    pr_pool_destroy(p);
    return st.block_size;
}

static void test_rounding(void)
{
    is_int(rounded(1), 64, "block size 1 rounds to 64");
    is_int(rounded(64), 64, "block size 64 stays 64");
    is_int(rounded(65), 128, "block size 65 rounds to 128");
    is_int(rounded(100), 128, "block size 100 rounds to 128");
    is_int(rounded(4096), 4096, "block size 4096 stays 4096");
    is_int(rounded(4097), 4160, "block size 4097 rounds to 4160");
}

/* Alignment, distinctness and exhaustion on a pool whose block size is not
 * a power of two (the divide path) and on one that is (the shift path). */
static void test_alloc_all(size_t req, size_t n)
{
    enum { MAXN = 64 };
    pr_pool_t *p;
    unsigned char *b[MAXN];
    pr_pool_stats_t st;
    size_t i, bs, aligned = 0, inside = 0, intact = 0;
    int rc;

    rc = pr_pool_create(&p, req, n);
    is_int(rc, 0, "create");
    if (rc)
        bail_out("pool create failed");
    pr_pool_stats(p, &st);
    bs = st.block_size;
    is_int(st.capacity, n, "stats.capacity is nblocks");
    is_int(st.in_use, 0, "new pool has nothing in use");

    for (i = 0; i < n; i++) {
        b[i] = pr_pool_alloc(p);
        if (!b[i])
            break;
        aligned += ((uintptr_t)b[i] % PR_POOL_ALIGN) == 0;
        inside += pr_pool_owns(p, b[i]) && pr_pool_owns(p, b[i] + bs - 1);
        /* Fill the whole block: a block overlapping another shows up when
         * the patterns are checked below. */
        memset(b[i], (int)(i + 1), bs);
    }
    is_int(i, n, "every block can be allocated");
    is_int(aligned, n, "every block is 64-byte aligned");
    is_int(inside, n, "every block lies inside the arena");
    for (i = 0; i < n; i++) {
        size_t j, good = 1;
        for (j = 0; j < bs; j++)
            good &= b[i][j] == (unsigned char)(i + 1);
        intact += good;
    }
    is_int(intact, n, "blocks do not overlap (patterns intact)");

    pr_pool_stats(p, &st);
    is_int(st.in_use, n, "in_use counts all blocks");
    is_int(st.failures, 0, "no failures yet");
    ok(pr_pool_alloc(p) == NULL, "exhausted pool returns NULL");
    ok(pr_pool_alloc(p) == NULL, "and again");
    pr_pool_stats(p, &st);
    is_int(st.failures, 2, "each NULL is counted as a failure");
    is_int(st.in_use, n, "failed alloc does not change in_use");

    for (i = 0; i < n; i++)
        if (pr_pool_free(p, b[i]) != 0)
            break;
    is_int(i, n, "every block can be freed");
    pr_pool_stats(p, &st);
    is_int(st.in_use, 0, "in_use back to 0");
    is_int(st.high_water, n, "high_water remembers the peak");
    pr_pool_destroy(p);
}

static void test_bad_free(void)
{
    pr_pool_t *p, *q;
    unsigned char *a, *b, *c, *fresh_guess;
    pr_pool_stats_t st;
    int local;
    void *heap;

    if (pr_pool_create(&p, 100, 4) || pr_pool_create(&q, 100, 4))
        bail_out("pool create failed");
    a = pr_pool_alloc(p);
    b = pr_pool_alloc(p);
    c = pr_pool_alloc(q);
    heap = malloc(128);

    is_int(pr_pool_free(p, &local), PR_EINVAL, "free of a stack pointer refused");
    is_int(pr_pool_free(p, heap), PR_EINVAL, "free of a malloc pointer refused");
    is_int(pr_pool_free(p, c), PR_EINVAL, "free of another pool's block refused");
    is_int(pr_pool_free(p, a + 1), PR_EINVAL, "free of block+1 refused");
    is_int(pr_pool_free(p, a + 64), PR_EINVAL, "free of block+64 (aligned, mid-block) refused");
    is_int(pr_pool_free(p, (void *)((uintptr_t)a - 1)), PR_EINVAL, "free of byte before the arena refused");
    /* Block 2 was never handed out: the arena holds it but nobody owns it. */
    fresh_guess = b + (b - a);
    ok(pr_pool_owns(p, fresh_guess), "a never-allocated block is inside the arena");
    is_int(pr_pool_free(p, fresh_guess), PR_EINVAL, "free of a never-allocated block refused");
    ok(!pr_pool_owns(p, a + 4 * 128), "one past the arena is not owned");
    is_int(pr_pool_free(p, a + 4 * 128), PR_EINVAL, "free of one past the arena refused");
    ok(pr_pool_owns(p, a + 5), "interior pointer is owned");
    ok(!pr_pool_owns(p, heap), "malloc pointer is not owned");
    ok(!pr_pool_owns(p, c), "another pool's block is not owned");
    pr_pool_stats(p, &st);
    is_int(st.in_use, 2, "refused frees leave in_use alone");

    is_int(pr_pool_free(p, NULL), 0, "free of NULL is a no-op");
    is_int(pr_pool_free(p, a), 0, "valid free succeeds");
    is_int(pr_pool_free(p, a), PR_EINVAL, "double free refused");
    pr_pool_stats(p, &st);
    is_int(st.in_use, 1, "double free did not decrement in_use");

    /* The refused double free must not have put a twice on the free list:
     * two allocations now must give two different blocks. */
    {
        unsigned char *x = pr_pool_alloc(p), *y = pr_pool_alloc(p);
        ok(x && y && x != y && x != b && y != b, "free list intact after refused double free");
        pr_pool_free(p, x);
        pr_pool_free(p, y);
    }
    pr_pool_free(p, b);
    pr_pool_free(q, c);
    free(heap);
    pr_pool_destroy(p);
    pr_pool_destroy(q);
}

static void test_reuse(void)
{
    pr_pool_t *p;
    void *a, *b, *c;
    pr_pool_stats_t st;

    if (pr_pool_create(&p, 64, 2))
        bail_out("pool create failed");
    a = pr_pool_alloc(p);
    b = pr_pool_alloc(p);
    ok(pr_pool_alloc(p) == NULL, "2-block pool full after two allocs");
    pr_pool_free(p, a);
    c = pr_pool_alloc(p);
    ok(c == a, "freed block is reused (most recent first)");
    pr_pool_free(p, b);
    pr_pool_free(p, c);
    ok(pr_pool_alloc(p) == c, "LIFO order: last freed comes back first");
    ok(pr_pool_alloc(p) == b, "then the one before");
    pr_pool_stats(p, &st);
    is_int(st.in_use, 2, "in_use after reuse");
    is_int(st.high_water, 2, "high_water never exceeds capacity");
    is_int(st.failures, 1, "one failure counted");
    pr_pool_destroy(p);
}

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static void test_prewarm(void)
{
    enum { BS = 4096, N = 1024 }; /* 4 MiB: mmap'd fresh by the allocator */
    pr_pool_t *p;
    unsigned char *keep[4], *blk;
    size_t i, got = 0, kept_ok = 0;
    long before, faults;

    if (pr_pool_create(&p, BS, N))
        bail_out("pool create failed");
    for (i = 0; i < 4; i++) {
        keep[i] = pr_pool_alloc(p);
        memset(keep[i], 0xA0 + (int)i, BS);
    }
    pr_pool_free(p, keep[1]);
    pr_pool_free(p, keep[3]);

    pr_pool_prewarm(p);

    for (i = 0; i < 4; i += 2) {
        size_t j, good = 1;
        for (j = 0; j < BS; j++)
            good &= keep[i][j] == (unsigned char)(0xA0 + i);
        kept_ok += good;
    }
    is_int(kept_ok, 2, "prewarm leaves in-use blocks untouched");

    /* Every remaining block must come out, and writing all of them must
     * hardly fault: the pages are already there. */
    before = minor_faults();
    while ((blk = pr_pool_alloc(p)) != NULL) {
        memset(blk, 0x5A, BS);
        got++;
    }
    faults = minor_faults() - before;
    is_int(got, N - 2, "free list intact after prewarm");
    ok(faults < N / 8, "writing %d prewarmed pages took %ld minor faults (< %d)",
       N, faults, N / 8);
    pr_pool_destroy(p);
}

int main(void)
{
    test_bad_args();
    test_rounding();
    test_alloc_all(100, 64); /* 128-byte blocks: shift path */
    test_alloc_all(200, 37); /* 256 */
    test_alloc_all(150, 50); /* 192-byte blocks: divide path */
    test_bad_free();
    test_reuse();
    test_prewarm();
    return exit_status();
}
