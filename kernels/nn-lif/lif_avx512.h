/* lif_avx512.h - AVX-512 pieces shared by the dense and CSR LIF variants:
 * the threshold/reset/refractory step on 16 neurons, the spike scan.
 * Include after the file's #pragma GCC target. */
#ifndef PR_LIF_AVX512_H
#define PR_LIF_AVX512_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

static inline __mmask16 lif_mask16(size_t left)
{
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* Neurons i .. i+15 under mask k, v already decayed and summed. */
static inline void lif_fire16(__m512 v, size_t i, __mmask16 k, float *vp, int32_t *refr,
                              __m512 thr, __m512 vreset, __m512i steps, uint8_t *out)
{
    __m512i r = _mm512_maskz_loadu_epi32(k, refr + i);
    __mmask16 rm = _mm512_mask_cmpgt_epi32_mask(k, r, _mm512_setzero_si512());
    /* Ordered compare: a NaN potential never fires, as in the reference. */
    __mmask16 fire = _mm512_mask_cmp_ps_mask(k & (__mmask16)~rm, v, thr, _CMP_GE_OQ);
    v = _mm512_mask_mov_ps(v, rm | fire, vreset);
    r = _mm512_mask_sub_epi32(r, rm, r, _mm512_set1_epi32(1));
    r = _mm512_mask_mov_epi32(r, fire, steps);
    _mm512_mask_storeu_ps(vp + i, k, v);
    _mm512_mask_storeu_epi32(refr + i, k, r);
    _mm_mask_storeu_epi8(out + i, k, _mm_maskz_mov_epi8(fire, _mm_set1_epi8(1)));
}

/* Append the indexes of nonzero spikes from j on to idx (at most cap - *cnt
 * more, whole 64-byte words only); returns where the scan stopped. */
static inline size_t lif_collect(const uint8_t *s, size_t m, size_t j, int32_t *idx,
                                 size_t *cnt, size_t cap)
{
    while (j < m) {
        size_t left = m - j;
        __mmask64 k = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        __m512i b = _mm512_maskz_loadu_epi8(k, s + j);
        uint64_t bits = _mm512_test_epi8_mask(b, b);
        if (*cnt + (size_t)__builtin_popcountll(bits) > cap)
            break;
        while (bits) {
            idx[(*cnt)++] = (int32_t)(j + (size_t)__builtin_ctzll(bits));
            bits &= bits - 1;
        }
        j += 64;
    }
    return j < m ? j : m;
}

#endif
