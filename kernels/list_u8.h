/* list_u8.h - u8 frames: motion score, colour to gray, downscale, background.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries. */
#ifndef PR_KERNELS_LIST_U8_H
#define PR_KERNELS_LIST_U8_H

#define PR_KERNELS_U8(X)
#define PR_VARIANTS_U8(V)

#endif
