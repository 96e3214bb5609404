/* u8-motion/u8_motion__sse4.c - motion score, SSE4.1: |a - b| as the OR of
 * the two saturating differences; d > t exactly when d -sat t is non-zero,
 * min(., 1) makes that a 0/1 byte and psadbw adds 16 of them into 64 bits. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>

/* write is a constant at each call, so the store is not tested per block. */
static inline __attribute__((always_inline)) size_t
motion(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh, uint8_t *diff, int write)
{
    const __m128i t = _mm_set1_epi8((char)thresh), one = _mm_set1_epi8(1);
    const __m128i z = _mm_setzero_si128();
    __m128i acc = z;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i va = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(b + i));
        __m128i d = _mm_or_si128(_mm_subs_epu8(va, vb), _mm_subs_epu8(vb, va));
        if (write)
            _mm_storeu_si128((__m128i *)(diff + i), d);
        __m128i over = _mm_min_epu8(_mm_subs_epu8(d, t), one);
        acc = _mm_add_epi64(acc, _mm_sad_epu8(over, z));
    }
    size_t count = (size_t)_mm_cvtsi128_si64(acc) + (size_t)_mm_extract_epi64(acc, 1);
    for (; i < n; i++) {
        uint8_t d = a[i] > b[i] ? (uint8_t)(a[i] - b[i]) : (uint8_t)(b[i] - a[i]);
        count += d > thresh;
        if (write)
            diff[i] = d;
    }
    return count;
}

size_t pr_u8_motion__sse4(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh,
                          uint8_t *diff)
{
    return diff ? motion(a, b, n, thresh, diff, 1) : motion(a, b, n, thresh, NULL, 0);
}
#endif
