/* u8-motion/u8_motion__scalar.c - motion score, the reference: |a - b| per
 * pixel, count of pixels over the threshold, optional difference image. */
#include "variants.h"

size_t pr_u8_motion__scalar(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh,
                            uint8_t *diff)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t d = a[i] > b[i] ? (uint8_t)(a[i] - b[i]) : (uint8_t)(b[i] - a[i]);
        count += d > thresh;
        if (diff)
            diff[i] = d;
    }
    return count;
}
