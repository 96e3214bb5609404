/* bench_pool.c - cost of pr_pool alloc+free against malloc+free of the same
 * size, holding a batch of blocks live so neither is measured on a single
 * hot slot only.  Figures are ns per alloc+free pair, best of 5 runs. */
#include "bench.h"
#include "pool.h"

#define MAXBATCH 64
#define ROUNDS 5
#define TARGET_NS 50000000ull /* ~0.05 s per measurement */

static void *held[MAXBATCH];
static int batch; /* blocks held live per round */

static uint64_t run_pool(pr_pool_t *p, size_t iters)
{
    uint64_t t0 = bench_ns();
    for (size_t i = 0; i < iters; i++) {
        for (int j = 0; j < batch; j++) {
            held[j] = pr_pool_alloc(p);
            *(volatile char *)held[j] = (char)j;
        }
        for (int j = 0; j < batch; j++)
            pr_pool_free(p, held[j]);
    }
    return bench_ns() - t0;
}

static uint64_t run_malloc(size_t size, size_t iters)
{
    uint64_t t0 = bench_ns();
    for (size_t i = 0; i < iters; i++) {
        for (int j = 0; j < batch; j++) {
            held[j] = malloc(size);
            *(volatile char *)held[j] = (char)j;
            bench_keep(held[j]);
        }
        for (int j = 0; j < batch; j++)
            free(held[j]);
    }
    return bench_ns() - t0;
}

/* Best of ROUNDS, in ns per alloc+free pair. */
static double measure(pr_pool_t *p, size_t size)
{
    size_t iters = 1;
    uint64_t t, best = UINT64_MAX;

    /* Grow iters until one run takes about TARGET_NS. */
    for (;;) {
        t = p ? run_pool(p, iters) : run_malloc(size, iters);
        if (t >= TARGET_NS / 4 || iters > ((size_t)1 << 30))
            break;
        iters *= 4;
    }
    if (t < TARGET_NS)
        iters = (size_t)((double)iters * TARGET_NS / (double)(t ? t : 1));
    for (int r = 0; r < ROUNDS; r++) {
        t = p ? run_pool(p, iters) : run_malloc(size, iters);
        if (t < best)
            best = t;
    }
    return (double)best / ((double)iters * batch);
}

static void compare(size_t size, int nheld, const char *pool_name,
                    const char *malloc_name)
{
    pr_pool_t *p;
    double m, q;

    batch = nheld;
    if (pr_pool_create(&p, size, (size_t)nheld) != 0) {
        fprintf(stderr, "bench_pool: pool create failed\n");
        exit(1);
    }
    pr_pool_prewarm(p);
    m = measure(NULL, size);
    q = measure(p, size);
    bench_report(malloc_name, m, "ns/op", NULL, 0);
    bench_report(pool_name, q, "ns/op", malloc_name, q / m);
    pr_pool_destroy(p);
}

/* 4 KiB blocks are held 16 at a time: with 64 (256 KiB) glibc returns the
 * freed batch to the kernel (trim threshold 128 KiB) and faults it in again
 * on the next round, about 1000x slower than the pool; real, but a
 * pathology of the pattern rather than the steady-state cost compared here. */
int main(void)
{
    compare(256, 64, "pool.alloc_free", "malloc.alloc_free");
    compare(4096, 16, "pool.alloc_free.4k", "malloc.alloc_free.4k");
    return 0;
}
