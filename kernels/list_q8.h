/* list_q8.h - int8: per-row quantization and int8 GEMV.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries.
 *
 * q8_quantize(w, rows, cols, q, scale): symmetric per-row quantization of a
 *   row-major f32 matrix (a vector is one row).  scale[r] = max|w[r][.]| / 127
 *   (an all-zero row gets scale 0 and all-zero q); q[r][c] = w[r][c] / scale[r]
 *   (an IEEE division) rounded to nearest, ties to even, clamped to
 *   [-127, 127].  Every variant gives the same bits.  w must be finite.
 * q8_gemv(q, scale, rows, cols, x, xscale, bias, y): y[r] = (float)acc[r] *
 *   (scale[r] * xscale) (+ bias[r] when bias is non-NULL), acc[r] the exact
 *   int32 sum of q[r][c] * x[c]; every variant gives the same bits.  q and x
 *   hold values in [-127, 127] (what q8_quantize writes; -128 is not allowed,
 *   the VNNI path relies on it) and cols <= 133000 so acc cannot overflow. */
#ifndef PR_KERNELS_LIST_Q8_H
#define PR_KERNELS_LIST_Q8_H

#define PR_KERNELS_Q8(X) \
    X(q8_quantize, void, (const float *w, size_t rows, size_t cols, int8_t *q, float *scale)) \
    X(q8_gemv, void, (const int8_t *q, const float *scale, size_t rows, size_t cols, \
                      const int8_t *x, float xscale, const float *bias, float *y))

#define PR_VARIANTS_Q8(V) \
    V(q8_quantize, scalar) V(q8_quantize, sse4) V(q8_quantize, avx2) V(q8_quantize, avx512) \
    V(q8_quantize, neon) \
    V(q8_gemv, scalar) V(q8_gemv, sse4) V(q8_gemv, avx2) V(q8_gemv, avx512) V(q8_gemv, neon)

#endif
