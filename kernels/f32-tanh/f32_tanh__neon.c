/* f32-tanh/f32_tanh__neon.c - y = tanh(x) (x == y allowed); NEON, 4 lanes,
 * sleef u35 (3.5 ulp); the tail goes through a padded 4-lane buffer so every element
 * gets the same vector function. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>
#include <sleef.h>
#include <string.h>

void pr_f32_tanh__neon(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, Sleef_tanhf4_u35advsimd(vld1q_f32(x + i)));
    if (i < n) {
        float buf[4] = { 0 };
        memcpy(buf, x + i, (n - i) * sizeof(float));
        vst1q_f32(buf, Sleef_tanhf4_u35advsimd(vld1q_f32(buf)));
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}
#endif
