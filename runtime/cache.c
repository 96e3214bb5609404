/* cache.c - the response cache on LMDB: TTL, stale-while-revalidate with one
 * refresh in flight per key, eviction before the map fills, bounded purges.
 *
 * Layout of the LMDB file: one named database and the main one.
 *   "entries"  key -> record: struct rec header, content type + NUL, value
 *   main       the expiry index, BE64 stale_until_ns || BE64 seq -> key
 *              (16-byte keys).  Ordered by the time an entry becomes
 *              useless, so the first record is both the next to purge and
 *              the first to evict.  seq makes index keys unique and lets a
 *              record find its own entry.  Besides them, and after them
 *              (stale_until_ns >= 0, so an index key starts with a byte
 *              <= 0x7F, and today with 0x17), LMDB's own record of the
 *              "entries" database (key "entries") and, last, the 1-byte key
 *              0xFF -> struct state: next seq, byte total, orphan count,
 *              kept in the same transactions as the entries so they never
 *              disagree.
 * Why the index is the main database: a commit writes every page it
 * dirtied with a pwrite of its own (~2 us each on the project's VM: most
 * of a put), and LMDB rewrites the named databases' records in the main
 * database at every commit.  With the index there, those records, the
 * state and the newest index records share the main database's rightmost
 * leaf, which a put dirties anyway.  A replacing put at 100k entries of
 * 1 KiB writes the entries path (4 pages: root, two branch levels, leaf),
 * the index's rightmost path (3), the free list (1) and the meta page: 9
 * pwrites, where a named "expiry" database and deleting the old index
 * record took 11.5.  One tree for both (a prefix byte on every key) would
 * save no page, the index part being as deep, and would cost a byte of the
 * 511 LMDB allows a key.
 * Files of the older layouts (a named "expiry" database; before that a
 * "meta" one for the state) are moved over at open in one transaction:
 * only the index is copied, the entries stay where they are.  If the copy
 * does not fit in the map, the file is emptied instead (logged, counted in
 * open_drops): it is a cache.
 *
 * Orphans: replacing an entry leaves its old index record behind rather
 * than deleting it, which would dirty a random index leaf and its branch
 * (two more pwrites per put).  An orphan is recognised by its seq not
 * matching the entry's and removed when it comes first: by the purge once
 * its deadline passes, or by eviction.  Their count is kept in the state
 * and bounded: while it is below the number of entries, a replacement
 * leaves an orphan; at the bound (at most one orphan per live entry, so
 * the index at most doubles), and when the old record is among the last
 * RECENT_SEQ written (it is then in the leaf the new one dirties anyway),
 * the old record is deleted as before.
 *
 * Room: "in use" is the sum of the B-tree pages of every database (LMDB
 * keeps those counts in O(1) stats), which leaves out the pages on the free
 * list.  A put that would take in-use pages above HIGH_WATER of the map
 * first evicts within its own transaction.  Pages freed by a transaction
 * can only be reused two commits later, and overflow values need
 * contiguous runs, so MDB_MAP_FULL can still happen: then the put is
 * aborted, a separate transaction evicts a batch (doubling each round) and
 * commits, and the put is retried.  Every eviction transaction rewrites the
 * state record, so it always commits a new transaction id and the round
 * before it becomes reusable.  Only when two rounds in a row found nothing
 * to evict is the entry itself too large.
 *
 * Commits (cache.h's "Durability"): the environment is opened with
 * MDB_NOSYNC, so a commit only pwrite()s its pages into the OS page cache
 * (a kill -9 cannot undo that), and every commit sets `dirty`.  A thread per
 * environment wakes every sync_ms and, if dirty, calls mdb_env_sync(force):
 * one fdatasync that makes every commit before it durable.  That thread
 * touches nothing but `dirty`, its own counters and mdb_env_sync, which in
 * LMDB 0.9 is a bare fdatasync on the data file; the loop thread never
 * waits for it.  sync_ms = 0 turns MDB_NOSYNC off instead (LMDB syncs in
 * every commit, on the caller's thread) and stops the thread. */
#include "cache.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#define HIGH_WATER_NUM 3       /* proactive eviction above 3/4 of the map */
#define HIGH_WATER_DEN 4
#define EVICT_PER_PUT  1024    /* bound on proactive evictions in one put */
#define FULL_ROUNDS    48      /* MAP_FULL retries before giving up */
#define CLAIM_BUCKETS  256
#define NS             1000000000LL
#define MAX_SECONDS    1e9     /* ~31 years: keeps ns sums far from INT64_MAX */
#define FUTURE_SLACK_NS NS     /* stored more than 1 s ahead: clock stepped back */
#define COMMIT_NS_GUESS 4000   /* purge: commit ns per entry before one was timed */
#define RECENT_SEQ     32      /* an old index record this recent is deleted */
#define MAIN_DBI       1       /* LMDB's main database: the expiry index */

/* ------------------------------------------------------------ records -- */

struct rec {                   /* at the start of every "entries" value */
    int64_t stored_ns, expires_ns, stale_until_ns;
    uint64_t seq;
    uint32_t flags;
    uint16_t ct_len;           /* content type bytes, a NUL follows */
    uint16_t version;
};
#define REC_VERSION 1

struct state {                 /* main database, key STATE_KEY */
    uint64_t next_seq;
    uint64_t bytes;            /* sum of key + record sizes of all entries */
    uint64_t orphans;          /* index records whose entry was replaced */
};
#define STATE_V1_SIZE 16       /* without orphans: files from before them */

#define IKEY_LEN 16
#define STATE_KEY "\xff"       /* in the main database, after every index key */

static void be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void ikey(unsigned char *k, int64_t stale_until, uint64_t seq)
{
    be64(k, (uint64_t)stale_until);
    be64(k + 8, seq);
}

/* ------------------------------------------------- shared environments -- */

struct claim {
    struct claim *next;
    int64_t until_ns;          /* the claim lapses at this (cache clock) time */
    size_t klen;
    unsigned char key[];
};

/* One per LMDB file open in this process, shared by its handles. */
struct env {
    struct env *next;
    dev_t dev;
    ino_t ino;
    pid_t pid;                 /* the opener: a forked child opens its own */
    int refs;
    MDB_env *mdb;
    MDB_dbi entries;
    MDB_txn *rtxn;             /* reused read transaction; reset when idle */
    int rtxn_live;             /* renewed: its snapshot backs the last get */
    size_t map_bytes, psize;
    size_t map_pages;
    struct claim *claims[CLAIM_BUCKETS];
    pr_cache_stats_t st;       /* counters; the gauges are filled in on demand */
    /* Commit policy, shared by the file's handles: the strictest asked for.
     * nosync: MDB_NOSYNC is set and the sync thread runs. */
    unsigned sync_ms;
    int nosync;
    double commit_ns;          /* purge: commit time per purged entry, learned */
    struct {
        pthread_t th;
        pthread_mutex_t mu;    /* guards stop and sync_ms for the thread */
        pthread_cond_t cv;
        int inited, started, stop;
        atomic_int dirty;      /* a commit since the last sync began */
        atomic_uint_fast64_t syncs, errors;
        atomic_int last_err;   /* of the last failed sync, 0 after a good one */
    } sync;
};

struct pr_cache {
    struct env *e;
    char *path;
    int64_t ttl_ns, stale_ns, refresh_ns;
    pr_cache_clock_fn clock;
    void *clock_ud;
    /* background purge: a one-shot timerfd watched weakly by the loop */
    pr_io_t io;
    int tfd;
    int64_t period_ns;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct env *registry;

static int lerr(int rc)
{
    return rc > 0 ? -rc : rc;  /* LMDB returns system errors as positive errno */
}

static int64_t now_ns(const pr_cache_t *c)
{
    int64_t t;
    if (c->clock) {
        t = c->clock(c->clock_ud);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        t = (int64_t)ts.tv_sec * NS + ts.tv_nsec;
    }
    return t < 0 ? 0 : t;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* Every call starts here: the last get's snapshot is released, so it never
 * pins pages a writer wants to reuse. */
static void idle(struct env *e)
{
    if (e->rtxn_live) {
        mdb_txn_reset(e->rtxn);
        e->rtxn_live = 0;
    }
}

/* Gets reuse the last get's snapshot while it is the newest: every write of
 * this process resets it first (idle), and a commit by another process
 * shows as a newer transaction id in the meta page, which is two loads to
 * read.  A renew per get cost about 100 ns of an 850 ns hit. */
static int read_begin(struct env *e)
{
    int rc;
    if (e->rtxn_live) {
        MDB_envinfo info;
        mdb_env_info(e->mdb, &info);
        if (info.me_last_txnid == mdb_txn_id(e->rtxn))
            return 0;
    }
    idle(e);
    rc = mdb_txn_renew(e->rtxn);
    if (rc)
        return lerr(rc);
    e->rtxn_live = 1;
    return 0;
}

static int data_file_id(const char *path, int isdir, struct stat *st)
{
    char buf[PATH_MAX];
    if (!isdir)
        return stat(path, st);
    if (snprintf(buf, sizeof buf, "%s/data.mdb", path) >= (int)sizeof buf)
        return -1;
    return stat(buf, st);
}

/* ------------------------------------------------------------ syncing -- */

/* fdatasync the file if anything was committed since the last one.  A
 * failed sync leaves the file dirty, so the next one retries. */
static int sync_now(struct env *e)
{
    int rc;
    if (!atomic_exchange(&e->sync.dirty, 0))
        return 0;
    if ((rc = mdb_env_sync(e->mdb, 1))) {
        atomic_store(&e->sync.dirty, 1);
        atomic_fetch_add(&e->sync.errors, 1);
        atomic_store(&e->sync.last_err, lerr(rc));
        return lerr(rc);
    }
    atomic_fetch_add(&e->sync.syncs, 1);
    atomic_store(&e->sync.last_err, 0);
    return 0;
}

static void *sync_main(void *arg)
{
    struct env *e = arg;
    struct timespec at;
    int64_t last = mono_ns(), due;

    pthread_mutex_lock(&e->sync.mu);
    while (!e->sync.stop) {
        /* Recomputed after every wake-up: a shorter sync_ms applies at once. */
        due = last + (int64_t)e->sync_ms * 1000000;
        if (mono_ns() < due) {
            at.tv_sec = due / NS;
            at.tv_nsec = due % NS;
            pthread_cond_timedwait(&e->sync.cv, &e->sync.mu, &at);
            continue;
        }
        pthread_mutex_unlock(&e->sync.mu);
        last = mono_ns();
        sync_now(e);
        pthread_mutex_lock(&e->sync.mu);
    }
    pthread_mutex_unlock(&e->sync.mu);
    return NULL;
}

static int sync_init(struct env *e)
{
    pthread_condattr_t ca;
    int rc;
    if ((rc = pthread_condattr_init(&ca)))
        return -rc;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&e->sync.cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc)
        return -rc;
    if ((rc = pthread_mutex_init(&e->sync.mu, NULL))) {
        pthread_cond_destroy(&e->sync.cv);
        return -rc;
    }
    e->sync.inited = 1;
    return 0;
}

static void sync_stop(struct env *e)
{
    if (!e->sync.started)
        return;
    pthread_mutex_lock(&e->sync.mu);
    e->sync.stop = 1;
    pthread_cond_signal(&e->sync.cv);
    pthread_mutex_unlock(&e->sync.mu);
    pthread_join(e->sync.th, NULL);
    e->sync.started = 0;
}

/* Commit a write transaction.  Under MDB_NOSYNC the pages are in the page
 * cache once this returns; the sync thread makes them durable. */
static int commit(struct env *e, MDB_txn *txn)
{
    int rc = mdb_txn_commit(txn);
    if (rc)
        return lerr(rc);
    if (e->nosync)
        atomic_store(&e->sync.dirty, 1);
    return 0;
}

/* ---------------------------------------------------------- environment -- */

/* Move what a file of an older layout keeps elsewhere into the main
 * database, in the open's transaction: the records of "expiry" (index
 * records and the state, in the same format) and then the state of the
 * even older "meta" database; both databases are dropped.  The entries
 * stay where they are, so the room needed is the index's.  *found: there
 * was something to move. */
static int layout_move(MDB_txn *txn, int *found)
{
    unsigned char kb[IKEY_LEN], vb[PR_CACHE_KEY_MAX];
    MDB_val k = { 5, (void *)"state" }, v, sk = { 1, (void *)STATE_KEY };
    MDB_cursor *cur;
    MDB_dbi old;
    int rc = mdb_dbi_open(txn, "expiry", 0, &old);

    *found = 0;
    if (rc == 0) {
        *found = 1;
        if ((rc = mdb_cursor_open(txn, old, &cur)))
            return rc;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size > sizeof kb || v.mv_size > sizeof vb) {
                rc = MDB_CORRUPTED;
                break;
            }
            /* Copies: the source page must not be what the put changes. */
            memcpy(kb, k.mv_data, k.mv_size);
            memcpy(vb, v.mv_data, v.mv_size);
            k.mv_data = kb;
            v.mv_data = vb;
            if ((rc = mdb_put(txn, MAIN_DBI, &k, &v, 0)))
                break;
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND || (rc = mdb_drop(txn, old, 1)))
            return rc;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    rc = mdb_dbi_open(txn, "meta", 0, &old);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    *found = 1;
    k.mv_size = 5;
    k.mv_data = (void *)"state";
    rc = mdb_get(txn, old, &k, &v);
    if (rc == 0) {
        if (v.mv_size != STATE_V1_SIZE && v.mv_size != sizeof(struct state))
            return MDB_CORRUPTED;
        memcpy(vb, v.mv_data, v.mv_size);
        v.mv_data = vb;
        if ((rc = mdb_put(txn, MAIN_DBI, &sk, &v, 0)))
            return rc;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    return mdb_drop(txn, old, 1);
}

/* The fallback when the map has no room for a copy of an older layout's
 * index: drop everything.  *dropped: the entries there were. */
static int layout_empty(struct env *e, MDB_txn *txn, uint64_t *dropped)
{
    static const char *const old[] = { "expiry", "meta" };
    MDB_val sk = { 1, (void *)STATE_KEY };
    MDB_stat ms;
    MDB_dbi dbi;
    int rc;

    if ((rc = mdb_stat(txn, e->entries, &ms)) || (rc = mdb_drop(txn, e->entries, 0)))
        return rc;
    *dropped = ms.ms_entries;
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        rc = mdb_dbi_open(txn, old[i], 0, &dbi);
        if (rc == 0)
            rc = mdb_drop(txn, dbi, 1);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
    }
    rc = mdb_del(txn, MAIN_DBI, &sk, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Open the entries database and bring an older layout over. */
static int layout_open(struct env *e, const char *path)
{
    MDB_txn *txn;
    uint64_t dropped = 0;
    int rc, found;

    if ((rc = mdb_txn_begin(e->mdb, NULL, 0, &txn)))
        return lerr(rc);
    if (!(rc = mdb_dbi_open(txn, "entries", MDB_CREATE, &e->entries)))
        rc = layout_move(txn, &found);
    if (rc == MDB_MAP_FULL) {
        mdb_txn_abort(txn);
        if ((rc = mdb_txn_begin(e->mdb, NULL, 0, &txn)))
            return lerr(rc);
        if (!(rc = mdb_dbi_open(txn, "entries", 0, &e->entries)) &&
            !(rc = layout_empty(e, txn, &dropped))) {
            pr_log_warn("cache %s: no room in the map to move this older file's index "
                        "over: emptied it (%llu entries dropped)", path,
                        (unsigned long long)dropped);
            e->st.open_drops = dropped;
        }
    }
    if (rc) {
        mdb_txn_abort(txn);
        return lerr(rc);
    }
    return commit(e, txn);
}

static int env_open(struct env *e, const char *path, int isdir, size_t max_mb)
{
    unsigned flags = MDB_NOTLS | MDB_NOSYNC | (isdir ? 0 : MDB_NOSUBDIR);
    MDB_envinfo info;
    MDB_stat ms;
    int rc, dead;

    if ((rc = mdb_env_create(&e->mdb)))
        return lerr(rc);
    if ((rc = mdb_env_set_maxdbs(e->mdb, 3)) ||
        (rc = mdb_env_set_mapsize(e->mdb, max_mb << 20)) ||
        (rc = mdb_env_open(e->mdb, path, flags, 0644)))
        return lerr(rc);
    /* Reader slots of processes that died (kill -9) would pin old pages
     * forever and make the map look full. */
    mdb_reader_check(e->mdb, &dead);
    e->nosync = 1;
    e->sync_ms = PR_CACHE_DEFAULT_SYNC_MS;
    e->commit_ns = COMMIT_NS_GUESS;
    if ((rc = layout_open(e, path)))
        return rc;
    mdb_env_info(e->mdb, &info);
    mdb_env_stat(e->mdb, &ms);
    e->map_bytes = info.me_mapsize;
    e->psize = ms.ms_psize;
    e->map_pages = e->map_bytes / e->psize;
    if ((rc = mdb_txn_begin(e->mdb, NULL, MDB_RDONLY, &e->rtxn)))
        return lerr(rc);
    mdb_txn_reset(e->rtxn);
    if ((rc = sync_init(e)))
        return rc;
    if ((rc = pthread_create(&e->sync.th, NULL, sync_main, e)))
        return -rc;
    e->sync.started = 1;
    return 0;
}

static void claims_clear(struct env *e)
{
    for (int i = 0; i < CLAIM_BUCKETS; i++) {
        while (e->claims[i]) {
            struct claim *cl = e->claims[i];
            e->claims[i] = cl->next;
            free(cl);
        }
    }
}

static void env_free(struct env *e)
{
    sync_stop(e);
    if (e->rtxn)
        mdb_txn_abort(e->rtxn);
    if (e->mdb) {
        sync_now(e);  /* the last commits, before the file is let go */
        mdb_env_close(e->mdb);
    }
    if (e->sync.inited) {
        pthread_mutex_destroy(&e->sync.mu);
        pthread_cond_destroy(&e->sync.cv);
    }
    claims_clear(e);
    free(e);
}

/* Find the file in the registry or open it.  Called with registry_lock. */
static int env_get(const char *path, size_t max_mb, struct env **out)
{
    struct stat st;
    int isdir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    struct env *e;
    int rc;

    if (data_file_id(path, isdir, &st) == 0) {
        for (e = registry; e; e = e->next) {
            /* LMDB environments must not cross a fork: a child process
             * that opens the file gets an environment of its own. */
            if (e->dev == st.st_dev && e->ino == st.st_ino && e->pid == getpid()) {
                e->refs++;
                *out = e;
                return 0;
            }
        }
    }
    if (!(e = calloc(1, sizeof *e)))
        return PR_ENOMEM;
    if ((rc = env_open(e, path, isdir, max_mb)) < 0) {
        env_free(e);
        return rc;
    }
    if (data_file_id(path, isdir, &st) != 0) {
        rc = -errno;
        env_free(e);
        return rc;
    }
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    e->pid = getpid();
    e->refs = 1;
    e->next = registry;
    registry = e;
    *out = e;
    return 0;
}

static void env_put(struct env *e)
{
    pthread_mutex_lock(&registry_lock);
    if (--e->refs == 0) {
        for (struct env **p = &registry; *p; p = &(*p)->next) {
            if (*p == e) {
                *p = e->next;
                break;
            }
        }
        env_free(e);
    }
    pthread_mutex_unlock(&registry_lock);
}

/* -------------------------------------------------------------- claims -- */

static size_t claim_bucket(const void *key, size_t klen)
{
    const unsigned char *p = key;
    uint32_t h = 2166136261u;  /* FNV-1a */
    for (size_t i = 0; i < klen; i++)
        h = (h ^ p[i]) * 16777619u;
    return h % CLAIM_BUCKETS;
}

/* Find key's live claim, dropping lapsed ones of the bucket on the way.
 * Returns the link pointing at it, or NULL. */
static struct claim **claim_find(struct env *e, const void *key, size_t klen, int64_t now)
{
    struct claim **p = &e->claims[claim_bucket(key, klen)];
    while (*p) {
        struct claim *cl = *p;
        if (cl->until_ns <= now) {
            *p = cl->next;
            free(cl);
            continue;
        }
        if (cl->klen == klen && memcmp(cl->key, key, klen) == 0)
            return p;
        p = &cl->next;
    }
    return NULL;
}

static void claim_drop(struct env *e, const void *key, size_t klen)
{
    struct claim **p = claim_find(e, key, klen, INT64_MIN);
    if (p) {
        struct claim *cl = *p;
        *p = cl->next;
        free(cl);
    }
}

/* 1 if this caller gets the refresh: no live claim existed, now it does.
 * Out of memory, it says 1 without recording: a second refresh is better
 * than none. */
static int claim_take(pr_cache_t *c, const void *key, size_t klen, int64_t now)
{
    struct env *e = c->e;
    struct claim *cl;
    size_t b;

    if (claim_find(e, key, klen, now))
        return 0;
    if ((cl = malloc(sizeof *cl + klen))) {
        b = claim_bucket(key, klen);
        cl->until_ns = now + c->refresh_ns;
        cl->klen = klen;
        memcpy(cl->key, key, klen);
        cl->next = e->claims[b];
        e->claims[b] = cl;
    }
    return 1;
}

/* ---------------------------------------------------------- open/close -- */

static int check_seconds(double s, int allow_zero)
{
    return isfinite(s) && (s > 0 || (allow_zero && s == 0)) && s <= MAX_SECONDS;
}

int pr_cache_open(pr_cache_t **out, const char *path, size_t max_mb, double default_ttl_s)
{
    pr_cache_t *c;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !path || !*path || max_mb == 0 || max_mb > (SIZE_MAX >> 21) ||
        !check_seconds(default_ttl_s, 0))
        return PR_EINVAL;
    if (!(c = calloc(1, sizeof *c)) || !(c->path = strdup(path))) {
        free(c);
        return PR_ENOMEM;
    }
    c->ttl_ns = c->stale_ns = (int64_t)(default_ttl_s * 1e9);
    c->refresh_ns = (int64_t)(PR_CACHE_REFRESH_TIMEOUT_S * 1e9);
    c->tfd = -1;
    pthread_mutex_lock(&registry_lock);
    rc = env_get(path, max_mb, &c->e);
    pthread_mutex_unlock(&registry_lock);
    if (rc < 0) {
        free(c->path);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void pr_cache_close(pr_cache_t *c)
{
    if (!c)
        return;
    pr_cache_detach(c);
    idle(c->e);
    env_put(c->e);
    free(c->path);
    free(c);
}

int pr_cache_set_stale(pr_cache_t *c, double stale_s)
{
    if (!c || !check_seconds(stale_s, 1))
        return PR_EINVAL;
    c->stale_ns = (int64_t)(stale_s * 1e9);
    return 0;
}

int pr_cache_set_refresh_timeout(pr_cache_t *c, double timeout_s)
{
    if (!c || !check_seconds(timeout_s, 0))
        return PR_EINVAL;
    c->refresh_ns = (int64_t)(timeout_s * 1e9);
    return 0;
}

void pr_cache_set_clock(pr_cache_t *c, pr_cache_clock_fn fn, void *ud)
{
    c->clock = fn;
    c->clock_ud = ud;
}

int pr_cache_set_sync(pr_cache_t *c, unsigned sync_ms)
{
    struct env *e;
    int rc;

    if (!c || sync_ms > PR_CACHE_SYNC_MS_MAX)
        return PR_EINVAL;
    e = c->e;
    if (!e->nosync || sync_ms >= e->sync_ms)
        return 0;  /* as strict already */
    if (sync_ms > 0) {
        pthread_mutex_lock(&e->sync.mu);
        e->sync_ms = sync_ms;
        pthread_cond_signal(&e->sync.cv);
        pthread_mutex_unlock(&e->sync.mu);
        return 0;
    }
    /* Every commit synced from now on, by LMDB; then the commits that were
     * only written so far. */
    sync_stop(e);
    e->sync_ms = 0;
    e->nosync = 0;
    if ((rc = mdb_env_set_flags(e->mdb, MDB_NOSYNC, 0)))
        return lerr(rc);
    return sync_now(e);
}

unsigned pr_cache_sync_ms(const pr_cache_t *c) { return c->e->sync_ms; }

int pr_cache_sync(pr_cache_t *c)
{
    if (!c)
        return PR_EINVAL;
    return sync_now(c->e);
}

const char *pr_cache_path(const pr_cache_t *c) { return c->path; }

/* ------------------------------------------------------------- writing -- */

/* B-tree pages of every database, plus the two meta pages: what is not on
 * LMDB's free list.  O(1): the counts live in each database's record. */
static size_t pages_in_use(struct env *e, MDB_txn *txn)
{
    MDB_dbi dbis[] = { 0 /* free list */, MAIN_DBI, e->entries };
    size_t n = 2;
    for (size_t i = 0; i < sizeof dbis / sizeof dbis[0]; i++) {
        MDB_stat ms;
        if (mdb_stat(txn, dbis[i], &ms) == 0)
            n += ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages;
    }
    return n;
}

static int state_read(MDB_txn *txn, struct state *s)
{
    MDB_val k = { 1, (void *)STATE_KEY }, v;
    int rc = mdb_get(txn, MAIN_DBI, &k, &v);
    memset(s, 0, sizeof *s);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return lerr(rc);
    if (v.mv_size != sizeof *s && v.mv_size != STATE_V1_SIZE)
        return MDB_CORRUPTED;
    memcpy(s, v.mv_data, v.mv_size);
    return 0;
}

static int state_write(MDB_txn *txn, const struct state *s)
{
    MDB_val k = { 1, (void *)STATE_KEY }, v = { sizeof *s, (void *)s };
    return lerr(mdb_put(txn, MAIN_DBI, &k, &v, 0));
}

static int rec_read(const MDB_val *v, struct rec *r)
{
    if (v->mv_size < sizeof *r)
        return MDB_CORRUPTED;
    memcpy(r, v->mv_data, sizeof *r);
    if (r->version != REC_VERSION || v->mv_size < sizeof *r + r->ct_len + 1u)
        return MDB_CORRUPTED;
    return 0;
}

/* Put cur (on the main database) on the first index record: the first
 * 16-byte key, as the "entries" record and the state have other lengths.
 * 0, MDB_NOTFOUND for an empty index, or an LMDB error. */
static int index_first(MDB_cursor *cur, MDB_val *ik, MDB_val *iv)
{
    int rc = mdb_cursor_get(cur, ik, iv, MDB_FIRST);
    while (rc == 0 && ik->mv_size != IKEY_LEN)
        rc = mdb_cursor_get(cur, ik, iv, MDB_NEXT);
    return rc;
}

/* Drop the first record of the expiry index and its entry, if it is still
 * the entry's own.  Returns DROP_ENTRY, DROP_ORPHAN (an index record left
 * behind by a replacement), 0 if the index is empty, or an error.
 * replacing (or NULL): the key a put is replacing in this transaction,
 * whose entry is still the old one but whose index record is already
 * counted as an orphan. */
#define DROP_ENTRY  1
#define DROP_ORPHAN 2
static int drop_first(struct env *e, MDB_txn *txn, MDB_cursor *cur, struct state *s,
                      int64_t now, const MDB_val *replacing)
{
    unsigned char key[PR_CACHE_KEY_MAX];
    MDB_val ik, iv, k, v;
    struct rec r;
    int rc = index_first(cur, &ik, &iv);

    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return lerr(rc);
    if (iv.mv_size == 0 || iv.mv_size > sizeof key)
        return MDB_CORRUPTED;
    /* The key's bytes live in the page about to change: copy them. */
    memcpy(key, iv.mv_data, iv.mv_size);
    k.mv_size = iv.mv_size;
    k.mv_data = key;
    int64_t dead = (int64_t)get_be64(ik.mv_data);
    uint64_t seq = get_be64((unsigned char *)ik.mv_data + 8);
    if ((rc = mdb_cursor_del(cur, 0)))
        return lerr(rc);
    rc = mdb_get(txn, e->entries, &k, &v);
    /* Only the entry this index record was made for: a mismatch would be an
     * orphan index record, which is simply gone now. */
    if (rc == 0 && rec_read(&v, &r) == 0 && r.seq == seq &&
        !(replacing && replacing->mv_size == k.mv_size &&
          memcmp(replacing->mv_data, key, k.mv_size) == 0)) {
        size_t sz = k.mv_size + v.mv_size;
        if ((rc = mdb_del(txn, e->entries, &k, NULL)))
            return lerr(rc);
        s->bytes = s->bytes >= sz ? s->bytes - sz : 0;
        if (dead <= now)
            e->st.purged++;
        else
            e->st.evictions++;
        return DROP_ENTRY;
    }
    if (rc && rc != MDB_NOTFOUND)
        return lerr(rc);
    s->orphans -= s->orphans > 0;
    return DROP_ORPHAN;
}

/* One put attempt in one transaction.  need_pages: estimate of the pages
 * the record takes, for the proactive eviction. */
static int put_txn(pr_cache_t *c, const MDB_val *key, const struct rec *r, const char *ct,
                   const void *val, size_t vlen, size_t reclen, size_t need_pages,
                   int64_t now)
{
    struct env *e = c->e;
    size_t high = e->map_pages / HIGH_WATER_DEN * HIGH_WATER_NUM;
    unsigned char ik[IKEY_LEN];
    MDB_val k = *key, v, ikv = { IKEY_LEN, ik }, iv = *key;
    MDB_txn *txn;
    MDB_cursor *cur = NULL;
    struct state s;
    struct rec old, nr = *r;
    MDB_stat ms;
    int rc, lazy = 0;

    if ((rc = mdb_txn_begin(e->mdb, NULL, 0, &txn)))
        return lerr(rc);
    if ((rc = state_read(txn, &s)))
        goto fail;
    rc = mdb_get(txn, e->entries, &k, &v);
    if (rc == 0) {
        /* Replacing: the byte total drops, and the old index record stays
         * as an orphan while they are fewer than the entries (see the top
         * of the file), unless it is among the newest. */
        if ((rc = rec_read(&v, &old)) || (rc = mdb_stat(txn, e->entries, &ms)))
            goto fail;
        s.bytes -= s.bytes >= k.mv_size + v.mv_size ? k.mv_size + v.mv_size : s.bytes;
        if (s.orphans < ms.ms_entries && s.next_seq - old.seq > RECENT_SEQ) {
            s.orphans++;
            lazy = 1;
        } else {
            ikey(ik, old.stale_until_ns, old.seq);
            rc = mdb_del(txn, MAIN_DBI, &ikv, NULL);
            if (rc && rc != MDB_NOTFOUND)
                goto fail_l;
        }
    } else if (rc != MDB_NOTFOUND) {
        goto fail_l;
    }
    if ((rc = mdb_cursor_open(txn, MAIN_DBI, &cur)))
        goto fail_l;
    for (int n = 0; n < EVICT_PER_PUT && pages_in_use(e, txn) + need_pages > high; n++) {
        if ((rc = drop_first(e, txn, cur, &s, now, lazy ? &k : NULL)) <= 0)
            break;
    }
    mdb_cursor_close(cur);
    if (rc < 0)
        goto fail;
    nr.seq = s.next_seq++;
    v.mv_size = reclen;
    if ((rc = mdb_put(txn, e->entries, &k, &v, MDB_RESERVE)))
        goto fail_l;
    memcpy(v.mv_data, &nr, sizeof nr);
    memcpy((char *)v.mv_data + sizeof nr, ct, nr.ct_len);
    ((char *)v.mv_data)[sizeof nr + nr.ct_len] = '\0';
    if (vlen)
        memcpy((char *)v.mv_data + sizeof nr + nr.ct_len + 1, val, vlen);
    ikey(ik, nr.stale_until_ns, nr.seq);
    if ((rc = mdb_put(txn, MAIN_DBI, &ikv, &iv, 0)))
        goto fail_l;
    s.bytes += k.mv_size + reclen;
    if ((rc = state_write(txn, &s)))
        goto fail;
    return commit(e, txn);
fail_l:
    rc = lerr(rc);
fail:
    mdb_txn_abort(txn);
    return rc;
}

/* Evict, in a transaction of its own, until at least `pages` pages left the
 * trees (or the index is empty); *dropped counts the entries.  Then commit
 * one more small transaction: LMDB reuses pages freed by transaction N only
 * from N + 2 on, and the retried put should be that one. */
static int evict_txn(pr_cache_t *c, size_t pages, unsigned *dropped, int64_t now)
{
    struct env *e = c->e;
    MDB_txn *txn;
    MDB_cursor *cur;
    struct state s;
    size_t before;
    int rc;

    *dropped = 0;
    for (int pass = 0; pass < 2; pass++) {
        if ((rc = mdb_txn_begin(e->mdb, NULL, 0, &txn)))
            return lerr(rc);
        if ((rc = state_read(txn, &s)))
            goto fail;
        if (pass == 0) {
            if ((rc = mdb_cursor_open(txn, MAIN_DBI, &cur))) {
                rc = lerr(rc);
                goto fail;
            }
            before = pages_in_use(e, txn);
            while (pages_in_use(e, txn) + pages > before &&
                   (rc = drop_first(e, txn, cur, &s, now, NULL)) > 0)
                (*dropped)++;
            mdb_cursor_close(cur);
            if (rc < 0)
                goto fail;
        }
        /* Rewriting the state record makes even an empty pass a commit. */
        if ((rc = state_write(txn, &s)))
            goto fail;
        if ((rc = commit(e, txn)))
            return rc;
    }
    return 0;
fail:
    mdb_txn_abort(txn);
    return rc;
}

int pr_cache_put(pr_cache_t *c, const void *key, size_t klen, const void *val, size_t vlen,
                 const pr_cache_meta_t *meta)
{
    static const pr_cache_meta_t none;
    const char *ct;
    struct rec r;
    size_t ct_len, reclen, need;
    int64_t now, ttl, stale;
    unsigned empty = 0;
    int rc;

    if (!meta)
        meta = &none;
    ct = meta->content_type ? meta->content_type : "";
    ct_len = strlen(ct);
    if (!c || !key || klen == 0 || klen > PR_CACHE_KEY_MAX || (!val && vlen) ||
        ct_len > PR_CACHE_CT_MAX || !check_seconds(meta->ttl_s, 1) ||
        !(meta->stale_s <= 0 || check_seconds(meta->stale_s, 0)))
        return PR_EINVAL;
    struct env *e = c->e;
    idle(e);
    reclen = sizeof r + ct_len + 1 + vlen;
    if (vlen > e->map_bytes / 2 || reclen + klen > e->map_bytes / 2)
        return PR_ETOOBIG;
    /* Overflow pages for the record, plus the copied-on-write paths. */
    need = (reclen + klen) / e->psize + 1 + 8;

    now = now_ns(c);
    ttl = meta->ttl_s > 0 ? (int64_t)(meta->ttl_s * 1e9) : c->ttl_ns;
    stale = meta->stale_s > 0 ? (int64_t)(meta->stale_s * 1e9) : meta->stale_s < 0 ? 0 : c->stale_ns;
    memset(&r, 0, sizeof r);
    r.stored_ns = now;
    r.expires_ns = now + ttl;
    r.stale_until_ns = r.expires_ns + stale;
    r.flags = meta->flags;
    r.ct_len = (uint16_t)ct_len;
    r.version = REC_VERSION;

    MDB_val k = { klen, (void *)key };
    size_t want = need;
    for (int round = 0;; round++) {
        unsigned dropped;
        rc = put_txn(c, &k, &r, ct, val, vlen, reclen, need, now);
        if (rc != MDB_MAP_FULL)
            break;
        if (round == FULL_ROUNDS)
            return PR_EFULL;
        e->st.full_retries++;
        if ((rc = evict_txn(c, want, &dropped, now)) < 0)
            return rc == MDB_MAP_FULL ? PR_EFULL : rc;
        /* Nothing left to evict, the free list has aged and the few live
         * pages (each commit rewrites them elsewhere) had rounds to move
         * off the run a large value needs: the record alone does not fit. */
        if (!dropped && ++empty >= 4)
            return PR_ETOOBIG;
        /* Free pages are there but no run long enough (overflow values
         * need contiguous pages): ask for more each round. */
        if (want < e->map_pages)
            want *= 2;
    }
    if (rc == 0) {
        e->st.puts++;
        claim_drop(e, key, klen);
    }
    return rc;
}

int pr_cache_del(pr_cache_t *c, const void *key, size_t klen)
{
    struct env *e;
    unsigned char ik[IKEY_LEN];
    MDB_val k = { klen, (void *)key }, v, ikv = { IKEY_LEN, ik };
    MDB_txn *txn;
    struct state s;
    struct rec r;
    int rc;

    if (!c || !key || klen == 0 || klen > PR_CACHE_KEY_MAX)
        return PR_EINVAL;
    e = c->e;
    idle(e);
    claim_drop(e, key, klen);
    if ((rc = mdb_txn_begin(e->mdb, NULL, 0, &txn)))
        return lerr(rc);
    rc = mdb_get(txn, e->entries, &k, &v);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return 0;
    }
    if (rc || (rc = rec_read(&v, &r)) || (rc = state_read(txn, &s)))
        goto fail;
    s.bytes -= s.bytes >= klen + v.mv_size ? klen + v.mv_size : s.bytes;
    ikey(ik, r.stale_until_ns, r.seq);
    rc = mdb_del(txn, MAIN_DBI, &ikv, NULL);
    if ((rc && rc != MDB_NOTFOUND) || (rc = mdb_del(txn, e->entries, &k, NULL)) ||
        (rc = state_write(txn, &s)))
        goto fail;
    if ((rc = commit(e, txn)))
        return rc;
    e->st.dels++;
    return 0;
fail:
    mdb_txn_abort(txn);
    return lerr(rc);
}

void pr_cache_release(pr_cache_t *c, const void *key, size_t klen)
{
    if (c && key)
        claim_drop(c->e, key, klen);
}

/* ------------------------------------------------------------- reading -- */

/* Find key's entry and fill out with it, state unset.  Returns 1 for an
 * entry still of use (before its stale deadline), 0 for none (out says
 * MISS), or an error; counts nothing.  *fresh: before its expiry, and not
 * stored in the future (the clock stepped back). */
static int read_entry(pr_cache_t *c, const void *key, size_t klen, pr_cache_entry_t *out,
                      int64_t *now, int *fresh)
{
    struct env *e;
    MDB_val k = { klen, (void *)key }, v;
    struct rec r;
    int rc;

    if (!out)
        return PR_EINVAL;
    memset(out, 0, sizeof *out);
    out->content_type = "";
    if (!c || !key || klen == 0 || klen > PR_CACHE_KEY_MAX)
        return PR_EINVAL;
    e = c->e;
    if ((rc = read_begin(e)))
        return rc;
    rc = mdb_get(e->rtxn, e->entries, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || (rc = rec_read(&v, &r)))
        return lerr(rc);
    *now = now_ns(c);
    if (*now >= r.stale_until_ns)
        return 0;  /* past any use; the purge takes it */
    out->value = (const char *)v.mv_data + sizeof r + r.ct_len + 1;
    out->len = v.mv_size - sizeof r - r.ct_len - 1;
    out->content_type = (const char *)v.mv_data + sizeof r;
    out->flags = r.flags;
    out->stored_ns = r.stored_ns;
    out->expires_ns = r.expires_ns;
    out->stale_until_ns = r.stale_until_ns;
    *fresh = *now < r.expires_ns && r.stored_ns <= *now + FUTURE_SLACK_NS;
    return 1;
}

int pr_cache_get(pr_cache_t *c, const void *key, size_t klen, pr_cache_entry_t *out)
{
    int64_t now = 0;
    int fresh = 0, rc = read_entry(c, key, klen, out, &now, &fresh);
    struct env *e;

    if (rc < 0)
        return rc;
    e = c->e;
    if (rc == 0) {
        e->st.misses++;
    } else if (fresh) {
        out->state = PR_CACHE_FRESH;
        e->st.hits++;
    } else {
        out->state = PR_CACHE_STALE;
        e->st.stale++;
        out->refresh_due = claim_take(c, key, klen, now);
        e->st.refreshes += (uint64_t)out->refresh_due;
    }
    return 0;
}

int pr_cache_get_fresh(pr_cache_t *c, const void *key, size_t klen, pr_cache_entry_t *out)
{
    int64_t now = 0;
    int fresh = 0, rc = read_entry(c, key, klen, out, &now, &fresh);

    if (rc <= 0)
        return rc;
    if (!fresh) {
        /* stale: the caller's pr_cache_get decides, claim and counts */
        memset(out, 0, sizeof *out);
        out->content_type = "";
        return 0;
    }
    out->state = PR_CACHE_FRESH;
    c->e->st.hits++;
    return 0;
}

int pr_cache_stats(pr_cache_t *c, pr_cache_stats_t *st)
{
    struct env *e;
    struct state s;
    MDB_stat ms;
    int rc;

    if (!c || !st)
        return PR_EINVAL;
    e = c->e;
    *st = e->st;
    if ((rc = read_begin(e)))
        return rc;
    if ((rc = mdb_stat(e->rtxn, e->entries, &ms)) || (rc = state_read(e->rtxn, &s))) {
        idle(e);
        return lerr(rc);
    }
    st->entries = ms.ms_entries;
    st->bytes = s.bytes;
    st->orphans = s.orphans;
    st->map_bytes = e->map_bytes;
    st->used_bytes = (uint64_t)pages_in_use(e, e->rtxn) * e->psize;
    st->syncs = atomic_load(&e->sync.syncs);
    st->sync_errors = atomic_load(&e->sync.errors);
    idle(e);
    return 0;
}

/* ------------------------------------------------------------- purging -- */

static int purge_batch(pr_cache_t *c, unsigned max_count, int64_t max_ns, unsigned *purged,
                       int *more)
{
    struct env *e = c->e;
    int64_t now = now_ns(c), t0 = mono_ns(), t1;
    double reserve = e->nosync ? e->commit_ns : 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val ik, iv;
    struct state s;
    unsigned n = 0;
    int rc;

    *purged = 0;
    *more = 0;
    if (max_count == 0)
        return 0;
    /* Look first with the read transaction: no write (and no fsync) when
     * nothing is due, which is the common case for a timer. */
    if ((rc = read_begin(e)))
        return rc;
    if ((rc = mdb_cursor_open(e->rtxn, MAIN_DBI, &cur))) {
        idle(e);
        return lerr(rc);
    }
    rc = index_first(cur, &ik, &iv);
    int due = rc == 0 && (int64_t)get_be64(ik.mv_data) <= now;
    mdb_cursor_close(cur);
    idle(e);
    if (rc && rc != MDB_NOTFOUND)
        return lerr(rc);
    if (!due)
        return 0;

    if ((rc = mdb_txn_begin(e->mdb, NULL, 0, &txn)))
        return lerr(rc);
    if ((rc = state_read(txn, &s)))
        goto fail;
    if ((rc = mdb_cursor_open(txn, MAIN_DBI, &cur))) {
        rc = lerr(rc);
        goto fail;
    }
    for (;;) {
        rc = index_first(cur, &ik, &iv);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            break;
        }
        if (rc) {
            rc = lerr(rc);
            break;
        }
        if ((int64_t)get_be64(ik.mv_data) > now)
            break;
        /* Bounded by count and by time, checked after every index record
         * (an orphan is work too): the deletion so far plus the commit it
         * will need (under MDB_NOSYNC, learned per record) stays under
         * max_ns.  The first always goes, so a purge makes progress. */
        if (n >= max_count ||
            (n > 0 && mono_ns() - t0 + (int64_t)(reserve * (n + 1)) >= max_ns)) {
            *more = 1;
            break;
        }
        if ((rc = drop_first(e, txn, cur, &s, now, NULL)) < 0)
            break;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc < 0 || (rc = state_write(txn, &s)))
        goto fail;
    t1 = cpu_ns();
    if ((rc = commit(e, txn)))
        return rc;
    /* A batch's commit writes about one dirty page per purged entry: learn
     * its cost per entry from batches large enough to show it, upwards
     * fast (half the gap: the next batch must not overrun), downwards
     * slowly, and one odd batch (a page fault storm, a stolen CPU) moves
     * it by 4x at most.  In CPU time: on a shared machine the wall time
     * also counts other processes' turns, which would shrink the batches
     * for nothing. */
    if (e->nosync && n >= 16) {
        double per = (double)(cpu_ns() - t1) / n, est = e->commit_ns;
        if (per > 8 * est)
            per = 8 * est;
        e->commit_ns = per > est ? (est + per) / 2 : est * 0.875 + per * 0.125;
    }
    *purged = n;
    return 0;
fail:
    mdb_txn_abort(txn);
    return rc;
}

int pr_cache_purge(pr_cache_t *c, unsigned max_count, int64_t max_ns, unsigned *purged)
{
    unsigned n;
    int more, rc;
    if (!c || max_ns < 0)
        return PR_EINVAL;
    rc = purge_batch(c, max_count, max_ns, &n, &more);
    if (purged)
        *purged = rc ? 0 : n;
    return rc;
}

static void arm(pr_cache_t *c, int64_t after_ns)
{
    struct itimerspec its = { { 0, 0 }, { after_ns / NS, after_ns % NS } };
    timerfd_settime(c->tfd, 0, &its, NULL);
}

static void on_purge(pr_io_t *io, int revents, void *ud)
{
    pr_cache_t *c = ud;
    uint64_t ticks;
    unsigned n;
    int more = 0;
    (void)io;
    (void)revents;
    if (read(c->tfd, &ticks, sizeof ticks) < 0 && errno == EAGAIN)
        return;
    /* A failing purge (I/O error) is retried at the next period; the puts
     * and gets of the app see the error themselves. */
    purge_batch(c, PR_CACHE_PURGE_BATCH, PR_CACHE_PURGE_NS, &n, &more);
    arm(c, more ? 10 * 1000000LL : c->period_ns);
}

int pr_cache_attach(pr_cache_t *c, pr_loop_t *loop, double period_s)
{
    int rc;
    if (!c || !loop || !check_seconds(period_s, 0) || period_s < 0.001)
        return PR_EINVAL;
    pr_cache_detach(c);
    if ((c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
        return -errno;
    c->period_ns = (int64_t)(period_s * 1e9);
    pr_io_init(&c->io, on_purge, c);
    pr_io_set_weak(&c->io, 1);  /* a cache alone is not work to wait for */
    if ((rc = pr_io_start(loop, &c->io, c->tfd, PR_IO_READ)) < 0) {
        close(c->tfd);
        c->tfd = -1;
        return rc;
    }
    arm(c, c->period_ns);
    return 0;
}

void pr_cache_detach(pr_cache_t *c)
{
    if (!c || c->tfd < 0)
        return;
    pr_io_stop(&c->io);
    close(c->tfd);
    c->tfd = -1;
}

/* -------------------------------------------------------------- errors -- */

static int is_mdb(int err) { return err >= MDB_KEYEXIST && err <= MDB_LAST_ERRCODE; }

const char *pr_cache_strerror(int err)
{
    return is_mdb(err) ? mdb_strerror(err) : pr_strerror(err);
}

const char *pr_cache_errname(int err)
{
    static const char *const pr_names[] = {
        "EINVAL", "ENOMEM", "EFULL", "EEMPTY", "ETOOBIG", "ESCRIPT",
        "EBUDGET", "EDISABLED", "ECLOSED",
    };
    static const char *const mdb_names[] = {
        "MDB_KEYEXIST", "MDB_NOTFOUND", "MDB_PAGE_NOTFOUND", "MDB_CORRUPTED",
        "MDB_PANIC", "MDB_VERSION_MISMATCH", "MDB_INVALID", "MDB_MAP_FULL",
        "MDB_DBS_FULL", "MDB_READERS_FULL", "MDB_TLS_FULL", "MDB_TXN_FULL",
        "MDB_CURSOR_FULL", "MDB_PAGE_FULL", "MDB_MAP_RESIZED", "MDB_INCOMPATIBLE",
        "MDB_BAD_RSLOT", "MDB_BAD_TXN", "MDB_BAD_VALSIZE", "MDB_BAD_DBI",
    };
    if (is_mdb(err))
        return mdb_names[err - MDB_KEYEXIST];
    if (err <= -(PR_EBASE + 1) && err > PR_ELAST && (size_t)(-err - PR_EBASE - 1) <
        sizeof pr_names / sizeof pr_names[0])
        return pr_names[-err - PR_EBASE - 1];
    if (err < 0 && err > -PR_EBASE) {
        const char *n = strerrorname_np(-err);
        return n ? n : "EUNKNOWN";
    }
    return err == 0 ? "OK" : "EUNKNOWN";
}
