/* f32-softmax/f32_softmax__avx512.c - max-subtracted softmax, AVX-512: three
 * passes (max, exp and sum into y, scale by 1/sum), sleef u10 exp, masked
 * tails.  x == y allowed; n == 0 does nothing; NaN in x gives NaN out. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <math.h>
#include <sleef.h>

void pr_f32_softmax__avx512(const float *x, float *y, size_t n)
{
    if (n == 0)
        return;
    size_t i = 0;
    __m512 vm = _mm512_set1_ps(-INFINITY);
    for (; i + 16 <= n; i += 16)
        vm = _mm512_max_ps(vm, _mm512_loadu_ps(x + i));
    __mmask16 tm = (__mmask16)((1u << (n - i)) - 1); /* 0 when n is a multiple of 16 */
    /* Lanes past n keep their running maximum. */
    vm = _mm512_max_ps(vm, _mm512_mask_loadu_ps(vm, tm, x + i));
    __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vm));

    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (i = 0; i + 32 <= n; i += 32) {
        __m512 e0 = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_loadu_ps(x + i), mx));
        __m512 e1 = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), mx));
        _mm512_storeu_ps(y + i, e0);
        _mm512_storeu_ps(y + i + 16, e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 e0 = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_loadu_ps(x + i), mx));
        _mm512_storeu_ps(y + i, e0);
        s0 = _mm512_add_ps(s0, e0);
    }
    if (i < n) {
        __m512 e1 = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_maskz_loadu_ps(tm, x + i), mx));
        _mm512_mask_storeu_ps(y + i, tm, e1);
        s1 = _mm512_mask_add_ps(s1, tm, s1, e1); /* lanes past n add nothing */
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)));

    for (i = 0; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), inv));
    if (i < n)
        _mm512_mask_storeu_ps(y + i, tm, _mm512_mul_ps(_mm512_maskz_loadu_ps(tm, y + i), inv));
}
#endif
