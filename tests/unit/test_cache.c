/* test_cache.c - unit tests for runtime/cache on real LMDB files in a temp
 * dir: fresh/stale/miss and the one-refresh claim under an injected clock,
 * eviction under a 1 MiB map (no put may fail), oversize entries, bounded
 * purge batches and the loop's purge timer, reopening, sharing a file
 * between handles, a second process's commits seen by the next get, the
 * commit policy (sync thread, sync_ms 0, shared and
 * only tightening), orphan index records of replaced entries (bounded,
 * purged, evicted), files of the older layouts (moved over, or emptied
 * when their index does not fit), and clear errors for bad paths and
 * non-LMDB files. */
#include "cache.h"
#include "error.h"
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#define S 1000000000LL

static char dir[64];
static int64_t fake_now = 1700000000 * S;

static int64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

static const char *tmp_path(const char *name)
{
    static char buf[4][128];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static pr_cache_t *open_fake(const char *name, size_t mb, double ttl)
{
    pr_cache_t *c;
    int rc = pr_cache_open(&c, tmp_path(name), mb, ttl);
    if (rc < 0) {
        diag("open %s: %s", name, pr_cache_strerror(rc));
        bail_out("cannot open a cache");
    }
    pr_cache_set_clock(c, fake_clock, NULL);
    return c;
}

static int put_s(pr_cache_t *c, const char *k, const char *v, double ttl)
{
    pr_cache_meta_t m = { .ttl_s = ttl };
    return pr_cache_put(c, k, strlen(k), v, strlen(v), &m);
}

static int value_is(const pr_cache_entry_t *e, const char *want)
{
    return e->len == strlen(want) && memcmp(e->value, want, e->len) == 0;
}

static void test_bad_args(void)
{
    pr_cache_t *c = (pr_cache_t *)&c;
    is_int(pr_cache_open(&c, NULL, 1, 1), PR_EINVAL, "open: NULL path");
    ok(c == NULL, "open: *out cleared on failure");
    is_int(pr_cache_open(&c, "", 1, 1), PR_EINVAL, "open: empty path");
    is_int(pr_cache_open(&c, tmp_path("x"), 0, 1), PR_EINVAL, "open: max_mb 0");
    is_int(pr_cache_open(&c, tmp_path("x"), 1, 0), PR_EINVAL, "open: ttl 0");
    is_int(pr_cache_open(&c, tmp_path("x"), 1, -1), PR_EINVAL, "open: negative ttl");
    is_int(pr_cache_open(&c, tmp_path("x"), 1, 0.0 / 0.0), PR_EINVAL, "open: NaN ttl");
    ok(access(tmp_path("x"), F_OK) != 0, "no file is created by a refused open");
    pr_cache_close(NULL);
    ok(1, "close(NULL) is fine");
}

static void test_open_errors(void)
{
    pr_cache_t *c;
    FILE *f;
    int rc;

    rc = pr_cache_open(&c, tmp_path("no/such/dir/cache.mdb"), 1, 1);
    is_int(rc, -ENOENT, "missing directory: -ENOENT");
    ok(strcmp(pr_cache_errname(rc), "ENOENT") == 0, "errname ENOENT (%s)", pr_cache_errname(rc));

    f = fopen(tmp_path("text.mdb"), "w");
    for (int i = 0; i < 1000; i++)
        fprintf(f, "this is a log file, not a cache: line %d\n", i);
    fclose(f);
    rc = pr_cache_open(&c, tmp_path("text.mdb"), 1, 1);
    is_int(rc, MDB_INVALID, "text file: MDB_INVALID");
    ok(strstr(pr_cache_strerror(rc), "not an LMDB file") != NULL,
       "message says it is not an LMDB file (%s)", pr_cache_strerror(rc));
    ok(strcmp(pr_cache_errname(rc), "MDB_INVALID") == 0, "errname MDB_INVALID");

    f = fopen(tmp_path("short.mdb"), "w");
    fputs("garbage", f);
    fclose(f);
    rc = pr_cache_open(&c, tmp_path("short.mdb"), 1, 1);
    ok(rc < 0 && strcmp(pr_cache_errname(rc), "MDB_INVALID") == 0,
       "7-byte file: MDB_INVALID (%s)", pr_cache_errname(rc));
    ok(strcmp(pr_cache_errname(PR_ETOOBIG), "ETOOBIG") == 0, "errname of a PR_E code");
}

static void test_fresh_stale_miss(void)
{
    pr_cache_t *c = open_fake("swr.mdb", 4, 60);
    pr_cache_entry_t e;
    pr_cache_meta_t m = { .ttl_s = 10, .stale_s = 5, .flags = 0xbeef,
                          .content_type = "image/jpeg" };
    int64_t t0 = fake_now;

    pr_cache_set_refresh_timeout(c, 2);
    is_int(pr_cache_get(c, "k", 1, &e), 0, "get of an absent key");
    is_int(e.state, PR_CACHE_MISS, "absent: miss");
    is_int(pr_cache_put(c, "k", 1, "v1", 2, &m), 0, "put with meta");
    pr_cache_get(c, "k", 1, &e);
    ok(e.state == PR_CACHE_FRESH && value_is(&e, "v1"), "fresh right after put");
    ok(strcmp(e.content_type, "image/jpeg") == 0 && e.flags == 0xbeef,
       "content type and flags come back");
    ok(e.stored_ns == t0 && e.expires_ns == t0 + 10 * S && e.stale_until_ns == t0 + 15 * S,
       "stored, expiry and stale deadline");
    ok(!e.refresh_due, "fresh: no refresh due");

    fake_now = t0 + 10 * S - 1;
    pr_cache_get(c, "k", 1, &e);
    is_int(e.state, PR_CACHE_FRESH, "fresh 1 ns before expiry");
    fake_now = t0 + 10 * S;
    pr_cache_get(c, "k", 1, &e);
    ok(e.state == PR_CACHE_STALE && value_is(&e, "v1"), "stale at expiry, value served");
    is_int(e.refresh_due, 1, "first stale get: refresh due");
    pr_cache_get(c, "k", 1, &e);
    is_int(e.refresh_due, 0, "second stale get: refresh already in flight");
    pr_cache_get(c, "k", 1, &e);
    is_int(e.refresh_due, 0, "third stale get: still in flight");
    fake_now += 2 * S;
    pr_cache_get(c, "k", 1, &e);
    is_int(e.refresh_due, 1, "after the refresh timeout the next caller refreshes");
    pr_cache_release(c, "k", 1);
    pr_cache_get(c, "k", 1, &e);
    is_int(e.refresh_due, 1, "release: the next stale get claims at once");

    /* The refresh lands: fresh again, and the claim is gone with it. */
    t0 = fake_now;
    is_int(pr_cache_put(c, "k", 1, "v2", 2, &m), 0, "refresh put");
    pr_cache_get(c, "k", 1, &e);
    ok(e.state == PR_CACHE_FRESH && value_is(&e, "v2"), "fresh after the refresh");
    fake_now = t0 + 11 * S;
    pr_cache_get(c, "k", 1, &e);
    ok(e.state == PR_CACHE_STALE && e.refresh_due, "stale again: put cleared the old claim");
    fake_now = t0 + 15 * S;
    pr_cache_get(c, "k", 1, &e);
    is_int(e.state, PR_CACHE_MISS, "past the stale window: miss");

    /* Default stale window (60 s, the default TTL) and no window at all. */
    t0 = fake_now;
    is_int(put_s(c, "d", "x", 0), 0, "put with the default TTL");
    fake_now = t0 + 60 * S;
    pr_cache_get(c, "d", 1, &e);
    is_int(e.state, PR_CACHE_STALE, "default TTL 60 s, then stale");
    fake_now = t0 + 120 * S - 1;
    pr_cache_get(c, "d", 1, &e);
    is_int(e.state, PR_CACHE_STALE, "default stale window is the default TTL");
    t0 = fake_now;
    m = (pr_cache_meta_t){ .ttl_s = 1, .stale_s = -1 };
    pr_cache_put(c, "n", 1, "x", 1, &m);
    fake_now = t0 + S;
    pr_cache_get(c, "n", 1, &e);
    is_int(e.state, PR_CACHE_MISS, "stale_s < 0: no stale window");

    /* The clock stepped back (NTP after a boot without RTC): refresh. */
    t0 = fake_now;
    put_s(c, "b", "x", 100);
    fake_now = t0 - 10 * S;
    pr_cache_get(c, "b", 1, &e);
    ok(e.state == PR_CACHE_STALE && e.refresh_due, "entry from the future: stale, refresh");
    fake_now = t0;

    is_int(pr_cache_del(c, "b", 1), 0, "del");
    pr_cache_get(c, "b", 1, &e);
    is_int(e.state, PR_CACHE_MISS, "deleted: miss");
    is_int(pr_cache_del(c, "b", 1), 0, "del of an absent key is fine");

    /* Keys: 1..511 bytes; values may be empty. */
    char big[PR_CACHE_KEY_MAX + 1];
    memset(big, 'k', sizeof big);
    is_int(pr_cache_put(c, big, sizeof big - 1, "x", 1, NULL), 0, "511-byte key");
    is_int(pr_cache_put(c, big, sizeof big, "x", 1, NULL), PR_EINVAL, "512-byte key refused");
    is_int(pr_cache_put(c, big, 0, "x", 1, NULL), PR_EINVAL, "empty key refused");
    is_int(pr_cache_get(c, big, 0, &e), PR_EINVAL, "get: empty key refused");
    is_int(pr_cache_put(c, "e", 1, NULL, 0, NULL), 0, "empty value");
    pr_cache_get(c, "e", 1, &e);
    ok(e.state == PR_CACHE_FRESH && e.len == 0 && e.content_type[0] == 0,
       "empty value, no content type");
    m = (pr_cache_meta_t){ .ttl_s = -1 };
    is_int(pr_cache_put(c, "x", 1, "x", 1, &m), PR_EINVAL, "negative TTL refused");

    pr_cache_stats_t st;
    pr_cache_stats(c, &st);
    ok(st.hits > 0 && st.stale > 0 && st.misses > 0 && st.refreshes == 7,
       "counters: hits %llu stale %llu misses %llu refreshes %llu",
       (unsigned long long)st.hits, (unsigned long long)st.stale,
       (unsigned long long)st.misses, (unsigned long long)st.refreshes);
    pr_cache_close(c);
}

/* Many puts of mixed sizes (some spanning overflow pages) into a 1 MiB map:
 * not one may fail, the newest entries stay readable, the oldest go. */
static void test_eviction(void)
{
    pr_cache_t *c = open_fake("small.mdb", 1, 3600);
    static char val[300000];
    char key[32];
    int fails = 0, first_rc = 0, wrong = 0;
    unsigned seed = 12345;
    pr_cache_stats_t st;
    pr_cache_entry_t e;

    for (size_t i = 0; i < sizeof val; i++)
        val[i] = (char)('a' + i % 23);
    for (int i = 0; i < 6000; i++) {
        size_t len;
        seed = seed * 1103515245u + 12345u;
        len = 1 + (seed >> 8) % 9000;
        if (i % 500 == 250)
            len = 200000 + (size_t)i;  /* a few large ones: long overflow runs */
        snprintf(key, sizeof key, "k%05d", i);
        pr_cache_meta_t m = { .ttl_s = 100 + (i % 7) * 10 };
        int rc = pr_cache_put(c, key, strlen(key), val + i % 17, len, &m);
        if (rc) {
            if (!fails++)
                first_rc = rc;
            continue;
        }
        pr_cache_get(c, key, strlen(key), &e);
        wrong += e.state != PR_CACHE_FRESH || e.len != len ||
                 memcmp(e.value, val + i % 17, len) != 0;
        fake_now += S / 100;
    }
    is_int(fails, 0, "6000 puts into a 1 MiB map: none fails");
    if (fails)
        diag("first failure: %s", pr_cache_strerror(first_rc));
    is_int(wrong, 0, "every put is readable right after, with its value");
    pr_cache_stats(c, &st);
    ok(st.evictions > 1000, "oldest entries evicted (%llu)", (unsigned long long)st.evictions);
    ok(st.used_bytes <= st.map_bytes && st.map_bytes == 1 << 20,
       "used %llu of %llu bytes", (unsigned long long)st.used_bytes,
       (unsigned long long)st.map_bytes);
    ok(st.entries > 10 && st.bytes > 0 && st.bytes < st.map_bytes,
       "%llu entries, %llu bytes left", (unsigned long long)st.entries,
       (unsigned long long)st.bytes);
    diag("full retries: %llu", (unsigned long long)st.full_retries);
    pr_cache_get(c, "k00000", 6, &e);
    is_int(e.state, PR_CACHE_MISS, "the first entry was evicted");

    /* Oversize: larger than the map, and larger than half of it. */
    static char huge[2 << 20];
    is_int(pr_cache_put(c, "huge", 4, huge, sizeof huge, NULL), PR_ETOOBIG,
           "2 MiB value into a 1 MiB map: ETOOBIG");
    is_int(pr_cache_put(c, "half", 4, huge, (1 << 19) + 1, NULL), PR_ETOOBIG,
           "value over half the map: ETOOBIG");
    ok(strstr(pr_cache_strerror(PR_ETOOBIG), "too large") != NULL, "ETOOBIG says too large");
    is_int(pr_cache_put(c, "after", 5, "ok", 2, NULL), 0, "the cache works after a refusal");
    is_int(pr_cache_put(c, "big", 3, huge, 400000, NULL), 0,
           "a 400 KB value fits once enough is evicted");
    pr_cache_close(c);
}

/* Stop the loop once the background purge has left only the unexpired
 * entries (checked every 20 ms), or at the 60 s guard: no assumption about
 * how fast this machine (or qemu) purges. */
static pr_cache_t *purge_watch;
static void purge_done(pr_timer_t *t, void *loop)
{
    pr_cache_stats_t st;
    pr_cache_stats(purge_watch, &st);
    if (st.entries <= 10 || t->fired >= 3000)
        pr_loop_stop(loop);
}

static void test_purge(void)
{
    pr_cache_t *c = open_fake("purge.mdb", 16, 3600);
    pr_cache_meta_t shortm = { .ttl_s = 1, .stale_s = 1 };
    pr_cache_stats_t st;
    pr_cache_entry_t e;
    char key[32];
    unsigned n = 0;
    int64_t t0 = fake_now;

    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "p%d", i);
        pr_cache_put(c, key, strlen(key), "x", 1, &shortm);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "keep%d", i);
        put_s(c, key, "kept", 3600);
    }
    is_int(pr_cache_purge(c, 100, S, &n), 0, "purge before the deadline");
    is_int(n, 0, "nothing is due yet");
    fake_now = t0 + 2 * S;
    pr_cache_purge(c, 100, S, &n);
    is_int(n, 100, "a batch is bounded by count");
    pr_cache_purge(c, 100000, 0, &n);
    is_int(n, 1, "a batch is bounded by time, and purges at least one");
    pr_cache_purge(c, 100000, 10 * S, &n);
    is_int(n, 1899, "the rest");
    pr_cache_stats(c, &st);
    ok(st.purged == 2000 && st.entries == 10 && st.evictions == 0,
       "stats: purged %llu, %llu entries left", (unsigned long long)st.purged,
       (unsigned long long)st.entries);
    pr_cache_get(c, "keep3", 5, &e);
    ok(e.state == PR_CACHE_FRESH && value_is(&e, "kept"), "unexpired entries stay");

    /* The loop's purge timer does the same in the background. */
    pr_loop_t *loop;
    pr_timer_t stop;
    if (pr_loop_create(&loop) < 0)
        bail_out("loop");
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "q%d", i);
        pr_cache_put(c, key, strlen(key), "x", 1, &shortm);
    }
    fake_now += 2 * S;
    is_int(pr_cache_attach(c, loop, 0.01), 0, "attach a purge timer");
    is_int(pr_loop_run(loop), 0, "the purge timer alone does not keep the loop running");
    purge_watch = c;
    pr_timer_init(&stop, purge_done, loop);
    pr_timer_start(loop, &stop, 0.02, 0.02);
    pr_loop_run(loop);
    pr_timer_stop(&stop);
    pr_cache_stats(c, &st);
    ok(st.entries == 10 && st.purged == 3000, "background purge in batches: %llu left",
       (unsigned long long)st.entries);
    pr_cache_close(c);  /* detaches while the loop still exists */
    pr_loop_destroy(loop);
}

static void test_reopen_and_share(void)
{
    pr_cache_t *a = open_fake("re.mdb", 2, 3600), *b;
    pr_cache_entry_t e;
    char key[32], val[64];
    int good = 0;

    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "r%d", i);
        snprintf(val, sizeof val, "value of %d", i * 7);
        put_s(a, key, val, 3600);
    }
    pr_cache_close(a);
    a = open_fake("re.mdb", 2, 3600);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "r%d", i);
        snprintf(val, sizeof val, "value of %d", i * 7);
        pr_cache_get(a, key, strlen(key), &e);
        good += e.state == PR_CACHE_FRESH && value_is(&e, val);
    }
    is_int(good, 100, "reopen: all 100 entries with their values");

    /* A second open in this process shares the environment. */
    b = open_fake("re.mdb", 2, 3600);
    put_s(b, "shared", "yes", 3600);
    pr_cache_get(a, "shared", 6, &e);
    ok(value_is(&e, "yes"), "a put through one handle is seen by the other");
    pr_cache_get(b, "shared", 6, &e);
    fake_now += 3600 * S;
    pr_cache_get(a, "shared", 6, &e);
    ok(e.state == PR_CACHE_STALE && e.refresh_due, "stale: handle a claims the refresh");
    pr_cache_get(b, "shared", 6, &e);
    ok(e.state == PR_CACHE_STALE && !e.refresh_due, "handle b sees the claim");
    pr_cache_close(a);
    pr_cache_get(b, "r5", 2, &e);
    is_int(e.state, PR_CACHE_STALE, "closing one handle leaves the other working");
    pr_cache_close(b);

    /* A directory path: data.mdb inside it. */
    mkdir(tmp_path("envdir"), 0755);
    a = open_fake("envdir", 1, 10);
    is_int(put_s(a, "d", "in a dir", 10), 0, "directory path: put");
    pr_cache_close(a);
    ok(access(tmp_path("envdir/data.mdb"), F_OK) == 0, "directory path: data.mdb inside");
}

/* pr_cache_get_fresh: fresh entries only, and a stale or missing one is
 * left exactly as it was for the pr_cache_get that follows. */
static void test_get_fresh(void)
{
    pr_cache_t *c = open_fake("fresh.mdb", 2, 60);
    pr_cache_meta_t m = { .ttl_s = 10, .stale_s = 100, .content_type = "text/x", .flags = 201 };
    pr_cache_stats_t st0, st1;
    pr_cache_entry_t e;

    pr_cache_put(c, "f", 1, "val", 3, &m);
    pr_cache_stats(c, &st0);
    is_int(pr_cache_get_fresh(c, "f", 1, &e), 0, "get_fresh: 0");
    ok(e.state == PR_CACHE_FRESH && value_is(&e, "val") && !strcmp(e.content_type, "text/x") &&
       e.flags == 201, "get_fresh: a fresh entry with its value, type and flags");
    pr_cache_get_fresh(c, "nope", 4, &e);
    is_int(e.state, PR_CACHE_MISS, "get_fresh: absent is a miss");
    fake_now += 20 * S;
    pr_cache_get_fresh(c, "f", 1, &e);
    ok(e.state == PR_CACHE_MISS && e.value == NULL, "get_fresh: a stale entry is not given");
    pr_cache_stats(c, &st1);
    ok(st1.hits == st0.hits + 1 && st1.misses == st0.misses && st1.stale == st0.stale &&
       st1.refreshes == st0.refreshes, "get_fresh: counts its hit only");
    pr_cache_get(c, "f", 1, &e);
    ok(e.state == PR_CACHE_STALE && e.refresh_due, "the get after it still claims the refresh");
    pr_cache_close(c);
}

/* Gets reuse their read snapshot while it is the newest: a commit by
 * another process must still show at the next get.  The child is forked
 * before this process starts the cache's sync thread and opens the file
 * when told to: a thread created after a fork that copied a live one
 * trips an assertion of qemu-user, which runs the arm64 suite. */
static void test_other_process(void)
{
    pr_cache_t *a;
    pr_cache_entry_t e;
    int go[2], status = -1;
    pid_t pid;
    char c;

    if (pipe(go) < 0)
        bail_out("pipe");
    if ((pid = fork()) == 0) {
        /* A process of its own: its own environment on the same file. */
        pr_cache_t *b;
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(4);
        if (pr_cache_open(&b, tmp_path("proc.mdb"), 2, 3600) < 0)
            _exit(2);
        pr_cache_set_clock(b, fake_clock, NULL);
        _exit(put_s(b, "k", "new", 3600) == 0 && put_s(b, "absent", "here", 3600) == 0 ? 0 : 3);
    }
    close(go[0]);
    a = open_fake("proc.mdb", 2, 3600);
    put_s(a, "k", "old", 3600);
    pr_cache_get(a, "k", 1, &e);
    ok(value_is(&e, "old"), "other process: first value read (snapshot live)");
    pr_cache_get(a, "absent", 6, &e);
    if (write(go[1], "g", 1) != 1)
        bail_out("write");
    close(go[1]);
    waitpid(pid, &status, 0);
    is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0, "other process: its puts returned 0");
    pr_cache_get(a, "k", 1, &e);
    ok(value_is(&e, "new"), "other process: its replacement is seen by the next get");
    pr_cache_get(a, "absent", 6, &e);
    ok(e.state == PR_CACHE_FRESH && value_is(&e, "here"), "other process: its new key is seen");
    pr_cache_close(a);
}

/* Poll stats until syncs passes `than` or about 3 s passed. */
static uint64_t wait_syncs(pr_cache_t *c, uint64_t than)
{
    pr_cache_stats_t st = { 0 };
    for (int i = 0; i < 300; i++) {
        pr_cache_stats(c, &st);
        if (st.syncs > than)
            break;
        usleep(10000);
    }
    return st.syncs;
}

static void test_sync(void)
{
    pr_cache_t *c = open_fake("sync.mdb", 2, 3600), *d;
    pr_cache_stats_t st;
    pr_cache_entry_t e;
    uint64_t n;

    is_int((int)pr_cache_sync_ms(c), PR_CACHE_DEFAULT_SYNC_MS, "default: sync every 1000 ms");
    is_int(pr_cache_set_sync(c, PR_CACHE_SYNC_MS_MAX + 1), PR_EINVAL, "sync_ms over the maximum");
    is_int(pr_cache_set_sync(NULL, 10), PR_EINVAL, "set_sync(NULL)");
    is_int(pr_cache_sync(NULL), PR_EINVAL, "sync(NULL)");
    is_int(put_s(c, "a", "1", 3600), 0, "a put under the default policy");
    is_int(pr_cache_sync(c), 0, "an explicit sync");
    pr_cache_stats(c, &st);
    ok(st.syncs >= 1 && st.sync_errors == 0, "it is counted (%llu syncs)",
       (unsigned long long)st.syncs);
    n = st.syncs;
    is_int(pr_cache_sync(c), 0, "a sync with nothing committed since");
    pr_cache_stats(c, &st);
    is_int((int)(st.syncs - n), 0, "... does no fdatasync");

    /* The thread syncs on its own, at the shorter interval at once. */
    is_int(pr_cache_set_sync(c, 20), 0, "sync_ms 20");
    put_s(c, "b", "2", 3600);
    ok(wait_syncs(c, n) > n, "the sync thread synced the put within its interval");
    is_int(pr_cache_set_sync(c, 500), 0, "asking for a longer interval is fine...");
    is_int((int)pr_cache_sync_ms(c), 20, "... but the shortest asked for stays");

    /* A second handle shares the policy; 0 turns per-commit syncing on. */
    d = open_fake("sync.mdb", 2, 3600);
    is_int((int)pr_cache_sync_ms(d), 20, "a second handle of the file shares the policy");
    is_int(pr_cache_set_sync(d, 0), 0, "sync_ms 0");
    is_int((int)pr_cache_sync_ms(c), 0, "... for both handles");
    is_int(pr_cache_set_sync(c, 1000), 0, "a looser setting afterwards...");
    is_int((int)pr_cache_sync_ms(c), 0, "... keeps every commit synced");
    is_int(put_s(d, "c", "3", 3600), 0, "puts work with sync_ms 0");
    pr_cache_get(c, "c", 1, &e);
    ok(e.state == PR_CACHE_FRESH && value_is(&e, "3"), "and read back through the other handle");
    pr_cache_close(d);
    pr_cache_close(c);

    /* Close syncs and lets go: the file reopens with everything in it. */
    c = open_fake("sync.mdb", 2, 3600);
    int good = 0;
    for (const char *const *k = (const char *const[]){ "a", "b", "c", NULL }; *k; k++) {
        pr_cache_get(c, *k, 1, &e);
        good += e.state == PR_CACHE_FRESH;
    }
    is_int(good, 3, "reopened: the three entries");
    is_int((int)pr_cache_sync_ms(c), PR_CACHE_DEFAULT_SYNC_MS, "a new open starts at the default");
    pr_cache_close(c);
}

/* ------------------------------------------------ orphans and layouts -- */

/* Index records in the file (16-byte keys of the main database), read
 * with LMDB directly: after a close, they must be the entries + orphans. */
static long index_records(const char *path)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    long n = -1;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
        mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY, 0644)) {
        mdb_env_close(env);
        return -1;
    }
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
        if (mdb_cursor_open(txn, 1, &cur) == 0) {
            n = 0;
            for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
                 rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
                n += k.mv_size == 16;
            mdb_cursor_close(cur);
        }
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return n;
}

static void put_range(pr_cache_t *c, const char *fmt, int from, int to, double ttl)
{
    pr_cache_meta_t m = { .ttl_s = ttl, .stale_s = -1 };
    char key[32];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof key, fmt, i);
        if (pr_cache_put(c, key, strlen(key), key, strlen(key), &m) != 0)
            bail_out("a put failed");
    }
}

static unsigned purge_all(pr_cache_t *c)
{
    unsigned n, total = 0;
    do {
        if (pr_cache_purge(c, 1000, 10 * S, &n) < 0)
            bail_out("purge");
        total += n;
    } while (n);
    return total;
}

/* A replacement leaves its old index record as an orphan: counted, at most
 * one per entry, never for a record among the newest, removed by purges
 * once due and by eviction; the entries are never affected. */
static void test_orphans(void)
{
    pr_cache_t *c = open_fake("orphans.mdb", 4, 3600);
    pr_cache_stats_t st;
    pr_cache_entry_t e;
    int64_t t0 = fake_now;
    int good = 0;

    put_range(c, "o%d", 0, 200, 10);
    fake_now = t0 + S;
    put_range(c, "o%d", 0, 100, 100);
    pr_cache_stats(c, &st);
    ok(st.orphans == 100 && st.entries == 200, "100 replacements: 100 orphans, 200 entries (%llu, %llu)",
       (unsigned long long)st.orphans, (unsigned long long)st.entries);
    for (int i = 0; i < 5; i++)
        put_s(c, "hot", "x", 100);
    pr_cache_stats(c, &st);
    is_int((int)st.orphans, 100, "replacing one of the newest records leaves no orphan");

    /* Past the first deadlines: the orphans and the unreplaced entries go,
     * the replaced entries stay. */
    fake_now = t0 + 20 * S;
    is_int((int)purge_all(c), 200, "purge: 100 orphans and 100 entries");
    pr_cache_stats(c, &st);
    ok(st.orphans == 0 && st.entries == 101 && st.purged == 100,
       "stats: 0 orphans, 101 entries, 100 purged (%llu, %llu, %llu)",
       (unsigned long long)st.orphans, (unsigned long long)st.entries,
       (unsigned long long)st.purged);
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "o%d", i);
        pr_cache_get(c, key, strlen(key), &e);
        good += e.state == PR_CACHE_FRESH && value_is(&e, key);
    }
    is_int(good, 100, "every replaced entry is still there, fresh");

    /* The bound: no more orphans than entries; past it the old record is
     * deleted at once. */
    put_range(c, "o%d", 0, 100, 100);
    put_range(c, "o%d", 0, 100, 100);
    put_range(c, "o%d", 0, 100, 100);
    pr_cache_stats(c, &st);
    ok(st.orphans == st.entries && st.entries == 101, "300 more replacements: orphans capped "
       "at the entries (%llu, %llu)", (unsigned long long)st.orphans,
       (unsigned long long)st.entries);
    is_int(pr_cache_del(c, "o5", 2), 0, "del of a key with orphans");
    pr_cache_stats(c, &st);
    pr_cache_close(c);
    is_int((int)index_records(tmp_path("orphans.mdb")), (int)(st.entries + st.orphans),
           "the index holds exactly the entries and the orphans counted");
    c = open_fake("orphans.mdb", 4, 3600);
    fake_now = t0 + 10000 * S;  /* "hot" has the default stale window */
    purge_all(c);
    pr_cache_stats(c, &st);
    ok(st.entries == 0 && st.orphans == 0, "everything due is purged, orphans included");
    pr_cache_close(c);
    is_int((int)index_records(tmp_path("orphans.mdb")), 0, "the index is empty");

    /* Eviction under churn: 400 keys replaced at random in a 1 MiB map. */
    static char val[3000];
    unsigned seed = 7;
    int fails = 0, max_over = 0;
    memset(val, 'v', sizeof val);
    c = open_fake("orphans_small.mdb", 1, 3600);
    for (int i = 0; i < 5000; i++) {
        char key[16];
        seed = seed * 1103515245u + 12345u;
        snprintf(key, sizeof key, "c%u", (seed >> 8) % 400);
        fails += pr_cache_put(c, key, strlen(key), val, 500 + (seed >> 4) % 2500, NULL) != 0;
        if (i % 100 == 99) {
            pr_cache_stats(c, &st);
            max_over += st.orphans > st.entries;
        }
        fake_now += S / 10;
    }
    pr_cache_stats(c, &st);
    ok(fails == 0 && max_over == 0, "5000 replacing puts into 1 MiB: none fails, orphans <= entries");
    ok(st.evictions > 0 && st.used_bytes <= st.map_bytes, "eviction ran (%llu), %llu orphans",
       (unsigned long long)st.evictions, (unsigned long long)st.orphans);
    pr_cache_close(c);
    is_int((int)index_records(tmp_path("orphans_small.mdb")), (int)(st.entries + st.orphans),
           "after eviction the index is still the entries and the orphans");
}

/* The record header as files of every layout so far store it: the test
 * writes files of the older layouts byte for byte. */
struct old_rec {
    int64_t stored_ns, expires_ns, stale_until_ns;
    uint64_t seq;
    uint32_t flags;
    uint16_t ct_len, version;
};

static void be64_put(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* Write entries k0..k(n-1) -> "value i" (TTL 100 s from fake_now) in the
 * old layout: "entries" and "expiry", the state last in "expiry", or in a
 * "meta" database (state key "state") for the layout before that.  A
 * batch that runs out of room is dropped: *n says how many made it. */
static int write_old(const char *path, size_t mb, int *n, int with_meta)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi ent, exp, meta;
    uint64_t st[2] = { 0, 0 };  /* next_seq, bytes */
    int want = *n, rc = 0;

    *n = 0;
    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 4)) ||
        (rc = mdb_env_set_mapsize(env, mb << 20)) ||
        (rc = mdb_env_open(env, path, MDB_NOSUBDIR, 0644)))
        goto out;
    for (int i = 0; i < want && !rc; i += 20) {
        uint64_t saved[2] = { st[0], st[1] };
        if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
            break;
        if ((rc = mdb_dbi_open(txn, "entries", MDB_CREATE, &ent)) ||
            (rc = mdb_dbi_open(txn, "expiry", MDB_CREATE, &exp)) ||
            (with_meta && (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &meta))))
            goto abort;
        for (int j = i; j < i + 20 && j < want && !rc; j++) {
            char key[32], buf[128];
            unsigned char ik[16];
            struct old_rec r = { fake_now, fake_now + 100 * S, fake_now + 100 * S, st[0]++,
                                 0, 4, 1 };
            int vl = snprintf(buf + sizeof r + 5, sizeof buf - sizeof r - 5, "value %d", j);
            memcpy(buf, &r, sizeof r);
            memcpy(buf + sizeof r, "text", 5);
            MDB_val k = { (size_t)snprintf(key, sizeof key, "k%d", j), key },
                    v = { sizeof r + 5 + (size_t)vl, buf }, ikv = { 16, ik };
            be64_put(ik, (uint64_t)r.stale_until_ns);
            be64_put(ik + 8, r.seq);
            st[1] += k.mv_size + v.mv_size;
            if (!(rc = mdb_put(txn, ent, &k, &v, 0)))
                rc = mdb_put(txn, exp, &ikv, &k, 0);
        }
        MDB_val sk = { 1, "\xff" }, mk = { 5, "state" }, sv = { sizeof st, st };
        if (!rc)
            rc = with_meta ? mdb_put(txn, meta, &mk, &sv, 0) : mdb_put(txn, exp, &sk, &sv, 0);
        if (!rc && !(rc = mdb_txn_commit(txn))) {
            *n = i + 20 < want ? i + 20 : want;
            continue;
        }
        st[0] = saved[0];
        st[1] = saved[1];
        if (0) {
abort:
            mdb_txn_abort(txn);
            break;
        }
        if (rc != MDB_MAP_FULL)
            mdb_txn_abort(txn);  /* commit failures abort on their own */
    }
out:
    mdb_env_close(env);
    return rc == MDB_MAP_FULL ? 0 : rc;
}

static int old_dbs_left(const char *path)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    int left = -1;
    if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 4) ||
        mdb_env_open(env, path, MDB_NOSUBDIR, 0644)) {
        mdb_env_close(env);
        return -1;
    }
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
        left = (mdb_dbi_open(txn, "expiry", 0, &dbi) != MDB_NOTFOUND) +
               (mdb_dbi_open(txn, "meta", 0, &dbi) != MDB_NOTFOUND);
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return left;
}

static void test_old_layouts(void)
{
    for (int meta = 0; meta < 2; meta++) {
        const char *name = meta ? "old_meta.mdb" : "old_expiry.mdb";
        const char *what = meta ? "\"meta\" layout" : "\"expiry\" layout";
        int n = 300, good = 0;
        pr_cache_stats_t st;
        pr_cache_entry_t e;
        pr_cache_t *c;
        int64_t t0 = fake_now;

        if (write_old(tmp_path(name), 4, &n, meta) || n != 300)
            bail_out("cannot write an old-layout file");
        c = open_fake(name, 4, 3600);
        for (int i = 0; i < n; i++) {
            char key[16], want[32];
            snprintf(key, sizeof key, "k%d", i);
            snprintf(want, sizeof want, "value %d", i);
            pr_cache_get(c, key, strlen(key), &e);
            good += e.state == PR_CACHE_FRESH && value_is(&e, want) &&
                    !strcmp(e.content_type, "text");
        }
        ok(good == 300, "%s: every entry reads back after the move (%d)", what, good);
        pr_cache_stats(c, &st);
        ok(st.entries == 300 && st.bytes > 300 * 40 && st.open_drops == 0 && st.orphans == 0,
           "%s: 300 entries, %llu bytes, nothing dropped", what, (unsigned long long)st.bytes);
        put_s(c, "k7", "newer", 1000);
        pr_cache_get(c, "k7", 2, &e);
        ok(value_is(&e, "newer"), "%s: a put replaces a moved entry", what);
        fake_now = t0 + 200 * S;
        purge_all(c);
        pr_cache_stats(c, &st);
        ok(st.entries == 1 && st.purged == 299, "%s: the moved index purges (%llu left)", what,
           (unsigned long long)st.entries);
        pr_cache_close(c);
        ok(old_dbs_left(tmp_path(name)) == 0, "%s: the old databases are gone", what);
        fake_now = t0;
    }

    /* An old file filled to the brim: its index cannot be copied, so the
     * file is emptied, counted, and works. */
    int n = 100000;
    pr_cache_stats_t st;
    pr_cache_t *c;
    if (write_old(tmp_path("old_full.mdb"), 1, &n, 0) || n < 1000)
        bail_out("cannot fill an old-layout file");
    c = open_fake("old_full.mdb", 1, 3600);
    pr_cache_stats(c, &st);
    ok(st.entries == 0 && st.open_drops == (uint64_t)n,
       "full old file: emptied at open, %llu of %d entries counted as dropped",
       (unsigned long long)st.open_drops, n);
    is_int(put_s(c, "after", "works", 10), 0, "and the cache works");
    pr_cache_close(c);
    is_int(old_dbs_left(tmp_path("old_full.mdb")), 0, "full old file: the old databases are gone");
}

int main(void)
{
    /* Real LMDB files, on tmpfs when there is one: these tests make ~10000
     * puts, each an fdatasync that costs milliseconds on a disk.  The
     * durability on a disk is cache_kill.t's job. */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                       : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/perch-cache.XXXXXX", base);
    if (!mkdtemp(dir))
        bail_out("mkdtemp");
    test_bad_args();
    test_open_errors();
    test_fresh_stale_miss();
    test_eviction();
    test_purge();
    test_reopen_and_share();
    test_other_process();
    test_get_fresh();
    test_sync();
    test_orphans();
    test_old_layouts();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
    return exit_status();
}
