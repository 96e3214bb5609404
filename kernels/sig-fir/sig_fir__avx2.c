/* sig-fir/sig_fir__avx2.c - FIR filter, AVX2+FMA: vectorised across outputs,
 * 32 outputs at a time (four 8-lane FMA chains hide the FMA latency), each
 * tap broadcast once per block. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_sig_fir__avx2(const float *x, size_t n, const float *taps, size_t ntaps, float *y)
{
    if (ntaps == 0 || n < ntaps)
        return;
    size_t ny = n - ntaps + 1, i = 0;
    for (; i + 32 <= ny; i += 32) {
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        for (size_t k = 0; k < ntaps; k++) {
            __m256 t = _mm256_broadcast_ss(taps + k);
            const float *p = x + i + k;
            s0 = _mm256_fmadd_ps(t, _mm256_loadu_ps(p), s0);
            s1 = _mm256_fmadd_ps(t, _mm256_loadu_ps(p + 8), s1);
            s2 = _mm256_fmadd_ps(t, _mm256_loadu_ps(p + 16), s2);
            s3 = _mm256_fmadd_ps(t, _mm256_loadu_ps(p + 24), s3);
        }
        _mm256_storeu_ps(y + i, s0);
        _mm256_storeu_ps(y + i + 8, s1);
        _mm256_storeu_ps(y + i + 16, s2);
        _mm256_storeu_ps(y + i + 24, s3);
    }
    for (; i + 8 <= ny; i += 8) {
        __m256 s = _mm256_setzero_ps();
        for (size_t k = 0; k < ntaps; k++)
            s = _mm256_fmadd_ps(_mm256_broadcast_ss(taps + k), _mm256_loadu_ps(x + i + k), s);
        _mm256_storeu_ps(y + i, s);
    }
    for (; i < ny; i++) {
        float s = 0.0f;
        for (size_t k = 0; k < ntaps; k++)
            s += taps[k] * x[i + k];
        y[i] = s;
    }
}
#endif
