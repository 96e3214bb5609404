/* sig-mix/sig_mix__avx2.c - mix of two signals, AVX2+FMA: 8 lanes, 2x
 * unrolled, ga * a fused into the add (within the test's tolerance). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_sig_mix__avx2(const float *a, float ga, const float *b, float gb, float *y, size_t n)
{
    __m256 va = _mm256_set1_ps(ga), vb = _mm256_set1_ps(gb);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 b0 = _mm256_mul_ps(_mm256_loadu_ps(b + i), vb);
        __m256 b1 = _mm256_mul_ps(_mm256_loadu_ps(b + i + 8), vb);
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(a + i), va, b0));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), va, b1));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(a + i), va,
                                                _mm256_mul_ps(_mm256_loadu_ps(b + i), vb)));
    for (; i < n; i++)
        y[i] = ga * a[i] + gb * b[i];
}
#endif
