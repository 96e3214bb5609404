/* sig-gain/sig_gain__avx2.c - gain, AVX2: 8 lanes, 4x unrolled; one multiply
 * per sample, identical to the reference. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_sig_gain__avx2(const float *x, float g, float *y, size_t n)
{
    __m256 vg = _mm256_set1_ps(g);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(a, vg));
        _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(b, vg));
        _mm256_storeu_ps(y + i + 16, _mm256_mul_ps(c, vg));
        _mm256_storeu_ps(y + i + 24, _mm256_mul_ps(d, vg));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vg));
    for (; i < n; i++)
        y[i] = g * x[i];
}
#endif
