/* ring.h - lock-free single-producer single-consumer ring of variable-size
 * records, copied in and out by value, with either back-pressure (reject
 * when full) or drop-oldest (overwrite when full, drops counted).
 *
 * Threads: exactly one producer thread calls pr_ring_push() and exactly one
 * consumer thread calls pr_ring_pop(); they may run concurrently without a
 * lock.  pr_ring_stats() and pr_ring_max_record() may be called from any
 * thread.  pr_ring_create()/pr_ring_destroy() must not overlap any other
 * call on the same ring.
 *
 * Progress: in PR_RING_REJECT mode both sides are wait-free.  In
 * PR_RING_OVERWRITE mode the producer is wait-free apart from a bounded
 * retry when the consumer advances at the same moment; the consumer is
 * lock-free: a pop retries only when the producer dropped the record it was
 * copying, which means the producer made progress.
 *
 * Layout, for reading a core dump: the capacity is a power of two; each
 * record is an 8-byte header (payload length) followed by the payload
 * padded to 8 bytes; a record never wraps: when it does not fit before the
 * end of the buffer, a padding header fills the rest and the record starts
 * at offset 0.
 *
 * Errors are negative PR_E* codes from error.h; pr_strerror() describes them.
 */
#ifndef PR_RING_H
#define PR_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct pr_ring pr_ring_t;

/* What pr_ring_push() does when the record does not fit. */
enum {
    PR_RING_REJECT = 0,    /* refuse it: PR_EFULL, counted in stats.rejected */
    PR_RING_OVERWRITE = 1, /* drop the oldest records until it fits,
                              counted in stats.dropped */
};

#define PR_RING_MIN_CAPACITY ((size_t)64)
#define PR_RING_MAX_CAPACITY ((size_t)1 << 30)

/* A snapshot filled by pr_ring_stats().  Counters are exact for the thread
 * that updates them (push side: pushed, dropped, rejected; pop side:
 * popped) and may lag by a few operations when read from another thread. */
typedef struct pr_ring_stats {
    uint64_t pushed;    /* records accepted by pr_ring_push() */
    uint64_t popped;    /* records returned by pr_ring_pop() */
    uint64_t dropped;   /* overwrite mode: oldest records discarded for room */
    uint64_t rejected;  /* reject mode: pushes refused with PR_EFULL */
    size_t bytes_used;  /* bytes held now, headers and padding included */
    size_t capacity;    /* bytes, after rounding to a power of two */
} pr_ring_stats_t;

/* Create a ring of capacity bytes, rounded up to a power of two and to at
 * least PR_RING_MIN_CAPACITY.  mode is PR_RING_REJECT or PR_RING_OVERWRITE.
 * All memory is allocated here; push and pop never allocate.
 *
 * On success stores the ring in *out and returns 0; the caller owns it and
 * releases it with pr_ring_destroy().  On failure *out is set to NULL (when
 * out is not NULL) and:
 *   PR_EINVAL  out is NULL, capacity is 0 or above PR_RING_MAX_CAPACITY,
 *              mode is unknown
 *   PR_ENOMEM  allocation failed */
int pr_ring_create(pr_ring_t **out, size_t capacity, int mode);

/* Release the ring and any records still in it.  NULL is ignored. */
void pr_ring_destroy(pr_ring_t *ring);

/* Largest payload pr_ring_push() accepts: capacity/2 - 8 bytes.  Half the
 * capacity because a record may need padding up to its own size to avoid
 * wrapping; with this limit a record always fits in an empty ring. */
size_t pr_ring_max_record(const pr_ring_t *ring);

/* Producer only.  Copy len bytes from data into the ring as one record.
 * len may be 0 (data may then be NULL).  O(len); never blocks.
 *
 * Returns 0 when stored.  In overwrite mode that may have dropped the oldest
 * records (stats.dropped).  Errors, ring unchanged:
 *   PR_EFULL    reject mode, not enough free space now (stats.rejected)
 *   PR_ETOOBIG  len > pr_ring_max_record(): can never fit
 *   PR_EINVAL   ring is NULL, or data is NULL with len > 0 */
int pr_ring_push(pr_ring_t *ring, const void *data, size_t len);

/* Consumer only.  Remove the oldest record and copy its payload into buf,
 * which holds cap bytes; store its length in *len when len is not NULL.
 * O(record length).
 *
 * Returns 0 when a record was copied out and removed.  Errors:
 *   PR_EEMPTY   no record
 *   PR_ETOOBIG  the oldest record is longer than cap: it stays in the ring
 *               and its length is stored in *len, so the caller can retry
 *               with a bigger buffer (buf NULL, cap 0 asks for the length)
 *   PR_EINVAL   ring is NULL, or buf is NULL with cap > 0
 * On any error the bytes of buf are unspecified: in overwrite mode a copy
 * may have been started and abandoned because the producer dropped it. */
int pr_ring_pop(pr_ring_t *ring, void *buf, size_t cap, size_t *len);

/* Fill *st with a snapshot of the counters.  Any thread. */
void pr_ring_stats(const pr_ring_t *ring, pr_ring_stats_t *st);

#endif
