/* f32-sigmoid/f32_sigmoid__sse4.c - y = 1/(1 + exp(-x)) (x == y allowed);
 * stable for large |x|: exp(-x) overflowing to +inf gives 0, underflowing
 * to 0 gives 1; SSE4.1, 4 lanes, sleef u10; the tail goes through a padded
 * 4-lane buffer so every element gets the same vector function. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>
#include <string.h>

/* A true division, not a reciprocal estimate: the estimate's 12 bits would
 * cost more accuracy than exp's u10. */
static inline __m128 sigmoid_v(__m128 v)
{
    const __m128 one = _mm_set1_ps(1.0f);
    return _mm_div_ps(one, _mm_add_ps(one, Sleef_expf4_u10sse4(_mm_sub_ps(_mm_setzero_ps(), v))));
}

void pr_f32_sigmoid__sse4(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, sigmoid_v(_mm_loadu_ps(x + i)));
    if (i < n) {
        float buf[4] = { 0 };
        memcpy(buf, x + i, (n - i) * sizeof(float));
        _mm_storeu_ps(buf, sigmoid_v(_mm_loadu_ps(buf)));
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}
#endif
