/* list_nn.h - small models: echo-state reservoir update, leaky integrate-and-fire step.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries.
 *
 * esn_update(x, n, u, m, w_in, row_ptr, col, val, b, a, pre): one step of an
 *   echo-state reservoir of n units driven by m inputs, in place:
 *     pre[i] = sum_c w_in[i][c] u[c] + sum_k val[k] x[col[k]] + b[i]
 *     x[i]  = (1 - a) x[i] + a tanh(pre[i])
 *   w_in dense n x m row-major; W sparse CSR (row_ptr[n + 1], col/val of
 *   row_ptr[n] entries, col < n); b may be NULL (zero).  pre is the caller's
 *   scratch of n floats (it holds the pre-activation afterwards); x is read
 *   whole before it is written.  Variants reassociate the sums and use
 *   sleef's u35 tanh (3.5 ULP), so they match the reference to a tolerance.
 * lif_step(n, v, refr, spikes_in, m, w, decay, threshold, v_reset, refr_steps,
 *   spikes_out) and lif_step_csr(..., row_ptr, idx, val, ...): one step of n
 *   leaky integrate-and-fire neurons with m presynaptic inputs:
 *     1. v[i] = v[i] * decay
 *     2. for each input j with spikes_in[j] != 0, in ascending j:
 *        v[i] += weight of input j onto neuron i
 *     3. a neuron with refr[i] > 0 counts down (refr[i] - 1), stays at v_reset
 *        and does not fire; any other with v[i] >= threshold fires
 *        (spikes_out[i] = 1, v[i] = v_reset, refr[i] = refr_steps); every
 *        other spikes_out[i] = 0.
 *   The dense weights are presynaptic-major: w is m x n row-major, row j the
 *   weights of input j onto each neuron, so a spike adds one contiguous row.
 *   The sparse ones are CSR by presynaptic neuron: row_ptr[m + 1], idx (< n,
 *   distinct within a row) and val.  spikes_in may be NULL (no input).  The
 *   order of operations is fixed and no variant fuses a multiply-add, so all
 *   variants give the same bits. */
#ifndef PR_KERNELS_LIST_NN_H
#define PR_KERNELS_LIST_NN_H

#define PR_KERNELS_NN(X) \
    X(esn_update, void, (float *x, size_t n, const float *u, size_t m, const float *w_in, \
                         const int32_t *row_ptr, const int32_t *col, const float *val, \
                         const float *b, float a, float *pre)) \
    X(lif_step, void, (size_t n, float *v, int32_t *refr, const uint8_t *spikes_in, size_t m, \
                       const float *w, float decay, float threshold, float v_reset, \
                       int32_t refr_steps, uint8_t *spikes_out)) \
    X(lif_step_csr, void, (size_t n, float *v, int32_t *refr, const uint8_t *spikes_in, \
                           size_t m, const int32_t *row_ptr, const int32_t *idx, \
                           const float *val, float decay, float threshold, float v_reset, \
                           int32_t refr_steps, uint8_t *spikes_out))

#define PR_VARIANTS_NN(V) \
    V(esn_update, scalar) V(esn_update, sse4) V(esn_update, avx2) V(esn_update, avx512) V(esn_update, neon) \
    V(lif_step, scalar) V(lif_step, sse4) V(lif_step, avx2) V(lif_step, avx512) V(lif_step, neon) \
    V(lif_step_csr, scalar) V(lif_step_csr, sse4) V(lif_step_csr, avx2) V(lif_step_csr, avx512) V(lif_step_csr, neon)

#endif
