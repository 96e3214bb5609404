/* u8-bg-update/u8_bg_update__avx512.c - running-average background,
 * AVX-512BW: bytes widened in-lane against zero, frame - bg + r, arithmetic
 * shift, add, in-lane pack; the tail uses masked loads and stores. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

static inline __m512i step32(__m512i bg, __m512i fr, __m512i r, __m128i cnt)
{
    __m512i d = _mm512_add_epi16(_mm512_sub_epi16(fr, bg), r);
    return _mm512_add_epi16(bg, _mm512_sra_epi16(d, cnt));
}

static inline __m512i update(__m512i b, __m512i f, __m512i r, __m128i cnt)
{
    const __m512i z = _mm512_setzero_si512();
    __m512i lo = step32(_mm512_unpacklo_epi8(b, z), _mm512_unpacklo_epi8(f, z), r, cnt);
    __m512i hi = step32(_mm512_unpackhi_epi8(b, z), _mm512_unpackhi_epi8(f, z), r, cnt);
    return _mm512_packus_epi16(lo, hi);
}

void pr_u8_bg_update__avx512(uint8_t *bg, const uint8_t *frame, size_t n, unsigned shift)
{
    if (shift > 8)
        return;
    const __m512i r = _mm512_set1_epi16((short)(shift ? 1 << (shift - 1) : 0));
    const __m128i cnt = _mm_cvtsi32_si128((int)shift);
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        _mm512_storeu_si512(bg + i, update(_mm512_loadu_si512(bg + i),
                                           _mm512_loadu_si512(frame + i), r, cnt));
    if (i < n) {
        __mmask64 m = (1ull << (n - i)) - 1;
        __m512i b = _mm512_maskz_loadu_epi8(m, bg + i), f = _mm512_maskz_loadu_epi8(m, frame + i);
        _mm512_mask_storeu_epi8(bg + i, m, update(b, f, r, cnt));
    }
}
#endif
