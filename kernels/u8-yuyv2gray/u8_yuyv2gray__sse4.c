/* u8-yuyv2gray/u8_yuyv2gray__sse4.c - YUYV to gray, SSE4.1: mask the Y bytes
 * of 32 input bytes as u16 lanes and pack them back to 16 bytes. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

void pr_u8_yuyv2gray__sse4(const uint8_t *yuyv, uint8_t *gray, size_t n)
{
    const __m128i lo = _mm_set1_epi16(0x00ff);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_and_si128(_mm_loadu_si128((const __m128i *)(yuyv + 2 * i)), lo);
        __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(yuyv + 2 * i + 16)), lo);
        _mm_storeu_si128((__m128i *)(gray + i), _mm_packus_epi16(a, b));
    }
    for (; i < n; i++)
        gray[i] = yuyv[2 * i];
}
#endif
