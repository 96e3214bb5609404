/* nn-lif/lif_step_csr__avx512.c - leaky integrate-and-fire step, CSR weights
 * by presynaptic neuron, AVX-512: vector decay and threshold; the spiking
 * rows are added by scalar code, which beat vgatherdps/vscatterdps on AMD
 * Zen 4 (microcoded there) at 1024 neurons, 5% density. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include "lif_avx512.h"

#define CHUNK 256

void pr_lif_step_csr__avx512(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in,
                             size_t m, const int32_t *row_ptr, const int32_t *idx,
                             const float *val, float decay, float threshold, float v_reset,
                             int32_t refr_steps, uint8_t *spikes_out)
{
    const __m512 vdecay = _mm512_set1_ps(decay), thr = _mm512_set1_ps(threshold);
    const __m512 vreset = _mm512_set1_ps(v_reset);
    const __m512i steps = _mm512_set1_epi32(refr_steps);
    int32_t list[CHUNK];

    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = lif_mask16(n - i);
        _mm512_mask_storeu_ps(v + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, v + i), vdecay));
    }
    if (!spikes_in)
        m = 0;
    for (size_t j = 0; j < m;) {
        size_t cnt = 0;
        j = lif_collect(spikes_in, m, j, list, &cnt, CHUNK);
        for (size_t s = 0; s < cnt; s++)
            for (int32_t k = row_ptr[list[s]]; k < row_ptr[list[s] + 1]; k++)
                v[idx[k]] = v[idx[k]] + val[k];
    }
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = lif_mask16(n - i);
        lif_fire16(_mm512_maskz_loadu_ps(k, v + i), i, k, v, refr, thr, vreset, steps, spikes_out);
    }
}
#endif
