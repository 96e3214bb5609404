/* f32-softmax/f32_softmax__avx2.c - max-subtracted softmax, AVX2+FMA: three
 * passes (max, exp and sum into y, scale by 1/sum), sleef u10 exp, masked
 * tails.  x == y allowed; n == 0 does nothing; NaN in x gives NaN out. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <math.h>
#include <sleef.h>

static inline float hmax256(__m256 v)
{
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

static inline float hsum256(__m256 v)
{
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

void pr_f32_softmax__avx2(const float *x, float *y, size_t n)
{
    if (n == 0)
        return;
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256i tm = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n % 8)),
                                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    size_t i = 0;
    __m256 vm = ninf;
    for (; i + 8 <= n; i += 8)
        vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    if (i < n) /* lanes past n read as -inf */
        vm = _mm256_max_ps(vm, _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, tm),
                                                _mm256_castsi256_ps(tm)));
    __m256 mx = _mm256_set1_ps(hmax256(vm));

    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m256 e0 = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), mx));
        __m256 e1 = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mx));
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 e0 = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), mx));
        _mm256_storeu_ps(y + i, e0);
        s0 = _mm256_add_ps(s0, e0);
    }
    if (i < n) {
        __m256 e1 = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_maskload_ps(x + i, tm), mx));
        /* Lanes past n computed exp(0 - max), which may be anything: drop them. */
        e1 = _mm256_and_ps(e1, _mm256_castsi256_ps(tm));
        _mm256_maskstore_ps(y + i, tm, e1);
        s1 = _mm256_add_ps(s1, e1);
    }
    __m256 inv = _mm256_set1_ps(1.0f / hsum256(_mm256_add_ps(s0, s1)));

    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    if (i < n)
        _mm256_maskstore_ps(y + i, tm, _mm256_mul_ps(_mm256_maskload_ps(y + i, tm), inv));
}
#endif
