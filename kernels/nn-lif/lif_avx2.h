/* lif_avx2.h - AVX2 pieces shared by the dense and CSR LIF variants: the
 * threshold/reset/refractory step on 8 neurons, the spike scan.  Include
 * after the file's #pragma GCC target. */
#ifndef PR_LIF_AVX2_H
#define PR_LIF_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* Neurons i .. i+7, v already decayed and summed. */
static inline void lif_fire8(__m256 v, size_t i, float *vp, int32_t *refr, __m256 thr,
                             __m256 vreset, __m256i steps, uint8_t *out)
{
    __m256i r = _mm256_loadu_si256((const __m256i *)(refr + i));
    __m256i rm = _mm256_cmpgt_epi32(r, _mm256_setzero_si256());
    /* Ordered compare: a NaN potential never fires, as in the reference. */
    __m256i fire = _mm256_andnot_si256(rm, _mm256_castps_si256(_mm256_cmp_ps(v, thr, _CMP_GE_OQ)));
    v = _mm256_blendv_ps(v, vreset, _mm256_castsi256_ps(_mm256_or_si256(rm, fire)));
    r = _mm256_add_epi32(r, rm); /* rm is -1 where refractory */
    r = _mm256_blendv_epi8(r, steps, fire);
    _mm256_storeu_ps(vp + i, v);
    _mm256_storeu_si256((__m256i *)(refr + i), r);
    __m128i f16 = _mm_packs_epi32(_mm256_castsi256_si128(fire), _mm256_extracti128_si256(fire, 1));
    __m128i f8 = _mm_and_si128(_mm_packs_epi16(f16, f16), _mm_set1_epi8(1));
    _mm_storel_epi64((__m128i *)(out + i), f8);
}

/* Append the indexes of nonzero spikes from j on to idx (whole 32-byte words
 * only, at most cap - *cnt more); returns where the scan stopped. */
static inline size_t lif_collect(const uint8_t *s, size_t m, size_t j, int32_t *idx,
                                 size_t *cnt, size_t cap)
{
    while (j < m) {
        uint32_t bits = 0;
        size_t len = m - j < 32 ? m - j : 32;
        if (len == 32) {
            __m256i b = _mm256_loadu_si256((const __m256i *)(s + j));
            bits = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, _mm256_setzero_si256()));
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
