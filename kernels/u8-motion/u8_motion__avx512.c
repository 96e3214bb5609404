/* u8-motion/u8_motion__avx512.c - motion score, AVX-512BW: |a - b| as
 * max - min, an unsigned compare gives a 64-bit mask of the pixels over the
 * threshold and popcnt counts them; the tail is masked. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,popcnt")
#include "variants.h"

#include <immintrin.h>

/* write is a constant at each call, so the store is not tested per block. */
static inline __attribute__((always_inline)) size_t
motion(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh, uint8_t *diff, int write)
{
    const __m512i t = _mm512_set1_epi8((char)thresh);
    size_t count = 0, i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i va = _mm512_loadu_si512(a + i), vb = _mm512_loadu_si512(b + i);
        __m512i d = _mm512_sub_epi8(_mm512_max_epu8(va, vb), _mm512_min_epu8(va, vb));
        if (write)
            _mm512_storeu_si512(diff + i, d);
        count += (size_t)_mm_popcnt_u64(_mm512_cmpgt_epu8_mask(d, t));
    }
    if (i < n) {
        __mmask64 m = (1ull << (n - i)) - 1;
        __m512i va = _mm512_maskz_loadu_epi8(m, a + i), vb = _mm512_maskz_loadu_epi8(m, b + i);
        __m512i d = _mm512_sub_epi8(_mm512_max_epu8(va, vb), _mm512_min_epu8(va, vb));
        if (write)
            _mm512_mask_storeu_epi8(diff + i, m, d);
        /* Masked-off lanes are 0 - 0 = 0, never over any threshold. */
        count += (size_t)_mm_popcnt_u64(_mm512_cmpgt_epu8_mask(d, t));
    }
    return count;
}

size_t pr_u8_motion__avx512(const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh,
                            uint8_t *diff)
{
    return diff ? motion(a, b, n, thresh, diff, 1) : motion(a, b, n, thresh, NULL, 0);
}
#endif
