/* list_f32.h - f32 vector math: dot, axpy, scale, add, GEMV with bias, activations, softmax.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries. */
#ifndef PR_KERNELS_LIST_F32_H
#define PR_KERNELS_LIST_F32_H

/* y += a*x.  f32_scale: y = a*x; f32_add: y = a + b; f32_relu: y = max(x, 0)
 * with NaN -> +0.  In place (y == an input) is allowed for scale, add, relu.
 * f32_gemv_bias: y = W x + bias, W row-major rows x cols, bias may be NULL,
 * y must not alias x or W.  f32_tanh, f32_sigmoid (1/(1 + exp(-x))), f32_exp:
 * element-wise, sleef u10 in the vector variants (tanh: u35, 3.5 ulp, about
 * 3x faster; the reservoir and MLP goals need it), in place allowed.
 * f32_softmax: exp(x - max x) / sum, stable for large inputs; in place
 * allowed; n == 0 does nothing; NaN anywhere in x makes every output NaN. */
#define PR_KERNELS_F32(X) \
    X(f32_dot, float, (const float *a, const float *b, size_t n)) \
    X(f32_axpy, void, (float a, const float *x, float *y, size_t n)) \
    X(f32_scale, void, (float a, const float *x, float *y, size_t n)) \
    X(f32_add, void, (const float *a, const float *b, float *y, size_t n)) \
    X(f32_relu, void, (const float *x, float *y, size_t n)) \
    X(f32_gemv_bias, void, (const float *w, const float *x, const float *bias, float *y, \
                            size_t rows, size_t cols)) \
    X(f32_tanh, void, (const float *x, float *y, size_t n)) \
    X(f32_sigmoid, void, (const float *x, float *y, size_t n)) \
    X(f32_exp, void, (const float *x, float *y, size_t n)) \
    X(f32_softmax, void, (const float *x, float *y, size_t n))

#define PR_VARIANTS_F32(V) \
    V(f32_dot, scalar) V(f32_dot, sse4) V(f32_dot, avx2) V(f32_dot, avx512) \
    V(f32_dot, neon) \
    V(f32_axpy, scalar) V(f32_axpy, sse4) V(f32_axpy, avx2) V(f32_axpy, avx512) \
    V(f32_axpy, neon) \
    V(f32_scale, scalar) V(f32_scale, sse4) V(f32_scale, avx2) V(f32_scale, avx512) \
    V(f32_scale, neon) \
    V(f32_add, scalar) V(f32_add, sse4) V(f32_add, avx2) V(f32_add, avx512) \
    V(f32_add, neon) \
    V(f32_relu, scalar) V(f32_relu, sse4) V(f32_relu, avx2) V(f32_relu, avx512) \
    V(f32_relu, neon) \
    V(f32_gemv_bias, scalar) V(f32_gemv_bias, sse4) V(f32_gemv_bias, avx2) \
    V(f32_gemv_bias, avx512) V(f32_gemv_bias, neon) \
    V(f32_tanh, scalar) V(f32_tanh, sse4) V(f32_tanh, avx2) V(f32_tanh, avx512) \
    V(f32_tanh, neon) \
    V(f32_sigmoid, scalar) V(f32_sigmoid, sse4) V(f32_sigmoid, avx2) \
    V(f32_sigmoid, avx512) V(f32_sigmoid, neon) \
    V(f32_exp, scalar) V(f32_exp, sse4) V(f32_exp, avx2) V(f32_exp, avx512) \
    V(f32_exp, neon) \
    V(f32_softmax, scalar) V(f32_softmax, sse4) V(f32_softmax, avx2) \
    V(f32_softmax, avx512) V(f32_softmax, neon)

#endif
