/* u8_rgb2gray_paths.h - the AVX-512 RGB24-to-gray variant picks a path at
 * run time (vpermb gathers with AVX512-VBMI, in-lane pshufb gathers with
 * AVX512-BW only); each path is exported so the tests check both wherever
 * the CPU has the faster one. */
#ifndef PR_U8_RGB2GRAY_PATHS_H
#define PR_U8_RGB2GRAY_PATHS_H

#include "variants.h"

#if defined(__x86_64__)
pr_kt_u8_rgb2gray pr_u8_rgb2gray__avx512_bw, pr_u8_rgb2gray__avx512_vbmi;
int pr_u8_rgb2gray__avx512_has_vbmi(void);
#endif

#endif
