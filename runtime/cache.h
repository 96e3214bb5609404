/* cache.h - perch's response cache: byte keys to byte values with a TTL, on
 * one LMDB file.
 *
 * Each entry carries its stored time, its expiry and a stale deadline.
 * pr_cache_get() says whether the entry is fresh (before expiry), stale
 * (after expiry but inside its stale window: serve it, refresh it in the
 * background) or missing.  Stale-while-revalidate without a thundering
 * herd: a stale get sets `refresh_due` for one caller only, until that key
 * is put or deleted, the claim is released, or the refresh timeout passes.
 *
 * Size cap: the LMDB map is max_mb; before it fills, puts evict the entries
 * closest to their stale deadline (an index ordered by that deadline, so
 * expired entries go first; a replaced entry's old index record may stay
 * behind as an "orphan" until its deadline, at most one per live entry:
 * stats.orphans).  If LMDB still
 * reports MDB_MAP_FULL, the put is aborted, more entries are evicted in a
 * transaction of their own and the put is retried: MDB_MAP_FULL never
 * reaches the caller.  Only an entry larger than max_mb / 2 is refused
 * (PR_ETOOBIG).  Entries past their stale deadline are purged in bounded
 * batches, by pr_cache_purge() or by the timer pr_cache_attach() starts.
 *
 * Durability: LMDB runs with MDB_NOSYNC, so a put that returned 0 has been
 * committed and written to the OS (its pages are in the page cache): it
 * survives kill -9 of the process at any moment, since the kernel writes
 * the pages back on its own.  A thread of the cache fdatasyncs the file
 * every sync_ms (default 1000) if anything was committed since, and once
 * more at close; a power loss or kernel crash loses at most the commits
 * after the last completed sync.  LMDB keeps the file consistent then only
 * if the filesystem preserves write order (LMDB's own condition for
 * MDB_NOSYNC; ext4's default data=ordered does not promise it for
 * overwritten blocks).  sync_ms 0 is LMDB's default mode instead: each
 * commit is fsync'ed on the caller's thread before put returns (a disk's
 * sync latency per put and per purge batch).
 *
 * Times are wall-clock (CLOCK_REALTIME) nanoseconds, since expiry must
 * survive a restart; a test can inject its own clock.  An entry stored
 * "in the future" (the clock stepped back) is reported stale.
 *
 * Threads and processes: a pr_cache_t is used from one thread.  Opening a
 * file this process already has open shares the LMDB environment (LMDB
 * forbids opening one twice in a process): its map size (the first open's),
 * counters and refresh claims; each pr_cache_t keeps its own defaults and
 * clock.
 *
 * Errors: 0 or negative.  PR_E* (error.h), negated errno (-ENOENT), or an
 * LMDB code (MDB_INVALID: "not an LMDB file", MDB_CORRUPTED, ...), which are
 * negative and below PR_EBASE's range.  pr_cache_strerror() describes all
 * three; pr_cache_errname() names them ("ENOENT", "ETOOBIG", "MDB_INVALID"). */
#ifndef PR_CACHE_H
#define PR_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

typedef struct pr_cache pr_cache_t;

#define PR_CACHE_DEFAULT_MAX_MB     64
#define PR_CACHE_DEFAULT_TTL_S      60.0
#define PR_CACHE_REFRESH_TIMEOUT_S  30.0
#define PR_CACHE_CT_MAX             255   /* content-type bytes */
#define PR_CACHE_KEY_MAX            511   /* LMDB's key size limit */
#define PR_CACHE_DEFAULT_SYNC_MS    1000
#define PR_CACHE_SYNC_MS_MAX        3600000

/* Open (creating if missing) the cache at path: a file (LMDB's lock file is
 * path + "-lock") or, if path is an existing directory, data.mdb inside it.
 * max_mb: size cap of the map, > 0 (a larger existing file keeps its size).
 * default_ttl_s: TTL of puts that give none, > 0; the default stale window
 * is the same length.  Returns 0, PR_EINVAL, PR_ENOMEM, -errno (ENOENT for
 * a missing directory, EACCES, ...), MDB_INVALID (the file is not an LMDB
 * file), MDB_VERSION_MISMATCH, MDB_CORRUPTED. */
int pr_cache_open(pr_cache_t **out, const char *path, size_t max_mb, double default_ttl_s);
/* Stops its purge timer, drops this handle's claims' owner and, with the
 * last handle of the file, closes the LMDB environment.  Safe with NULL. */
void pr_cache_close(pr_cache_t *c);

/* Stale window after expiry for puts that give none (>= 0; default: the
 * default TTL), and how long a refresh claim lasts (> 0; default 30 s). */
int pr_cache_set_stale(pr_cache_t *c, double stale_s);
int pr_cache_set_refresh_timeout(pr_cache_t *c, double timeout_s);
/* Wall clock in ns since the epoch; NULL restores CLOCK_REALTIME. */
typedef int64_t (*pr_cache_clock_fn)(void *ud);
void pr_cache_set_clock(pr_cache_t *c, pr_cache_clock_fn fn, void *ud);

/* Commit policy of the file (see Durability above): fdatasync every
 * sync_ms from the sync thread (1..PR_CACHE_SYNC_MS_MAX), or 0 to sync in
 * every commit on the caller's thread.  Shared by the file's handles in
 * this process, and only ever tightens: the shortest interval asked for
 * wins, 0 above all, until the last handle closes.  PR_EINVAL above the
 * maximum; an LMDB code or -errno if the sync that 0 implies fails.
 * pr_cache_sync_ms() tells the file's current setting. */
int pr_cache_set_sync(pr_cache_t *c, unsigned sync_ms);
unsigned pr_cache_sync_ms(const pr_cache_t *c);
/* fdatasync now, on the caller's thread, if anything was committed since
 * the last sync: what returned before is then durable.  0 or an error
 * (-EIO ...); a failed sync is retried by the next one. */
int pr_cache_sync(pr_cache_t *c);

/* What a put stores besides the value.  Zero-initialised means defaults. */
typedef struct pr_cache_meta {
    double ttl_s;              /* 0: the default TTL; else > 0 */
    double stale_s;            /* 0: the default window; < 0: none */
    uint32_t flags;            /* caller's bits, returned as stored */
    const char *content_type;  /* NULL/"" for none; <= PR_CACHE_CT_MAX bytes */
} pr_cache_meta_t;

/* Store (replace) key -> value, committed before returning (durable as
 * Durability above says).
 * klen 1..PR_CACHE_KEY_MAX.  meta may be NULL.  Clears the key's refresh
 * claim.  Evicts as needed; PR_ETOOBIG if the entry alone is larger than
 * half the map, PR_EINVAL for bad arguments, an LMDB code or -errno if the
 * file fails (EIO, MDB_CORRUPTED). */
int pr_cache_put(pr_cache_t *c, const void *key, size_t klen, const void *val, size_t vlen,
                 const pr_cache_meta_t *meta);

typedef enum { PR_CACHE_MISS = 0, PR_CACHE_FRESH = 1, PR_CACHE_STALE = 2 } pr_cache_state_t;

typedef struct pr_cache_entry {
    pr_cache_state_t state;
    int refresh_due;           /* stale only: this caller should refresh */
    const void *value;         /* points into the map: see pr_cache_get */
    size_t len;
    const char *content_type;  /* NUL-terminated, "" if none */
    uint32_t flags;
    int64_t stored_ns, expires_ns, stale_until_ns;  /* wall clock */
} pr_cache_entry_t;

/* Look key up.  Returns 0 with e->state set (MISS for an absent entry or one
 * past its stale window), or an error.  value and content_type point into
 * LMDB's read-only map and stay valid until the next pr_cache_* call on the
 * same file (any handle): copy them to keep them. */
int pr_cache_get(pr_cache_t *c, const void *key, size_t klen, pr_cache_entry_t *e);
/* Only a fresh entry: as pr_cache_get for one (counted as a hit), else
 * state MISS with nothing counted and no refresh claimed, so a caller that
 * then calls pr_cache_get for a stale or missing entry gets exactly what it
 * would have without this look first.  For fast paths that serve fresh
 * hits themselves and hand everything else on. */
int pr_cache_get_fresh(pr_cache_t *c, const void *key, size_t klen, pr_cache_entry_t *e);
/* Delete key (absent is fine: 0).  Clears its refresh claim. */
int pr_cache_del(pr_cache_t *c, const void *key, size_t klen);
/* Give up a refresh claim (a failed refresh), so the next stale get of key
 * claims it again at once rather than after the refresh timeout. */
void pr_cache_release(pr_cache_t *c, const void *key, size_t klen);

/* Delete entries past their stale deadline, oldest first, in one
 * transaction: at most max_count, and stop before the deletion so far plus
 * the commit it needs would pass max_ns (the commit's cost per entry is
 * learned from earlier batches; at least one entry per call, so a purge
 * always progresses).  With sync_ms 0 the commit's fdatasync comes on top.
 * Orphans (index records of replaced entries, see stats) past their
 * deadline go the same way and count as entries here, not in stats.purged.
 * *purged (may be NULL) gets the number deleted, 0 once nothing is due;
 * returns 0 or an error. */
int pr_cache_purge(pr_cache_t *c, unsigned max_count, int64_t max_ns, unsigned *purged);

/* Purge from loop: every period_s seconds a batch of at most
 * PR_CACHE_PURGE_BATCH entries and PR_CACHE_PURGE_NS of work, commit
 * included (the loop waits for it: under 1 ms with margin, when sync_ms is
 * not 0); while a batch leaves expired entries behind, the next follows
 * 10 ms later.  The timer does not keep pr_loop_run() going.  Restarts if
 * already attached. */
#define PR_CACHE_PURGE_BATCH 128
#define PR_CACHE_PURGE_NS    750000
int pr_cache_attach(pr_cache_t *c, pr_loop_t *loop, double period_s);
void pr_cache_detach(pr_cache_t *c);

typedef struct pr_cache_stats {
    uint64_t entries;          /* in the file */
    uint64_t bytes;            /* keys + values + metadata of those entries */
    uint64_t map_bytes;        /* the map size: the cap */
    uint64_t used_bytes;       /* pages in use (not free-listed) */
    uint64_t orphans;          /* old index records of replaced entries, left
                                  for the purge (a put writes 2 pages fewer);
                                  at most `entries` */
    /* since this process opened the file (shared by its handles): */
    uint64_t hits, misses, stale;   /* gets: fresh, miss, stale */
    uint64_t refreshes;        /* stale gets that got refresh_due */
    uint64_t puts, dels;
    uint64_t evictions;        /* entries dropped for room before expiry */
    uint64_t purged;           /* entries dropped after their stale deadline */
    uint64_t full_retries;     /* puts retried after MDB_MAP_FULL */
    uint64_t syncs;            /* fdatasyncs by the sync thread or pr_cache_sync */
    uint64_t sync_errors;      /* of those, failed (and retried later) */
    uint64_t open_drops;       /* entries dropped at open: no room to move an
                                  older file's index over (logged) */
} pr_cache_stats_t;

int pr_cache_stats(pr_cache_t *c, pr_cache_stats_t *st);
const char *pr_cache_path(const pr_cache_t *c);

const char *pr_cache_strerror(int err);
const char *pr_cache_errname(int err);

#endif
