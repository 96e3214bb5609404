/* retry.h - the arithmetic of retry policies: backoff waits with jitter
 * from a seedable generator, the hard cap on attempts, and Retry-After.
 *
 * The policy logic (which failures retry, budgets, circuit breakers) is
 * Lua (lua/perch/retry.lua); what must hold whatever a script does lives
 * here and in lua/l_retry.c, which counts a request's attempts against
 * PR_RETRY_MAX_ATTEMPTS and its overall deadline.  No allocation, no I/O:
 * every function is pure but for the generator state it is given. */
#ifndef PR_RETRY_H
#define PR_RETRY_H

#include <stdint.h>
#include <time.h>

/* No policy makes more attempts (first try included) for one request. */
#define PR_RETRY_MAX_ATTEMPTS 10

typedef enum {
    PR_BACKOFF_FULL,          /* uniform in [0, min(cap, base * 2^(n-1))] */
    PR_BACKOFF_EQUAL,         /* half that bound, plus uniform in the other half */
    PR_BACKOFF_DECORRELATED,  /* min(cap, uniform in [base, 3 * previous wait]) */
    PR_BACKOFF_EXPONENTIAL,   /* min(cap, base * 2^(n-1)), no jitter */
} pr_backoff_t;

/* xoshiro256** (Blackman and Vigna): small, fast, and the same sequence on
 * every platform for a given seed, so tests of jittered waits can pin it. */
typedef struct pr_rng {
    uint64_t s[4];
} pr_rng_t;

/* Seed through splitmix64, as the authors recommend (any seed, 0 too). */
void pr_rng_seed(pr_rng_t *r, uint64_t seed);
uint64_t pr_rng_next(pr_rng_t *r);
/* Uniform in [0, 1), 53 random bits. */
double pr_rng_uniform(pr_rng_t *r);

/* "full", "equal", "decorrelated", "exponential" -> mode, or -1. */
int pr_backoff_parse(const char *name);
const char *pr_backoff_name(pr_backoff_t mode);

/* The wait in ms before retry number n (n = 1: between the first and the
 * second attempt).  base_ms > 0, cap_ms >= base_ms; prev_ms is the wait
 * before the previous retry (decorrelated only; base_ms for n = 1).  The
 * result is always within [0, cap_ms]; only the jittered modes draw from r. */
double pr_retry_backoff(pr_backoff_t mode, double base_ms, double cap_ms, int n, double prev_ms,
                        pr_rng_t *r);

/* Clamp a requested attempt count to 1..PR_RETRY_MAX_ATTEMPTS. */
int pr_retry_clamp_attempts(long long requested);

/* Parse a Retry-After value: delay-seconds ("120") or an HTTP date (any
 * form RFC 9110 allows, through curl_getdate) relative to `now` (wall
 * clock).  *ms gets the wait, 0 for a date in the past.  Returns 0, or
 * PR_EINVAL for anything else. */
int pr_retry_after_ms(const char *value, time_t now, double *ms);

#endif
