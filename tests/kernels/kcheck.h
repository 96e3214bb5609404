/* kcheck.h - shared helpers for the kernel tests: every variant this CPU
 * supports against the scalar reference, at sizes around each vector width,
 * on aligned and unaligned pointers. */
#ifndef PR_KCHECK_H
#define PR_KCHECK_H

#include "kernels.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Sizes below, at, above and at multiples of 4, 8, 16 and 32 lanes (and the
 * 4x-unrolled bodies), plus a few odd large ones. */
static const size_t kc_sizes[] = {
    0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65,
    96, 127, 128, 129, 255, 256, 257, 384, 1000, 1023, 1024, 1025, 4099,
};
#define KC_NSIZES (sizeof kc_sizes / sizeof kc_sizes[0])
#define KC_MAXN 4099
/* Offsets in elements from a 64-byte aligned base: aligned and not. */
static const size_t kc_offsets[] = { 0, 1, 3 };
#define KC_NOFFSETS (sizeof kc_offsets / sizeof kc_offsets[0])

/* Deterministic pseudo-random numbers (xorshift), so failures repeat. */
static uint32_t kc_state = 2463534242u;
static inline uint32_t kc_u32(void)
{
    kc_state ^= kc_state << 13;
    kc_state ^= kc_state >> 17;
    kc_state ^= kc_state << 5;
    return kc_state;
}
static inline float kc_f32(float lo, float hi)
{
    return lo + (hi - lo) * (float)(kc_u32() >> 8) * (1.0f / 16777216.0f);
}
static inline void kc_fill_f32(float *p, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        p[i] = kc_f32(lo, hi);
}

/* 64-byte aligned scratch with room for the largest size plus offsets and a
 * guard zone that must stay untouched. */
static inline void *kc_alloc(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p)
        bail_out("out of memory");
    return p;
}

/* Call body(isa_table, name) for every supported ISA other than scalar. */
#define KC_FOR_EACH_VARIANT(t)                                              \
    for (int kc_i = 1; kc_i < PR_ISA_COUNT; kc_i++)                         \
        for (const pr_kernels_t *t = pr_kernels_for((pr_isa_t)kc_i); t; t = NULL)

#endif
