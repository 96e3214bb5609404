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

/* One list per group of kernels, each in its own file. */
#include "list_f32.h"
#include "list_u8.h"
#include "list_sig.h"
#include "list_q8.h"
#include "list_nn.h"

#define PR_KERNEL_LIST(X) \
    PR_KERNELS_F32(X) PR_KERNELS_U8(X) PR_KERNELS_SIG(X) PR_KERNELS_Q8(X) PR_KERNELS_NN(X)

#define PR_VARIANT_LIST(V) \
    PR_VARIANTS_F32(V) PR_VARIANTS_U8(V) PR_VARIANTS_SIG(V) PR_VARIANTS_Q8(V) PR_VARIANTS_NN(V)

#endif
