/* nn-lif/lif_step_csr__sse4.c - leaky integrate-and-fire step, CSR weights by
 * presynaptic neuron, SSE4.1: vector decay and threshold on 4 lanes, a scalar
 * scatter of the spiking rows. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include "lif_common.h"
#include "lif_sse4.h"

#define CHUNK 256

void pr_lif_step_csr__sse4(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in,
                           size_t m, const int32_t *row_ptr, const int32_t *idx,
                           const float *val, float decay, float threshold, float v_reset,
                           int32_t refr_steps, uint8_t *spikes_out)
{
    const __m128 vdecay = _mm_set1_ps(decay), thr = _mm_set1_ps(threshold);
    const __m128 vreset = _mm_set1_ps(v_reset);
    const __m128i steps = _mm_set1_epi32(refr_steps);
    int32_t list[CHUNK];
    size_t i = 0;

    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(v + i, _mm_mul_ps(_mm_loadu_ps(v + i), vdecay));
    for (; i < n; i++)
        v[i] = v[i] * decay;
    if (!spikes_in)
        m = 0;
    for (size_t j = 0; j < m;) {
        size_t cnt = 0;
        j = lif_collect16(spikes_in, m, j, list, &cnt, CHUNK);
        for (size_t s = 0; s < cnt; s++)
            for (int32_t k = row_ptr[list[s]]; k < row_ptr[list[s] + 1]; k++)
                v[idx[k]] = v[idx[k]] + val[k];
    }
    for (i = 0; i + 4 <= n; i += 4)
        lif_fire4(_mm_loadu_ps(v + i), i, v, refr, thr, vreset, steps, spikes_out);
    lif_fire_scalar(v, refr, i, n, threshold, v_reset, refr_steps, spikes_out);
}
#endif
