/* test_retry.c - unit tests for runtime/retry: the generator (splitmix64
 * seeding against its published first output, determinism, uniform range
 * and mean), the bounds of every backoff mode over many draws with a fixed
 * seed, the cap, the attempt clamp, and Retry-After in both forms. */
#include "error.h"
#include "retry.h"
#include "tap.h"

#include <math.h>
#include <string.h>

/* Every draw of mode for retries 1..8, 2000 times: min and max seen per n. */
static int within(pr_backoff_t mode, double base, double cap, int n, double lo, double hi,
                  double *seen_lo, double *seen_hi)
{
    pr_rng_t r;
    pr_rng_seed(&r, 42);
    *seen_lo = INFINITY;
    *seen_hi = -INFINITY;
    for (int i = 0; i < 2000; i++) {
        double prev = base * (1 + i % 5);
        double w = pr_retry_backoff(mode, base, cap, n, prev, &r);
        *seen_lo = fmin(*seen_lo, w);
        *seen_hi = fmax(*seen_hi, w);
        if (w < lo || w > hi)
            return 0;
    }
    return 1;
}

int main(void)
{
    pr_rng_t a, b;
    double lo, hi, ms, sum = 0;
    int same = 1, inrange = 1;

    plan(27);

    /* splitmix64's first output for seed 0 is 0xe220a8397b1dcdaf. */
    pr_rng_seed(&a, 0);
    ok(a.s[0] == 0xe220a8397b1dcdafULL, "seeded through splitmix64");
    pr_rng_seed(&a, 7);
    pr_rng_seed(&b, 7);
    for (int i = 0; i < 1000; i++)
        same &= pr_rng_next(&a) == pr_rng_next(&b);
    ok(same, "the same seed gives the same sequence");
    pr_rng_seed(&b, 8);
    ok(pr_rng_next(&a) != pr_rng_next(&b), "another seed, another sequence");
    for (int i = 0; i < 100000; i++) {
        double u = pr_rng_uniform(&a);
        inrange &= u >= 0 && u < 1;
        sum += u;
    }
    ok(inrange, "uniform draws are in [0, 1)");
    ok(fabs(sum / 100000 - 0.5) < 0.01, "their mean is 0.5 (%.4f)", sum / 100000);

    /* exponential: base * 2^(n-1), capped, no jitter. */
    ok(pr_retry_backoff(PR_BACKOFF_EXPONENTIAL, 100, 1000, 1, 0, &a) == 100 &&
       pr_retry_backoff(PR_BACKOFF_EXPONENTIAL, 100, 1000, 3, 0, &a) == 400 &&
       pr_retry_backoff(PR_BACKOFF_EXPONENTIAL, 100, 1000, 5, 0, &a) == 1000,
       "exponential: 100, 400, then the 1000 cap");
    ok(pr_retry_backoff(PR_BACKOFF_EXPONENTIAL, 100, 1000, 10000, 0, &a) == 1000,
       "a huge retry number does not overflow");

    /* full: [0, min(cap, base * 2^(n-1))]. */
    ok(within(PR_BACKOFF_FULL, 100, 1000, 1, 0, 100, &lo, &hi), "full, n=1: in [0, 100]");
    ok(lo < 5 && hi > 95, "full, n=1: spreads over the range (%.1f..%.1f)", lo, hi);
    ok(within(PR_BACKOFF_FULL, 100, 1000, 3, 0, 400, &lo, &hi), "full, n=3: in [0, 400]");
    ok(within(PR_BACKOFF_FULL, 100, 1000, 8, 0, 1000, &lo, &hi) && hi > 950,
       "full, n=8: in [0, cap] and reaches near the cap (%.1f)", hi);

    /* equal: [v/2, v] with v = min(cap, base * 2^(n-1)). */
    ok(within(PR_BACKOFF_EQUAL, 100, 1000, 1, 50, 100, &lo, &hi), "equal, n=1: in [50, 100]");
    ok(lo < 52 && hi > 98, "equal, n=1: spreads (%.1f..%.1f)", lo, hi);
    ok(within(PR_BACKOFF_EQUAL, 100, 1000, 3, 200, 400, &lo, &hi), "equal, n=3: in [200, 400]");
    ok(within(PR_BACKOFF_EQUAL, 100, 1000, 9, 500, 1000, &lo, &hi), "equal, n=9: in [500, cap]");

    /* decorrelated: [base, min(cap, 3 * prev)]; `within` varies prev over
     * base..5*base, so the bound is 3 * 5 * base = 1500, capped at 1000. */
    ok(within(PR_BACKOFF_DECORRELATED, 100, 1000, 2, 100, 1000, &lo, &hi), "decorrelated: in [base, cap]");
    ok(lo < 110 && hi > 900, "decorrelated: spreads (%.1f..%.1f)", lo, hi);
    {
        pr_rng_t r;
        int ok3 = 1;
        pr_rng_seed(&r, 1);
        for (int i = 0; i < 1000; i++) {
            double w = pr_retry_backoff(PR_BACKOFF_DECORRELATED, 100, 100000, 2, 200, &r);
            ok3 &= w >= 100 && w <= 600;
        }
        ok(ok3, "decorrelated: at most 3 * the previous wait (600 after 200)");
    }
    {
        pr_rng_t r1, r2;
        pr_rng_seed(&r1, 99);
        pr_rng_seed(&r2, 99);
        ok(pr_retry_backoff(PR_BACKOFF_FULL, 100, 1000, 3, 0, &r1) ==
               pr_retry_backoff(PR_BACKOFF_FULL, 100, 1000, 3, 0, &r2),
           "jitter is deterministic for a seed");
    }

    is_int(pr_retry_clamp_attempts(3), 3, "3 attempts stay 3");
    is_int(pr_retry_clamp_attempts(50), PR_RETRY_MAX_ATTEMPTS, "50 attempts clamp to the maximum");
    is_int(pr_retry_clamp_attempts(0), 1, "0 attempts mean one");

    ok(pr_retry_after_ms("120", 0, &ms) == 0 && ms == 120000, "Retry-After: 120 -> 120000 ms");
    ok(pr_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111767, &ms) == 0 && ms == 10000,
       "Retry-After: an IMF-fixdate 10 s ahead -> 10000 ms");
    ok(pr_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", 784111767, &ms) == 0 && ms == 10000,
       "Retry-After: an RFC 850 date");
    ok(pr_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111800, &ms) == 0 && ms == 0,
       "Retry-After: a date in the past -> 0");
    ok(pr_retry_after_ms("soon", 0, &ms) == PR_EINVAL && pr_retry_after_ms("-5", 0, &ms) == PR_EINVAL &&
       pr_retry_after_ms("5 s", 0, &ms) == PR_EINVAL,
       "Retry-After: anything else is PR_EINVAL");
    return exit_status();
}
