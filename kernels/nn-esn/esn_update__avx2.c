/* nn-esn/esn_update__avx2.c - echo-state reservoir update, AVX2+FMA: dense
 * part four rows at a time sharing u, CSR part gathered by scalar loads, sleef's u35
 * tanh (3.5 ULP) on 8 lanes. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>
#include <string.h>

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* sum_k val[k] x[col[k]] over one CSR row.  Eight scalar loads inserted
 * into a vector beat vgatherdps where gathers are microcoded (AMD: about 2x
 * on the 1000-unit, 10% reservoir) and cost about the same on Intel. */
static inline __m256 gather8(const float *x, const int32_t *c)
{
    /* Indexes two per 64-bit load: half the load-port work of eight int32
     * loads, which is what bounds this loop (about 12% faster). */
    uint64_t p[4];
    memcpy(p, c, sizeof p);
    __m128 lo = _mm_load_ss(x + (uint32_t)p[0]);
    lo = _mm_insert_ps(lo, _mm_load_ss(x + (p[0] >> 32)), 0x10);
    lo = _mm_insert_ps(lo, _mm_load_ss(x + (uint32_t)p[1]), 0x20);
    lo = _mm_insert_ps(lo, _mm_load_ss(x + (p[1] >> 32)), 0x30);
    __m128 hi = _mm_load_ss(x + (uint32_t)p[2]);
    hi = _mm_insert_ps(hi, _mm_load_ss(x + (p[2] >> 32)), 0x10);
    hi = _mm_insert_ps(hi, _mm_load_ss(x + (uint32_t)p[3]), 0x20);
    hi = _mm_insert_ps(hi, _mm_load_ss(x + (p[3] >> 32)), 0x30);
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

static inline float sparse_row(__m256 acc, const int32_t *col, const float *val, int32_t k0,
                               int32_t k1, const float *x)
{
    int32_t k = k0;
    for (; k + 8 <= k1; k += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(val + k), gather8(x, col + k), acc);
    float s = hsum(acc);
    for (; k < k1; k++)
        s += val[k] * x[col[k]];
    return s;
}

void pr_esn_update__avx2(float *x, size_t n, const float *u, size_t m, const float *w_in,
                         const int32_t *row_ptr, const int32_t *col, const float *val,
                         const float *b, float a, float *pre)
{
    size_t body = m & ~(size_t)7, i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *w0 = w_in + i * m, *w1 = w0 + m, *w2 = w1 + m, *w3 = w2 + m;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t c = 0; c < body; c += 8) {
            __m256 uv = _mm256_loadu_ps(u + c);
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), uv, s0);
            s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + c), uv, s1);
            s2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + c), uv, s2);
            s3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + c), uv, s3);
        }
        float t[4] = { 0, 0, 0, 0 };
        for (size_t c = body; c < m; c++) {
            t[0] += w0[c] * u[c];
            t[1] += w1[c] * u[c];
            t[2] += w2[c] * u[c];
            t[3] += w3[c] * u[c];
        }
        __m256 s[4] = { s0, s1, s2, s3 };
        for (int r = 0; r < 4; r++)
            pre[i + r] = sparse_row(s[r], col, val, row_ptr[i + r], row_ptr[i + r + 1], x) +
                         t[r] + (b ? b[i + r] : 0.0f);
    }
    for (; i < n; i++) {
        const float *w0 = w_in + i * m;
        __m256 s0 = _mm256_setzero_ps();
        for (size_t c = 0; c < body; c += 8)
            s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + c), _mm256_loadu_ps(u + c), s0);
        float t = 0;
        for (size_t c = body; c < m; c++)
            t += w0[c] * u[c];
        pre[i] = sparse_row(s0, col, val, row_ptr[i], row_ptr[i + 1], x) + t + (b ? b[i] : 0.0f);
    }

    const __m256 va = _mm256_set1_ps(a), vna = _mm256_set1_ps(1.0f - a);
    for (i = 0; i < n; i += 8) {
        /* The tail goes through a small copy so it too gets the vector tanh. */
        float pt[8] = { 0 }, xt[8] = { 0 };
        size_t left = n - i < 8 ? n - i : 8;
        for (size_t l = 0; l < left; l++) {
            pt[l] = pre[i + l];
            xt[l] = x[i + l];
        }
        __m256 tv = Sleef_tanhf8_u35avx2(_mm256_loadu_ps(pt));
        _mm256_storeu_ps(xt, _mm256_fmadd_ps(va, tv, _mm256_mul_ps(vna, _mm256_loadu_ps(xt))));
        for (size_t l = 0; l < left; l++)
            x[i + l] = xt[l];
    }
}
#endif
