/* sig-gain/sig_gain__sse4.c - gain, SSE4.1: 4 lanes, 4x unrolled; the same
 * single multiply per sample as the reference, so results are identical. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_sig_gain__sse4(const float *x, float g, float *y, size_t n)
{
    __m128 vg = _mm_set1_ps(g);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128 a = _mm_loadu_ps(x + i), b = _mm_loadu_ps(x + i + 4);
        __m128 c = _mm_loadu_ps(x + i + 8), d = _mm_loadu_ps(x + i + 12);
        _mm_storeu_ps(y + i, _mm_mul_ps(a, vg));
        _mm_storeu_ps(y + i + 4, _mm_mul_ps(b, vg));
        _mm_storeu_ps(y + i + 8, _mm_mul_ps(c, vg));
        _mm_storeu_ps(y + i + 12, _mm_mul_ps(d, vg));
    }
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, _mm_mul_ps(_mm_loadu_ps(x + i), vg));
    for (; i < n; i++)
        y[i] = g * x[i];
}
#endif
