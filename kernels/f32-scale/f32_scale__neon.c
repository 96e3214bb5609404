/* f32-scale/f32_scale__neon.c - y = a*x (x == y allowed: each element is
 * read before it is written); NEON: 4 lanes, 4 vectors per step, scalar
 * tail as the reference. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_f32_scale__neon(float a, const float *x, float *y, size_t n)
{
    float32x4_t va = vdupq_n_f32(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t r0 = vmulq_f32(va, vld1q_f32(x + i));
        float32x4_t r1 = vmulq_f32(va, vld1q_f32(x + i + 4));
        float32x4_t r2 = vmulq_f32(va, vld1q_f32(x + i + 8));
        float32x4_t r3 = vmulq_f32(va, vld1q_f32(x + i + 12));
        vst1q_f32(y + i, r0);
        vst1q_f32(y + i + 4, r1);
        vst1q_f32(y + i + 8, r2);
        vst1q_f32(y + i + 12, r3);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(va, vld1q_f32(x + i)));
    for (; i < n; i++)
        y[i] = a * x[i];
}
#endif
