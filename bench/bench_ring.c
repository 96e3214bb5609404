/* bench_ring.c - pr_ring cost: push+pop pairs on one thread (pure code path,
 * both modes) and records per second with producer and consumer on two
 * threads (adds the cache-line traffic between cores). */
#include "bench.h"
#include "ring.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define REC    64              /* bytes per record: a small sensor sample */
#define CAP    (64 * 1024)
#define ROUNDS 5
#define N_1THREAD 2000000
#define N_2THREAD 5000000

static pr_ring_t *make(int mode)
{
    pr_ring_t *r;

    if (pr_ring_create(&r, CAP, mode) != 0) {
        fprintf(stderr, "bench_ring: ring create failed\n");
        exit(1);
    }
    return r;
}

static double one_thread(int mode)
{
    unsigned char in[REC] = {1}, out[REC];
    pr_ring_t *r = make(mode);
    uint64_t best = UINT64_MAX;
    size_t len;

    for (int k = 0; k < ROUNDS; k++) {
        uint64_t t0 = bench_ns();
        for (int i = 0; i < N_1THREAD; i++) {
            in[0] = (unsigned char)i;
            pr_ring_push(r, in, sizeof in);
            pr_ring_pop(r, out, sizeof out, &len);
            bench_keep(out[0]);
        }
        uint64_t t = bench_ns() - t0;
        if (t < best)
            best = t;
    }
    pr_ring_destroy(r);
    return (double)best / N_1THREAD;
}

struct two {
    pr_ring_t *r;
    atomic_int go;
};

static void wait_a_bit(unsigned *spins)
{
    /* Spin first (the other side is usually mid-operation on another
     * core), yield now and then in case both threads share one core. */
    if (++*spins % 256 == 0)
        sched_yield();
}

static void *producer(void *arg)
{
    struct two *s = arg;
    unsigned char in[REC] = {0};
    unsigned spins = 0;

    while (!atomic_load(&s->go))
        ;
    for (int i = 0; i < N_2THREAD; i++) {
        in[0] = (unsigned char)i;
        while (pr_ring_push(s->r, in, sizeof in) != 0)
            wait_a_bit(&spins);
    }
    return NULL;
}

static double two_threads(void)
{
    struct two s;
    pthread_t pt;
    unsigned char out[REC];
    unsigned spins = 0;
    uint64_t best = UINT64_MAX;
    size_t len;

    for (int k = 0; k < 3; k++) {
        s.r = make(PR_RING_REJECT);
        atomic_init(&s.go, 0);
        if (pthread_create(&pt, NULL, producer, &s) != 0) {
            fprintf(stderr, "bench_ring: pthread_create failed\n");
            exit(1);
        }
        uint64_t t0 = bench_ns();
        atomic_store(&s.go, 1);
        /* This thread consumes. */
        for (int i = 0; i < N_2THREAD; i++) {
            while (pr_ring_pop(s.r, out, sizeof out, &len) != 0)
                wait_a_bit(&spins);
            bench_keep(out[0]);
        }
        uint64_t t = bench_ns() - t0;
        pthread_join(pt, NULL);
        pr_ring_destroy(s.r);
        if (t < best)
            best = t;
    }
    return (double)best / N_2THREAD;
}

int main(void)
{
    double rej = one_thread(PR_RING_REJECT);
    double ovw = one_thread(PR_RING_OVERWRITE);

    bench_report("ring.push_pop.1thread", rej, "ns/op", NULL, 0);
    bench_report("ring.push_pop.1thread.overwrite", ovw, "ns/op",
                 "ring.push_pop.1thread", ovw / rej);
    bench_report("ring.push_pop.2thread", two_threads(), "ns/record", NULL, 0);
    return 0;
}
