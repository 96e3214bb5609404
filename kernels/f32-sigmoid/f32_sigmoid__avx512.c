/* f32-sigmoid/f32_sigmoid__avx512.c - y = 1/(1 + exp(-x)) (x == y allowed);
 * stable for large |x|: exp(-x) overflowing to +inf gives 0, underflowing
 * to 0 gives 1; AVX-512, 16 lanes, sleef u10; masked tail (no access past
 * n). */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>

/* A true division, not a reciprocal estimate: the estimate's 12 bits would
 * cost more accuracy than exp's u10. */
static inline __m512 sigmoid_v(__m512 v)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_setzero_ps(), v))));
}

void pr_f32_sigmoid__avx512(const float *x, float *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, sigmoid_v(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, sigmoid_v(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#endif
