/* q8-gemv/q8_gemv__avx512.c - int8 GEMV, AVX-512BW, 64 bytes per step and
 * four rows sharing x; with VNNI (checked at run time: the avx512 dispatch
 * level does not require it) vpdpbusd does the multiply-add in one step. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "q8_gemv_paths.h"

#include <immintrin.h>

/* vpmaddubsw/vpdpbusd multiply unsigned by signed bytes: feed |x| and q with
 * x's sign moved onto it.  |x|, |q| <= 127 keeps vpmaddubsw's int16 pair sums
 * from saturating, so both paths give the exact int32 sum. */
#define PLAIN_DOT(acc, ax, sq) \
    _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(ax, sq), _mm512_set1_epi16(1)))
#define VNNI_DOT(acc, ax, sq) _mm512_dpbusd_epi32(acc, ax, sq)

static inline __mmask64 tailmask(size_t left)
{
    return left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
}

static inline void finish(float *y, size_t r, int32_t acc, const float *scale, float xscale,
                          const float *bias)
{
    float yr = (float)acc * (scale[r] * xscale);
    if (bias)
        yr += bias[r];
    y[r] = yr;
}

#define LOADQ(p, k) _mm512_maskz_loadu_epi8(k, p)
#define SIGNED(qv, neg) _mm512_mask_sub_epi8(qv, neg, _mm512_setzero_si512(), qv)

#define GEMV_BODY(DOT)                                                                     \
    size_t r = 0;                                                                          \
    for (; r + 4 <= rows; r += 4) {                                                        \
        const int8_t *q0 = q + r * cols, *q1 = q0 + cols, *q2 = q1 + cols, *q3 = q2 + cols; \
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;                    \
        for (size_t c = 0; c < cols; c += 64) {                                            \
            __mmask64 k = tailmask(cols - c);                                              \
            __m512i sx = _mm512_maskz_loadu_epi8(k, x + c);                                \
            __m512i ax = _mm512_abs_epi8(sx);                                              \
            __mmask64 neg = _mm512_movepi8_mask(sx);                                       \
            a0 = DOT(a0, ax, SIGNED(LOADQ(q0 + c, k), neg));                               \
            a1 = DOT(a1, ax, SIGNED(LOADQ(q1 + c, k), neg));                               \
            a2 = DOT(a2, ax, SIGNED(LOADQ(q2 + c, k), neg));                               \
            a3 = DOT(a3, ax, SIGNED(LOADQ(q3 + c, k), neg));                               \
        }                                                                                  \
        finish(y, r, _mm512_reduce_add_epi32(a0), scale, xscale, bias);                    \
        finish(y, r + 1, _mm512_reduce_add_epi32(a1), scale, xscale, bias);                \
        finish(y, r + 2, _mm512_reduce_add_epi32(a2), scale, xscale, bias);                \
        finish(y, r + 3, _mm512_reduce_add_epi32(a3), scale, xscale, bias);                \
    }                                                                                      \
    for (; r < rows; r++) {                                                                \
        const int8_t *q0 = q + r * cols;                                                   \
        __m512i a0 = _mm512_setzero_si512();                                               \
        for (size_t c = 0; c < cols; c += 64) {                                            \
            __mmask64 k = tailmask(cols - c);                                              \
            __m512i sx = _mm512_maskz_loadu_epi8(k, x + c);                                \
            a0 = DOT(a0, _mm512_abs_epi8(sx),                                              \
                     SIGNED(LOADQ(q0 + c, k), _mm512_movepi8_mask(sx)));                   \
        }                                                                                  \
        finish(y, r, _mm512_reduce_add_epi32(a0), scale, xscale, bias);                    \
    }

void pr_q8_gemv__avx512_plain(const int8_t *q, const float *scale, size_t rows, size_t cols,
                              const int8_t *x, float xscale, const float *bias, float *y)
{
    GEMV_BODY(PLAIN_DOT)
}

__attribute__((target("avx512vnni")))
void pr_q8_gemv__avx512_vnni(const int8_t *q, const float *scale, size_t rows, size_t cols,
                             const int8_t *x, float xscale, const float *bias, float *y)
{
    GEMV_BODY(VNNI_DOT)
}

int pr_q8_gemv__avx512_has_vnni(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni");
}

void pr_q8_gemv__avx512(const int8_t *q, const float *scale, size_t rows, size_t cols,
                        const int8_t *x, float xscale, const float *bias, float *y)
{
    /* __builtin_cpu_supports reads a flag word cpuid filled at start-up. */
    if (__builtin_cpu_supports("avx512vnni"))
        pr_q8_gemv__avx512_vnni(q, scale, rows, cols, x, xscale, bias, y);
    else
        pr_q8_gemv__avx512_plain(q, scale, rows, cols, x, xscale, bias, y);
}
#endif
