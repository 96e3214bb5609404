/* f32-add/f32_add__neon.c - y = a + b (y may be a or b: each element is
 * read before it is written); NEON: 4 lanes, 4 vectors per step, scalar
 * tail as the reference. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_f32_add__neon(const float *a, const float *b, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t r0 = vaddq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        float32x4_t r1 = vaddq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        float32x4_t r2 = vaddq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        float32x4_t r3 = vaddq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
        vst1q_f32(y + i, r0);
        vst1q_f32(y + i + 4, r1);
        vst1q_f32(y + i + 8, r2);
        vst1q_f32(y + i + 12, r3);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vaddq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    for (; i < n; i++)
        y[i] = a[i] + b[i];
}
#endif
