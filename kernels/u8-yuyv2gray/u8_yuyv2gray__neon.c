/* u8-yuyv2gray/u8_yuyv2gray__neon.c - YUYV to gray, NEON: vld2 splits 32
 * bytes into the Y bytes and the chroma bytes; keep the first. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

void pr_u8_yuyv2gray__neon(const uint8_t *yuyv, uint8_t *gray, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        vst1q_u8(gray + i, vld2q_u8(yuyv + 2 * i).val[0]);
    for (; i < n; i++)
        gray[i] = yuyv[2 * i];
}
#endif
