/* u8-down2x2/u8_down2x2__avx2.c - 2x2 box downscale, AVX2: pair sums by
 * pmaddubsw with ones, rows added with the rounding 2, shift, in-lane pack
 * and a quarter permute: 32 outputs per step. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_u8_down2x2__avx2(const uint8_t *src, size_t w, size_t h, size_t stride, uint8_t *dst,
                         size_t dstride)
{
    const __m256i ones = _mm256_set1_epi8(1), two = _mm256_set1_epi16(2);
    size_t ow = w / 2, oh = h / 2;
    for (size_t y = 0; y < oh; y++) {
        const uint8_t *r0 = src + 2 * y * stride, *r1 = r0 + stride;
        uint8_t *o = dst + y * dstride;
        size_t x = 0;
        for (; x + 32 <= ow; x += 32) {
            __m256i a0 = _mm256_loadu_si256((const __m256i *)(r0 + 2 * x));
            __m256i a1 = _mm256_loadu_si256((const __m256i *)(r0 + 2 * x + 32));
            __m256i b0 = _mm256_loadu_si256((const __m256i *)(r1 + 2 * x));
            __m256i b1 = _mm256_loadu_si256((const __m256i *)(r1 + 2 * x + 32));
            __m256i s0 = _mm256_add_epi16(_mm256_maddubs_epi16(a0, ones), _mm256_maddubs_epi16(b0, ones));
            __m256i s1 = _mm256_add_epi16(_mm256_maddubs_epi16(a1, ones), _mm256_maddubs_epi16(b1, ones));
            s0 = _mm256_srli_epi16(_mm256_add_epi16(s0, two), 2);
            s1 = _mm256_srli_epi16(_mm256_add_epi16(s1, two), 2);
            __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi16(s0, s1), 0xd8);
            _mm256_storeu_si256((__m256i *)(o + x), p);
        }
        for (; x < ow; x++)
            o[x] = (uint8_t)((r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2u) >> 2);
    }
}
#endif
