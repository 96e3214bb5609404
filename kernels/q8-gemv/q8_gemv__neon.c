/* q8-gemv/q8_gemv__neon.c - int8 GEMV, NEON: smull/smlal2 pairs widened by
 * sadalp; with the dot-product extension (checked at run time through
 * HWCAP_ASIMDDP) sdot does four multiply-adds per lane. */
#if defined(__aarch64__)
#include "q8_gemv_paths.h"

#include <arm_neon.h>
#include <sys/auxv.h>

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif

static inline void finish(float *y, size_t r, int32_t acc, const float *scale, float xscale,
                          const float *bias)
{
    float yr = (float)acc * (scale[r] * xscale);
    if (bias)
        yr += bias[r];
    y[r] = yr;
}

void pr_q8_gemv__neon_plain(const int8_t *q, const float *scale, size_t rows, size_t cols,
                            const int8_t *x, float xscale, const float *bias, float *y)
{
    for (size_t r = 0; r < rows; r++, q += cols) {
        int32x4_t a0 = vdupq_n_s32(0), a1 = vdupq_n_s32(0);
        size_t c = 0;
        for (; c + 16 <= cols; c += 16) {
            int8x16_t xv = vld1q_s8(x + c), qv = vld1q_s8(q + c);
            /* Two products of |v| <= 127 sum to at most 32258: int16 holds. */
            int16x8_t p = vmull_s8(vget_low_s8(qv), vget_low_s8(xv));
            p = vmlal_high_s8(p, qv, xv);
            if (c & 16)
                a1 = vpadalq_s16(a1, p);
            else
                a0 = vpadalq_s16(a0, p);
        }
        int32_t acc = vaddvq_s32(vaddq_s32(a0, a1));
        for (; c < cols; c++)
            acc += (int32_t)q[c] * x[c];
        finish(y, r, acc, scale, xscale, bias);
    }
}

__attribute__((target("arch=armv8.2-a+dotprod")))
void pr_q8_gemv__neon_dot(const int8_t *q, const float *scale, size_t rows, size_t cols,
                          const int8_t *x, float xscale, const float *bias, float *y)
{
    for (size_t r = 0; r < rows; r++, q += cols) {
        int32x4_t a0 = vdupq_n_s32(0), a1 = vdupq_n_s32(0);
        size_t c = 0;
        for (; c + 32 <= cols; c += 32) {
            a0 = vdotq_s32(a0, vld1q_s8(q + c), vld1q_s8(x + c));
            a1 = vdotq_s32(a1, vld1q_s8(q + c + 16), vld1q_s8(x + c + 16));
        }
        for (; c + 16 <= cols; c += 16)
            a0 = vdotq_s32(a0, vld1q_s8(q + c), vld1q_s8(x + c));
        int32_t acc = vaddvq_s32(vaddq_s32(a0, a1));
        for (; c < cols; c++)
            acc += (int32_t)q[c] * x[c];
        finish(y, r, acc, scale, xscale, bias);
    }
}

int pr_q8_gemv__neon_has_dot(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
}

void pr_q8_gemv__neon(const int8_t *q, const float *scale, size_t rows, size_t cols,
                      const int8_t *x, float xscale, const float *bias, float *y)
{
    /* getauxval is a table lookup, cheap next to a GEMV; caching it in a
     * static would need an atomic to stay race-free. */
    if (pr_q8_gemv__neon_has_dot())
        pr_q8_gemv__neon_dot(q, scale, rows, cols, x, xscale, bias, y);
    else
        pr_q8_gemv__neon_plain(q, scale, rows, cols, x, xscale, bias, y);
}
#endif
