/* f32-tanh/f32_tanh__avx512.c - y = tanh(x) (x == y allowed); AVX-512, 16
 * lanes, sleef u35 (3.5 ulp); masked tail (no access past n). */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>

void pr_f32_tanh__avx512(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, Sleef_tanhf16_u35avx512f(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, Sleef_tanhf16_u35avx512f(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#endif
