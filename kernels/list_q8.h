/* list_q8.h - int8: per-row quantization and int8 GEMV.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries. */
#ifndef PR_KERNELS_LIST_Q8_H
#define PR_KERNELS_LIST_Q8_H

#define PR_KERNELS_Q8(X)
#define PR_VARIANTS_Q8(V)

#endif
