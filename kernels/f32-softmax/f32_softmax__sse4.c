/* f32-softmax/f32_softmax__sse4.c - max-subtracted softmax, SSE4.1: three
 * passes (max, exp and sum into y, scale by 1/sum), sleef u10 exp; the exp
 * tail goes through a padded buffer so every element gets the same exp.
 * x == y allowed; n == 0 does nothing; NaN in x gives NaN out. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>
#include <math.h>
#include <sleef.h>
#include <string.h>

void pr_f32_softmax__sse4(const float *x, float *y, size_t n)
{
    if (n == 0)
        return;
    size_t i = 0;
    __m128 vm = _mm_set1_ps(-INFINITY);
    for (; i + 4 <= n; i += 4)
        vm = _mm_max_ps(vm, _mm_loadu_ps(x + i));
    vm = _mm_max_ps(vm, _mm_movehl_ps(vm, vm));
    vm = _mm_max_ss(vm, _mm_movehdup_ps(vm));
    float m = _mm_cvtss_f32(vm);
    for (; i < n; i++)
        if (x[i] > m)
            m = x[i];
    __m128 mx = _mm_set1_ps(m);

    __m128 s0 = _mm_setzero_ps();
    for (i = 0; i + 4 <= n; i += 4) {
        __m128 e = Sleef_expf4_u10sse4(_mm_sub_ps(_mm_loadu_ps(x + i), mx));
        _mm_storeu_ps(y + i, e);
        s0 = _mm_add_ps(s0, e);
    }
    s0 = _mm_add_ps(s0, _mm_movehl_ps(s0, s0));
    s0 = _mm_add_ss(s0, _mm_movehdup_ps(s0));
    float s = _mm_cvtss_f32(s0);
    if (i < n) {
        float buf[4] = { 0 };
        memcpy(buf, x + i, (n - i) * sizeof(float));
        _mm_storeu_ps(buf, Sleef_expf4_u10sse4(_mm_sub_ps(_mm_loadu_ps(buf), mx)));
        for (size_t j = 0; j < n - i; j++)
            s += buf[j]; /* only the lanes that hold elements */
        memcpy(y + i, buf, (n - i) * sizeof(float));
    }
    float inv = 1.0f / s;
    __m128 vinv = _mm_set1_ps(inv);

    for (i = 0; i + 4 <= n; i += 4)
        _mm_storeu_ps(y + i, _mm_mul_ps(_mm_loadu_ps(y + i), vinv));
    for (; i < n; i++)
        y[i] *= inv;
}
#endif
