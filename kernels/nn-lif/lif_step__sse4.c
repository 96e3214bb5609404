/* nn-lif/lif_step__sse4.c - leaky integrate-and-fire step, dense weights,
 * SSE4.1: the spiking inputs are listed first, then each block of 32 neurons
 * sums their rows in registers and fires in the same pass. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include "lif_common.h"
#include "lif_sse4.h"

/* Spike indexes per pass over the neurons, on the stack (1 KiB). */
#define CHUNK 256

#define ACC8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

void pr_lif_step__sse4(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in, size_t m,
                       const float *w, float decay, float threshold, float v_reset,
                       int32_t refr_steps, uint8_t *spikes_out)
{
    const __m128 vdecay = _mm_set1_ps(decay), thr = _mm_set1_ps(threshold);
    const __m128 vreset = _mm_set1_ps(v_reset);
    const __m128i steps = _mm_set1_epi32(refr_steps);
    int32_t idx[CHUNK];
    size_t j = 0;
    int first = 1;

    if (!spikes_in)
        m = 0;
    do {
        size_t cnt = 0, i = 0;
        j = lif_collect16(spikes_in, m, j, idx, &cnt, CHUNK);
        int last = j >= m;
        for (; i + 32 <= n; i += 32) {
#define DECL(t)                                     \
    __m128 a##t = _mm_loadu_ps(v + i + 4 * (t));    \
    if (first)                                      \
        a##t = _mm_mul_ps(a##t, vdecay);
            ACC8(DECL)
#undef DECL
            for (size_t s = 0; s < cnt; s++) {
                const float *wr = w + (size_t)idx[s] * n + i;
#define ADD(t) a##t = _mm_add_ps(a##t, _mm_loadu_ps(wr + 4 * (t)));
                ACC8(ADD)
#undef ADD
            }
#define OUT(t)                                                                      \
    if (last)                                                                       \
        lif_fire4(a##t, i + 4 * (t), v, refr, thr, vreset, steps, spikes_out);      \
    else                                                                            \
        _mm_storeu_ps(v + i + 4 * (t), a##t);
            ACC8(OUT)
#undef OUT
        }
        for (; i + 4 <= n; i += 4) {
            __m128 a = _mm_loadu_ps(v + i);
            if (first)
                a = _mm_mul_ps(a, vdecay);
            for (size_t s = 0; s < cnt; s++)
                a = _mm_add_ps(a, _mm_loadu_ps(w + (size_t)idx[s] * n + i));
            if (last)
                lif_fire4(a, i, v, refr, thr, vreset, steps, spikes_out);
            else
                _mm_storeu_ps(v + i, a);
        }
        for (size_t t = i; t < n; t++) {
            float a = first ? v[t] * decay : v[t];
            for (size_t s = 0; s < cnt; s++)
                a = a + w[(size_t)idx[s] * n + t];
            v[t] = a;
        }
        if (last)
            lif_fire_scalar(v, refr, i, n, threshold, v_reset, refr_steps, spikes_out);
        first = 0;
    } while (j < m);
}
#endif
