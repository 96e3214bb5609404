/* lif_neon.h - NEON pieces shared by the dense and CSR LIF variants: the
 * threshold/reset/refractory step on 4 neurons, the spike scan. */
#ifndef PR_LIF_NEON_H
#define PR_LIF_NEON_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Neurons i .. i+3, v already decayed and summed. */
static inline void lif_fire4(float32x4_t v, size_t i, float *vp, int32_t *refr,
                             float32x4_t thr, float32x4_t vreset, int32x4_t steps, uint8_t *out)
{
    int32x4_t r = vld1q_s32(refr + i);
    uint32x4_t rm = vcgtq_s32(r, vdupq_n_s32(0));
    /* vcge is false for NaN: a NaN potential never fires, as in the reference. */
    uint32x4_t fire = vbicq_u32(vcgeq_f32(v, thr), rm);
    v = vbslq_f32(vorrq_u32(rm, fire), vreset, v);
    r = vaddq_s32(r, vreinterpretq_s32_u32(rm)); /* rm is -1 where refractory */
    r = vbslq_s32(fire, steps, r);
    vst1q_f32(vp + i, v);
    vst1q_s32(refr + i, r);
    uint16x4_t f16 = vmovn_u32(fire);
    uint8x8_t f8 = vand_u8(vmovn_u16(vcombine_u16(f16, f16)), vdup_n_u8(1));
    uint8_t tmp[8];
    vst1_u8(tmp, f8);
    memcpy(out + i, tmp, 4);
}

/* Append the indexes of nonzero spikes from j on to idx (whole 16-byte
 * blocks only, at most cap - *cnt more); returns where the scan stopped. */
static inline size_t lif_collect(const uint8_t *s, size_t m, size_t j, int32_t *idx,
                                 size_t *cnt, size_t cap)
{
    while (j < m) {
        size_t len = m - j < 16 ? m - j : 16;
        if (len == 16 && vmaxvq_u8(vld1q_u8(s + j)) == 0) {
            j += 16;
            continue;
        }
        if (*cnt + len > cap)
            break;
        for (size_t l = 0; l < len; l++)
            if (s[j + l])
                idx[(*cnt)++] = (int32_t)(j + l);
        j += len;
    }
    return j;
}

#endif
