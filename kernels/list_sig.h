/* list_sig.h - f32 signals: FIR filter, gain, mix.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries. */
#ifndef PR_KERNELS_LIST_SIG_H
#define PR_KERNELS_LIST_SIG_H

#define PR_KERNELS_SIG(X)
#define PR_VARIANTS_SIG(V)

#endif
