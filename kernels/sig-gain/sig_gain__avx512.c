/* sig-gain/sig_gain__avx512.c - gain, AVX-512: 16 lanes, 4x unrolled, masked
 * tail; one multiply per sample, identical to the reference. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_sig_gain__avx512(const float *x, float g, float *y, size_t n)
{
    __m512 vg = _mm512_set1_ps(g);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        __m512 c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(a, vg));
        _mm512_storeu_ps(y + i + 16, _mm512_mul_ps(b, vg));
        _mm512_storeu_ps(y + i + 32, _mm512_mul_ps(c, vg));
        _mm512_storeu_ps(y + i + 48, _mm512_mul_ps(d, vg));
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vg));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vg));
    }
}
#endif
