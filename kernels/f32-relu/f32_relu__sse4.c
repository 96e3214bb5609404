/* f32-relu/f32_relu__sse4.c - y = max(x, 0); NaN gives +0 and -0 gives +0
 * in every variant (x == y allowed); SSE4.1: 4 lanes, 2 vectors per step,
 * scalar tail as the reference. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_f32_relu__sse4(const float *x, float *y, size_t n)
{
    __m128 z = _mm_setzero_ps();
    /* max(x, 0) returns its second operand (+0) when x is NaN or -0: the
     * reference's answer, not a propagated NaN. */
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128 r0 = _mm_max_ps(_mm_loadu_ps(x + i), z);
        __m128 r1 = _mm_max_ps(_mm_loadu_ps(x + i + 4), z);
        _mm_storeu_ps(y + i, r0);
        _mm_storeu_ps(y + i + 4, r1);
    }
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, _mm_max_ps(_mm_loadu_ps(x + i), z));
    for (; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
#endif
