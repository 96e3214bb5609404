/* u8-rgb2gray/u8_rgb2gray__scalar.c - RGB24 to gray, the reference: BT.601
 * weights in 8.8 fixed point, (77 R + 150 G + 29 B + 128) >> 8. */
#include "variants.h"

void pr_u8_rgb2gray__scalar(const uint8_t *rgb, uint8_t *gray, size_t n)
{
    for (size_t i = 0; i < n; i++, rgb += 3)
        gray[i] = (uint8_t)((77u * rgb[0] + 150u * rgb[1] + 29u * rgb[2] + 128u) >> 8);
}
