/* q8_gemv_paths.h - the int8 GEMV variants that pick a path at run time
 * (AVX-512 with or without VNNI, NEON with or without the dot-product
 * instructions) export each path, so the tests can check both wherever the
 * CPU has the faster one. */
#ifndef PR_Q8_GEMV_PATHS_H
#define PR_Q8_GEMV_PATHS_H

#include "variants.h"

#if defined(__x86_64__)
pr_kt_q8_gemv pr_q8_gemv__avx512_plain, pr_q8_gemv__avx512_vnni;
int pr_q8_gemv__avx512_has_vnni(void);
#elif defined(__aarch64__)
pr_kt_q8_gemv pr_q8_gemv__neon_plain, pr_q8_gemv__neon_dot;
int pr_q8_gemv__neon_has_dot(void);
#endif

#endif
