/* nn-lif/lif_step__avx512.c - leaky integrate-and-fire step, dense weights,
 * AVX-512: the spiking inputs are listed first, then each block of 128
 * neurons sums their rows in registers and fires in the same pass. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include "lif_avx512.h"

/* Spike indexes handled per pass over the neurons; on the stack (no
 * allocation), 1 KiB.  More spikes than this just take more passes. */
#define CHUNK 256

#define ACC8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

void pr_lif_step__avx512(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in, size_t m,
                         const float *w, float decay, float threshold, float v_reset,
                         int32_t refr_steps, uint8_t *spikes_out)
{
    const __m512 vdecay = _mm512_set1_ps(decay), thr = _mm512_set1_ps(threshold);
    const __m512 vreset = _mm512_set1_ps(v_reset);
    const __m512i steps = _mm512_set1_epi32(refr_steps);
    int32_t idx[CHUNK];
    size_t j = 0;
    int first = 1;

    if (!spikes_in)
        m = 0;
    do {
        size_t cnt = 0;
        j = lif_collect(spikes_in, m, j, idx, &cnt, CHUNK);
        int last = j >= m;
        for (size_t i = 0; i < n; i += 128) {
            /* Eight accumulators hide the add latency; masks cover the
             * tail (a zero mask loads and stores nothing). */
#define DECL(t)                                                                       \
    __mmask16 k##t = i + 16 * (t) < n ? lif_mask16(n - i - 16 * (t)) : 0;             \
    __m512 a##t = _mm512_maskz_loadu_ps(k##t, v + i + 16 * (t));                      \
    if (first)                                                                        \
        a##t = _mm512_mul_ps(a##t, vdecay);
            ACC8(DECL)
#undef DECL
            for (size_t s = 0; s < cnt; s++) {
                const float *wr = w + (size_t)idx[s] * n + i;
#define ADD(t) a##t = _mm512_add_ps(a##t, _mm512_maskz_loadu_ps(k##t, wr + 16 * (t)));
                ACC8(ADD)
#undef ADD
            }
            if (last) {
#define FIRE(t) \
    lif_fire16(a##t, i + 16 * (t), k##t, v, refr, thr, vreset, steps, spikes_out);
                ACC8(FIRE)
#undef FIRE
            } else {
#define STORE(t) _mm512_mask_storeu_ps(v + i + 16 * (t), k##t, a##t);
                ACC8(STORE)
#undef STORE
            }
        }
        first = 0;
    } while (j < m);
}
#endif
