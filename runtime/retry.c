/* retry.c - backoff waits, the attempt cap and Retry-After parsing for
 * retry policies (see retry.h). */
#include "retry.h"

#include "error.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include <curl/curl.h>

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void pr_rng_seed(pr_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->s[i] = z ^ (z >> 31);
    }
}

uint64_t pr_rng_next(pr_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double pr_rng_uniform(pr_rng_t *r) { return (double)(pr_rng_next(r) >> 11) * 0x1.0p-53; }

static const char *const names[] = { "full", "equal", "decorrelated", "exponential" };

int pr_backoff_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *pr_backoff_name(pr_backoff_t mode)
{
    return (unsigned)mode < sizeof names / sizeof names[0] ? names[mode] : "?";
}

double pr_retry_backoff(pr_backoff_t mode, double base_ms, double cap_ms, int n, double prev_ms,
                        pr_rng_t *r)
{
    /* base * 2^(n-1) without overflow: past 2^60 the cap has long won. */
    double ceil_ms = fmin(cap_ms, base_ms * ldexp(1.0, n < 1 ? 0 : (n > 61 ? 60 : n - 1)));
    double w;

    switch (mode) {
    case PR_BACKOFF_FULL:
        w = pr_rng_uniform(r) * ceil_ms;
        break;
    case PR_BACKOFF_EQUAL:
        w = ceil_ms / 2 + pr_rng_uniform(r) * (ceil_ms / 2);
        break;
    case PR_BACKOFF_DECORRELATED: {
        double hi = fmax(base_ms, 3 * (prev_ms > 0 ? prev_ms : base_ms));
        w = fmin(cap_ms, base_ms + pr_rng_uniform(r) * (hi - base_ms));
        break;
    }
    case PR_BACKOFF_EXPONENTIAL:
    default:
        w = ceil_ms;
        break;
    }
    return fmax(0, fmin(w, cap_ms));
}

int pr_retry_clamp_attempts(long long requested)
{
    if (requested < 1)
        return 1;
    return requested > PR_RETRY_MAX_ATTEMPTS ? PR_RETRY_MAX_ATTEMPTS : (int)requested;
}

int pr_retry_after_ms(const char *value, time_t now, double *ms)
{
    const char *p = value;
    time_t when;

    while (*p == ' ' || *p == '\t')
        p++;
    if (isdigit((unsigned char)*p)) {
        double secs = 0;
        for (; isdigit((unsigned char)*p); p++)
            secs = secs * 10 + (*p - '0');
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p)
            return PR_EINVAL;
        *ms = secs * 1000;
        return 0;
    }
    /* curl_getdate reads RFC 1123, RFC 850 and asctime dates (and more). */
    when = curl_getdate(p, NULL);
    if (when == (time_t)-1)
        return PR_EINVAL;
    *ms = when > now ? difftime(when, now) * 1000 : 0;
    return 0;
}
