/* u8-bg-update/u8_bg_update__scalar.c - running-average background, the
 * reference: bg += (frame - bg + r) >> shift, rounding half up (list_u8.h). */
#include "variants.h"

void pr_u8_bg_update__scalar(uint8_t *bg, const uint8_t *frame, size_t n, unsigned shift)
{
    if (shift > 8)
        return; /* |frame - bg| < 2^(shift-1): the step rounds to 0 */
    int r = shift ? 1 << (shift - 1) : 0;
    for (size_t i = 0; i < n; i++) {
        int d = (int)frame[i] - (int)bg[i] + r;
        /* Flooring shift written out: >> on a negative int is implementation-defined. */
        int step = d >= 0 ? d >> shift : -((-d + (1 << shift) - 1) >> shift);
        bg[i] = (uint8_t)(bg[i] + step);
    }
}
