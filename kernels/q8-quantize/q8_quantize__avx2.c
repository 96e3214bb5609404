/* q8-quantize/q8_quantize__avx2.c - per-row int8 quantization, AVX2: 32
 * values per step; the lane-wise packs are put back in order by one permute. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
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

static inline __m256i q8(const float *w, __m256 s, __m256 lo, __m256 hi)
{
    __m256 t = _mm256_div_ps(_mm256_loadu_ps(w), s);
    t = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(t, lo), hi));
}

void pr_q8_quantize__avx2(const float *w, size_t rows, size_t cols, int8_t *q, float *scale)
{
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);

    for (size_t r = 0; r < rows; r++, w += cols, q += cols) {
        __m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();
        size_t c = 0;
        for (; c + 16 <= cols; c += 16) {
            m0 = _mm256_max_ps(m0, _mm256_and_ps(_mm256_loadu_ps(w + c), absmask));
            m1 = _mm256_max_ps(m1, _mm256_and_ps(_mm256_loadu_ps(w + c + 8), absmask));
        }
        m0 = _mm256_max_ps(m0, m1);
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m0), _mm256_extractf128_ps(m0, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
        float mx = _mm_cvtss_f32(h);
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
        const __m256 vs = _mm256_set1_ps(s);
        for (c = 0; c + 32 <= cols; c += 32) {
            /* packs work within 128-bit lanes: a|b then c|d interleave as
             * a0 b0 c0 d0 a1 b1 c1 d1 (4-byte groups); the permute undoes it. */
            __m256i a = _mm256_packs_epi32(q8(w + c, vs, lo, hi), q8(w + c + 8, vs, lo, hi));
            __m256i b = _mm256_packs_epi32(q8(w + c + 16, vs, lo, hi), q8(w + c + 24, vs, lo, hi));
            __m256i p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b), order);
            _mm256_storeu_si256((__m256i *)(q + c), p);
        }
        for (; c < cols; c++)
            q[c] = q1(w[c], s);
    }
}
#endif
