/* q8-gemv/q8_gemv__avx2.c - int8 GEMV, AVX2: vpmaddubsw on |x| and q with x's
 * sign (pair sums fit int16 since |x|, |q| <= 127), vpmaddwd to int32; |x|
 * is shared by four rows at a time. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

static inline __m256i dot32(__m256i acc, __m256i ax, __m256i sx, const int8_t *q, __m256i ones)
{
    __m256i sq = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)q), sx);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sq), ones));
}

static inline int32_t hsum(__m256i v)
{
    __m128i a = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    a = _mm_add_epi32(a, _mm_shuffle_epi32(a, _MM_SHUFFLE(1, 0, 3, 2)));
    a = _mm_add_epi32(a, _mm_shuffle_epi32(a, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(a);
}

static inline void finish(float *y, size_t r, int32_t acc, const float *scale, float xscale,
                          const float *bias)
{
    float yr = (float)acc * (scale[r] * xscale);
    if (bias)
        yr += bias[r];
    y[r] = yr;
}

void pr_q8_gemv__avx2(const int8_t *q, const float *scale, size_t rows, size_t cols,
                      const int8_t *x, float xscale, const float *bias, float *y)
{
    const __m256i ones = _mm256_set1_epi16(1);
    size_t body = cols & ~(size_t)31, r = 0;

    for (; r + 4 <= rows; r += 4) {
        const int8_t *q0 = q + r * cols, *q1 = q0 + cols, *q2 = q1 + cols, *q3 = q2 + cols;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t c = 0; c < body; c += 32) {
            __m256i sx = _mm256_loadu_si256((const __m256i *)(x + c));
            __m256i ax = _mm256_abs_epi8(sx);
            a0 = dot32(a0, ax, sx, q0 + c, ones);
            a1 = dot32(a1, ax, sx, q1 + c, ones);
            a2 = dot32(a2, ax, sx, q2 + c, ones);
            a3 = dot32(a3, ax, sx, q3 + c, ones);
        }
        int32_t s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
        for (size_t c = body; c < cols; c++) {
            s0 += (int32_t)q0[c] * x[c];
            s1 += (int32_t)q1[c] * x[c];
            s2 += (int32_t)q2[c] * x[c];
            s3 += (int32_t)q3[c] * x[c];
        }
        finish(y, r, s0, scale, xscale, bias);
        finish(y, r + 1, s1, scale, xscale, bias);
        finish(y, r + 2, s2, scale, xscale, bias);
        finish(y, r + 3, s3, scale, xscale, bias);
    }
    for (; r < rows; r++) {
        const int8_t *q0 = q + r * cols;
        __m256i a0 = _mm256_setzero_si256();
        for (size_t c = 0; c < body; c += 32) {
            __m256i sx = _mm256_loadu_si256((const __m256i *)(x + c));
            a0 = dot32(a0, _mm256_abs_epi8(sx), sx, q0 + c, ones);
        }
        int32_t s0 = hsum(a0);
        for (size_t c = body; c < cols; c++)
            s0 += (int32_t)q0[c] * x[c];
        finish(y, r, s0, scale, xscale, bias);
    }
}
#endif
