/* bench_cache.c - runtime/cache on a real LMDB file in a temp dir (TMPDIR,
 * else /tmp), 100k keys: put throughput and latency under the default
 * commit policy (commit per put, fdatasync by the sync thread every 1 s)
 * and, for comparison, a few hundred with sync_ms 0 (fdatasync per put);
 * get throughput and latency for fresh hits, misses and stale hits; and
 * every purge batch of the 100k entries once they are past their stale
 * deadline (the loop must never wait over 1 ms for one). */
#include "bench.h"
#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#define NKEYS 100000
#define NFSYNC 200         /* puts timed with sync_ms 0 */
#define NLAT  200000      /* gets timed one by one for the percentiles */

static pr_cache_t *cache, *fsync_cache;
static char keys[NKEYS][24];
static unsigned rng = 1;
static int64_t fake_now;

static int64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

static unsigned next_key(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % NKEYS;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report_lat(const char *name, uint64_t *ns, size_t n)
{
    char buf[64];
    qsort(ns, n, sizeof *ns, cmp_u64);
    snprintf(buf, sizeof buf, "%s.p50", name);
    bench_report(buf, (double)ns[n / 2] / 1000.0, "us", NULL, 0);
    snprintf(buf, sizeof buf, "%s.p99", name);
    bench_report(buf, (double)ns[n * 99 / 100] / 1000.0, "us", NULL, 0);
}

static void get_hit(void *ctx)
{
    pr_cache_entry_t e;
    unsigned k = next_key();
    (void)ctx;
    pr_cache_get(cache, keys[k], strlen(keys[k]), &e);
    bench_keep(e.value);
}

static void get_miss(void *ctx)
{
    pr_cache_entry_t e;
    (void)ctx;
    pr_cache_get(cache, "absent-key", 10, &e);
    bench_keep(e.state);
}

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench_cache: %s: %s\n", what, pr_cache_strerror(rc));
    exit(1);
}

/* Puts of vlen-byte values over the first n keys; latency of each. */
static void bench_put(pr_cache_t *into, const char *name, size_t vlen, size_t n)
{
    char *val = malloc(vlen);
    uint64_t *lat = malloc(n * sizeof *lat), t0, all;
    char buf[64];
    int rc;

    memset(val, 'v', vlen);
    all = bench_ns();
    for (size_t i = 0; i < n; i++) {
        t0 = bench_ns();
        if ((rc = pr_cache_put(into, keys[i], strlen(keys[i]), val, vlen, NULL)) < 0)
            fail("put", rc);
        lat[i] = bench_ns() - t0;
    }
    all = bench_ns() - all;
    snprintf(buf, sizeof buf, "%s.rate", name);
    bench_report(buf, (double)n * 1e9 / (double)all, "ops/s", NULL, 0);
    report_lat(name, lat, n);
    free(lat);
    free(val);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256], path[300], cmd[320];
    pr_cache_stats_t st;
    uint64_t *lat = malloc(NLAT * sizeof *lat);
    struct statfs sf;
    pr_cache_entry_t e;
    unsigned purged;
    int rc;

    snprintf(dir, sizeof dir, "%s/perch-bench-cache.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!lat || !mkdtemp(dir)) {
        perror("bench_cache: mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/cache.mdb", dir);
    if ((rc = pr_cache_open(&cache, path, 1024, 3600)) < 0)
        fail(path, rc);
    if (statfs(dir, &sf) == 0 && sf.f_type == 0x01021994)
        printf("note: %s is tmpfs: fdatasync is free there, sync_ms0 figures are not a disk's\n", dir);
    for (int i = 0; i < NKEYS; i++)
        snprintf(keys[i], sizeof keys[i], "/api/item/%d", i);

    bench_put(cache, "cache.put.1k", 1024, NKEYS);
    bench_put(cache, "cache.put.64k", 65536, 200);
    /* The same puts, fsync'ed one by one, in a file of their own. */
    snprintf(path, sizeof path, "%s/fsync.mdb", dir);
    if ((rc = pr_cache_open(&fsync_cache, path, 64, 3600)) < 0 ||
        (rc = pr_cache_set_sync(fsync_cache, 0)) < 0)
        fail(path, rc);
    bench_put(fsync_cache, "cache.put.1k.sync_ms0", 1024, NFSYNC);
    pr_cache_close(fsync_cache);

    double ns = bench_time(get_hit, NULL);
    bench_report("cache.get.hit", ns, "ns", NULL, 0);
    bench_report("cache.get.hit.rate", 1e9 / ns, "ops/s", NULL, 0);
    for (size_t i = 0; i < NLAT; i++) {
        uint64_t t0 = bench_ns();
        get_hit(NULL);
        lat[i] = bench_ns() - t0;
    }
    report_lat("cache.get.hit", lat, NLAT);
    ns = bench_time(get_miss, NULL);
    bench_report("cache.get.miss", ns, "ns", "cache.get.hit", ns / bench_time(get_hit, NULL));

    /* Stale gets (the refresh claim lookup), then purge: jump the clock
     * past expiry, then past every stale deadline. */
    pr_cache_get(cache, keys[0], strlen(keys[0]), &e);
    fake_now = e.expires_ns + 1;
    pr_cache_set_clock(cache, fake_clock, NULL);
    ns = bench_time(get_hit, NULL);
    bench_report("cache.get.stale", ns, "ns", NULL, 0);
    /* Purge all of it, batch after batch as the loop's timer would: each
     * batch is what one callback of the loop waits for. */
    fake_now = e.stale_until_ns + 3600LL * 1000000000;
    size_t nb = 0, total = 0;
    uint64_t *cpu = malloc(NLAT * sizeof *cpu);
    for (; cpu && nb < NLAT;) {
        uint64_t t0 = bench_ns(), c0 = thread_cpu_ns();
        if ((rc = pr_cache_purge(cache, PR_CACHE_PURGE_BATCH, PR_CACHE_PURGE_NS, &purged)) < 0)
            fail("purge", rc);
        if (purged == 0)
            break;
        cpu[nb] = thread_cpu_ns() - c0;
        lat[nb++] = bench_ns() - t0;
        total += purged;
    }
    printf("purge: %zu entries in %zu batches (%.0f per batch; bound %d entries / %d us)\n",
           total, nb, nb ? (double)total / (double)nb : 0.0, PR_CACHE_PURGE_BATCH,
           PR_CACHE_PURGE_NS / 1000);
    if (nb) {
        report_lat("cache.purge.batch", lat, nb);  /* sorts lat */
        bench_report("cache.purge.batch.max", (double)lat[nb - 1] / 1000.0, "us", NULL, 0);
        /* The batch's own CPU time: the wall time above also counts the
         * time other processes had the CPU, on a shared machine. */
        report_lat("cache.purge.batch.cpu", cpu, nb);
        bench_report("cache.purge.batch.cpu.max", (double)cpu[nb - 1] / 1000.0, "us", NULL, 0);
    }
    free(cpu);

    if (pr_cache_stats(cache, &st) == 0)
        printf("%llu fdatasyncs by the sync thread during the run\n",
               (unsigned long long)st.syncs);
    pr_cache_close(cache);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_cache: could not remove %s\n", dir);
    free(lat);
    return 0;
}
