/* q8-gemv/q8_gemv__sse4.c - int8 GEMV, SSE4.1: pmaddubsw on |x| and q with x's
 * sign (|x|, |q| <= 127, so the pair sums fit int16), pmaddwd to int32. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_q8_gemv__sse4(const int8_t *q, const float *scale, size_t rows, size_t cols,
                      const int8_t *x, float xscale, const float *bias, float *y)
{
    const __m128i ones = _mm_set1_epi16(1);

    for (size_t r = 0; r < rows; r++, q += cols) {
        __m128i a0 = _mm_setzero_si128(), a1 = _mm_setzero_si128();
        size_t c = 0;
        for (; c + 32 <= cols; c += 32) {
            __m128i x0 = _mm_loadu_si128((const __m128i *)(x + c));
            __m128i x1 = _mm_loadu_si128((const __m128i *)(x + c + 16));
            __m128i q0 = _mm_sign_epi8(_mm_loadu_si128((const __m128i *)(q + c)), x0);
            __m128i q1 = _mm_sign_epi8(_mm_loadu_si128((const __m128i *)(q + c + 16)), x1);
            a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_maddubs_epi16(_mm_abs_epi8(x0), q0), ones));
            a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_maddubs_epi16(_mm_abs_epi8(x1), q1), ones));
        }
        for (; c + 16 <= cols; c += 16) {
            __m128i x0 = _mm_loadu_si128((const __m128i *)(x + c));
            __m128i q0 = _mm_sign_epi8(_mm_loadu_si128((const __m128i *)(q + c)), x0);
            a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_maddubs_epi16(_mm_abs_epi8(x0), q0), ones));
        }
        a0 = _mm_add_epi32(a0, a1);
        a0 = _mm_add_epi32(a0, _mm_shuffle_epi32(a0, _MM_SHUFFLE(1, 0, 3, 2)));
        a0 = _mm_add_epi32(a0, _mm_shuffle_epi32(a0, _MM_SHUFFLE(2, 3, 0, 1)));
        int32_t acc = _mm_cvtsi128_si32(a0);
        for (; c < cols; c++)
            acc += (int32_t)q[c] * x[c];
        float yr = (float)acc * (scale[r] * xscale);
        if (bias)
            yr += bias[r];
        y[r] = yr;
    }
}
#endif
