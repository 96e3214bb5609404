/* f32-axpy/f32_axpy__neon.c - y += a*x, NEON: 4 lanes, four vectors per step,
 * scalar tail. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_f32_axpy__neon(float a, const float *x, float *y, size_t n)
{
    float32x4_t va = vdupq_n_f32(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t y0 = vfmaq_f32(vld1q_f32(y + i), va, vld1q_f32(x + i));
        float32x4_t y1 = vfmaq_f32(vld1q_f32(y + i + 4), va, vld1q_f32(x + i + 4));
        float32x4_t y2 = vfmaq_f32(vld1q_f32(y + i + 8), va, vld1q_f32(x + i + 8));
        float32x4_t y3 = vfmaq_f32(vld1q_f32(y + i + 12), va, vld1q_f32(x + i + 12));
        vst1q_f32(y + i, y0);
        vst1q_f32(y + i + 4, y1);
        vst1q_f32(y + i + 8, y2);
        vst1q_f32(y + i + 12, y3);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), va, vld1q_f32(x + i)));
    for (; i < n; i++)
        y[i] += a * x[i];
}
#endif
