/* ring.c - lock-free SPSC ring of variable-size records (see ring.h).
 * The notes below are the correctness argument; change the code only
 * together with them. */
#include "ring.h"

#include "error.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Representation
 *
 * head and tail are free-running byte counters (never masked); the byte
 * offset in the buffer is counter & mask, the bytes held are head - tail,
 * computed modulo 2^N so wrap-around of size_t itself is harmless (capacity
 * <= 2^30).  Both are always multiples of 8 and always sit on a record or
 * padding header.
 *
 * The buffer is an array of _Atomic uint64_t accessed only with relaxed
 * atomic loads and stores.  On x86-64 and aarch64 those compile to plain
 * aligned 8-byte loads and stores: a little slower than a vectorised
 * memcpy for long records, the same for short ones.  In exchange the
 * optimistic copy in overwrite mode (below) is a race on atomics, with
 * defined behaviour, instead of a data race, and ThreadSanitizer can check
 * both modes.
 *
 * ---------------------------------------------------------------------
 * Reject mode: the classic SPSC protocol
 *
 * Only the producer stores head; only the consumer stores tail.
 *  - Producer: writes header and payload (relaxed), then
 *    store-release head.  Consumer: load-acquire head, then reads them.
 *    So a record is fully visible before the consumer can see it exists.
 *  - Consumer: reads the payload, then store-release tail.  Producer:
 *    load-acquire tail before reusing space.  So the consumer has finished
 *    reading bytes before the producer overwrites them.
 * Each side caches the other's index (tail_cache, head_cache) and reloads
 * it only when the cached value says full/empty: a cached index is never
 * ahead of the real one, so the cache only ever understates free space or
 * available data, and the shared cache lines are touched far less often.
 *
 * ---------------------------------------------------------------------
 * Overwrite mode: the read index has two writers
 *
 * When a record does not fit, the producer drops the oldest record by
 * advancing tail itself, with compare-and-swap because the consumer may be
 * advancing it at the same moment.  The consumer cannot simply "reserve"
 * the record it reads (that would need a second index and a way for the
 * producer to wait), so it copies optimistically and commits with CAS, the
 * way a seqlock reader validates:
 *
 *   consumer                              producer (dropping)
 *   t = load-acquire tail                 CAS tail t -> t' (acq_rel)
 *   h = load-acquire head                 overwrite bytes (relaxed stores)
 *   copy the record at t (relaxed loads)  store-release head
 *   CAS tail t -> t + size (release)
 *
 * Claim: if the consumer's CAS succeeds, every value its copy loaded is the
 * record's.  tail only grows, so exactly one modification of tail moves it
 * off t, and here that is the consumer's CAS.  The producer stores into the
 * record's bytes (one lap later) only once it has seen tail > t: through
 * its cached tail, which always comes from an acquire load or an
 * acquire CAS of tail that read the consumer's CAS or a later
 * modification.  In overwrite mode every modification of tail is a
 * read-modify-write, so all later ones continue the release sequence
 * headed by the consumer's release CAS (C11 5.1.2.4), and that acquire
 * synchronises with it.  So the copy's loads happen before the producer's
 * overwriting stores and cannot read them (coherence).
 * Otherwise the producer dropped the record first: its CAS comes before the
 * consumer's in tail's modification order, and a read-modify-write reads
 * the latest value (C11 7.17.3), so the consumer's CAS sees tail != t and
 * fails; the consumer throws its copy away and starts again at the new
 * tail.  No fences are needed because the validation is itself a
 * read-modify-write, not a plain load as in a textbook seqlock.  tail
 * never returns to t (no ABA; on a 32-bit target the counter would have to
 * wrap 4 GiB under a stalled consumer).
 *
 * The short-buffer case reports a length without taking the record; it
 * validates with a CAS of tail from t to t, which succeeds only if the
 * record was still there, by the same argument.
 *
 * A copy that is going to fail may see torn data, so everything read
 * during it is bounds-checked before use: a length above the maximum, or a
 * record extending past the head that was read or past the end of the
 * buffer (records never wrap, so the copy is not masked word by word) means
 * "raced, retry".  So a torn length can never index outside the buffer,
 * and the caller's buffer is only written within its capacity.
 *
 * The producer's CAS is release as well as acquire: a consumer that loads
 * (acquire) a tail written by a drop also sees the head stored before it,
 * so the consumer never sees head behind tail.  The producer reads headers
 * at tail without care: it wrote them itself, and nobody else writes the
 * buffer.
 * ------------------------------------------------------------------- */

#define HDR      ((size_t)8)
#define PAD_MARK UINT64_MAX /* header meaning "rest of the buffer is padding" */
#define LINE     128        /* cache line; 128 also defeats x86 pair prefetch */

struct pr_ring {
    /* Read-only after creation; shared by both sides. */
    _Atomic uint64_t *words;
    size_t cap;         /* bytes, power of two */
    size_t mask;
    size_t max_payload;
    int mode;

    /* Producer's line: stored only by the producer. */
    _Alignas(LINE) _Atomic size_t head;
    size_t tail_cache;  /* producer-private, <= tail */
    _Atomic uint64_t pushed;
    _Atomic uint64_t dropped;
    _Atomic uint64_t rejected;

    /* Consumer's line: tail is also stored by the producer in overwrite
     * mode (drops), which is the unavoidable sharing of that mode. */
    _Alignas(LINE) _Atomic size_t tail;
    size_t head_cache;  /* consumer-private, <= head */
    _Atomic uint64_t popped;
};

static inline size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Counters have a single writer, so a relaxed load+store is enough and
 * avoids a locked read-modify-write on the fast path. */
static inline void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static inline uint64_t word_load(const pr_ring_t *r, size_t pos)
{
    return atomic_load_explicit(&r->words[(pos & r->mask) >> 3], memory_order_relaxed);
}

static inline void word_store(pr_ring_t *r, size_t pos, uint64_t v)
{
    atomic_store_explicit(&r->words[(pos & r->mask) >> 3], v, memory_order_relaxed);
}

/* Records never wrap, so a payload is contiguous words from pos on. */
static void copy_in(pr_ring_t *r, size_t pos, const unsigned char *src, size_t len)
{
    _Atomic uint64_t *w = &r->words[(pos & r->mask) >> 3];
    uint64_t v;

    for (; len >= 8; len -= 8, src += 8) {
        memcpy(&v, src, 8);
        atomic_store_explicit(w++, v, memory_order_relaxed);
    }
    if (len) {
        v = 0; /* deterministic padding bytes */
        memcpy(&v, src, len);
        atomic_store_explicit(w, v, memory_order_relaxed);
    }
}

static void copy_out(const pr_ring_t *r, size_t pos, unsigned char *dst, size_t len)
{
    _Atomic uint64_t *w = &r->words[(pos & r->mask) >> 3];
    uint64_t v;

    for (; len >= 8; len -= 8, dst += 8) {
        v = atomic_load_explicit(w++, memory_order_relaxed);
        memcpy(dst, &v, 8);
    }
    if (len) {
        v = atomic_load_explicit(w, memory_order_relaxed);
        memcpy(dst, &v, len);
    }
}

int pr_ring_create(pr_ring_t **out, size_t capacity, int mode)
{
    pr_ring_t *r;
    size_t cap = PR_RING_MIN_CAPACITY, i;

    if (!out)
        return PR_EINVAL;
    *out = NULL;
    if (capacity == 0 || capacity > PR_RING_MAX_CAPACITY)
        return PR_EINVAL;
    if (mode != PR_RING_REJECT && mode != PR_RING_OVERWRITE)
        return PR_EINVAL;
    while (cap < capacity)
        cap <<= 1;

    /* sizeof is a multiple of LINE because of the _Alignas members. */
    r = aligned_alloc(LINE, sizeof *r);
    if (!r)
        return PR_ENOMEM;
    memset(r, 0, sizeof *r);
    r->words = aligned_alloc(64, cap);
    if (!r->words) {
        free(r);
        return PR_ENOMEM;
    }
    /* Zeroing also faults the pages in now rather than on the first pushes. */
    for (i = 0; i < cap / 8; i++)
        atomic_init(&r->words[i], 0);
    r->cap = cap;
    r->mask = cap - 1;
    r->max_payload = cap / 2 - HDR;
    r->mode = mode;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->pushed, 0);
    atomic_init(&r->dropped, 0);
    atomic_init(&r->rejected, 0);
    atomic_init(&r->popped, 0);
    r->tail_cache = 0;
    r->head_cache = 0;
    *out = r;
    return 0;
}

void pr_ring_destroy(pr_ring_t *ring)
{
    if (!ring)
        return;
    free(ring->words);
    free(ring);
}

size_t pr_ring_max_record(const pr_ring_t *ring)
{
    return ring ? ring->max_payload : 0;
}

/* Overwrite mode: advance tail past the oldest records until need bytes are
 * free in front of head h.  Pads are skipped silently; records are counted
 * as dropped.  A failed CAS means the consumer moved tail first, which also
 * frees space; the loop just continues from the tail it reports. */
static void make_room(pr_ring_t *r, size_t h, size_t need)
{
    size_t t = r->tail_cache, next;
    uint64_t hdr;

    while (r->cap - (h - t) < need) {
        hdr = word_load(r, t);
        next = hdr == PAD_MARK ? t + (r->cap - (t & r->mask))
                               : t + HDR + round8((size_t)hdr);
        if (atomic_compare_exchange_weak_explicit(&r->tail, &t, next,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire)) {
            if (hdr != PAD_MARK)
                bump(&r->dropped);
            t = next;
        }
    }
    r->tail_cache = t;
}

int pr_ring_push(pr_ring_t *r, const void *data, size_t len)
{
    size_t h, room_to_end, total, need;

    if (!r || (!data && len))
        return PR_EINVAL;
    if (len > r->max_payload)
        return PR_ETOOBIG;

    total = HDR + round8(len);
    h = atomic_load_explicit(&r->head, memory_order_relaxed); /* ours */
    room_to_end = r->cap - (h & r->mask);
    /* A record never wraps: pad out the end of the buffer first. */
    need = room_to_end < total ? room_to_end + total : total;

    if (r->cap - (h - r->tail_cache) < need) {
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (r->cap - (h - r->tail_cache) < need) {
            if (r->mode == PR_RING_REJECT) {
                bump(&r->rejected);
                return PR_EFULL;
            }
            make_room(r, h, need);
        }
    }

    if (need != total) {
        word_store(r, h, PAD_MARK);
        h += room_to_end;
    }
    word_store(r, h, (uint64_t)len);
    copy_in(r, h + HDR, data, len);
    /* Publish: everything above is visible to a consumer that sees this. */
    atomic_store_explicit(&r->head, h + total, memory_order_release);
    bump(&r->pushed);
    return 0;
}

/* Reject mode: tail is ours alone, nothing can change under us. */
static int pop_reject(pr_ring_t *r, void *buf, size_t bufcap, size_t *len)
{
    size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t n;
    uint64_t hdr;

    if (t == r->head_cache) {
        r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
        if (t == r->head_cache)
            return PR_EEMPTY;
    }
    hdr = word_load(r, t);
    if (hdr == PAD_MARK) {
        /* Pad and the record after it were published by one head store. */
        t += r->cap - (t & r->mask);
        hdr = word_load(r, t);
    }
    n = (size_t)hdr;
    if (len)
        *len = n;
    if (n > bufcap)
        return PR_ETOOBIG; /* tail untouched: the record stays */
    copy_out(r, t + HDR, buf, n);
    atomic_store_explicit(&r->tail, t + HDR + round8(n), memory_order_release);
    bump(&r->popped);
    return 0;
}

/* Overwrite mode: optimistic copy, committed by CAS on tail. */
static int pop_overwrite(pr_ring_t *r, void *buf, size_t bufcap, size_t *len)
{
    size_t t, h, pos, n, size;
    uint64_t hdr;

    for (;;) {
        t = atomic_load_explicit(&r->tail, memory_order_acquire);
        h = r->head_cache;
        /* A drop may have moved tail past our cached head: refresh. */
        if (h == t || h - t > r->cap) {
            h = r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
            if (h == t)
                return PR_EEMPTY;
            if (h - t > r->cap)
                continue; /* cannot happen (see notes); never trust it */
        }
        pos = t;
        hdr = word_load(r, pos);
        if (hdr == PAD_MARK) {
            pos += r->cap - (pos & r->mask);
            hdr = word_load(r, pos);
        }
        /* Bounds-check before using anything read: it may be torn. */
        if (hdr > r->max_payload)
            continue;
        n = (size_t)hdr;
        size = (pos - t) + HDR + round8(n);
        if (size > h - t || (pos & r->mask) + HDR + round8(n) > r->cap)
            continue;

        if (n > bufcap) {
            /* Report the length only if it was really that record's: the
             * record is still there iff tail is still t. */
            if (!atomic_compare_exchange_strong_explicit(&r->tail, &t, t,
                                                         memory_order_release,
                                                         memory_order_relaxed))
                continue;
            if (len)
                *len = n;
            return PR_ETOOBIG;
        }
        copy_out(r, pos + HDR, buf, n);
        /* Commit; release orders the copy's loads before it (see notes). */
        if (atomic_compare_exchange_strong_explicit(&r->tail, &t, t + size,
                                                    memory_order_release,
                                                    memory_order_relaxed)) {
            if (len)
                *len = n;
            bump(&r->popped);
            return 0;
        }
        /* The producer dropped this record while we copied it: retry. */
    }
}

int pr_ring_pop(pr_ring_t *r, void *buf, size_t bufcap, size_t *len)
{
    if (!r || (!buf && bufcap))
        return PR_EINVAL;
    if (r->mode == PR_RING_REJECT)
        return pop_reject(r, buf, bufcap, len);
    return pop_overwrite(r, buf, bufcap, len);
}

void pr_ring_stats(const pr_ring_t *r, pr_ring_stats_t *st)
{
    size_t t, h;

    if (!st)
        return;
    if (!r) {
        *st = (pr_ring_stats_t){0};
        return;
    }
    /* tail first: a tail we see is never ahead of the head loaded after it. */
    t = atomic_load_explicit(&r->tail, memory_order_acquire);
    h = atomic_load_explicit(&r->head, memory_order_acquire);
    st->bytes_used = h - t > r->cap ? r->cap : h - t;
    st->pushed = atomic_load_explicit(&r->pushed, memory_order_relaxed);
    st->popped = atomic_load_explicit(&r->popped, memory_order_relaxed);
    st->dropped = atomic_load_explicit(&r->dropped, memory_order_relaxed);
    st->rejected = atomic_load_explicit(&r->rejected, memory_order_relaxed);
    st->capacity = r->cap;
}
