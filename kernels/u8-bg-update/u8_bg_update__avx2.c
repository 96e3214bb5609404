/* u8-bg-update/u8_bg_update__avx2.c - running-average background, AVX2:
 * bytes widened in-lane against zero, frame - bg + r, arithmetic shift,
 * add, and the in-lane pack restores the order. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

static inline __m256i step16(__m256i bg, __m256i fr, __m256i r, __m128i cnt)
{
    __m256i d = _mm256_add_epi16(_mm256_sub_epi16(fr, bg), r);
    return _mm256_add_epi16(bg, _mm256_sra_epi16(d, cnt));
}

void pr_u8_bg_update__avx2(uint8_t *bg, const uint8_t *frame, size_t n, unsigned shift)
{
    if (shift > 8)
        return;
    const __m256i r = _mm256_set1_epi16((short)(shift ? 1 << (shift - 1) : 0));
    const __m128i cnt = _mm_cvtsi32_si128((int)shift);
    const __m256i z = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(bg + i));
        __m256i f = _mm256_loadu_si256((const __m256i *)(frame + i));
        __m256i lo = step16(_mm256_unpacklo_epi8(b, z), _mm256_unpacklo_epi8(f, z), r, cnt);
        __m256i hi = step16(_mm256_unpackhi_epi8(b, z), _mm256_unpackhi_epi8(f, z), r, cnt);
        _mm256_storeu_si256((__m256i *)(bg + i), _mm256_packus_epi16(lo, hi));
    }
    for (; i < n; i++) {
        int d = (int)frame[i] - (int)bg[i] + (shift ? 1 << (shift - 1) : 0);
        int step = d >= 0 ? d >> shift : -((-d + (1 << shift) - 1) >> shift);
        bg[i] = (uint8_t)(bg[i] + step);
    }
}
#endif
