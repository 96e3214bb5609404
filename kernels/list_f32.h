/* list_f32.h - f32 vector math: dot, axpy, scale, add, GEMV with bias, activations, softmax.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries. */
#ifndef PR_KERNELS_LIST_F32_H
#define PR_KERNELS_LIST_F32_H

#define PR_KERNELS_F32(X) \
    X(f32_dot, float, (const float *a, const float *b, size_t n))

#define PR_VARIANTS_F32(V) \
    V(f32_dot, scalar) V(f32_dot, sse4) V(f32_dot, avx2) V(f32_dot, avx512) \
    V(f32_dot, neon)

#endif
