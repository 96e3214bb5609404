/* f32-relu/f32_relu__neon.c - y = max(x, 0); NaN gives +0 and -0 gives +0
 * in every variant (x == y allowed); NEON: 4 lanes, 4 vectors per step,
 * scalar tail as the reference. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_f32_relu__neon(const float *x, float *y, size_t n)
{
    float32x4_t z = vdupq_n_f32(0);
    /* Select on x > 0 rather than vmaxq_f32, which would propagate NaN:
     * NaN and -0 give +0 as in the reference. */
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t r0 = vbslq_f32(vcgtq_f32(vld1q_f32(x + i), z), vld1q_f32(x + i), z);
        float32x4_t r1 = vbslq_f32(vcgtq_f32(vld1q_f32(x + i + 4), z), vld1q_f32(x + i + 4), z);
        float32x4_t r2 = vbslq_f32(vcgtq_f32(vld1q_f32(x + i + 8), z), vld1q_f32(x + i + 8), z);
        float32x4_t r3 = vbslq_f32(vcgtq_f32(vld1q_f32(x + i + 12), z), vld1q_f32(x + i + 12), z);
        vst1q_f32(y + i, r0);
        vst1q_f32(y + i + 4, r1);
        vst1q_f32(y + i + 8, r2);
        vst1q_f32(y + i + 12, r3);
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vbslq_f32(vcgtq_f32(vld1q_f32(x + i), z), vld1q_f32(x + i), z));
    for (; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
#endif
