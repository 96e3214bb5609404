/* u8-down2x2/u8_down2x2__neon.c - 2x2 box downscale, NEON: pairwise widening
 * adds of both rows, then a rounding narrowing shift, (s + 2) >> 2. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_u8_down2x2__neon(const uint8_t *src, size_t w, size_t h, size_t stride, uint8_t *dst,
                         size_t dstride)
{
    size_t ow = w / 2, oh = h / 2;
    for (size_t y = 0; y < oh; y++) {
        const uint8_t *r0 = src + 2 * y * stride, *r1 = r0 + stride;
        uint8_t *o = dst + y * dstride;
        size_t x = 0;
        for (; x + 16 <= ow; x += 16) {
            uint16x8_t s0 = vpadalq_u8(vpaddlq_u8(vld1q_u8(r0 + 2 * x)), vld1q_u8(r1 + 2 * x));
            uint16x8_t s1 = vpadalq_u8(vpaddlq_u8(vld1q_u8(r0 + 2 * x + 16)), vld1q_u8(r1 + 2 * x + 16));
            vst1q_u8(o + x, vcombine_u8(vrshrn_n_u16(s0, 2), vrshrn_n_u16(s1, 2)));
        }
        for (; x < ow; x++)
            o[x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2u) >> 2);
    }
}
#endif
