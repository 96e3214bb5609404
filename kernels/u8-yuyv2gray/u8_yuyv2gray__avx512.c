/* u8-yuyv2gray/u8_yuyv2gray__avx512.c - YUYV to gray, AVX-512BW: vpmovwb
 * truncates each u16 (Y in the low byte) to a byte, 32 pixels per load;
 * the tail uses masked loads and stores. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_u8_yuyv2gray__avx512(const uint8_t *yuyv, uint8_t *gray, size_t n)
{
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m256i a = _mm512_cvtepi16_epi8(_mm512_loadu_si512(yuyv + 2 * i));
        __m256i b = _mm512_cvtepi16_epi8(_mm512_loadu_si512(yuyv + 2 * i + 64));
        _mm256_storeu_si256((__m256i *)(gray + i), a);
        _mm256_storeu_si256((__m256i *)(gray + i + 32), b);
    }
    while (i < n) {
        size_t r = n - i < 32 ? n - i : 32;
        __mmask32 m = (__mmask32)((1ull << r) - 1);
        __m512i v = _mm512_maskz_loadu_epi16(m, yuyv + 2 * i);
        _mm512_mask_cvtepi16_storeu_epi8(gray + i, m, v);
        i += r;
    }
}
#endif
