/* f32-sigmoid/f32_sigmoid__neon.c - y = 1/(1 + exp(-x)) (x == y allowed);
 * stable for large |x|: exp(-x) overflowing to +inf gives 0, underflowing
 * to 0 gives 1; NEON, 4 lanes, sleef u10; the tail goes through a padded
 * 4-lane buffer so every element gets the same vector function. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>
#include <sleef.h>
#include <string.h>

/* A true division, not a reciprocal estimate: the estimate's 12 bits would
 * cost more accuracy than exp's u10. */
static inline float32x4_t sigmoid_v(float32x4_t v)
{
    const float32x4_t one = vdupq_n_f32(1.0f);
    return vdivq_f32(one, vaddq_f32(one, Sleef_expf4_u10advsimd(vnegq_f32(v))));
}

void pr_f32_sigmoid__neon(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, sigmoid_v(vld1q_f32(x + i)));
    if (i < n) {
        float buf[4] = { 0 };
        memcpy(buf, x + i, (n - i) * sizeof(float));
        vst1q_f32(buf, sigmoid_v(vld1q_f32(buf)));
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}
#endif
