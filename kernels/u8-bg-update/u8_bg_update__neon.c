/* u8-bg-update/u8_bg_update__neon.c - running-average background, NEON:
 * frame - bg widened to i16, + r, vshl by -shift (arithmetic, flooring, as
 * the reference), added to bg and narrowed with unsigned saturation. */
#if defined(__aarch64__)
#include "variants.h"

#include <arm_neon.h>

static inline uint8x8_t step8(uint8x8_t bg, uint8x8_t fr, int16x8_t r, int16x8_t sh)
{
    int16x8_t d = vaddq_s16(vreinterpretq_s16_u16(vsubl_u8(fr, bg)), r);
    int16x8_t v = vaddq_s16(vreinterpretq_s16_u16(vmovl_u8(bg)), vshlq_s16(d, sh));
    return vqmovun_s16(v);
}

void pr_u8_bg_update__neon(uint8_t *bg, const uint8_t *frame, size_t n, unsigned shift)
{
    if (shift > 8)
        return;
    const int16x8_t r = vdupq_n_s16((int16_t)(shift ? 1 << (shift - 1) : 0));
    const int16x8_t sh = vdupq_n_s16((int16_t)-(int)shift);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint8x16_t b = vld1q_u8(bg + i), f = vld1q_u8(frame + i);
        vst1q_u8(bg + i, vcombine_u8(step8(vget_low_u8(b), vget_low_u8(f), r, sh),
                                     step8(vget_high_u8(b), vget_high_u8(f), r, sh)));
    }
    for (; i < n; i++) {
        int d = (int)frame[i] - (int)bg[i] + (shift ? 1 << (shift - 1) : 0);
        int step = d >= 0 ? d >> shift : -((-d + (1 << shift) - 1) >> shift);
        bg[i] = (uint8_t)(bg[i] + step);
    }
}
#endif
