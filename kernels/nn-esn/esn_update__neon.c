/* nn-esn/esn_update__neon.c - echo-state reservoir update, NEON: dense part
 * four rows at a time sharing u, CSR part gathered four lanes at a time,
 * sleef's u35 tanh (3.5 ULP) on 4 lanes. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>
#include <sleef.h>

static inline float sparse_row(float32x4_t acc, const int32_t *col, const float *val,
                               int32_t k0, int32_t k1, const float *x)
{
    int32_t k = k0;
    for (; k + 4 <= k1; k += 4) {
        /* NEON has no gather: four lane loads make the vector. */
        float32x4_t g = vdupq_n_f32(x[col[k]]);
        g = vsetq_lane_f32(x[col[k + 1]], g, 1);
        g = vsetq_lane_f32(x[col[k + 2]], g, 2);
        g = vsetq_lane_f32(x[col[k + 3]], g, 3);
        acc = vfmaq_f32(acc, vld1q_f32(val + k), g);
    }
    float s = vaddvq_f32(acc);
    for (; k < k1; k++)
        s += val[k] * x[col[k]];
    return s;
}

void pr_esn_update__neon(float *x, size_t n, const float *u, size_t m, const float *w_in,
                         const int32_t *row_ptr, const int32_t *col, const float *val,
                         const float *b, float a, float *pre)
{
    size_t body = m & ~(size_t)3, i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *w0 = w_in + i * m, *w1 = w0 + m, *w2 = w1 + m, *w3 = w2 + m;
        float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
        for (size_t c = 0; c < body; c += 4) {
            float32x4_t uv = vld1q_f32(u + c);
            s0 = vfmaq_f32(s0, vld1q_f32(w0 + c), uv);
            s1 = vfmaq_f32(s1, vld1q_f32(w1 + c), uv);
            s2 = vfmaq_f32(s2, vld1q_f32(w2 + c), uv);
            s3 = vfmaq_f32(s3, vld1q_f32(w3 + c), uv);
        }
        float t[4] = { 0, 0, 0, 0 };
        for (size_t c = body; c < m; c++) {
            t[0] += w0[c] * u[c];
            t[1] += w1[c] * u[c];
            t[2] += w2[c] * u[c];
            t[3] += w3[c] * u[c];
        }
        float32x4_t s[4] = { s0, s1, s2, s3 };
        for (int r = 0; r < 4; r++)
            pre[i + r] = sparse_row(s[r], col, val, row_ptr[i + r], row_ptr[i + r + 1], x) +
                         t[r] + (b ? b[i + r] : 0.0f);
    }
    for (; i < n; i++) {
        const float *w0 = w_in + i * m;
        float32x4_t s0 = vdupq_n_f32(0);
        for (size_t c = 0; c < body; c += 4)
            s0 = vfmaq_f32(s0, vld1q_f32(w0 + c), vld1q_f32(u + c));
        float t = 0;
        for (size_t c = body; c < m; c++)
            t += w0[c] * u[c];
        pre[i] = sparse_row(s0, col, val, row_ptr[i], row_ptr[i + 1], x) + t + (b ? b[i] : 0.0f);
    }

    const float32x4_t va = vdupq_n_f32(a), vna = vdupq_n_f32(1.0f - a);
    for (i = 0; i < n; i += 4) {
        /* The tail goes through a small copy so it too gets the vector tanh. */
        float pt[4] = { 0 }, xt[4] = { 0 };
        size_t left = n - i < 4 ? n - i : 4;
        for (size_t l = 0; l < left; l++) {
            pt[l] = pre[i + l];
            xt[l] = x[i + l];
        }
        float32x4_t tv = Sleef_tanhf4_u35advsimd(vld1q_f32(pt));
        vst1q_f32(xt, vfmaq_f32(vmulq_f32(vna, vld1q_f32(xt)), va, tv));
        for (size_t l = 0; l < left; l++)
            x[i + l] = xt[l];
    }
}
#endif
