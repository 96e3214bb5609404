/* u8-motion/u8_motion__neon.c - motion score, NEON: vabd gives |a - b|, the
 * compare's 0xff bytes are subtracted into per-byte counters (-0xff = +1),
 * widened into the total before any byte can wrap (every 255 blocks). */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

/* write is a constant at each call, so the store is not tested per block. */
static inline __attribute__((always_inline)) size_t
motion(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh, uint8_t *diff, int write)
{
    const uint8x16_t t = vdupq_n_u8(thresh);
    size_t count = 0, i = 0;
    while (i + 16 <= n) {
        uint8x16_t c = vdupq_n_u8(0);
        for (size_t k = 0; k < 255 && i + 16 <= n; k++, i += 16) {
            uint8x16_t d = vabdq_u8(vld1q_u8(a + i), vld1q_u8(b + i));
            if (write)
                vst1q_u8(diff + i, d);
            c = vsubq_u8(c, vcgtq_u8(d, t));
        }
        count += vaddlvq_u8(c);
    }
    for (; i < n; i++) {
        uint8_t d = a[i] > b[i] ? (uint8_t)(a[i] - b[i]) : (uint8_t)(b[i] - a[i]);
        count += d > thresh;
        if (write)
            diff[i] = d;
    }
    return count;
}

size_t pr_u8_motion__neon(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh,
                          uint8_t *diff)
{
    return diff ? motion(a, b, n, thresh, diff, 1) : motion(a, b, n, thresh, NULL, 0);
}
#endif
