/* q8-quantize/q8_quantize__neon.c - per-row int8 quantization, NEON: 16
 * values per step, vrndnq (ties to even) then narrowing moves. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>
#include <math.h>
#include <string.h>

static inline int32x4_t q4(const float *w, float32x4_t s, float32x4_t lo, float32x4_t hi)
{
    float32x4_t t = vrndnq_f32(vdivq_f32(vld1q_f32(w), s));
    return vcvtq_s32_f32(vminq_f32(vmaxq_f32(t, lo), hi));
}

void pr_q8_quantize__neon(const float *w, size_t rows, size_t cols, int8_t *q, float *scale)
{
    const float32x4_t lo = vdupq_n_f32(-127.0f), hi = vdupq_n_f32(127.0f);

    for (size_t r = 0; r < rows; r++, w += cols, q += cols) {
        float32x4_t m0 = vdupq_n_f32(0), m1 = vdupq_n_f32(0);
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            m0 = vmaxq_f32(m0, vabsq_f32(vld1q_f32(w + c)));
            m1 = vmaxq_f32(m1, vabsq_f32(vld1q_f32(w + c + 4)));
        }
        float mx = vmaxvq_f32(vmaxq_f32(m0, m1));
        for (; c < cols; c++) {
            float a = fabsf(w[c]);
            if (a > mx)
                mx = a;
        }
        float s = mx / 127.0f;
        scale[r] = s;
        if (s == 0.0f) {
            memset(q, 0, cols);
            continue;
        }
        const float32x4_t vs = vdupq_n_f32(s);
        for (c = 0; c + 16 <= cols; c += 16) {
            int16x8_t a = vcombine_s16(vmovn_s32(q4(w + c, vs, lo, hi)),
                                       vmovn_s32(q4(w + c + 4, vs, lo, hi)));
            int16x8_t b = vcombine_s16(vmovn_s32(q4(w + c + 8, vs, lo, hi)),
                                       vmovn_s32(q4(w + c + 12, vs, lo, hi)));
            vst1q_s8(q + c, vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
        }
        for (; c < cols; c++) {
            float t = nearbyintf(w[c] / s);
            t = t > 127.0f ? 127.0f : t < -127.0f ? -127.0f : t;
            q[c] = (int8_t)t;
        }
    }
}
#endif
