/* kernels.h - perch's numeric kernels: one dispatch table per ISA.
 *
 * Each kernel has a scalar reference and variants for SSE4.1, AVX2+FMA and
 * AVX-512 (x86-64) and NEON (aarch64).  At start-up pr_kernels_init() picks
 * the best ISA this CPU supports, or the one PERCH_ISA names (scalar, sse4,
 * avx2, avx512, neon); naming one the CPU or build cannot run is an error,
 * never a silent fallback.  A table holds, for each kernel, the variant of
 * its ISA or, where that ISA has none, of the next lower one (avx512 -> avx2
 * -> sse4 -> scalar; neon -> scalar).
 *
 * Kernels never allocate: callers pass every output buffer.  Inputs need no
 * particular alignment (perch's buffers are 64-byte aligned; the tests also
 * run every variant on unaligned pointers).  Kernels depend on libc and
 * sleef only. */
#ifndef PR_KERNELS_H
#define PR_KERNELS_H

#include <stddef.h>

#include "list.h"

typedef enum {
    PR_ISA_SCALAR,
    PR_ISA_SSE4,
    PR_ISA_AVX2,
    PR_ISA_AVX512,
    PR_ISA_NEON,
    PR_ISA_COUNT
} pr_isa_t;

/* Function types, one per kernel: pr_kt_<name>. */
#define PR_KT(name, ret, params) typedef ret pr_kt_##name params;
PR_KERNEL_LIST(PR_KT)
#undef PR_KT

typedef struct pr_kernels {
    pr_isa_t isa;
    const char *isa_name;
#define PR_KF(name, ret, params) pr_kt_##name *name;
    PR_KERNEL_LIST(PR_KF)
#undef PR_KF
} pr_kernels_t;

/* "scalar", "sse4", ... -> 0 and *out, or -1. */
int pr_isa_parse(const char *name, pr_isa_t *out);
const char *pr_isa_name(pr_isa_t isa);
/* 1 if this build has the ISA's code and this CPU (and OS) can run it. */
int pr_isa_supported(pr_isa_t isa);
pr_isa_t pr_isa_best(void);

/* The table of an ISA, or NULL if it is not supported.  Tables are built on
 * first use and never change; safe to call from any thread after
 * pr_kernels_init(). */
const pr_kernels_t *pr_kernels_for(pr_isa_t isa);

/* Pick the active table: PERCH_ISA if set, else the best.  Returns 0, or
 * -1 with the reason (unknown name, or not supported here) in err. */
int pr_kernels_init(char *err, size_t errlen);
/* The active table (the best one if pr_kernels_init() was not called). */
const pr_kernels_t *pr_kernels(void);

#endif
