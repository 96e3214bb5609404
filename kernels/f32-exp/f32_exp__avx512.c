/* f32-exp/f32_exp__avx512.c - y = exp(x) (x == y allowed); overflows to
 * +inf above ~88.72, underflows to 0; AVX-512, 16 lanes, sleef u10; masked
 * tail (no access past n). */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>

void pr_f32_exp__avx512(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, Sleef_expf16_u10avx512f(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, Sleef_expf16_u10avx512f(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#endif
