/* q8-quantize/q8_quantize__sse4.c - per-row int8 quantization, SSE4.1: 16
 * values per step, round-to-nearest-even with roundps, saturating packs. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline int8_t q1(float w, float s)
{
    float t = nearbyintf(w / s);
    t = t > 127.0f ? 127.0f : t < -127.0f ? -127.0f : t;
    return (int8_t)t;
}

static inline __m128i q4(const float *w, __m128 s, __m128 lo, __m128 hi)
{
    __m128 t = _mm_div_ps(_mm_loadu_ps(w), s);
    t = _mm_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm_cvtps_epi32(_mm_min_ps(_mm_max_ps(t, lo), hi));
}

void pr_q8_quantize__sse4(const float *w, size_t rows, size_t cols, int8_t *q, float *scale)
{
    const __m128 absmask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    const __m128 lo = _mm_set1_ps(-127.0f), hi = _mm_set1_ps(127.0f);

    for (size_t r = 0; r < rows; r++, w += cols, q += cols) {
        __m128 m0 = _mm_setzero_ps(), m1 = _mm_setzero_ps();
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            m0 = _mm_max_ps(m0, _mm_and_ps(_mm_loadu_ps(w + c), absmask));
            m1 = _mm_max_ps(m1, _mm_and_ps(_mm_loadu_ps(w + c + 4), absmask));
        }
        m0 = _mm_max_ps(m0, m1);
        m0 = _mm_max_ps(m0, _mm_movehl_ps(m0, m0));
        m0 = _mm_max_ss(m0, _mm_shuffle_ps(m0, m0, 1));
        float mx = _mm_cvtss_f32(m0);
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
        const __m128 vs = _mm_set1_ps(s);
        for (c = 0; c + 16 <= cols; c += 16) {
            __m128i a = _mm_packs_epi32(q4(w + c, vs, lo, hi), q4(w + c + 4, vs, lo, hi));
            __m128i b = _mm_packs_epi32(q4(w + c + 8, vs, lo, hi), q4(w + c + 12, vs, lo, hi));
            _mm_storeu_si128((__m128i *)(q + c), _mm_packs_epi16(a, b));
        }
        for (; c < cols; c++)
            q[c] = q1(w[c], s);
    }
}
#endif
