/* sig-fir/sig_fir__avx512.c - FIR filter, AVX-512: vectorised across
 * outputs, 64 at a time (four 16-lane FMA chains), then 16, then a masked
 * tail whose loads stay inside x. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_sig_fir__avx512(const float *x, size_t n, const float *taps, size_t ntaps, float *y)
{
    if (ntaps == 0 || n < ntaps)
        return;
    size_t ny = n - ntaps + 1, i = 0;
    for (; i + 64 <= ny; i += 64) {
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (size_t k = 0; k < ntaps; k++) {
            __m512 t = _mm512_set1_ps(taps[k]);
            const float *p = x + i + k;
            s0 = _mm512_fmadd_ps(t, _mm512_loadu_ps(p), s0);
            s1 = _mm512_fmadd_ps(t, _mm512_loadu_ps(p + 16), s1);
            s2 = _mm512_fmadd_ps(t, _mm512_loadu_ps(p + 32), s2);
            s3 = _mm512_fmadd_ps(t, _mm512_loadu_ps(p + 48), s3);
        }
        _mm512_storeu_ps(y + i, s0);
        _mm512_storeu_ps(y + i + 16, s1);
        _mm512_storeu_ps(y + i + 32, s2);
        _mm512_storeu_ps(y + i + 48, s3);
    }
    while (i < ny) {
        /* Output j < r reads x[i + k + j] <= x[ny - 1 + ntaps - 1] = x[n - 1]. */
        size_t r = ny - i < 16 ? ny - i : 16;
        __mmask16 m = (__mmask16)((1u << r) - 1);
        __m512 s = _mm512_setzero_ps();
        for (size_t k = 0; k < ntaps; k++)
            s = _mm512_fmadd_ps(_mm512_set1_ps(taps[k]), _mm512_maskz_loadu_ps(m, x + i + k), s);
        _mm512_mask_storeu_ps(y + i, m, s);
        i += r;
    }
}
#endif
