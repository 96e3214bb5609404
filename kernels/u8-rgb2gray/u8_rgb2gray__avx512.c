/* u8-rgb2gray/u8_rgb2gray__avx512.c - RGB24 to gray, AVX-512, 64 pixels a
 * step with the maths of the SSE4.1 variant.  Two paths, picked per call:
 * with AVX512-VBMI, vpermt2b gathers (R,B) pairs and G for 32 pixels from
 * two registers in one instruction; with BW only, four 16-pixel blocks, one
 * per 128-bit lane, use the in-lane pshufb gathers of the SSE4.1 variant. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

#include "u8_rgb2gray_paths.h"

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

void pr_u8_rgb2gray__avx512_bw(const uint8_t *rgb, uint8_t *gray, size_t n)
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

static const uint8_t IDX_RB_LO[64] = {
    0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23,
    24, 26, 27, 29, 30, 32, 33, 35, 36, 38, 39, 41, 42, 44, 45, 47,
    48, 50, 51, 53, 54, 56, 57, 59, 60, 62, 63, 65, 66, 68, 69, 71,
    72, 74, 75, 77, 78, 80, 81, 83, 84, 86, 87, 89, 90, 92, 93, 95,
};
static const uint8_t IDX_G_LO[64] = {
    1, 0, 4, 0, 7, 0, 10, 0, 13, 0, 16, 0, 19, 0, 22, 0,
    25, 0, 28, 0, 31, 0, 34, 0, 37, 0, 40, 0, 43, 0, 46, 0,
    49, 0, 52, 0, 55, 0, 58, 0, 61, 0, 64, 0, 67, 0, 70, 0,
    73, 0, 76, 0, 79, 0, 82, 0, 85, 0, 88, 0, 91, 0, 94, 0,
};
static const uint8_t IDX_RB_HI[64] = {
    32, 34, 35, 37, 38, 40, 41, 43, 44, 46, 47, 49, 50, 52, 53, 55,
    56, 58, 59, 61, 62, 64, 65, 67, 68, 70, 71, 73, 74, 76, 77, 79,
    80, 82, 83, 85, 86, 88, 89, 91, 92, 94, 95, 97, 98, 100, 101, 103,
    104, 106, 107, 109, 110, 112, 113, 115, 116, 118, 119, 121, 122, 124, 125, 127,
};
static const uint8_t IDX_G_HI[64] = {
    33, 0, 36, 0, 39, 0, 42, 0, 45, 0, 48, 0, 51, 0, 54, 0,
    57, 0, 60, 0, 63, 0, 66, 0, 69, 0, 72, 0, 75, 0, 78, 0,
    81, 0, 84, 0, 87, 0, 90, 0, 93, 0, 96, 0, 99, 0, 102, 0,
    105, 0, 108, 0, 111, 0, 114, 0, 117, 0, 120, 0, 123, 0, 126, 0,
};
static const uint8_t IDX_EVEN[64] = {
    0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
    32, 34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62,
    64, 66, 68, 70, 72, 74, 76, 78, 80, 82, 84, 86, 88, 90, 92, 94,
    96, 98, 100, 102, 104, 106, 108, 110, 112, 114, 116, 118, 120, 122, 124, 126,
};


/* vpermt2b indices: (R,B) byte pairs and G (zeroed odd bytes by the mask)
 * of pixels 0-31 from bytes 0-127 of the block, of pixels 32-63 from bytes
 * 64-191; IDX_EVEN takes the low byte of each u16 result. */
__attribute__((target("avx512vbmi")))
void pr_u8_rgb2gray__avx512_vbmi(const uint8_t *rgb, uint8_t *gray, size_t n)
{
    const __m512i rb_lo = _mm512_loadu_si512(IDX_RB_LO), g_lo = _mm512_loadu_si512(IDX_G_LO);
    const __m512i rb_hi = _mm512_loadu_si512(IDX_RB_HI), g_hi = _mm512_loadu_si512(IDX_G_HI);
    const __m512i even = _mm512_loadu_si512(IDX_EVEN);
    const __mmask64 low = 0x5555555555555555ull;
    const __m512i wrb = _mm512_set1_epi16(29 << 8 | 77), wg = _mm512_set1_epi16(150);
    const __m512i half = _mm512_set1_epi16(128);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const uint8_t *p = rgb + 3 * i;
        __m512i v0 = _mm512_loadu_si512(p), v1 = _mm512_loadu_si512(p + 64);
        __m512i v2 = _mm512_loadu_si512(p + 128);
        __m512i rbl = _mm512_permutex2var_epi8(v0, rb_lo, v1);
        __m512i gl = _mm512_maskz_permutex2var_epi8(low, v0, g_lo, v1);
        __m512i rbh = _mm512_permutex2var_epi8(v1, rb_hi, v2);
        __m512i gh = _mm512_maskz_permutex2var_epi8(low, v1, g_hi, v2);
        __m512i lo = _mm512_add_epi16(_mm512_maddubs_epi16(rbl, wrb), _mm512_mullo_epi16(gl, wg));
        __m512i hi = _mm512_add_epi16(_mm512_maddubs_epi16(rbh, wrb), _mm512_mullo_epi16(gh, wg));
        lo = _mm512_srli_epi16(_mm512_add_epi16(lo, half), 8);
        hi = _mm512_srli_epi16(_mm512_add_epi16(hi, half), 8);
        _mm512_storeu_si512(gray + i, _mm512_permutex2var_epi8(lo, even, hi));
    }
    if (i < n)
        pr_u8_rgb2gray__avx512_bw(rgb + 3 * i, gray + i, n - i);
}

int pr_u8_rgb2gray__avx512_has_vbmi(void)
{
    return __builtin_cpu_supports("avx512vbmi");
}

void pr_u8_rgb2gray__avx512(const uint8_t *rgb, uint8_t *gray, size_t n)
{
    /* __builtin_cpu_supports reads a flag word cpuid filled at start-up. */
    if (__builtin_cpu_supports("avx512vbmi"))
        pr_u8_rgb2gray__avx512_vbmi(rgb, gray, n);
    else
        pr_u8_rgb2gray__avx512_bw(rgb, gray, n);
}
#endif
