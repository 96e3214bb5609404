/* sig-fir/sig_fir__sse4.c - FIR filter, SSE4.1: vectorised across outputs,
 * 16 outputs at a time (four 4-lane sums), each tap broadcast once per block. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_sig_fir__sse4(const float *x, size_t n, const float *taps, size_t ntaps, float *y)
{
    if (ntaps == 0 || n < ntaps)
        return;
    size_t ny = n - ntaps + 1, i = 0;
    for (; i + 16 <= ny; i += 16) {
        __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps();
        __m128 s2 = _mm_setzero_ps(), s3 = _mm_setzero_ps();
        for (size_t k = 0; k < ntaps; k++) {
            __m128 t = _mm_set1_ps(taps[k]);
            const float *p = x + i + k;
            s0 = _mm_add_ps(s0, _mm_mul_ps(t, _mm_loadu_ps(p)));
            s1 = _mm_add_ps(s1, _mm_mul_ps(t, _mm_loadu_ps(p + 4)));
            s2 = _mm_add_ps(s2, _mm_mul_ps(t, _mm_loadu_ps(p + 8)));
            s3 = _mm_add_ps(s3, _mm_mul_ps(t, _mm_loadu_ps(p + 12)));
        }
        _mm_storeu_ps(y + i, s0);
        _mm_storeu_ps(y + i + 4, s1);
        _mm_storeu_ps(y + i + 8, s2);
        _mm_storeu_ps(y + i + 12, s3);
    }
    for (; i + 4 <= ny; i += 4) {
        __m128 s = _mm_setzero_ps();
        for (size_t k = 0; k < ntaps; k++)
            s = _mm_add_ps(s, _mm_mul_ps(_mm_set1_ps(taps[k]), _mm_loadu_ps(x + i + k)));
        _mm_storeu_ps(y + i, s);
    }
    for (; i < ny; i++) {
        float s = 0.0f;
        for (size_t k = 0; k < ntaps; k++)
            s += taps[k] * x[i + k];
        y[i] = s;
    }
}
#endif
