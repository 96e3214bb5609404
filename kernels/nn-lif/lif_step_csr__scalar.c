/* nn-lif/lif_step_csr__scalar.c - leaky integrate-and-fire step, sparse
 * weights in CSR by presynaptic neuron, the reference. */
#include "variants.h"

#include "lif_common.h"

void pr_lif_step_csr__scalar(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in,
                             size_t m, const int32_t *row_ptr, const int32_t *idx,
                             const float *val, float decay, float threshold, float v_reset,
                             int32_t refr_steps, uint8_t *spikes_out)
{
    for (size_t i = 0; i < n; i++)
        v[i] = v[i] * decay;
    for (size_t j = 0; spikes_in && j < m; j++) {
        if (!spikes_in[j])
            continue;
        for (int32_t k = row_ptr[j]; k < row_ptr[j + 1]; k++)
            v[idx[k]] = v[idx[k]] + val[k];
    }
    lif_fire_scalar(v, refr, 0, n, threshold, v_reset, refr_steps, spikes_out);
}
