/* u8-rgb2gray/u8_rgb2gray__sse4.c - RGB24 to gray, SSE4.1: 16 pixels (48
 * bytes, three loads) at a time; pshufb gathers (R,B) byte pairs and G
 * zero-extended to 16 bits, pmaddubsw gives 77 R + 29 B, a multiply adds
 * 150 G; the sum (<= 65408) fits in u16, so the result is the reference's. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

/* Byte indices into each 16-byte load for pixels 0-7 (LO) and 8-15 (HI);
 * -1 gives a zero byte. */
#define M_RB_LO_0 0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, -1, -1, -1, -1, -1
#define M_RB_LO_1 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 2, 4, 5, 7
#define M_RB_HI_1 8, 10, 11, 13, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
#define M_RB_HI_2 -1, -1, -1, -1, -1, 0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15
#define M_G_LO_0 1, -1, 4, -1, 7, -1, 10, -1, 13, -1, -1, -1, -1, -1, -1, -1
#define M_G_LO_1 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, -1, 3, -1, 6, -1
#define M_G_HI_1 9, -1, 12, -1, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
#define M_G_HI_2 -1, -1, -1, -1, -1, -1, 2, -1, 5, -1, 8, -1, 11, -1, 14, -1

void pr_u8_rgb2gray__sse4(const uint8_t *rgb, uint8_t *gray, size_t n)
{
    const __m128i rb_lo0 = _mm_setr_epi8(M_RB_LO_0), rb_lo1 = _mm_setr_epi8(M_RB_LO_1);
    const __m128i rb_hi1 = _mm_setr_epi8(M_RB_HI_1), rb_hi2 = _mm_setr_epi8(M_RB_HI_2);
    const __m128i g_lo0 = _mm_setr_epi8(M_G_LO_0), g_lo1 = _mm_setr_epi8(M_G_LO_1);
    const __m128i g_hi1 = _mm_setr_epi8(M_G_HI_1), g_hi2 = _mm_setr_epi8(M_G_HI_2);
    const __m128i wrb = _mm_set1_epi16(29 << 8 | 77), wg = _mm_set1_epi16(150);
    const __m128i half = _mm_set1_epi16(128);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8_t *p = rgb + 3 * i;
        __m128i v0 = _mm_loadu_si128((const __m128i *)p);
        __m128i v1 = _mm_loadu_si128((const __m128i *)(p + 16));
        __m128i v2 = _mm_loadu_si128((const __m128i *)(p + 32));
        __m128i rbl = _mm_or_si128(_mm_shuffle_epi8(v0, rb_lo0), _mm_shuffle_epi8(v1, rb_lo1));
        __m128i rbh = _mm_or_si128(_mm_shuffle_epi8(v1, rb_hi1), _mm_shuffle_epi8(v2, rb_hi2));
        __m128i gl = _mm_or_si128(_mm_shuffle_epi8(v0, g_lo0), _mm_shuffle_epi8(v1, g_lo1));
        __m128i gh = _mm_or_si128(_mm_shuffle_epi8(v1, g_hi1), _mm_shuffle_epi8(v2, g_hi2));
        __m128i lo = _mm_add_epi16(_mm_maddubs_epi16(rbl, wrb), _mm_mullo_epi16(gl, wg));
        __m128i hi = _mm_add_epi16(_mm_maddubs_epi16(rbh, wrb), _mm_mullo_epi16(gh, wg));
        lo = _mm_srli_epi16(_mm_add_epi16(lo, half), 8);
        hi = _mm_srli_epi16(_mm_add_epi16(hi, half), 8);
        _mm_storeu_si128((__m128i *)(gray + i), _mm_packus_epi16(lo, hi));
    }
    for (; i < n; i++) {
        const uint8_t *p = rgb + 3 * i;
        gray[i] = (uint8_t)((77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8);
    }
}
#endif
