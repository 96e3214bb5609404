/* f32-softmax/f32_softmax__neon.c - max-subtracted softmax, NEON: three
 * passes (max, exp and sum into y, scale by 1/sum), sleef u10 exp; the exp
 * tail goes through a padded buffer so every element gets the same exp.
 * x == y allowed; n == 0 does nothing; NaN in x gives NaN out. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>
#include <math.h>
#include <sleef.h>
#include <string.h>

void pr_f32_softmax__neon(const float *x, float *y, size_t n)
{
    if (n == 0)
        return;
    size_t i = 0;
    float32x4_t vm = vdupq_n_f32(-INFINITY);
    for (; i + 4 <= n; i += 4)
        vm = vmaxq_f32(vm, vld1q_f32(x + i));
    float m = vmaxvq_f32(vm);
    for (; i < n; i++)
        if (x[i] > m)
            m = x[i];
    float32x4_t mx = vdupq_n_f32(m);

    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    for (i = 0; i + 8 <= n; i += 8) {
        float32x4_t e0 = Sleef_expf4_u10advsimd(vsubq_f32(vld1q_f32(x + i), mx));
        float32x4_t e1 = Sleef_expf4_u10advsimd(vsubq_f32(vld1q_f32(x + i + 4), mx));
        vst1q_f32(y + i, e0);
        vst1q_f32(y + i + 4, e1);
        s0 = vaddq_f32(s0, e0);
        s1 = vaddq_f32(s1, e1);
    }
    for (; i + 4 <= n; i += 4) {
        float32x4_t e0 = Sleef_expf4_u10advsimd(vsubq_f32(vld1q_f32(x + i), mx));
        vst1q_f32(y + i, e0);
        s0 = vaddq_f32(s0, e0);
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    if (i < n) {
        float buf[4] = { 0 };
        memcpy(buf, x + i, (n - i) * sizeof(float));
        vst1q_f32(buf, Sleef_expf4_u10advsimd(vsubq_f32(vld1q_f32(buf), mx)));
        for (size_t j = 0; j < n - i; j++)
            s += buf[j]; /* only the lanes that hold elements */
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
    float inv = 1.0f / s;
    float32x4_t vinv = vdupq_n_f32(inv);

    for (i = 0; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(y + i), vinv));
    for (; i < n; i++)
        y[i] *= inv;
}
#endif
