/* nn-lif/lif_step__scalar.c - leaky integrate-and-fire step, dense
 * presynaptic-major weights, the reference: decay, add each spiking input's
 * row in ascending order, then threshold/reset/refractory. */
#include "variants.h"

#include "lif_common.h"

void pr_lif_step__scalar(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in, size_t m,
                         const float *w, float decay, float threshold, float v_reset,
                         int32_t refr_steps, uint8_t *spikes_out)
{
    for (size_t i = 0; i < n; i++)
        v[i] = v[i] * decay;
    for (size_t j = 0; spikes_in && j < m; j++) {
        if (!spikes_in[j])
            continue;
        const float *wr = w + j * n;
        for (size_t i = 0; i < n; i++)
            v[i] = v[i] + wr[i];
    }
    lif_fire_scalar(v, refr, 0, n, threshold, v_reset, refr_steps, spikes_out);
}
