/* q8-quantize/q8_quantize__avx512.c - per-row int8 quantization, AVX-512: 16
 * values per step narrowed by vpmovdb, masked tails. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <string.h>

void pr_q8_quantize__avx512(const float *w, size_t rows, size_t cols, int8_t *q, float *scale)
{
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);

    for (size_t r = 0; r < rows; r++, w += cols, q += cols) {
        __m512 m0 = _mm512_setzero_ps(), m1 = _mm512_setzero_ps();
        size_t c = 0;
        for (; c + 32 <= cols; c += 32) {
            m0 = _mm512_max_ps(m0, _mm512_abs_ps(_mm512_loadu_ps(w + c)));
            m1 = _mm512_max_ps(m1, _mm512_abs_ps(_mm512_loadu_ps(w + c + 16)));
        }
        for (; c < cols; c += 16) {
            __mmask16 k = cols - c >= 16 ? 0xffff : (__mmask16)((1u << (cols - c)) - 1);
            m0 = _mm512_max_ps(m0, _mm512_abs_ps(_mm512_maskz_loadu_ps(k, w + c)));
        }
        float s = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1)) / 127.0f;
        scale[r] = s;
        if (s == 0.0f) {
            memset(q, 0, cols);
            continue;
        }
        const __m512 vs = _mm512_set1_ps(s);
        for (c = 0; c < cols; c += 16) {
            __mmask16 k = cols - c >= 16 ? 0xffff : (__mmask16)((1u << (cols - c)) - 1);
            __m512 t = _mm512_div_ps(_mm512_maskz_loadu_ps(k, w + c), vs);
            t = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
            _mm512_mask_cvtepi32_storeu_epi8(q + c, k, _mm512_cvtps_epi32(t));
        }
    }
}
#endif
