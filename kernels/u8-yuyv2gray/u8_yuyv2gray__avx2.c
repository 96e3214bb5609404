/* u8-yuyv2gray/u8_yuyv2gray__avx2.c - YUYV to gray, AVX2: mask the Y bytes of
 * 64 input bytes, pack (in-lane), then put the 64-bit quarters back in order. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_u8_yuyv2gray__avx2(const uint8_t *yuyv, uint8_t *gray, size_t n)
{
    const __m256i lo = _mm256_set1_epi16(0x00ff);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(yuyv + 2 * i)), lo);
        __m256i b = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(yuyv + 2 * i + 32)), lo);
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xd8);
        _mm256_storeu_si256((__m256i *)(gray + i), p);
    }
    for (; i < n; i++)
        gray[i] = yuyv[2 * i];
}
#endif
