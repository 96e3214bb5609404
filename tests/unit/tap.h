/* tap.h - a minimal Test Anything Protocol emitter for the C unit tests.
 *
 * Header-only so each test is one self-contained executable that prove runs.
 * Usage: plan(n) or no plan and done_testing(); ok(cond, fmt, ...);
 * is_int(got, want, name); return exit_status(). */
#ifndef PR_TAP_H
#define PR_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_run, tap_failed, tap_planned;

static inline void plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_run++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

#define is_int(got, want, name)                                              \
    do {                                                                     \
        long long g_ = (long long)(got), w_ = (long long)(want);             \
        if (!ok(g_ == w_, "%s", name))                                       \
            diag("  got %lld, want %lld (%s:%d)", g_, w_, __FILE__, __LINE__); \
    } while (0)

/* Stop the whole test: something it depends on failed. */
#define bail_out(msg)                                                        \
    do {                                                                     \
        printf("Bail out! %s\n", msg);                                       \
        exit(255);                                                           \
    } while (0)

static inline int exit_status(void)
{
    if (!tap_planned)
        printf("1..%d\n", tap_run);
    return tap_failed ? 1 : 0;
}

#endif
