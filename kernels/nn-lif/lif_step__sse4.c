/* nn-lif/lif_step__sse4.c - leaky integrate-and-fire step, dense weights,
 * SSE4.1: the spiking inputs are listed first, then each block of 32 neurons
 * sums their rows in registers and fires in the same pass. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>
#include <string.h>

#include "lif_common.h"

/* Spike indexes per pass over the neurons, on the stack (1 KiB). */
#define CHUNK 256

#define ACC8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

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

void pr_lif_step__sse4(size_t n, float *v, int32_t *refr, const uint8_t *spikes_in, size_t m,
                       const float *w, float decay, float threshold, float v_reset,
                       int32_t refr_steps, uint8_t *spikes_out)
{
    const __m128 vdecay = _mm_set1_ps(decay), thr = _mm_set1_ps(threshold);
    const __m128 vreset = _mm_set1_ps(v_reset);
    const __m128i steps = _mm_set1_epi32(refr_steps);
    int32_t idx[CHUNK];
    size_t j = 0;
    int first = 1;

    if (!spikes_in)
        m = 0;
    do {
        size_t cnt = 0, i = 0;
        j = lif_collect16(spikes_in, m, j, idx, &cnt, CHUNK);
        int last = j >= m;
        for (; i + 32 <= n; i += 32) {
#define DECL(t)                                     \
    __m128 a##t = _mm_loadu_ps(v + i + 4 * (t));    \
    if (first)                                      \
        a##t = _mm_mul_ps(a##t, vdecay);
            ACC8(DECL)
#undef DECL
            for (size_t s = 0; s < cnt; s++) {
                const float *wr = w + (size_t)idx[s] * n + i;
#define ADD(t) a##t = _mm_add_ps(a##t, _mm_loadu_ps(wr + 4 * (t)));
                ACC8(ADD)
#undef ADD
            }
#define OUT(t)                                                                      \
    if (last)                                                                       \
        lif_fire4(a##t, i + 4 * (t), v, refr, thr, vreset, steps, spikes_out);      \
    else                                                                            \
        _mm_storeu_ps(v + i + 4 * (t), a##t);
            ACC8(OUT)
#undef OUT
        }
        for (; i + 4 <= n; i += 4) {
            __m128 a = _mm_loadu_ps(v + i);
            if (first)
                a = _mm_mul_ps(a, vdecay);
            for (size_t s = 0; s < cnt; s++)
                a = _mm_add_ps(a, _mm_loadu_ps(w + (size_t)idx[s] * n + i));
            if (last)
                lif_fire4(a, i, v, refr, thr, vreset, steps, spikes_out);
            else
                _mm_storeu_ps(v + i, a);
        }
        for (size_t t = i; t < n; t++) {
            float a = first ? v[t] * decay : v[t];
            for (size_t s = 0; s < cnt; s++)
                a = a + w[(size_t)idx[s] * n + t];
            v[t] = a;
        }
        if (last)
            lif_fire_scalar(v, refr, i, n, threshold, v_reset, refr_steps, spikes_out);
        first = 0;
    } while (j < m);
}
#endif
