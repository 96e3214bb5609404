/* u8-yuyv2gray/u8_yuyv2gray__scalar.c - YUYV (YUY2) to gray, the reference:
 * the luma bytes, every other byte. */
#include "variants.h"

void pr_u8_yuyv2gray__scalar(const uint8_t *yuyv, uint8_t *gray, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gray[i] = yuyv[2 * i];
}
