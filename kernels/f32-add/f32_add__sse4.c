/* f32-add/f32_add__sse4.c - y = a + b (y may be a or b: each element is
 * read before it is written); SSE4.1: 4 lanes, 2 vectors per step, scalar
 * tail as the reference. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_f32_add__sse4(const float *a, const float *b, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 r0 = _mm_add_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i));
        __m128 r1 = _mm_add_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4));
        _mm_storeu_ps(y + i, r0);
        _mm_storeu_ps(y + i + 4, r1);
    }
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, _mm_add_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
    for (; i < n; i++)
        y[i] = a[i] + b[i];
}
#endif
