/* f32-tanh/f32_tanh__sse4.c - y = tanh(x) (x == y allowed); SSE4.1, 4
 * lanes, sleef u35 (3.5 ulp); the tail goes through a padded 4-lane buffer so every
 * element gets the same vector function. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>
#include <string.h>

void pr_f32_tanh__sse4(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, Sleef_tanhf4_u35sse4(_mm_loadu_ps(x + i)));
    if (i < n) {
        float buf[4] = { 0 };
        memcpy(buf, x + i, (n - i) * sizeof(float));
        _mm_storeu_ps(buf, Sleef_tanhf4_u35sse4(_mm_loadu_ps(buf)));
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
}
#endif
