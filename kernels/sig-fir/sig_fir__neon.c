/* sig-fir/sig_fir__neon.c - FIR filter, NEON: vectorised across outputs, 16
 * at a time (four 4-lane FMA chains), each tap broadcast once per block. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_sig_fir__neon(const float *x, size_t n, const float *taps, size_t ntaps, float *y)
{
    if (ntaps == 0 || n < ntaps)
        return;
    size_t ny = n - ntaps + 1, i = 0;
    for (; i + 16 <= ny; i += 16) {
        float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
        float32x4_t s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
        for (size_t k = 0; k < ntaps; k++) {
            float t = taps[k];
            const float *p = x + i + k;
            s0 = vfmaq_n_f32(s0, vld1q_f32(p), t);
            s1 = vfmaq_n_f32(s1, vld1q_f32(p + 4), t);
            s2 = vfmaq_n_f32(s2, vld1q_f32(p + 8), t);
            s3 = vfmaq_n_f32(s3, vld1q_f32(p + 12), t);
        }
        vst1q_f32(y + i, s0);
        vst1q_f32(y + i + 4, s1);
        vst1q_f32(y + i + 8, s2);
        vst1q_f32(y + i + 12, s3);
    }
    for (; i + 4 <= ny; i += 4) {
        float32x4_t s = vdupq_n_f32(0);
        for (size_t k = 0; k < ntaps; k++)
            s = vfmaq_n_f32(s, vld1q_f32(x + i + k), taps[k]);
        vst1q_f32(y + i, s);
    }
    for (; i < ny; i++) {
        float s = 0.0f;
        for (size_t k = 0; k < ntaps; k++)
            s += taps[k] * x[i + k];
        y[i] = s;
    }
}
#endif
