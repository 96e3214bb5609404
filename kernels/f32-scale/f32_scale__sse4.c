/* f32-scale/f32_scale__sse4.c - y = a*x (x == y allowed: each element is
 * read before it is written); SSE4.1: 4 lanes, 2 vectors per step, scalar
 * tail as the reference. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_f32_scale__sse4(float a, const float *x, float *y, size_t n)
{
    __m128 va = _mm_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 r0 = _mm_mul_ps(va, _mm_loadu_ps(x + i));
        __m128 r1 = _mm_mul_ps(va, _mm_loadu_ps(x + i + 4));
        _mm_storeu_ps(y + i, r0);
        _mm_storeu_ps(y + i + 4, r1);
    }
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, _mm_mul_ps(va, _mm_loadu_ps(x + i)));
    for (; i < n; i++)
        y[i] = a * x[i];
}
#endif
