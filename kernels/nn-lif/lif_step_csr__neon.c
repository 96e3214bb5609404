/* nn-lif/lif_step_csr__neon.c - leaky integrate-and-fire step, CSR weights by
 * presynaptic neuron, NEON: vector decay and threshold, a scalar scatter of
 * the spiking rows (NEON has no scatter). */
#if defined(__aarch64__)
#include "variants.h"

#include "lif_common.h"
#include "lif_neon.h"

#define CHUNK 256

void pr_lif_step_csr__neon(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in,
                           size_t m, const int32_t *row_ptr, const int32_t *idx,
                           const float *val, float decay, float threshold, float v_reset,
                           int32_t refr_steps, uint8_t *spikes_out)
{
    const float32x4_t vdecay = vdupq_n_f32(decay), thr = vdupq_n_f32(threshold);
    const float32x4_t vreset = vdupq_n_f32(v_reset);
    const int32x4_t steps = vdupq_n_s32(refr_steps);
    int32_t list[CHUNK];
    size_t i = 0;

    for (; i + 4 <= n; i += 4)
        vst1q_f32(v + i, vmulq_f32(vld1q_f32(v + i), vdecay));
    for (; i < n; i++)
        v[i] = v[i] * decay;
    if (!spikes_in)
        m = 0;
    for (size_t j = 0; j < m;) {
        size_t cnt = 0;
        j = lif_collect(spikes_in, m, j, list, &cnt, CHUNK);
        for (size_t s = 0; s < cnt; s++)
            for (int32_t k = row_ptr[list[s]]; k < row_ptr[list[s] + 1]; k++)
                v[idx[k]] = v[idx[k]] + val[k];
    }
    for (i = 0; i + 4 <= n; i += 4)
        lif_fire4(vld1q_f32(v + i), i, v, refr, thr, vreset, steps, spikes_out);
    lif_fire_scalar(v, refr, i, n, threshold, v_reset, refr_steps, spikes_out);
}
#endif
