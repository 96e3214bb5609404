/* nn-esn/esn_update__avx512.c - echo-state reservoir update, AVX-512: dense
 * part four rows at a time sharing u, CSR part with vgatherdps, sleef's u35
 * tanh (3.5 ULP) on 16 lanes. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>

static inline __mmask16 tailmask(size_t left)
{
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* sum_k val[k] x[col[k]] over one CSR row, 16 entries per gather. */
static inline __m512 sparse_row(__m512 acc, const int32_t *col, const float *val, int32_t k0,
                                int32_t k1, const float *x)
{
    for (int32_t k = k0; k < k1; k += 16) {
        __mmask16 km = tailmask((size_t)(k1 - k));
        __m512i ix = _mm512_maskz_loadu_epi32(km, col + k);
        __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), km, ix, x, 4);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(km, val + k), g, acc);
    }
    return acc;
}

void pr_esn_update__avx512(float *x, size_t n, const float *u, size_t m, const float *w_in,
                           const int32_t *row_ptr, const int32_t *col, const float *val,
                           const float *b, float a, float *pre)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *w0 = w_in + i * m, *w1 = w0 + m, *w2 = w1 + m, *w3 = w2 + m;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t c = 0; c < m; c += 16) {
            __mmask16 k = tailmask(m - c);
            __m512 uv = _mm512_maskz_loadu_ps(k, u + c);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, w0 + c), uv, s0);
            s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, w1 + c), uv, s1);
            s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, w2 + c), uv, s2);
            s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, w3 + c), uv, s3);
        }
        s0 = sparse_row(s0, col, val, row_ptr[i], row_ptr[i + 1], x);
        s1 = sparse_row(s1, col, val, row_ptr[i + 1], row_ptr[i + 2], x);
        s2 = sparse_row(s2, col, val, row_ptr[i + 2], row_ptr[i + 3], x);
        s3 = sparse_row(s3, col, val, row_ptr[i + 3], row_ptr[i + 4], x);
        pre[i] = _mm512_reduce_add_ps(s0) + (b ? b[i] : 0.0f);
        pre[i + 1] = _mm512_reduce_add_ps(s1) + (b ? b[i + 1] : 0.0f);
        pre[i + 2] = _mm512_reduce_add_ps(s2) + (b ? b[i + 2] : 0.0f);
        pre[i + 3] = _mm512_reduce_add_ps(s3) + (b ? b[i + 3] : 0.0f);
    }
    for (; i < n; i++) {
        const float *w0 = w_in + i * m;
        __m512 s0 = _mm512_setzero_ps();
        for (size_t c = 0; c < m; c += 16) {
            __mmask16 k = tailmask(m - c);
            s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, w0 + c), _mm512_maskz_loadu_ps(k, u + c), s0);
        }
        s0 = sparse_row(s0, col, val, row_ptr[i], row_ptr[i + 1], x);
        pre[i] = _mm512_reduce_add_ps(s0) + (b ? b[i] : 0.0f);
    }

    const __m512 va = _mm512_set1_ps(a), vna = _mm512_set1_ps(1.0f - a);
    for (i = 0; i < n; i += 16) {
        __mmask16 k = tailmask(n - i);
        __m512 t = Sleef_tanhf16_u35avx512f(_mm512_maskz_loadu_ps(k, pre + i));
        __m512 xv = _mm512_maskz_loadu_ps(k, x + i);
        _mm512_mask_storeu_ps(x + i, k, _mm512_fmadd_ps(va, t, _mm512_mul_ps(vna, xv)));
    }
}
#endif
