/* f32-dot/f32_dot__sse4.c - dot product, SSE4.1: two 4-lane accumulators. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

float pr_f32_dot__sse4(const float *a, const float *b, size_t n)
{
    __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
        s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4)));
    }
    if (i + 4 <= n) {
        s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
        i += 4;
    }
    s0 = _mm_add_ps(s0, s1);
    s0 = _mm_hadd_ps(s0, s0);
    s0 = _mm_hadd_ps(s0, s0);
    float s = _mm_cvtss_f32(s0);
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}
#endif
