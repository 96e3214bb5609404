/* list.h - the one list of kernels and of their variants.
 *
 * PR_KERNEL_LIST gives each kernel's name, return type and parameters; it
 * expands into the function types, the dispatch table's fields and its
 * prototypes.  PR_VARIANT_LIST names which ISA variants exist: each entry is
 * a function pr_<kernel>__<isa> in kernels/<type>-<op>/<kernel>__<isa>.c
 * (unique file names: premake4 puts all objects of a project in one folder).  Adding a
 * variant is one line here; dispatch picks it up, the kernel's test compares
 * it with the scalar reference and the benchmark measures it.  Every kernel
 * has a scalar variant (the reference). */
#ifndef PR_KERNELS_LIST_H
#define PR_KERNELS_LIST_H

#include <stddef.h>
#include <stdint.h>

#define PR_KERNEL_LIST(X) \
    X(f32_dot, float, (const float *a, const float *b, size_t n))

#define PR_VARIANT_LIST(V) \
    V(f32_dot, scalar) V(f32_dot, sse4) V(f32_dot, avx2) V(f32_dot, avx512) \
    V(f32_dot, neon)

#endif
