/* f32-sigmoid/f32_sigmoid__avx2.c - y = 1/(1 + exp(-x)) (x == y allowed);
 * stable for large |x|: exp(-x) overflowing to +inf gives 0, underflowing
 * to 0 gives 1; AVX2+FMA, 8 lanes, sleef u10; masked tail (no access past
 * n). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>

/* A true division, not a reciprocal estimate: the estimate's 12 bits would
 * cost more accuracy than exp's u10. */
static inline __m256 sigmoid_v(__m256 v)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_setzero_ps(), v))));
}

void pr_f32_sigmoid__avx2(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, sigmoid_v(_mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(y + i, m, sigmoid_v(_mm256_maskload_ps(x + i, m)));
    }
}
#endif
