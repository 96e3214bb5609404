/* bench.h - shared helpers for perch's benchmarks.
 *
 * Each benchmark prints a human-readable line per figure and, when the
 * environment variable BENCH_JSON names a file, appends one JSON record per
 * figure to it (name, value, unit, and vs/ratio when compared with a
 * baseline measured in the same run).  bench/run collects them into
 * build/bench.json. */
#ifndef PR_BENCH_H
#define PR_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t bench_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keep the compiler from optimising away a value. */
#define bench_keep(x) __asm__ volatile("" : : "g"(x) : "memory")

/* Report one figure.  vs/ratio: the baseline's name and value/baseline,
 * or vs == NULL when the figure stands alone. */
static inline void bench_report(const char *name, double value,
                                const char *unit, const char *vs,
                                double ratio)
{
    const char *path = getenv("BENCH_JSON");
    if (vs)
        printf("%-44s %12.2f %-6s (%.2fx %s)\n", name, value, unit, ratio, vs);
    else
        printf("%-44s %12.2f %s\n", name, value, unit);
    fflush(stdout);
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    if (vs)
        fprintf(f, "{\"name\":\"%s\",\"value\":%.4f,\"unit\":\"%s\","
                   "\"vs\":\"%s\",\"ratio\":%.4f}\n", name, value, unit, vs, ratio);
    else
        fprintf(f, "{\"name\":\"%s\",\"value\":%.4f,\"unit\":\"%s\"}\n",
                name, value, unit);
    fclose(f);
}

/* Calibration target for bench_time(); a benchmark may define its own
 * before including this header. */
#ifndef BENCH_TARGET_NS
#define BENCH_TARGET_NS 20000000ull
#endif
#define BENCH_ROUNDS 5

typedef void (*bench_fn)(void *ctx);

/* Best ns per call of fn(ctx) over BENCH_ROUNDS runs of about
 * BENCH_TARGET_NS each, after one warm-up call. */
static inline double bench_time(bench_fn fn, void *ctx)
{
    fn(ctx); /* warm the caches */
    size_t iters = 1;
    for (;;) {
        uint64_t t0 = bench_ns();
        for (size_t i = 0; i < iters; i++)
            fn(ctx);
        if (bench_ns() - t0 >= BENCH_TARGET_NS / 10 || iters >= (1u << 24))
            break;
        iters *= 2;
    }
    iters *= 10;
    double best = 1e300;
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        uint64_t t0 = bench_ns();
        for (size_t i = 0; i < iters; i++)
            fn(ctx);
        double ns = (double)(bench_ns() - t0) / (double)iters;
        if (ns < best)
            best = ns;
    }
    return best;
}

#ifdef PR_KERNELS_H
/* Time fn(ctx) with *cur set to the scalar table, each other variant this
 * CPU runs and the best one, reporting "<name>.scalar", "<name>.<isa>" and
 * "<name>.best" in ns (the latter two vs the scalar figure).  Returns the
 * best variant's ns per call. */
static inline double bench_isas(const char *name, const pr_kernels_t **cur,
                                bench_fn fn, void *ctx)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    const pr_kernels_t *best = pr_kernels_for(pr_isa_best());
    char sname[96], bname[96];

    *cur = ref;
    double ns_ref = bench_time(fn, ctx);
    snprintf(sname, sizeof sname, "%s.scalar", name);
    bench_report(sname, ns_ref, "ns", NULL, 0);
    /* The other variants too, to show what each ISA step buys. */
    for (int i = PR_ISA_SSE4; i < PR_ISA_COUNT; i++) {
        const pr_kernels_t *t = pr_kernels_for((pr_isa_t)i);
        if (!t || t == best)
            continue;
        *cur = t;
        double ns = bench_time(fn, ctx);
        snprintf(bname, sizeof bname, "%s.%s", name, t->isa_name);
        bench_report(bname, ns, "ns", sname, ns / ns_ref);
    }
    *cur = best;
    double ns_best = bench_time(fn, ctx);
    snprintf(bname, sizeof bname, "%s.best", name);
    bench_report(bname, ns_best, "ns", sname, ns_best / ns_ref);
    return ns_best;
}
#endif

#endif
