/* lif_sse4.h - SSE4.1 pieces shared by the dense and CSR LIF variants: the
 * threshold/reset/refractory step on 4 neurons, the spike scan.  Include
 * after the file's #pragma GCC target. */
#ifndef PR_LIF_SSE4_H
#define PR_LIF_SSE4_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Neurons i .. i+3, v already decayed and summed. */
static inline void lif_fire4(__m128 v, size_t i, float *vp, int32_t *refr, __m128 thr,
                             __m128 vreset, __m128i steps, uint8_t *out)
{
    __m128i r = _mm_loadu_si128((const __m128i *)(refr + i));
    __m128i rm = _mm_cmpgt_epi32(r, _mm_setzero_si128());
    /* Ordered compare: a NaN potential never fires, as in the reference. */
    __m128i fire = _mm_andnot_si128(rm, _mm_castps_si128(_mm_cmpge_ps(v, thr)));
    v = _mm_blendv_ps(v, vreset, _mm_castsi128_ps(_mm_or_si128(rm, fire)));
    r = _mm_add_epi32(r, rm); /* rm is -1 where refractory */
    r = _mm_blendv_epi8(r, steps, fire);
    _mm_storeu_ps(vp + i, v);
    _mm_storeu_si128((__m128i *)(refr + i), r);
    __m128i f16 = _mm_packs_epi32(fire, fire);
    __m128i f8 = _mm_and_si128(_mm_packs_epi16(f16, f16), _mm_set1_epi8(1));
    int32_t b = _mm_cvtsi128_si32(f8);
    memcpy(out + i, &b, 4);
}

/* Append the indexes of nonzero spikes from j on to idx (whole 16-byte words
 * only, at most cap - *cnt more); returns where the scan stopped. */
static inline size_t lif_collect16(const uint8_t *s, size_t m, size_t j, int32_t *idx,
                                   size_t *cnt, size_t cap)
{
    while (j < m) {
        uint32_t bits = 0;
        size_t len = m - j < 16 ? m - j : 16;
        if (len == 16) {
            __m128i b = _mm_loadu_si128((const __m128i *)(s + j));
            bits = ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, _mm_setzero_si128())) & 0xffffu;
        } else {
            for (size_t l = 0; l < len; l++)
                bits |= (uint32_t)(s[j + l] != 0) << l;
        }
        if (*cnt + (size_t)__builtin_popcount(bits) > cap)
            break;
        while (bits) {
            idx[(*cnt)++] = (int32_t)(j + (size_t)__builtin_ctz(bits));
            bits &= bits - 1;
        }
        j += len;
    }
    return j;
}

#endif
