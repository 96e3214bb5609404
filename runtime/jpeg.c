/* jpeg.c - TurboJPEG wrapper (see jpeg.h): handle and buffer reuse, DCT
 * scaling choice, the YUV path for re-encoding 4:2:0 frames. */
#include "jpeg.h"

#include "error.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

struct pr_jpeg {
    tjhandle dec, enc;
    unsigned char *out;       /* tjAlloc'd, out_cap bytes */
    unsigned long out_cap;
    uint8_t *scratch;         /* decoded pixels or YUV planes for transcoding */
    size_t scratch_cap;
    pr_jpeg_stats_t st;
    char err[200];
};

int pr_jpeg_create(pr_jpeg_t **out)
{
    pr_jpeg_t *j;
    if (!out)
        return PR_EINVAL;
    *out = NULL;
    if (!(j = calloc(1, sizeof *j)))
        return PR_ENOMEM;
    j->dec = tjInitDecompress();
    j->enc = tjInitCompress();
    if (!j->dec || !j->enc) {
        pr_jpeg_destroy(j);
        return PR_ENOMEM;
    }
    *out = j;
    return 0;
}

void pr_jpeg_destroy(pr_jpeg_t *j)
{
    if (!j)
        return;
    if (j->dec)
        tjDestroy(j->dec);
    if (j->enc)
        tjDestroy(j->enc);
    tjFree(j->out);
    free(j->scratch);
    free(j);
}

static int fail(pr_jpeg_t *j, tjhandle h, const char *what)
{
    snprintf(j->err, sizeof j->err, "%s: %s", what, h ? tjGetErrorStr2(h) : "bad input");
    j->st.errors++;
    /* A decompressor that aborted mid-image can report the old image's
     * header for the next input: start the next one on a fresh handle. */
    if (h && h == j->dec) {
        tjhandle fresh = tjInitDecompress();
        if (fresh) {
            tjDestroy(j->dec);
            j->dec = fresh;
        }
    }
    return -EBADMSG;
}

static const char *const samp_names[] = { "444", "422", "420", "gray", "440", "411" };

int pr_jpeg_info(pr_jpeg_t *j, const uint8_t *data, size_t len, pr_jpeg_info_t *info)
{
    int w, h, samp, cs;
    if (!j || !data || !info)
        return PR_EINVAL;
    if (len > ULONG_MAX || len < 4)
        return fail(j, NULL, "JPEG header");
    if (tjDecompressHeader3(j->dec, data, (unsigned long)len, &w, &h, &samp, &cs) < 0)
        return fail(j, j->dec, "JPEG header");
    info->width = w;
    info->height = h;
    info->subsamp = samp;
    info->subsamp_name = samp >= 0 && samp < 6 ? samp_names[samp] : "?";
    return 0;
}

void pr_jpeg_scaled_size(int w, int h, int max_width, int *ow, int *oh)
{
    int n;
    tjscalingfactor *sf = tjGetScalingFactors(&n), best = { 1, 1 }, least = { 1, 1 };
    if (max_width > 0 && w > max_width && sf) {
        int found = 0;
        for (int i = 0; i < n; i++) {
            if (sf[i].num > sf[i].denom)
                continue;   /* only reductions */
            int sw = TJSCALED(w, sf[i]);
            if (sf[i].num * least.denom < least.num * sf[i].denom)
                least = sf[i];
            if (sw <= max_width && (!found || sf[i].num * best.denom > best.num * sf[i].denom)) {
                best = sf[i];
                found = 1;
            }
        }
        if (!found)
            best = least;
    }
    *ow = TJSCALED(w, best);
    *oh = TJSCALED(h, best);
}

int pr_jpeg_decode(pr_jpeg_t *j, const uint8_t *data, size_t len,
                   const pr_jpeg_decode_opts_t *o, uint8_t *dst, size_t cap, int *w, int *h)
{
    pr_jpeg_info_t in;
    int rc, bpp, flags;
    if (!j || !o || !w || !h || (o->fmt != PR_FRAME_GRAY && o->fmt != PR_FRAME_RGB))
        return PR_EINVAL;
    if ((rc = pr_jpeg_info(j, data, len, &in)) < 0)
        return rc;
    pr_jpeg_scaled_size(in.width, in.height, o->max_width, w, h);
    bpp = pr_frame_fmt_bpp(o->fmt);
    if (!dst || (size_t)*w * (size_t)*h * (size_t)bpp > cap)
        return PR_ETOOBIG;
    flags = o->fast ? TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE : 0;
    /* Stop on warnings too: a frame libjpeg had to patch up is not one to
     * measure motion on. */
    flags |= TJFLAG_STOPONWARNING;
    if (tjDecompress2(j->dec, data, (unsigned long)len, dst, *w, *w * bpp, *h,
                      o->fmt == PR_FRAME_GRAY ? TJPF_GRAY : TJPF_RGB, flags) < 0)
        return fail(j, j->dec, "JPEG decode");
    j->st.decoded++;
    return 0;
}

/* Make room for an encode of w x h: tjBufSize is the worst case, so with
 * TJFLAG_NOREALLOC the library never reallocates behind our back. */
static int out_room(pr_jpeg_t *j, int w, int h, int samp)
{
    unsigned long need = tjBufSize(w, h, samp);
    if (need == (unsigned long)-1)
        return PR_EINVAL;
    if (need > j->out_cap) {
        if (need > INT_MAX)
            return PR_ENOMEM;
        unsigned char *b = tjAlloc((int)need);
        if (!b)
            return PR_ENOMEM;
        tjFree(j->out);
        j->out = b;
        j->out_cap = need;
    }
    return 0;
}

static int scratch_room(pr_jpeg_t *j, size_t need)
{
    if (need > j->scratch_cap) {
        uint8_t *b = realloc(j->scratch, need);
        if (!b)
            return PR_ENOMEM;
        j->scratch = b;
        j->scratch_cap = need;
    }
    return 0;
}

static int check_quality(int q)
{
    return q >= 1 && q <= 100;
}

int pr_jpeg_encode(pr_jpeg_t *j, const uint8_t *pix, int w, int h, size_t stride,
                   pr_frame_fmt_t fmt, int quality, const uint8_t **out, size_t *outlen)
{
    int samp = fmt == PR_FRAME_GRAY ? TJSAMP_GRAY : TJSAMP_420, rc;
    unsigned long size;
    unsigned char *buf;
    if (!j || !pix || !out || !outlen || w <= 0 || h <= 0 || !check_quality(quality) ||
        (fmt != PR_FRAME_GRAY && fmt != PR_FRAME_RGB) || stride > INT_MAX ||
        stride < (size_t)w * (size_t)pr_frame_fmt_bpp(fmt))
        return PR_EINVAL;
    if ((rc = out_room(j, w, h, samp)) < 0)
        return rc;
    buf = j->out;
    size = j->out_cap;
    if (tjCompress2(j->enc, pix, w, (int)stride, h, fmt == PR_FRAME_GRAY ? TJPF_GRAY : TJPF_RGB,
                    &buf, &size, samp, quality, TJFLAG_NOREALLOC) < 0)
        return fail(j, j->enc, "JPEG encode");
    j->st.encoded++;
    *out = buf;
    *outlen = size;
    return 0;
}

int pr_jpeg_transcode(pr_jpeg_t *j, const uint8_t *data, size_t len, int quality,
                      const uint8_t **out, size_t *outlen)
{
    pr_jpeg_info_t in;
    int rc, w, h;
    if (!j || !data || !out || !outlen || !check_quality(quality))
        return PR_EINVAL;
    if ((rc = pr_jpeg_info(j, data, len, &in)) < 0)
        return rc;
    w = in.width;
    h = in.height;
    if (in.subsamp == TJSAMP_420) {
        unsigned long ysize = tjBufSizeYUV2(w, 1, h, TJSAMP_420), size;
        unsigned char *planes[3], *buf;
        int strides[3];
        if (ysize == (unsigned long)-1)
            return PR_EINVAL;
        if ((rc = scratch_room(j, ysize)) < 0 || (rc = out_room(j, w, h, TJSAMP_420)) < 0)
            return rc;
        for (int c = 0; c < 3; c++)
            strides[c] = tjPlaneWidth(c, w, TJSAMP_420);
        planes[0] = j->scratch;
        planes[1] = planes[0] + tjPlaneSizeYUV(0, w, strides[0], h, TJSAMP_420);
        planes[2] = planes[1] + tjPlaneSizeYUV(1, w, strides[1], h, TJSAMP_420);
        if (tjDecompressToYUVPlanes(j->dec, data, (unsigned long)len, planes, w, strides, h,
                                    TJFLAG_STOPONWARNING) < 0)
            return fail(j, j->dec, "JPEG decode");
        j->st.decoded++;
        buf = j->out;
        size = j->out_cap;
        if (tjCompressFromYUVPlanes(j->enc, (const unsigned char **)planes, w, strides, h,
                                    TJSAMP_420, &buf, &size, quality, TJFLAG_NOREALLOC) < 0)
            return fail(j, j->enc, "JPEG encode");
        j->st.encoded++;
        *out = buf;
        *outlen = size;
        return 0;
    }
    pr_frame_fmt_t fmt = in.subsamp == TJSAMP_GRAY ? PR_FRAME_GRAY : PR_FRAME_RGB;
    pr_jpeg_decode_opts_t o = { .fmt = fmt, .max_width = 0, .fast = 0 };
    size_t bytes = (size_t)w * (size_t)h * (size_t)pr_frame_fmt_bpp(fmt);
    if ((rc = scratch_room(j, bytes)) < 0)
        return rc;
    if ((rc = pr_jpeg_decode(j, data, len, &o, j->scratch, j->scratch_cap, &w, &h)) < 0)
        return rc;
    return pr_jpeg_encode(j, j->scratch, w, h, (size_t)w * (size_t)pr_frame_fmt_bpp(fmt), fmt,
                          quality, out, outlen);
}

const char *pr_jpeg_error(const pr_jpeg_t *j)
{
    return j ? j->err : "";
}

void pr_jpeg_stats(const pr_jpeg_t *j, pr_jpeg_stats_t *st)
{
    if (j && st)
        *st = j->st;
}
