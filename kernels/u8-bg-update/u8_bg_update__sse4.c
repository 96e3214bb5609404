/* u8-bg-update/u8_bg_update__sse4.c - running-average background, SSE4.1:
 * frame - bg + r in i16, psraw (arithmetic, i.e. flooring, like the
 * reference), add to bg, pack; the result lies between bg and frame. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

static inline __m128i step8(__m128i bg, __m128i fr, __m128i r, __m128i cnt)
{
    __m128i d = _mm_add_epi16(_mm_sub_epi16(fr, bg), r);
    return _mm_add_epi16(bg, _mm_sra_epi16(d, cnt));
}

void pr_u8_bg_update__sse4(uint8_t *bg, const uint8_t *frame, size_t n, unsigned shift)
{
    if (shift > 8)
        return;
    const __m128i r = _mm_set1_epi16((short)(shift ? 1 << (shift - 1) : 0));
    const __m128i cnt = _mm_cvtsi32_si128((int)shift);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(bg + i));
        __m128i f = _mm_loadu_si128((const __m128i *)(frame + i));
        __m128i lo = step8(_mm_cvtepu8_epi16(b), _mm_cvtepu8_epi16(f), r, cnt);
        __m128i hi = step8(_mm_cvtepu8_epi16(_mm_srli_si128(b, 8)),
                           _mm_cvtepu8_epi16(_mm_srli_si128(f, 8)), r, cnt);
        _mm_storeu_si128((__m128i *)(bg + i), _mm_packus_epi16(lo, hi));
    }
    for (; i < n; i++) {
        int d = (int)frame[i] - (int)bg[i] + (shift ? 1 << (shift - 1) : 0);
        int step = d >= 0 ? d >> shift : -((-d + (1 << shift) - 1) >> shift);
        bg[i] = (uint8_t)(bg[i] + step);
    }
}
#endif
