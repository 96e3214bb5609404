/* sig-mix/sig_mix__neon.c - mix of two signals, NEON: 4 lanes, 2x unrolled,
 * fused multiply-add. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_sig_mix__neon(const float *a, float ga, const float *b, float gb, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t b0 = vmulq_n_f32(vld1q_f32(b + i), gb);
        float32x4_t b1 = vmulq_n_f32(vld1q_f32(b + i + 4), gb);
        vst1q_f32(y + i, vfmaq_n_f32(b0, vld1q_f32(a + i), ga));
        vst1q_f32(y + i + 4, vfmaq_n_f32(b1, vld1q_f32(a + i + 4), ga));
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vfmaq_n_f32(vmulq_n_f32(vld1q_f32(b + i), gb), vld1q_f32(a + i), ga));
    for (; i < n; i++)
        y[i] = ga * a[i] + gb * b[i];
}
#endif
