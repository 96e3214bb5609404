/* nn-lif/lif_step__neon.c - leaky integrate-and-fire step, dense weights,
 * NEON: the spiking inputs are listed first, then each block of 32 neurons
 * sums their rows in registers and fires in the same pass. */
#if defined(__aarch64__)
#include "variants.h"

#include "lif_common.h"
#include "lif_neon.h"

/* Spike indexes per pass over the neurons, on the stack (1 KiB). */
#define CHUNK 256

#define ACC8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

void pr_lif_step__neon(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in, size_t m,
                       const float *w, float decay, float threshold, float v_reset,
                       int32_t refr_steps, uint8_t *spikes_out)
{
    const float32x4_t vdecay = vdupq_n_f32(decay), thr = vdupq_n_f32(threshold);
    const float32x4_t vreset = vdupq_n_f32(v_reset);
    const int32x4_t steps = vdupq_n_s32(refr_steps);
    int32_t idx[CHUNK];
    size_t j = 0;
    int first = 1;

    if (!spikes_in)
        m = 0;
    do {
        size_t cnt = 0, i = 0;
        j = lif_collect(spikes_in, m, j, idx, &cnt, CHUNK);
        int last = j >= m;
        for (; i + 32 <= n; i += 32) {
#define DECL(t)                                       \
    float32x4_t a##t = vld1q_f32(v + i + 4 * (t));    \
    if (first)                                        \
        a##t = vmulq_f32(a##t, vdecay);
            ACC8(DECL)
#undef DECL
            for (size_t s = 0; s < cnt; s++) {
                const float *wr = w + (size_t)idx[s] * n + i;
#define ADD(t) a##t = vaddq_f32(a##t, vld1q_f32(wr + 4 * (t)));
                ACC8(ADD)
#undef ADD
            }
#define OUT(t)                                                                  \
    if (last)                                                                   \
        lif_fire4(a##t, i + 4 * (t), v, refr, thr, vreset, steps, spikes_out);  \
    else                                                                        \
        vst1q_f32(v + i + 4 * (t), a##t);
            ACC8(OUT)
#undef OUT
        }
        for (; i + 4 <= n; i += 4) {
            float32x4_t a = vld1q_f32(v + i);
            if (first)
                a = vmulq_f32(a, vdecay);
            for (size_t s = 0; s < cnt; s++)
                a = vaddq_f32(a, vld1q_f32(w + (size_t)idx[s] * n + i));
            if (last)
                lif_fire4(a, i, v, refr, thr, vreset, steps, spikes_out);
            else
                vst1q_f32(v + i, a);
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
