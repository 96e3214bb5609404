/* nn-esn/esn_update__sse4.c - echo-state reservoir update, SSE4.1: dense
 * part four rows at a time sharing u, CSR part gathered by scalar loads, sleef's u35
 * tanh (3.5 ULP) on 4 lanes.  No FMA: separate multiply and add. */
#if defined(__x86_64__)
#pragma GCC target("sse4.1")
#include "variants.h"

#include <immintrin.h>
#include <sleef.h>
#include <string.h>

static inline float hsum(__m128 s)
{
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Four scalar loads inserted into a vector (SSE4.1 has no gather); the
 * indexes two per 64-bit load, as in the AVX2 variant. */
static inline __m128 gather4(const float *x, const int32_t *c)
{
    uint64_t p[2];
    memcpy(p, c, sizeof p);
    __m128 g = _mm_load_ss(x + (uint32_t)p[0]);
    g = _mm_insert_ps(g, _mm_load_ss(x + (p[0] >> 32)), 0x10);
    g = _mm_insert_ps(g, _mm_load_ss(x + (uint32_t)p[1]), 0x20);
    g = _mm_insert_ps(g, _mm_load_ss(x + (p[1] >> 32)), 0x30);
    return g;
}

static inline float sparse_row(__m128 acc, const int32_t *col, const float *val, int32_t k0,
                               int32_t k1, const float *x)
{
    int32_t k = k0;
    for (; k + 4 <= k1; k += 4)
        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(val + k), gather4(x, col + k)));
    float s = hsum(acc);
    for (; k < k1; k++)
        s += val[k] * x[col[k]];
    return s;
}

void pr_esn_update__sse4(float *x, size_t n, const float *u, size_t m, const float *w_in,
                         const int32_t *row_ptr, const int32_t *col, const float *val,
                         const float *b, float a, float *pre)
{
    size_t body = m & ~(size_t)3, i = 0;
    for (; i + 4 <= n; i += 4) {
        const float *w0 = w_in + i * m, *w1 = w0 + m, *w2 = w1 + m, *w3 = w2 + m;
        __m128 s0 = _mm_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t c = 0; c < body; c += 4) {
            __m128 uv = _mm_loadu_ps(u + c);
            s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(w0 + c), uv));
            s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(w1 + c), uv));
            s2 = _mm_add_ps(s2, _mm_mul_ps(_mm_loadu_ps(w2 + c), uv));
            s3 = _mm_add_ps(s3, _mm_mul_ps(_mm_loadu_ps(w3 + c), uv));
        }
        float t[4] = { 0, 0, 0, 0 };
        for (size_t c = body; c < m; c++) {
            t[0] += w0[c] * u[c];
            t[1] += w1[c] * u[c];
            t[2] += w2[c] * u[c];
            t[3] += w3[c] * u[c];
        }
        __m128 s[4] = { s0, s1, s2, s3 };
        for (int r = 0; r < 4; r++)
            pre[i + r] = sparse_row(s[r], col, val, row_ptr[i + r], row_ptr[i + r + 1], x) +
                         t[r] + (b ? b[i + r] : 0.0f);
    }
    for (; i < n; i++) {
        const float *w0 = w_in + i * m;
        __m128 s0 = _mm_setzero_ps();
        for (size_t c = 0; c < body; c += 4)
            s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(w0 + c), _mm_loadu_ps(u + c)));
        float t = 0;
        for (size_t c = body; c < m; c++)
            t += w0[c] * u[c];
        pre[i] = sparse_row(s0, col, val, row_ptr[i], row_ptr[i + 1], x) + t + (b ? b[i] : 0.0f);
    }

    const __m128 va = _mm_set1_ps(a), vna = _mm_set1_ps(1.0f - a);
    for (i = 0; i < n; i += 4) {
        /* The tail goes through a small copy so it too gets the vector tanh. */
        float pt[4] = { 0 }, xt[4] = { 0 };
        size_t left = n - i < 4 ? n - i : 4;
        for (size_t l = 0; l < left; l++) {
            pt[l] = pre[i + l];
            xt[l] = x[i + l];
        }
        __m128 tv = Sleef_tanhf4_u35sse4(_mm_loadu_ps(pt));
        _mm_storeu_ps(xt, _mm_add_ps(_mm_mul_ps(va, tv), _mm_mul_ps(vna, _mm_loadu_ps(xt))));
        for (size_t l = 0; l < left; l++)
            x[i + l] = xt[l];
    }
}
#endif
