/* jpeg.h - JPEG decode and encode through libjpeg-turbo's TurboJPEG API.
 *
 * A pr_jpeg_t holds one decompressor, one compressor and their buffers, all
 * reused from frame to frame: the output buffer is sized with tjBufSize()
 * and passed with TJFLAG_NOREALLOC, so an encode allocates nothing once it
 * has seen the largest frame.
 *
 * Decoding can scale in the DCT (1/2, 1/4, 1/8 ...: libjpeg-turbo then skips
 * most of the inverse transform), which makes a small gray image for the
 * motion kernels far cheaper than a full decode.  Encoding is baseline with
 * 4:2:0 chroma (gray stays gray).  A JPEG whose structure or data is broken,
 * including data libjpeg only warns about (a partly gray image), fails with
 * -EBADMSG and pr_jpeg_error() says why: a consumer should skip the frame.
 *
 * Not thread-safe: one pr_jpeg_t per thread. */
#ifndef PR_JPEG_H
#define PR_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

typedef struct pr_jpeg pr_jpeg_t;

typedef struct pr_jpeg_info {
    int width, height;
    int subsamp;       /* TJSAMP_* (TurboJPEG) */
    const char *subsamp_name;   /* "444", "422", "420", "gray", "440", "411" */
} pr_jpeg_info_t;

typedef struct pr_jpeg_decode_opts {
    pr_frame_fmt_t fmt;   /* PR_FRAME_GRAY or PR_FRAME_RGB */
    int max_width;        /* scale down in the DCT to the largest size whose
                             width is <= this (1/8 at most); <= 0: full size */
    int fast;             /* TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE: a little
                             less accurate, fine for analysis */
} pr_jpeg_decode_opts_t;

typedef struct pr_jpeg_stats {
    uint64_t decoded, encoded, errors;
} pr_jpeg_stats_t;

/* Returns 0 or PR_ENOMEM. */
int pr_jpeg_create(pr_jpeg_t **out);
void pr_jpeg_destroy(pr_jpeg_t *j);

/* Header only.  0, or -EBADMSG (not a JPEG / broken header). */
int pr_jpeg_info(pr_jpeg_t *j, const uint8_t *data, size_t len, pr_jpeg_info_t *info);

/* The size a decode with this max_width gives for a w x h JPEG. */
void pr_jpeg_scaled_size(int w, int h, int max_width, int *ow, int *oh);

/* Decode into dst (cap bytes; rows packed: stride = width * bpp).  *w, *h
 * get the output size (also on PR_ETOOBIG, so the caller can grow dst).
 * Returns 0, PR_EINVAL (bad fmt), PR_ETOOBIG, or -EBADMSG. */
int pr_jpeg_decode(pr_jpeg_t *j, const uint8_t *data, size_t len,
                   const pr_jpeg_decode_opts_t *o, uint8_t *dst, size_t cap, int *w, int *h);

/* Encode w x h pixels (gray or RGB, rows stride bytes apart) at quality
 * 1..100.  *out points into j's buffer, valid until the next call on j.
 * Returns 0, PR_EINVAL, PR_ENOMEM, or -EBADMSG (library error). */
int pr_jpeg_encode(pr_jpeg_t *j, const uint8_t *pix, int w, int h, size_t stride,
                   pr_frame_fmt_t fmt, int quality, const uint8_t **out, size_t *outlen);

/* Re-encode a JPEG at quality (4:2:0, or gray for a gray JPEG).  A 4:2:0
 * input goes through YUV planes, skipping colour conversion both ways.
 * Same returns and ownership as pr_jpeg_encode. */
int pr_jpeg_transcode(pr_jpeg_t *j, const uint8_t *data, size_t len, int quality,
                      const uint8_t **out, size_t *outlen);

/* The library's message for the last failure on j ("" if none). */
const char *pr_jpeg_error(const pr_jpeg_t *j);
void pr_jpeg_stats(const pr_jpeg_t *j, pr_jpeg_stats_t *st);

#endif
