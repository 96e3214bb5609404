/* u8-down2x2/u8_down2x2__sse4.c - 2x2 box downscale, SSE4.1: pmaddubsw with
 * ones sums horizontal pairs into u16 (<= 510, no saturation), the two rows
 * are added with the rounding 2, shifted by 2 and packed: 16 outputs per step. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_u8_down2x2__sse4(const uint8_t *src, size_t w, size_t h, size_t stride, uint8_t *dst,
                         size_t dstride)
{
    const __m128i ones = _mm_set1_epi8(1), two = _mm_set1_epi16(2);
    size_t ow = w / 2, oh = h / 2;
    for (size_t y = 0; y < oh; y++) {
        const uint8_t *r0 = src + 2 * y * stride, *r1 = r0 + stride;
        uint8_t *o = dst + y * dstride;
        size_t x = 0;
        for (; x + 16 <= ow; x += 16) {
            __m128i a0 = _mm_loadu_si128((const __m128i *)(r0 + 2 * x));
            __m128i a1 = _mm_loadu_si128((const __m128i *)(r0 + 2 * x + 16));
            __m128i b0 = _mm_loadu_si128((const __m128i *)(r1 + 2 * x));
            __m128i b1 = _mm_loadu_si128((const __m128i *)(r1 + 2 * x + 16));
            __m128i s0 = _mm_add_epi16(_mm_maddubs_epi16(a0, ones), _mm_maddubs_epi16(b0, ones));
            __m128i s1 = _mm_add_epi16(_mm_maddubs_epi16(a1, ones), _mm_maddubs_epi16(b1, ones));
            s0 = _mm_srli_epi16(_mm_add_epi16(s0, two), 2);
            s1 = _mm_srli_epi16(_mm_add_epi16(s1, two), 2);
            _mm_storeu_si128((__m128i *)(o + x), _mm_packus_epi16(s0, s1));
        }
        for (; x < ow; x++)
            o[x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2u) >> 2);
    }
}
#endif
