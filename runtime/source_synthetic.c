/* source_synthetic.c - the synthetic frame source (frame_source.h): a
 * deterministic pattern that depends only on the frame number, the script
 * and the seed, so tests know what each frame holds.
 *
 * Frame k: a 32-px checkerboard (levels 60/100) plus a horizontal gradient
 * (0..63), plus the segment's light level; a square of a quarter of the
 * height at level 220 (+ light) that moves 1/64 of the width and 1/48 of the
 * height per moving frame, bouncing off the edges; noise adds a seeded
 * +-noise to every pixel.  RGB tints the same levels; JPEG encodes the RGB
 * image. */
#include "fsrc_impl.h"

#include "error.h"
#include "jpeg.h"

#include <stdlib.h>
#include <string.h>

typedef struct synth {
    uint64_t k;              /* frames made */
    size_t seg;              /* script position */
    uint32_t seg_left;
    int x, y, dx, dy;        /* the square */
    int light;
    pr_jpeg_t *jpeg;
    uint8_t *pix;            /* JPEG format: the RGB image to encode */
} synth_t;

static uint8_t clamp8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Back to frame 0 (keeps the encoder and its buffer). */
static void rewind_script(pr_fsrc_t *s, synth_t *g)
{
    g->k = 0;
    g->seg = 0;
    g->x = g->y = 0;
    g->dx = s->o.width / 64 > 0 ? s->o.width / 64 : 1;
    g->dy = s->o.height / 48 > 0 ? s->o.height / 48 : 1;
    g->seg_left = s->o.nscript ? s->o.script[0].frames : 0;
    g->light = s->o.nscript ? s->o.script[0].light : 0;
}

static int s_open(pr_fsrc_t *s)
{
    synth_t *g = calloc(1, sizeof *g);
    if (!g)
        return PR_ENOMEM;
    s->be_state = g;
    s->timer_driven = 1;
    rewind_script(s, g);
    if (s->o.fmt == PR_FRAME_JPEG &&
        (pr_jpeg_create(&g->jpeg) < 0 ||
         !(g->pix = malloc((size_t)s->o.width * (size_t)s->o.height * 3))))
        return PR_ENOMEM;   /* s_close frees what was made */
    return 0;
}

static void s_close(pr_fsrc_t *s)
{
    synth_t *g = s->be_state;
    pr_jpeg_destroy(g->jpeg);
    free(g->pix);
    free(g);
    s->be_state = NULL;
}

/* Advance the script and the square by one frame. */
static void advance(pr_fsrc_t *s, synth_t *g)
{
    int move = 1, side = s->o.height / 4;
    if (s->o.nscript) {
        if (g->seg_left == 0) {
            g->seg = (g->seg + 1) % s->o.nscript;
            g->seg_left = s->o.script[g->seg].frames;
        }
        g->seg_left--;
        move = s->o.script[g->seg].move;
        g->light = s->o.script[g->seg].light;
    }
    if (move && g->k > 0) {
        g->x += g->dx;
        g->y += g->dy;
        if (g->x < 0 || g->x + side > s->o.width) {
            g->dx = -g->dx;
            g->x += 2 * g->dx;
        }
        if (g->y < 0 || g->y + side > s->o.height) {
            g->dy = -g->dy;
            g->y += 2 * g->dy;
        }
    }
    g->k++;
}

static void render(pr_fsrc_t *s, synth_t *g, uint8_t *out, int bpp)
{
    int w = s->o.width, h = s->o.height, side = h / 4, noise = s->o.noise;
    uint64_t span = 2 * (uint64_t)noise + 1;
    uint32_t r = s->o.seed * 2654435761u ^ (uint32_t)g->k * 40503u;
    if (!r)
        r = 1;
    for (int y = 0; y < h; y++) {
        uint8_t *row = out + (size_t)y * (size_t)w * (size_t)bpp;
        int in_y = y >= g->y && y < g->y + side;
        for (int x = 0; x < w; x++) {
            int sq = in_y && x >= g->x && x < g->x + side;
            int v = sq ? 220 : (((x >> 5) ^ (y >> 5)) & 1 ? 100 : 60) + x * 64 / w;
            v += g->light;
            if (noise) {
                r ^= r << 13;
                r ^= r >> 17;
                r ^= r << 5;
                /* r * span / 2^32: uniform in [0, span) like r % span,
                 * without a division per pixel (it was most of the
                 * camera demo's CPU at 640x480) */
                v += (int)(((uint64_t)r * span) >> 32) - noise;
            }
            if (bpp == 1) {
                row[x] = clamp8(v);
            } else {
                row[3 * x] = clamp8(v + (sq ? 20 : 0));
                row[3 * x + 1] = clamp8(v);
                row[3 * x + 2] = clamp8(sq ? v - 60 : v + 20);
            }
        }
    }
}

static int make(pr_fsrc_t *s, synth_t *g, pr_frame_t *f)
{
    int w = s->o.width, h = s->o.height;
    f->fmt = s->o.fmt;
    f->width = w;
    f->height = h;
    if (s->o.fmt == PR_FRAME_JPEG) {
        const uint8_t *jp;
        size_t len;
        render(s, g, g->pix, 3);
        if (pr_jpeg_encode(g->jpeg, g->pix, w, h, (size_t)w * 3, PR_FRAME_RGB, s->o.quality,
                           &jp, &len) < 0 || len > f->cap)
            return -1;
        memcpy(f->data, jp, len);
        f->len = len;
        return 0;
    }
    int bpp = pr_frame_fmt_bpp(s->o.fmt);
    render(s, g, f->data, bpp);
    f->stride = (size_t)w * (size_t)bpp;
    f->len = f->stride * (size_t)h;
    return 0;
}

static void s_tick(pr_fsrc_t *s, uint64_t n)
{
    synth_t *g = s->be_state;
    int64_t period = (int64_t)(1e9 / s->fps), due = s->tick.last_due_ns;
    for (uint64_t i = 0; i < n; i++) {
        pr_frame_t *f;
        advance(s, g);
        if (!(f = fsrc_frame(s)))
            continue;
        if (make(s, g, f) < 0) {
            s->st.corrupt++;
            pr_frame_unref(f);
            continue;
        }
        /* Captured at its nominal time: the late ones periods before. */
        f->t_ns = due - (int64_t)(n - 1 - i) * period;
        fsrc_emit(s, f);
    }
}

static int s_reopen(pr_fsrc_t *s)
{
    rewind_script(s, s->be_state);
    return 0;
}

const fsrc_backend_t pr_fsrc_synthetic = {
    .open = s_open, .close = s_close, .watch = NULL, .tick = s_tick, .reopen = s_reopen,
};
