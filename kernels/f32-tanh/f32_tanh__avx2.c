/* f32-tanh/f32_tanh__avx2.c - y = tanh(x) (x == y allowed); AVX2+FMA, 8
 * lanes, sleef u35 (3.5 ulp, about 3x faster than u10); masked tail (no access past n). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>

void pr_f32_tanh__avx2(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, Sleef_tanhf8_u35avx2(_mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(y + i, m, Sleef_tanhf8_u35avx2(_mm256_maskload_ps(x + i, m)));
    }
}
#endif
