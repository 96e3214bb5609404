/* test_ring.c - unit tests for runtime/ring: arguments and rounding, empty and
 * full in both modes, too-big records, short-buffer pops, a byte-exact model
 * of wrap-around and drops, and two-thread stress runs checking order,
 * content and accounting.
 *
 * PERCH_STRESS_RECORDS lowers the stress record count (default 10 million)
 * for slow hosts such as qemu-user. */
#include "error.h"
#include "ring.h"
#include "tap.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define STRESS_DEFAULT 10000000ull

/* ---------------------------------------------------------------------
 * Payloads: every byte is a function of (seq, offset), so any torn,
 * shifted or misattributed copy shows up.  The first 8 bytes carry seq
 * itself when the record is long enough.
 * ------------------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

static void fill(unsigned char *p, uint64_t seq, size_t len)
{
    uint64_t k = mix(seq), w;
    size_t i = 0;

    if (len >= 8) {
        memcpy(p, &seq, 8);
        i = 8;
    }
    for (; i < len; i += 8) {
        w = k + i * 0x0101010101010101ull;
        memcpy(p + i, &w, len - i < 8 ? len - i : 8);
    }
}

static int check(const unsigned char *p, uint64_t seq, size_t len)
{
    unsigned char want[4096];

    if (len > sizeof want)
        return 0;
    fill(want, seq, len);
    return memcmp(p, want, len) == 0;
}

static uint64_t seq_of(const unsigned char *p)
{
    uint64_t s;
    memcpy(&s, p, 8);
    return s;
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------
 * Single-thread behaviour
 * ------------------------------------------------------------------- */

static size_t cap_of(size_t req)
{
    pr_ring_t *r;
    pr_ring_stats_t st = {0};

    if (pr_ring_create(&r, req, PR_RING_REJECT) != 0)
        return 0;
    pr_ring_stats(r, &st);
    pr_ring_destroy(r);
    return st.capacity;
}

static void test_create(void)
{
    pr_ring_t *r = (pr_ring_t *)&r;

    is_int(pr_ring_create(NULL, 64, PR_RING_REJECT), PR_EINVAL, "create: NULL out");
    is_int(pr_ring_create(&r, 0, PR_RING_REJECT), PR_EINVAL, "create: capacity 0");
    ok(r == NULL, "create: *out cleared on failure");
    is_int(pr_ring_create(&r, PR_RING_MAX_CAPACITY + 1, PR_RING_REJECT), PR_EINVAL,
           "create: capacity above maximum");
    is_int(pr_ring_create(&r, 64, 2), PR_EINVAL, "create: unknown mode 2");
    is_int(pr_ring_create(&r, 64, -1), PR_EINVAL, "create: unknown mode -1");
    is_int(cap_of(1), 64, "capacity 1 rounds up to the minimum 64");
    is_int(cap_of(64), 64, "capacity 64 stays");
    is_int(cap_of(65), 128, "capacity 65 rounds to 128");
    is_int(cap_of(1000), 1024, "capacity 1000 rounds to 1024");

    if (pr_ring_create(&r, 64, PR_RING_REJECT))
        bail_out("ring create failed");
    is_int(pr_ring_max_record(r), 24, "64-byte ring takes 24-byte records");
    pr_ring_destroy(r);
    pr_ring_destroy(NULL);
    is_int(pr_ring_push(NULL, "x", 1), PR_EINVAL, "push on NULL ring");
    is_int(pr_ring_pop(NULL, NULL, 0, NULL), PR_EINVAL, "pop on NULL ring");
}

static void test_basic(int mode, const char *m)
{
    pr_ring_t *r;
    unsigned char buf[64];
    size_t len = 99;
    pr_ring_stats_t st;

    if (pr_ring_create(&r, 256, mode))
        bail_out("ring create failed");
    is_int(pr_ring_pop(r, buf, sizeof buf, &len), PR_EEMPTY, m);
    is_int(pr_ring_push(r, NULL, 3), PR_EINVAL, "push NULL data with len > 0");
    is_int(pr_ring_push(r, "hello", 5), 0, "push 5 bytes");
    is_int(pr_ring_push(r, NULL, 0), 0, "push empty record (NULL, 0)");
    pr_ring_stats(r, &st);
    is_int(st.bytes_used, 16 + 8, "bytes_used counts headers and padding");
    is_int(pr_ring_pop(r, NULL, 5, &len), PR_EINVAL, "pop NULL buf with cap > 0");
    memset(buf, 0, sizeof buf);
    is_int(pr_ring_pop(r, buf, sizeof buf, &len), 0, "pop first");
    ok(len == 5 && memcmp(buf, "hello", 5) == 0, "first record intact");
    len = 99;
    is_int(pr_ring_pop(r, NULL, 0, &len), 0, "pop empty record into no buffer");
    is_int(len, 0, "empty record has length 0");
    is_int(pr_ring_pop(r, buf, sizeof buf, NULL), PR_EEMPTY, "empty again");
    pr_ring_stats(r, &st);
    ok(st.pushed == 2 && st.popped == 2 && st.dropped == 0 && st.rejected == 0 &&
       st.bytes_used == 0, "stats after two in, two out");
    pr_ring_destroy(r);
}

/* A maximal record must fit in an empty ring whatever the write offset,
 * padding included; one byte more never fits. */
static void test_too_big(int mode, const char *m)
{
    enum { CAP = 256 };
    pr_ring_t *r;
    unsigned char in[CAP], out[CAP];
    size_t max, off, len, good = 0;
    pr_ring_stats_t st;

    if (pr_ring_create(&r, CAP, mode))
        bail_out("ring create failed");
    max = pr_ring_max_record(r);
    is_int(max, CAP / 2 - 8, "max record is capacity/2 - 8");
    is_int(pr_ring_push(r, in, max + 1), PR_ETOOBIG, m);
    is_int(pr_ring_push(r, in, SIZE_MAX), PR_ETOOBIG, "SIZE_MAX is too big");
    pr_ring_stats(r, &st);
    ok(st.pushed == 0 && st.rejected == 0 && st.bytes_used == 0,
       "too-big pushes change nothing and are not counted as rejected");

    for (off = 0; off < CAP / 8; off++) {
        /* Move the write offset by one 8-byte empty record per round. */
        int ok1 = pr_ring_push(r, NULL, 0) == 0 &&
                  pr_ring_pop(r, NULL, 0, &len) == 0;
        fill(in, off, max);
        ok1 = ok1 && pr_ring_push(r, in, max) == 0;
        ok1 = ok1 && pr_ring_pop(r, out, sizeof out, &len) == 0 && len == max &&
              check(out, off, max);
        good += ok1;
    }
    is_int(good, CAP / 8, "max record fits an empty ring at every offset");
    pr_ring_stats(r, &st);
    is_int(st.dropped, 0, "nothing dropped doing so");
    pr_ring_destroy(r);
}

static void test_small_buffer(int mode, const char *m)
{
    pr_ring_t *r;
    unsigned char in[40], out[40];
    size_t len = 0;
    pr_ring_stats_t st;

    if (pr_ring_create(&r, 256, mode))
        bail_out("ring create failed");
    fill(in, 7, sizeof in);
    pr_ring_push(r, in, sizeof in);
    is_int(pr_ring_pop(r, out, 10, &len), PR_ETOOBIG, m);
    is_int(len, 40, "ETOOBIG reports the record length");
    len = 0;
    is_int(pr_ring_pop(r, NULL, 0, &len), PR_ETOOBIG, "pop(NULL, 0) asks for the length");
    is_int(len, 40, "and gets it");
    is_int(pr_ring_pop(r, out, 39, NULL), PR_ETOOBIG, "one byte short is still too small");
    is_int(pr_ring_pop(r, out, sizeof out, &len), 0, "record was kept: exact-size pop works");
    ok(len == 40 && check(out, 7, 40), "kept record intact");
    pr_ring_stats(r, &st);
    is_int(st.popped, 1, "only the successful pop is counted");
    is_int(pr_ring_pop(r, out, sizeof out, &len), PR_EEMPTY, "then empty");
    pr_ring_destroy(r);
}

static void test_reject_full(void)
{
    pr_ring_t *r;
    unsigned char rec[24], out[24];
    size_t i, len, inorder = 0;
    pr_ring_stats_t st;

    /* 24-byte payloads are 32 bytes each: exactly 8 fill 256. */
    if (pr_ring_create(&r, 256, PR_RING_REJECT))
        bail_out("ring create failed");
    for (i = 0; i < 8; i++) {
        fill(rec, i, sizeof rec);
        if (pr_ring_push(r, rec, sizeof rec) != 0)
            break;
    }
    is_int(i, 8, "reject: 8 records of 32 bytes fill 256");
    fill(rec, 8, sizeof rec);
    is_int(pr_ring_push(r, rec, sizeof rec), PR_EFULL, "reject: 9th is refused with EFULL");
    is_int(pr_ring_push(r, NULL, 0), PR_EFULL, "reject: even an empty record");
    pr_ring_stats(r, &st);
    ok(st.rejected == 2 && st.pushed == 8 && st.bytes_used == 256,
       "reject: stats count 2 rejected, 8 pushed, 256 bytes used");
    is_int(pr_ring_pop(r, out, sizeof out, &len), 0, "reject: pop the oldest");
    ok(check(out, 0, 24), "reject: oldest is record 0");
    is_int(pr_ring_push(r, rec, sizeof rec), 0, "reject: room again after a pop");
    for (i = 1; i <= 8; i++)
        inorder += pr_ring_pop(r, out, sizeof out, &len) == 0 && len == 24 &&
                   check(out, i, 24);
    is_int(inorder, 8, "reject: rest come out in order, refused one absent");
    pr_ring_destroy(r);
}

static void test_overwrite_drops(void)
{
    pr_ring_t *r;
    unsigned char rec[8], out[8];
    size_t i, len, inorder = 0;
    int all_ok = 1;
    pr_ring_stats_t st;

    /* 8-byte payloads are 16 bytes each: a 64-byte ring holds 4. */
    if (pr_ring_create(&r, 64, PR_RING_OVERWRITE))
        bail_out("ring create failed");
    for (i = 0; i < 10; i++) {
        fill(rec, i, sizeof rec);
        all_ok &= pr_ring_push(r, rec, sizeof rec) == 0;
    }
    ok(all_ok, "overwrite: every push succeeds");
    pr_ring_stats(r, &st);
    ok(st.pushed == 10 && st.dropped == 6 && st.rejected == 0 && st.bytes_used == 64,
       "overwrite: 10 pushed into room for 4 drops 6");
    for (i = 6; i < 10; i++)
        inorder += pr_ring_pop(r, out, sizeof out, &len) == 0 && seq_of(out) == i;
    is_int(inorder, 4, "overwrite: the newest 4 remain, oldest first");
    is_int(pr_ring_pop(r, out, sizeof out, &len), PR_EEMPTY, "overwrite: then empty");
    pr_ring_destroy(r);
}

/* ---------------------------------------------------------------------
 * Byte-exact model.  The layout is specified in ring.h (8-byte header,
 * payload padded to 8, padding to the end when a record would wrap), so a
 * model of head and tail predicts exactly when a push is refused, what
 * overwrite drops, and what each pop returns.  Random sizes make the ring
 * wrap at every possible offset.
 * ------------------------------------------------------------------- */

struct ent {
    int pad;
    uint64_t seq;
    size_t len, size;
};

#define QN 1024
static struct ent q[QN];
static size_t qh, qt; /* queue of entries, free-running */

static void test_model(int mode, const char *m)
{
    enum { CAP = 512, OPS = 300000 };
    pr_ring_t *r;
    unsigned char in[CAP], out[CAP];
    size_t mh = 0, mt = 0, max, len, i, bad = 0, pads = 0, fulls = 0;
    uint64_t seq = 0, pushed = 0, popped = 0, dropped = 0, rejected = 0;
    pr_ring_stats_t st;

    if (pr_ring_create(&r, CAP, mode))
        bail_out("ring create failed");
    max = pr_ring_max_record(r);
    qh = qt = 0;

    for (i = 0; i < OPS && bad < 5; i++) {
        uint64_t x = rnd();
        if ((x & 7) < 4) { /* push, slightly more often than pop */
            size_t n = (x >> 8) % 4 ? (x >> 16) % 64 : (x >> 16) % (max + 1);
            size_t total = 8 + ((n + 7) & ~(size_t)7);
            size_t room_to_end = CAP - (mh % CAP);
            size_t need = room_to_end < total ? room_to_end + total : total;
            int want = 0, rc;

            if (CAP - (mh - mt) < need) {
                fulls++;
                if (mode == PR_RING_REJECT) {
                    want = PR_EFULL;
                } else {
                    while (CAP - (mh - mt) < need) {
                        struct ent *e = &q[qt++ % QN];
                        mt += e->size;
                        dropped += !e->pad;
                    }
                }
            }
            fill(in, seq, n);
            rc = pr_ring_push(r, in, n);
            if (rc != want) {
                diag("op %zu: push %zu bytes at %zu/%zu: got %d want %d",
                     i, n, mh, mt, rc, want);
                bad++;
            }
            if (want) {
                rejected++;
                continue;
            }
            if (need != total) {
                q[qh++ % QN] = (struct ent){1, 0, 0, room_to_end};
                pads++;
            }
            q[qh++ % QN] = (struct ent){0, seq, n, total};
            mh += need;
            seq++;
            pushed++;
        } else { /* pop, sometimes into a buffer that is too small */
            size_t bufcap = (x >> 8) % 8 ? sizeof out : (x >> 16) % 64;
            int rc, want;
            struct ent *e = NULL;
            size_t skip = 0; /* a pad in front goes with the record after it */

            if (qh != qt) {
                e = &q[qt % QN];
                if (e->pad) {
                    skip = e->size;
                    e = &q[(qt + 1) % QN];
                }
            }
            want = !e ? PR_EEMPTY : e->len > bufcap ? PR_ETOOBIG : 0;
            len = 12345;
            rc = pr_ring_pop(r, out, bufcap, &len);
            if (rc != want || (e && len != e->len) ||
                (rc == 0 && !check(out, e->seq, len))) {
                diag("op %zu: pop cap %zu: got %d len %zu, want %d len %zu",
                     i, bufcap, rc, len, want, e ? e->len : 0);
                bad++;
            }
            if (want == 0) {
                mt += skip + e->size;
                qt += skip ? 2 : 1;
                popped++;
            }
        }
    }
    is_int(bad, 0, m);
    ok(pads > 1000 && fulls > 1000, "model run wrapped %zu times and was full %zu times",
       pads, fulls);
    pr_ring_stats(r, &st);
    ok(st.pushed == pushed && st.popped == popped && st.dropped == dropped &&
       st.rejected == rejected && st.bytes_used == mh - mt,
       "stats match the model (pushed %llu popped %llu dropped %llu rejected %llu used %zu)",
       (unsigned long long)pushed, (unsigned long long)popped,
       (unsigned long long)dropped, (unsigned long long)rejected, mh - mt);
    pr_ring_destroy(r);
}

/* ---------------------------------------------------------------------
 * Two-thread stress
 * ------------------------------------------------------------------- */

struct stress {
    pr_ring_t *r;
    uint64_t n;          /* records to send */
    size_t maxlen;       /* payload cap for the occasional big record */
    atomic_int stop;     /* either side gave up: the other must not wait */
    atomic_int done;     /* producer finished */
    uint64_t sent, push_err;
    uint64_t received, errors, first_bad, last_seq;
    int bad_rc;
};

/* 8..64 bytes, all residues mod 8, and now and then the largest record the
 * ring takes so the padding and drop paths see big spans too. */
static size_t stress_len(const struct stress *s, uint64_t seq)
{
    if (seq % 997 == 0)
        return s->maxlen;
    return 8 + (size_t)(mix(seq) % 57);
}

static void backoff(unsigned *spins)
{
    if (++*spins % 64 == 0)
        sched_yield();
}

static void *producer(void *arg)
{
    struct stress *s = arg;
    unsigned char buf[4096];
    unsigned spins = 0;
    uint64_t seq;
    int rc;

    for (seq = 0; seq < s->n; seq++) {
        size_t len = stress_len(s, seq);
        fill(buf, seq, len);
        while ((rc = pr_ring_push(s->r, buf, len)) == PR_EFULL) {
            if (atomic_load_explicit(&s->stop, memory_order_relaxed))
                goto out;
            backoff(&spins);
        }
        if (rc) {
            s->push_err++;
            atomic_store(&s->stop, 1);
            break;
        }
    }
out:
    s->sent = seq;
    atomic_store(&s->done, 1);
    return NULL;
}

/* Reject mode: nothing may be lost, so every seq arrives, in order. */
static void *consumer_exact(void *arg)
{
    struct stress *s = arg;
    unsigned char buf[4096];
    unsigned spins = 0;
    size_t len;
    int rc;

    while (s->received < s->n) {
        rc = pr_ring_pop(s->r, buf, sizeof buf, &len);
        if (rc == PR_EEMPTY) {
            if (atomic_load(&s->stop))
                break;
            backoff(&spins);
            continue;
        }
        if (rc || len != stress_len(s, s->received) || seq_of(buf) != s->received ||
            !check(buf, s->received, len)) {
            s->errors++;
            s->first_bad = s->received;
            s->bad_rc = rc;
            atomic_store(&s->stop, 1);
            break;
        }
        s->received++;
    }
    return NULL;
}

/* Overwrite mode: records may vanish but never reorder, repeat or tear. */
static void *consumer_lossy(void *arg)
{
    struct stress *s = arg;
    unsigned char buf[4096];
    unsigned spins = 0;
    size_t len;
    int rc, have = 0;

    for (;;) {
        int done = atomic_load(&s->done);
        rc = pr_ring_pop(s->r, buf, sizeof buf, &len);
        if (rc == PR_EEMPTY) {
            if (done) /* done was seen before this pop: the ring is drained */
                break;
            backoff(&spins);
            continue;
        }
        if (rc || len < 8 || (have && seq_of(buf) <= s->last_seq) ||
            seq_of(buf) >= s->n || len != stress_len(s, seq_of(buf)) ||
            !check(buf, seq_of(buf), len)) {
            s->errors++;
            s->first_bad = len >= 8 ? seq_of(buf) : UINT64_MAX;
            s->bad_rc = rc;
            atomic_store(&s->stop, 1);
            break;
        }
        s->last_seq = seq_of(buf);
        have = 1;
        s->received++;
    }
    return NULL;
}

static uint64_t stress_records(void)
{
    const char *e = getenv("PERCH_STRESS_RECORDS");
    char *end;
    unsigned long long v;

    if (!e || !*e)
        return STRESS_DEFAULT;
    v = strtoull(e, &end, 10);
    if (*end || v == 0) {
        diag("ignoring PERCH_STRESS_RECORDS=%s", e);
        return STRESS_DEFAULT;
    }
    return v;
}

static void run_stress(struct stress *s, void *(*consume)(void *))
{
    pthread_t pt, ct;
    double t0 = now_s(), dt;

    if (pthread_create(&ct, NULL, consume, s) || pthread_create(&pt, NULL, producer, s))
        bail_out("pthread_create failed");
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    dt = now_s() - t0;
    diag("%llu records in %.2f s (%.1f ns/record), %llu received",
         (unsigned long long)s->sent, dt, dt * 1e9 / (double)(s->sent ? s->sent : 1),
         (unsigned long long)s->received);
    if (s->errors)
        diag("first bad record near seq %llu (rc %d)",
             (unsigned long long)s->first_bad, s->bad_rc);
}

static void test_stress_reject(uint64_t n)
{
    struct stress s = {0};
    pr_ring_stats_t st;

    if (pr_ring_create(&s.r, 4096, PR_RING_REJECT))
        bail_out("ring create failed");
    s.n = n;
    s.maxlen = pr_ring_max_record(s.r);
    run_stress(&s, consumer_exact);
    pr_ring_stats(s.r, &st);
    is_int(s.push_err, 0, "stress reject: no push error other than EFULL");
    is_int(s.errors, 0, "stress reject: every record in order and intact");
    is_int(s.received, n, "stress reject: all records received");
    ok(st.pushed == n && st.popped == n && st.dropped == 0 && st.bytes_used == 0,
       "stress reject: stats pushed %llu popped %llu dropped %llu used %zu",
       (unsigned long long)st.pushed, (unsigned long long)st.popped,
       (unsigned long long)st.dropped, st.bytes_used);
    diag("producer found the ring full %llu times", (unsigned long long)st.rejected);
    pr_ring_destroy(s.r);
}

static void test_stress_overwrite(uint64_t n)
{
    struct stress s = {0};
    pr_ring_stats_t st;

    /* Small ring, so drops race with the consumer's copies all the time. */
    if (pr_ring_create(&s.r, 1024, PR_RING_OVERWRITE))
        bail_out("ring create failed");
    s.n = n;
    s.maxlen = pr_ring_max_record(s.r);
    run_stress(&s, consumer_lossy);
    pr_ring_stats(s.r, &st);
    is_int(s.push_err, 0, "stress overwrite: every push succeeds");
    is_int(s.errors, 0, "stress overwrite: strictly increasing, intact records");
    is_int(s.sent, n, "stress overwrite: all records sent");
    ok(s.received > 0, "stress overwrite: consumer received %llu",
       (unsigned long long)s.received);
    ok(s.received + st.dropped == n,
       "stress overwrite: received %llu + dropped %llu == sent %llu",
       (unsigned long long)s.received, (unsigned long long)st.dropped,
       (unsigned long long)n);
    ok(st.pushed == n && st.popped == s.received && st.rejected == 0 &&
       st.bytes_used == 0, "stress overwrite: stats agree and ring drained");
    pr_ring_destroy(s.r);
}

int main(void)
{
    uint64_t n = stress_records();

    test_create();
    test_basic(PR_RING_REJECT, "reject: new ring is empty");
    test_basic(PR_RING_OVERWRITE, "overwrite: new ring is empty");
    test_too_big(PR_RING_REJECT, "reject: max+1 is ETOOBIG");
    test_too_big(PR_RING_OVERWRITE, "overwrite: max+1 is ETOOBIG");
    test_small_buffer(PR_RING_REJECT, "reject: pop into a short buffer is ETOOBIG");
    test_small_buffer(PR_RING_OVERWRITE, "overwrite: pop into a short buffer is ETOOBIG");
    test_reject_full();
    test_overwrite_drops();
    test_model(PR_RING_REJECT, "reject: 300k random ops match the model");
    test_model(PR_RING_OVERWRITE, "overwrite: 300k random ops match the model");
    diag("stress: %llu records per run", (unsigned long long)n);
    test_stress_reject(n);
    test_stress_overwrite(n);
    return exit_status();
}
