/* u8-rgb2gray/u8_rgb2gray__neon.c - RGB24 to gray, NEON: vld3 deinterleaves
 * 16 pixels, widening multiply-accumulate in u16 (the sum <= 65280 fits),
 * and a rounding narrowing shift gives (sum + 128) >> 8 as the reference. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_u8_rgb2gray__neon(const uint8_t *rgb, uint8_t *gray, size_t n)
{
    const uint8x8_t wr = vdup_n_u8(77), wg = vdup_n_u8(150), wb = vdup_n_u8(29);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint8x16x3_t v = vld3q_u8(rgb + 3 * i);
        uint16x8_t lo = vmull_u8(vget_low_u8(v.val[0]), wr);
        uint16x8_t hi = vmull_u8(vget_high_u8(v.val[0]), wr);
        lo = vmlal_u8(lo, vget_low_u8(v.val[1]), wg);
        hi = vmlal_u8(hi, vget_high_u8(v.val[1]), wg);
        lo = vmlal_u8(lo, vget_low_u8(v.val[2]), wb);
        hi = vmlal_u8(hi, vget_high_u8(v.val[2]), wb);
        vst1q_u8(gray + i, vcombine_u8(vrshrn_n_u16(lo, 8), vrshrn_n_u16(hi, 8)));
    }
    for (; i < n; i++) {
        const uint8_t *p = rgb + 3 * i;
        gray[i] = (uint8_t)((77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8);
    }
}
#endif
