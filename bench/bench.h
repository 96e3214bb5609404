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

#endif
