/* f32-gemv/f32_gemv_bias__sse4.c - y = W x + bias, SSE4.1: four rows at a
 * time share each load of x; four independent 4-lane sums; scalar column tail. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

/* Horizontal sums of four vectors into one: lane k = sum of v_k. */
static inline __m128 hsum4x4(__m128 v0, __m128 v1, __m128 v2, __m128 v3)
{
    return _mm_hadd_ps(_mm_hadd_ps(v0, v1), _mm_hadd_ps(v2, v3));
}

void pr_f32_gemv_bias__sse4(const float *w, const float *x, const float *bias, float *y,
                            size_t rows, size_t cols)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m128 a0 = _mm_setzero_ps(), a1 = _mm_setzero_ps();
        __m128 a2 = _mm_setzero_ps(), a3 = _mm_setzero_ps();
        size_t c = 0;
        for (; c + 4 <= cols; c += 4) {
            __m128 xv = _mm_loadu_ps(x + c);
            a0 = _mm_add_ps(a0, _mm_mul_ps(_mm_loadu_ps(w0 + c), xv));
            a1 = _mm_add_ps(a1, _mm_mul_ps(_mm_loadu_ps(w1 + c), xv));
            a2 = _mm_add_ps(a2, _mm_mul_ps(_mm_loadu_ps(w2 + c), xv));
            a3 = _mm_add_ps(a3, _mm_mul_ps(_mm_loadu_ps(w3 + c), xv));
        }
        __m128 s = hsum4x4(a0, a1, a2, a3);
        for (; c < cols; c++) {
            __m128 wv = _mm_setr_ps(w0[c], w1[c], w2[c], w3[c]);
            s = _mm_add_ps(s, _mm_mul_ps(wv, _mm_set1_ps(x[c])));
        }
        if (bias)
            s = _mm_add_ps(s, _mm_loadu_ps(bias + r));
        _mm_storeu_ps(y + r, s);
    }
    for (; r < rows; r++) {
        const float *wr = w + r * cols;
        __m128 a = _mm_setzero_ps();
        size_t c = 0;
        for (; c + 4 <= cols; c += 4)
            a = _mm_add_ps(a, _mm_mul_ps(_mm_loadu_ps(wr + c), _mm_loadu_ps(x + c)));
        a = _mm_hadd_ps(a, a);
        a = _mm_hadd_ps(a, a);
        float s = _mm_cvtss_f32(a);
        for (; c < cols; c++)
            s += wr[c] * x[c];
        y[r] = bias ? s + bias[r] : s;
    }
}
#endif
