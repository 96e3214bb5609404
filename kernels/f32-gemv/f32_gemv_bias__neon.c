/* f32-gemv/f32_gemv_bias__neon.c - y = W x + bias, NEON: four rows at a time,
 * two 4-lane FMA accumulators per row, scalar column tail, the four row sums
 * reduced together with pairwise adds. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

/* Lane k of the result = sum of v_k's four lanes. */
static inline float32x4_t hsum4x4(float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3)
{
    return vpaddq_f32(vpaddq_f32(v0, v1), vpaddq_f32(v2, v3));
}

void pr_f32_gemv_bias__neon(const float *w, const float *x, const float *bias, float *y,
                            size_t rows, size_t cols)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        float32x4_t a0 = vdupq_n_f32(0), a1 = vdupq_n_f32(0);
        float32x4_t a2 = vdupq_n_f32(0), a3 = vdupq_n_f32(0);
        float32x4_t b0 = vdupq_n_f32(0), b1 = vdupq_n_f32(0);
        float32x4_t b2 = vdupq_n_f32(0), b3 = vdupq_n_f32(0);
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            float32x4_t xa = vld1q_f32(x + c), xb = vld1q_f32(x + c + 4);
            a0 = vfmaq_f32(a0, vld1q_f32(w0 + c), xa);
            a1 = vfmaq_f32(a1, vld1q_f32(w1 + c), xa);
            a2 = vfmaq_f32(a2, vld1q_f32(w2 + c), xa);
            a3 = vfmaq_f32(a3, vld1q_f32(w3 + c), xa);
            b0 = vfmaq_f32(b0, vld1q_f32(w0 + c + 4), xb);
            b1 = vfmaq_f32(b1, vld1q_f32(w1 + c + 4), xb);
            b2 = vfmaq_f32(b2, vld1q_f32(w2 + c + 4), xb);
            b3 = vfmaq_f32(b3, vld1q_f32(w3 + c + 4), xb);
        }
        if (c + 4 <= cols) {
            float32x4_t xa = vld1q_f32(x + c);
            a0 = vfmaq_f32(a0, vld1q_f32(w0 + c), xa);
            a1 = vfmaq_f32(a1, vld1q_f32(w1 + c), xa);
            a2 = vfmaq_f32(a2, vld1q_f32(w2 + c), xa);
            a3 = vfmaq_f32(a3, vld1q_f32(w3 + c), xa);
            c += 4;
        }
        float32x4_t s = hsum4x4(vaddq_f32(a0, b0), vaddq_f32(a1, b1),
                                vaddq_f32(a2, b2), vaddq_f32(a3, b3));
        for (; c < cols; c++) {
            float wv[4] = { w0[c], w1[c], w2[c], w3[c] };
            s = vfmaq_n_f32(s, vld1q_f32(wv), x[c]);
        }
        if (bias)
            s = vaddq_f32(s, vld1q_f32(bias + r));
        vst1q_f32(y + r, s);
    }
    for (; r < rows; r++) {
        const float *wr = w + r * cols;
        float32x4_t a = vdupq_n_f32(0), b = vdupq_n_f32(0);
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            a = vfmaq_f32(a, vld1q_f32(wr + c), vld1q_f32(x + c));
            b = vfmaq_f32(b, vld1q_f32(wr + c + 4), vld1q_f32(x + c + 4));
        }
        for (; c + 4 <= cols; c += 4)
            a = vfmaq_f32(a, vld1q_f32(wr + c), vld1q_f32(x + c));
        float s = vaddvq_f32(vaddq_f32(a, b));
        for (; c < cols; c++)
            s += wr[c] * x[c];
        y[r] = bias ? s + bias[r] : s;
    }
}
#endif
