/* f32-axpy/f32_axpy__sse4.c - y += a*x, SSE4.1: 4 lanes, two vectors per
 * step, scalar tail. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_f32_axpy__sse4(float a, const float *x, float *y, size_t n)
{
    __m128 va = _mm_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 y0 = _mm_add_ps(_mm_loadu_ps(y + i), _mm_mul_ps(va, _mm_loadu_ps(x + i)));
        __m128 y1 = _mm_add_ps(_mm_loadu_ps(y + i + 4), _mm_mul_ps(va, _mm_loadu_ps(x + i + 4)));
        _mm_storeu_ps(y + i, y0);
        _mm_storeu_ps(y + i + 4, y1);
    }
    if (i + 4 <= n) {
        _mm_storeu_ps(y + i, _mm_add_ps(_mm_loadu_ps(y + i), _mm_mul_ps(va, _mm_loadu_ps(x + i))));
        i += 4;
    }
    for (; i < n; i++)
        y[i] += a * x[i];
}
#endif
