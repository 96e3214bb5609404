/* f32-gemv/f32_gemv_bias__avx2.c - y = W x + bias, AVX2+FMA: four rows at a
 * time, two 8-lane FMA accumulators per row (eight chains hide the FMA
 * latency), masked column tail, the four row sums reduced together. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

/* Lane k of the result = sum of v_k's eight lanes. */
static inline __m128 hsum4x8(__m256 v0, __m256 v1, __m256 v2, __m256 v3)
{
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(v0, v1), _mm256_hadd_ps(v2, v3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

static inline __m256i tail_mask(size_t left)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void pr_f32_gemv_bias__avx2(const float *w, const float *x, const float *bias, float *y,
                            size_t rows, size_t cols)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
        __m256 b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
        size_t c = 0;
        for (; c + 16 <= cols; c += 16) {
            __m256 xa = _mm256_loadu_ps(x + c), xb = _mm256_loadu_ps(x + c + 8);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), xa, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + c), xa, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + c), xa, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + c), xa, a3);
            b0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c + 8), xb, b0);
            b1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + c + 8), xb, b1);
            b2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + c + 8), xb, b2);
            b3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + c + 8), xb, b3);
        }
        for (; c + 8 <= cols; c += 8) {
            __m256 xa = _mm256_loadu_ps(x + c);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), xa, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + c), xa, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + c), xa, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + c), xa, a3);
        }
        if (c < cols) {
            __m256i m = tail_mask(cols - c);
            __m256 xa = _mm256_maskload_ps(x + c, m);
            b0 = _mm256_fmadd_ps(_mm256_maskload_ps(w0 + c, m), xa, b0);
            b1 = _mm256_fmadd_ps(_mm256_maskload_ps(w1 + c, m), xa, b1);
            b2 = _mm256_fmadd_ps(_mm256_maskload_ps(w2 + c, m), xa, b2);
            b3 = _mm256_fmadd_ps(_mm256_maskload_ps(w3 + c, m), xa, b3);
        }
        __m128 s = hsum4x8(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1),
                           _mm256_add_ps(a2, b2), _mm256_add_ps(a3, b3));
        if (bias)
            s = _mm_add_ps(s, _mm_loadu_ps(bias + r));
        _mm_storeu_ps(y + r, s);
    }
    for (; r < rows; r++) {
        const float *wr = w + r * cols;
        __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
        size_t c = 0;
        for (; c + 16 <= cols; c += 16) {
            a = _mm256_fmadd_ps(_mm256_loadu_ps(wr + c), _mm256_loadu_ps(x + c), a);
            b = _mm256_fmadd_ps(_mm256_loadu_ps(wr + c + 8), _mm256_loadu_ps(x + c + 8), b);
        }
        for (; c + 8 <= cols; c += 8)
            a = _mm256_fmadd_ps(_mm256_loadu_ps(wr + c), _mm256_loadu_ps(x + c), a);
        if (c < cols) {
            __m256i m = tail_mask(cols - c);
            b = _mm256_fmadd_ps(_mm256_maskload_ps(wr + c, m), _mm256_maskload_ps(x + c, m), b);
        }
        a = _mm256_add_ps(a, b);
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        h = _mm_hadd_ps(h, h);
        h = _mm_hadd_ps(h, h);
        float s = _mm_cvtss_f32(h);
        y[r] = bias ? s + bias[r] : s;
    }
}
#endif
