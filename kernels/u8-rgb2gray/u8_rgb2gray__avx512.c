/* u8-rgb2gray/u8_rgb2gray__avx512.c - RGB24 to gray, AVX-512BW: 64 pixels at
 * a time as four 16-pixel blocks, one per 128-bit lane, with the in-lane
 * gathers of the SSE4.1 variant (see there for the maths). */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

#define M_RB_LO_0 0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, -1, -1, -1, -1, -1
#define M_RB_LO_1 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 2, 4, 5, 7
#define M_RB_HI_1 8, 10, 11, 13, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
#define M_RB_HI_2 -1, -1, -1, -1, -1, 0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15
#define M_G_LO_0 1, -1, 4, -1, 7, -1, 10, -1, 13, -1, -1, -1, -1, -1, -1, -1
#define M_G_LO_1 -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, -1, 3, -1, 6, -1
#define M_G_HI_1 9, -1, 12, -1, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
#define M_G_HI_2 -1, -1, -1, -1, -1, -1, 2, -1, 5, -1, 8, -1, 11, -1, 14, -1

/* Bytes [off, off+16) of four blocks 48 bytes apart, one per lane. */
static inline __m512i load4(const uint8_t *p, size_t off)
{
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(p + off)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 48 + off)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 96 + off)), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(p + 144 + off)), 3);
}

void pr_u8_rgb2gray__avx512(const uint8_t *rgb, uint8_t *gray, size_t n)
{
#define B4(m) _mm512_broadcast_i32x4(_mm_setr_epi8(m))
    const __m512i rb_lo0 = B4(M_RB_LO_0), rb_lo1 = B4(M_RB_LO_1);
    const __m512i rb_hi1 = B4(M_RB_HI_1), rb_hi2 = B4(M_RB_HI_2);
    const __m512i g_lo0 = B4(M_G_LO_0), g_lo1 = B4(M_G_LO_1);
    const __m512i g_hi1 = B4(M_G_HI_1), g_hi2 = B4(M_G_HI_2);
#undef B4
    const __m512i wrb = _mm512_set1_epi16(29 << 8 | 77), wg = _mm512_set1_epi16(150);
    const __m512i half = _mm512_set1_epi16(128);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const uint8_t *p = rgb + 3 * i;
        __m512i v0 = load4(p, 0), v1 = load4(p, 16), v2 = load4(p, 32);
        __m512i rbl = _mm512_or_si512(_mm512_shuffle_epi8(v0, rb_lo0), _mm512_shuffle_epi8(v1, rb_lo1));
        __m512i rbh = _mm512_or_si512(_mm512_shuffle_epi8(v1, rb_hi1), _mm512_shuffle_epi8(v2, rb_hi2));
        __m512i gl = _mm512_or_si512(_mm512_shuffle_epi8(v0, g_lo0), _mm512_shuffle_epi8(v1, g_lo1));
        __m512i gh = _mm512_or_si512(_mm512_shuffle_epi8(v1, g_hi1), _mm512_shuffle_epi8(v2, g_hi2));
        __m512i lo = _mm512_add_epi16(_mm512_maddubs_epi16(rbl, wrb), _mm512_mullo_epi16(gl, wg));
        __m512i hi = _mm512_add_epi16(_mm512_maddubs_epi16(rbh, wrb), _mm512_mullo_epi16(gh, wg));
        lo = _mm512_srli_epi16(_mm512_add_epi16(lo, half), 8);
        hi = _mm512_srli_epi16(_mm512_add_epi16(hi, half), 8);
        _mm512_storeu_si512(gray + i, _mm512_packus_epi16(lo, hi));
    }
    /* The rest in 16-pixel blocks (one lane's work), then pixel by pixel. */
    const __m128i wrb1 = _mm512_castsi512_si128(wrb), wg1 = _mm512_castsi512_si128(wg);
    const __m128i half1 = _mm512_castsi512_si128(half);
    for (; i + 16 <= n; i += 16) {
        const uint8_t *p = rgb + 3 * i;
        __m128i v0 = _mm_loadu_si128((const __m128i *)p);
        __m128i v1 = _mm_loadu_si128((const __m128i *)(p + 16));
        __m128i v2 = _mm_loadu_si128((const __m128i *)(p + 32));
        __m128i rbl = _mm_or_si128(_mm_shuffle_epi8(v0, _mm512_castsi512_si128(rb_lo0)),
                                   _mm_shuffle_epi8(v1, _mm512_castsi512_si128(rb_lo1)));
        __m128i rbh = _mm_or_si128(_mm_shuffle_epi8(v1, _mm512_castsi512_si128(rb_hi1)),
                                   _mm_shuffle_epi8(v2, _mm512_castsi512_si128(rb_hi2)));
        __m128i gl = _mm_or_si128(_mm_shuffle_epi8(v0, _mm512_castsi512_si128(g_lo0)),
                                  _mm_shuffle_epi8(v1, _mm512_castsi512_si128(g_lo1)));
        __m128i gh = _mm_or_si128(_mm_shuffle_epi8(v1, _mm512_castsi512_si128(g_hi1)),
                                  _mm_shuffle_epi8(v2, _mm512_castsi512_si128(g_hi2)));
        __m128i lo = _mm_add_epi16(_mm_maddubs_epi16(rbl, wrb1), _mm_mullo_epi16(gl, wg1));
        __m128i hi = _mm_add_epi16(_mm_maddubs_epi16(rbh, wrb1), _mm_mullo_epi16(gh, wg1));
        lo = _mm_srli_epi16(_mm_add_epi16(lo, half1), 8);
        hi = _mm_srli_epi16(_mm_add_epi16(hi, half1), 8);
        _mm_storeu_si128((__m128i *)(gray + i), _mm_packus_epi16(lo, hi));
    }
    for (; i < n; i++) {
        const uint8_t *p = rgb + 3 * i;
        gray[i] = (uint8_t)((77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8);
    }
}
#endif
