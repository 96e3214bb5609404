/* u8-rgb2gray/u8_rgb2gray__avx2.c - RGB24 to gray, AVX2: 32 pixels at a time
 * as two 16-pixel blocks, one per 128-bit lane, so the in-lane pshufb
 * gathers of the SSE4.1 variant apply unchanged (see there for the maths). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
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

/* Bytes [off, off+16) of two blocks 48 bytes apart, one per lane. */
static inline __m256i load2(const uint8_t *p, size_t off)
{
    __m128i lo = _mm_loadu_si128((const __m128i *)(p + off));
    __m128i hi = _mm_loadu_si128((const __m128i *)(p + 48 + off));
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

void pr_u8_rgb2gray__avx2(const uint8_t *rgb, uint8_t *gray, size_t n)
{
#define B2(m) _mm256_setr_epi8(m, m)
    const __m256i rb_lo0 = B2(M_RB_LO_0), rb_lo1 = B2(M_RB_LO_1);
    const __m256i rb_hi1 = B2(M_RB_HI_1), rb_hi2 = B2(M_RB_HI_2);
    const __m256i g_lo0 = B2(M_G_LO_0), g_lo1 = B2(M_G_LO_1);
    const __m256i g_hi1 = B2(M_G_HI_1), g_hi2 = B2(M_G_HI_2);
#undef B2
    const __m256i wrb = _mm256_set1_epi16(29 << 8 | 77), wg = _mm256_set1_epi16(150);
    const __m256i half = _mm256_set1_epi16(128);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const uint8_t *p = rgb + 3 * i;
        __m256i v0 = load2(p, 0), v1 = load2(p, 16), v2 = load2(p, 32);
        __m256i rbl = _mm256_or_si256(_mm256_shuffle_epi8(v0, rb_lo0), _mm256_shuffle_epi8(v1, rb_lo1));
        __m256i rbh = _mm256_or_si256(_mm256_shuffle_epi8(v1, rb_hi1), _mm256_shuffle_epi8(v2, rb_hi2));
        __m256i gl = _mm256_or_si256(_mm256_shuffle_epi8(v0, g_lo0), _mm256_shuffle_epi8(v1, g_lo1));
        __m256i gh = _mm256_or_si256(_mm256_shuffle_epi8(v1, g_hi1), _mm256_shuffle_epi8(v2, g_hi2));
        __m256i lo = _mm256_add_epi16(_mm256_maddubs_epi16(rbl, wrb), _mm256_mullo_epi16(gl, wg));
        __m256i hi = _mm256_add_epi16(_mm256_maddubs_epi16(rbh, wrb), _mm256_mullo_epi16(gh, wg));
        lo = _mm256_srli_epi16(_mm256_add_epi16(lo, half), 8);
        hi = _mm256_srli_epi16(_mm256_add_epi16(hi, half), 8);
        /* In-lane pack: lane 0 holds pixels 0-15, lane 1 pixels 16-31. */
        _mm256_storeu_si256((__m256i *)(gray + i), _mm256_packus_epi16(lo, hi));
    }
    for (; i < n; i++) {
        const uint8_t *p = rgb + 3 * i;
        gray[i] = (uint8_t)((77u * p[0] + 150u * p[1] + 29u * p[2] + 128u) >> 8);
    }
}
#endif
