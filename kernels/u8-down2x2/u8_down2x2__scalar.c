/* u8-down2x2/u8_down2x2__scalar.c - 2x2 box downscale, the reference:
 * rounded mean of each 2x2 block, odd last column/row dropped. */
#include "variants.h"

void pr_u8_down2x2__scalar(const uint8_t *src, size_t w, size_t h, size_t stride, uint8_t *dst,
                           size_t dstride)
{
    size_t ow = w / 2, oh = h / 2;
    for (size_t y = 0; y < oh; y++) {
        const uint8_t *r0 = src + 2 * y * stride, *r1 = r0 + stride;
        uint8_t *o = dst + y * dstride;
        for (size_t x = 0; x < ow; x++)
            o[x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2u) >> 2);
    }
}
