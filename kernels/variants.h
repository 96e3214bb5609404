/* variants.h - prototypes of every kernel variant this build has, for
 * dispatch.c and for the variant files themselves (and for tests and
 * benchmarks that call one variant directly).  Generated from list.h. */
#ifndef PR_KERNELS_VARIANTS_H
#define PR_KERNELS_VARIANTS_H

#include "kernels.h"

/* Variants that exist in this build: x86 ones on x86-64, NEON on aarch64.
 * PR_ON_<isa>(x) keeps x where the ISA's code is compiled. */
#if defined(__x86_64__)
#define PR_ON_sse4(x) x
#define PR_ON_avx2(x) x
#define PR_ON_avx512(x) x
#define PR_ON_neon(x)
#elif defined(__aarch64__)
#define PR_ON_sse4(x)
#define PR_ON_avx2(x)
#define PR_ON_avx512(x)
#define PR_ON_neon(x) x
#else
#define PR_ON_sse4(x)
#define PR_ON_avx2(x)
#define PR_ON_avx512(x)
#define PR_ON_neon(x)
#endif
#define PR_ON_scalar(x) x

#define PR_ISA_ID_scalar PR_ISA_SCALAR
#define PR_ISA_ID_sse4 PR_ISA_SSE4
#define PR_ISA_ID_avx2 PR_ISA_AVX2
#define PR_ISA_ID_avx512 PR_ISA_AVX512
#define PR_ISA_ID_neon PR_ISA_NEON

/* Prototypes of every variant this build has. */
#define PR_PROTO(k, isa) PR_ON_##isa(pr_kt_##k pr_##k##__##isa;)
PR_VARIANT_LIST(PR_PROTO)
#undef PR_PROTO

#endif
