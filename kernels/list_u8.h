/* list_u8.h - u8 frames: motion score, colour to gray, downscale, background.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries.
 *
 * u8_motion(a, b, n, thresh, diff): count of i < n with |a[i] - b[i]| > thresh
 *   (the motion score; the changed fraction is count / n, left to callers).
 *   If diff is not NULL, diff[i] = |a[i] - b[i]| is written too.
 * u8_rgb2gray(rgb, gray, n): n RGB24 pixels (3n bytes, R first) to gray with
 *   BT.601 integer weights: gray = (77 R + 150 G + 29 B + 128) >> 8.
 * u8_yuyv2gray(yuyv, gray, n): n YUYV (YUY2) pixels (2n bytes) to gray: the
 *   Y bytes, gray[i] = yuyv[2 i].
 * u8_down2x2(src, w, h, stride, dst, dstride): 2x2 box downscale of a w x h
 *   image (rows stride bytes apart) into (w / 2) x (h / 2) pixels (rows
 *   dstride bytes apart); each output is (a + b + c + d + 2) >> 2.  An odd
 *   last column or row is dropped.
 * u8_bg_update(bg, frame, n, shift): running average in place,
 *   bg += (frame - bg + r) >> shift with r = shift ? 1 << (shift - 1) : 0 and
 *   an arithmetic (flooring) shift, i.e. rounding half up; the result always
 *   lies between the old bg and frame.  shift 0 copies frame; shift > 8
 *   changes nothing. */
#ifndef PR_KERNELS_LIST_U8_H
#define PR_KERNELS_LIST_U8_H

#define PR_KERNELS_U8(X) \
    X(u8_motion, size_t, (const uint8_t *a, const uint8_t *b, size_t n, uint8_t thresh, uint8_t *diff)) \
    X(u8_rgb2gray, void, (const uint8_t *rgb, uint8_t *gray, size_t n)) \
    X(u8_yuyv2gray, void, (const uint8_t *yuyv, uint8_t *gray, size_t n)) \
    X(u8_down2x2, void, (const uint8_t *src, size_t w, size_t h, size_t stride, uint8_t *dst, size_t dstride)) \
    X(u8_bg_update, void, (uint8_t *bg, const uint8_t *frame, size_t n, unsigned shift))

#define PR_VARIANTS_U8(V) \
    V(u8_motion, scalar) V(u8_motion, sse4) V(u8_motion, avx2) V(u8_motion, avx512) V(u8_motion, neon) \
    V(u8_rgb2gray, scalar) V(u8_rgb2gray, sse4) V(u8_rgb2gray, avx2) V(u8_rgb2gray, avx512) V(u8_rgb2gray, neon) \
    V(u8_yuyv2gray, scalar) V(u8_yuyv2gray, sse4) V(u8_yuyv2gray, avx2) V(u8_yuyv2gray, avx512) V(u8_yuyv2gray, neon) \
    V(u8_down2x2, scalar) V(u8_down2x2, sse4) V(u8_down2x2, avx2) V(u8_down2x2, avx512) V(u8_down2x2, neon) \
    V(u8_bg_update, scalar) V(u8_bg_update, sse4) V(u8_bg_update, avx2) V(u8_bg_update, avx512) V(u8_bg_update, neon)

#endif
