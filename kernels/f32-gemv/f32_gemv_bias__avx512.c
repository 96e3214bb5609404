/* f32-gemv/f32_gemv_bias__avx512.c - y = W x + bias, AVX-512: four rows at a
 * time, two 16-lane FMA accumulators per row (eight chains hide the FMA
 * latency), masked column tail, the four row sums reduced together. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

/* Lane k of the result = sum of v_k's sixteen lanes. */
static inline __m128 hsum4x16(__m512 v0, __m512 v1, __m512 v2, __m512 v3)
{
    /* Fold each to 8 lanes first, then as AVX2 does. */
    __m256 h0 = _mm256_add_ps(_mm512_castps512_ps256(v0), _mm512_extractf32x8_ps(v0, 1));
    __m256 h1 = _mm256_add_ps(_mm512_castps512_ps256(v1), _mm512_extractf32x8_ps(v1, 1));
    __m256 h2 = _mm256_add_ps(_mm512_castps512_ps256(v2), _mm512_extractf32x8_ps(v2, 1));
    __m256 h3 = _mm256_add_ps(_mm512_castps512_ps256(v3), _mm512_extractf32x8_ps(v3, 1));
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(h0, h1), _mm256_hadd_ps(h2, h3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

void pr_f32_gemv_bias__avx512(const float *w, const float *x, const float *bias, float *y,
                              size_t rows, size_t cols)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
        __m512 b2 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
        size_t c = 0;
        for (; c + 32 <= cols; c += 32) {
            __m512 xa = _mm512_loadu_ps(x + c), xb = _mm512_loadu_ps(x + c + 16);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + c), xa, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + c), xa, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + c), xa, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + c), xa, a3);
            b0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + c + 16), xb, b0);
            b1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + c + 16), xb, b1);
            b2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + c + 16), xb, b2);
            b3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + c + 16), xb, b3);
        }
        for (; c + 16 <= cols; c += 16) {
            __m512 xa = _mm512_loadu_ps(x + c);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + c), xa, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + c), xa, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + c), xa, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + c), xa, a3);
        }
        if (c < cols) {
            __mmask16 m = (__mmask16)((1u << (cols - c)) - 1);
            __m512 xa = _mm512_maskz_loadu_ps(m, x + c);
            b0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w0 + c), xa, b0);
            b1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w1 + c), xa, b1);
            b2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w2 + c), xa, b2);
            b3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, w3 + c), xa, b3);
        }
        __m128 s = hsum4x16(_mm512_add_ps(a0, b0), _mm512_add_ps(a1, b1),
                            _mm512_add_ps(a2, b2), _mm512_add_ps(a3, b3));
        if (bias)
            s = _mm_add_ps(s, _mm_loadu_ps(bias + r));
        _mm_storeu_ps(y + r, s);
    }
    for (; r < rows; r++) {
        const float *wr = w + r * cols;
        __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps();
        size_t c = 0;
        for (; c + 32 <= cols; c += 32) {
            a = _mm512_fmadd_ps(_mm512_loadu_ps(wr + c), _mm512_loadu_ps(x + c), a);
            b = _mm512_fmadd_ps(_mm512_loadu_ps(wr + c + 16), _mm512_loadu_ps(x + c + 16), b);
        }
        for (; c + 16 <= cols; c += 16)
            a = _mm512_fmadd_ps(_mm512_loadu_ps(wr + c), _mm512_loadu_ps(x + c), a);
        if (c < cols) {
            __mmask16 m = (__mmask16)((1u << (cols - c)) - 1);
            b = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wr + c), _mm512_maskz_loadu_ps(m, x + c), b);
        }
        float s = _mm512_reduce_add_ps(_mm512_add_ps(a, b));
        y[r] = bias ? s + bias[r] : s;
    }
}
#endif
