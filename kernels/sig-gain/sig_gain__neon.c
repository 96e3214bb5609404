/* sig-gain/sig_gain__neon.c - gain, NEON: 4 lanes, 4x unrolled; one multiply
 * per sample, identical to the reference. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_sig_gain__neon(const float *x, float g, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
        float32x4_t c = vld1q_f32(x + i + 8), d = vld1q_f32(x + i + 12);
        vst1q_f32(y + i, vmulq_n_f32(a, g));
        vst1q_f32(y + i + 4, vmulq_n_f32(b, g));
        vst1q_f32(y + i + 8, vmulq_n_f32(c, g));
        vst1q_f32(y + i + 12, vmulq_n_f32(d, g));
    }
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(x + i), g));
    for (; i < n; i++)
        y[i] = g * x[i];
}
#endif
