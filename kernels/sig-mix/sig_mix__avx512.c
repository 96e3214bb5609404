/* sig-mix/sig_mix__avx512.c - mix of two signals, AVX-512: 16 lanes, 2x
 * unrolled, fused multiply-add, masked tail. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_sig_mix__avx512(const float *a, float ga, const float *b, float gb, float *y, size_t n)
{
    __m512 va = _mm512_set1_ps(ga), vb = _mm512_set1_ps(gb);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 b0 = _mm512_mul_ps(_mm512_loadu_ps(b + i), vb);
        __m512 b1 = _mm512_mul_ps(_mm512_loadu_ps(b + i + 16), vb);
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(_mm512_loadu_ps(a + i), va, b0));
        _mm512_storeu_ps(y + i + 16, _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), va, b1));
    }
    while (i < n) {
        size_t r = n - i < 16 ? n - i : 16;
        __mmask16 m = (__mmask16)((1u << r) - 1);
        __m512 bb = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, b + i), vb);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), va, bb));
        i += r;
    }
}
#endif
