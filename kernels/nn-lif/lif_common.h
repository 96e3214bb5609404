/* lif_common.h - the threshold/reset/refractory step every LIF variant ends
 * with on the neurons it does not vectorise (and the reference on all). */
#ifndef PR_LIF_COMMON_H
#define PR_LIF_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Neurons [i0, i1): refractory ones count down and stay at v_reset; others
 * fire when v >= threshold (a NaN never fires). */
static inline void lif_fire_scalar(float *v, int32_t *refr, size_t i0, size_t i1,
                                   float threshold, float v_reset, int32_t refr_steps,
                                   uint8_t *spikes_out)
{
    for (size_t i = i0; i < i1; i++) {
        uint8_t fire = 0;
        if (refr[i] > 0) {
            refr[i]--;
            v[i] = v_reset;
        } else if (v[i] >= threshold) {
            fire = 1;
            v[i] = v_reset;
            refr[i] = refr_steps;
        }
        spikes_out[i] = fire;
    }
}

#endif
