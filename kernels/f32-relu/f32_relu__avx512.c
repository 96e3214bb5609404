/* f32-relu/f32_relu__avx512.c - y = max(x, 0); NaN gives +0 and -0 gives +0
 * in every variant (x == y allowed); AVX-512: 16 lanes, 2 vectors per step,
 * masked tail (no access past n). */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_f32_relu__avx512(const float *x, float *y, size_t n)
{
    __m512 z = _mm512_setzero_ps();
    /* max(x, 0) returns its second operand (+0) when x is NaN or -0: the
     * reference's answer, not a propagated NaN. */
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 r0 = _mm512_max_ps(_mm512_loadu_ps(x + i), z);
        __m512 r1 = _mm512_max_ps(_mm512_loadu_ps(x + i + 16), z);
        _mm512_storeu_ps(y + i, r0);
        _mm512_storeu_ps(y + i + 16, r1);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_max_ps(_mm512_loadu_ps(x + i), z));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_max_ps(_mm512_maskz_loadu_ps(m, x + i), z));
    }
}
#endif
