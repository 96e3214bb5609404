/* u8-motion/u8_motion__avx2.c - motion score, AVX2: |a - b| as the OR of the
 * saturating differences; over-threshold bytes counted as 0/1 by min and
 * psadbw into four 64-bit sums; two blocks per step for two load streams. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>

static inline __attribute__((always_inline)) __m256i
block(const uint8_t *a, const uint8_t *b, uint8_t *diff, size_t i, int write, __m256i t,
      __m256i one)
{
    __m256i va = _mm256_loadu_si256((const __m256i *)(a + i));
    __m256i vb = _mm256_loadu_si256((const __m256i *)(b + i));
    __m256i d = _mm256_or_si256(_mm256_subs_epu8(va, vb), _mm256_subs_epu8(vb, va));
    if (write)
        _mm256_storeu_si256((__m256i *)(diff + i), d); /* diff may be NULL otherwise */
    return _mm256_min_epu8(_mm256_subs_epu8(d, t), one);
}

/* write is a constant at each call, so the store is not tested per block. */
static inline __attribute__((always_inline)) size_t
motion(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh, uint8_t *diff, int write)
{
    const __m256i t = _mm256_set1_epi8((char)thresh), one = _mm256_set1_epi8(1);
    const __m256i z = _mm256_setzero_si256();
    __m256i acc = z;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        /* Two 0/1 vectors add to at most 2 per byte before psadbw. */
        __m256i o0 = block(a, b, diff, i, write, t, one);
        __m256i o1 = block(a, b, diff, i + 32, write, t, one);
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_add_epi8(o0, o1), z));
    }
    for (; i + 32 <= n; i += 32)
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(block(a, b, diff, i, write, t, one), z));
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    size_t count = (size_t)_mm_cvtsi128_si64(s) + (size_t)_mm_extract_epi64(s, 1);
    for (; i < n; i++) {
        uint8_t d = a[i] > b[i] ? (uint8_t)(a[i] - b[i]) : (uint8_t)(b[i] - a[i]);
        count += d > thresh;
        if (write)
            diff[i] = d;
    }
    return count;
}

size_t pr_u8_motion__avx2(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh,
                          uint8_t *diff)
{
    return diff ? motion(a, b, n, thresh, diff, 1) : motion(a, b, n, thresh, NULL, 0);
}
#endif
