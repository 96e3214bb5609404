/* list_nn.h - small models: echo-state reservoir update, leaky integrate-and-fire step.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries. */
#ifndef PR_KERNELS_LIST_NN_H
#define PR_KERNELS_LIST_NN_H

#define PR_KERNELS_NN(X)
#define PR_VARIANTS_NN(V)

#endif
