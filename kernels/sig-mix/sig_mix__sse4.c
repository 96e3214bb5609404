/* sig-mix/sig_mix__sse4.c - mix of two signals, SSE4.1: 4 lanes, 2x unrolled
 * (no FMA here: two multiplies and an add, as the reference). */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_sig_mix__sse4(const float *a, float ga, const float *b, float gb, float *y, size_t n)
{
    __m128 va = _mm_set1_ps(ga), vb = _mm_set1_ps(gb);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 a0 = _mm_loadu_ps(a + i), a1 = _mm_loadu_ps(a + i + 4);
        __m128 b0 = _mm_loadu_ps(b + i), b1 = _mm_loadu_ps(b + i + 4);
        _mm_storeu_ps(y + i, _mm_add_ps(_mm_mul_ps(a0, va), _mm_mul_ps(b0, vb)));
        _mm_storeu_ps(y + i + 4, _mm_add_ps(_mm_mul_ps(a1, va), _mm_mul_ps(b1, vb)));
    }
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(a + i), va),
                                        _mm_mul_ps(_mm_loadu_ps(b + i), vb)));
    for (; i < n; i++)
        y[i] = ga * a[i] + gb * b[i];
}
#endif
