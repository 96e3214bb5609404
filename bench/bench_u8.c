/* bench_u8.c - u8 frame kernels on a 640x480 frame, hot caches: ns per call
 * of the scalar reference and of the best variant here (their ratio, best /
 * scalar), and the best variant's GB/s (bytes read + written per call).
 * Each figure is the best of 5 runs of ~20 ms. */
#include "kernels.h"
#include "bench.h"

#include <string.h>

#define W 640
#define H 480
#define NPIX (W * H)

static uint8_t *fa, *fb, *out, *rgb, *yuyv, *bg;
static const pr_kernels_t *cur;

enum { MOTION, MOTION_DIFF, RGB2GRAY, YUYV2GRAY, DOWN2X2, BG_UPDATE, NKERNELS };
static const struct {
    const char *name;
    double bytes; /* read + written per call */
} kinfo[NKERNELS] = {
    [MOTION] = { "u8.motion.640x480", 2.0 * NPIX },
    [MOTION_DIFF] = { "u8.motion_diff.640x480", 3.0 * NPIX },
    [RGB2GRAY] = { "u8.rgb2gray.640x480", 4.0 * NPIX },
    [YUYV2GRAY] = { "u8.yuyv2gray.640x480", 3.0 * NPIX },
    [DOWN2X2] = { "u8.down2x2.640x480", 1.25 * NPIX },
    [BG_UPDATE] = { "u8.bg_update.640x480", 3.0 * NPIX },
};

static void call(void *ctx)
{
    int k = *(const int *)ctx;

    switch (k) {
    case MOTION:
        bench_keep(cur->u8_motion(fa, fb, NPIX, 20, NULL));
        break;
    case MOTION_DIFF:
        bench_keep(cur->u8_motion(fa, fb, NPIX, 20, out));
        break;
    case RGB2GRAY:
        cur->u8_rgb2gray(rgb, out, NPIX);
        break;
    case YUYV2GRAY:
        cur->u8_yuyv2gray(yuyv, out, NPIX);
        break;
    case DOWN2X2:
        cur->u8_down2x2(fa, W, H, W, out, W / 2);
        break;
    case BG_UPDATE:
        cur->u8_bg_update(bg, fa, NPIX, 4);
        break;
    }
    bench_keep(out);
}

int main(void)
{
    const pr_kernels_t *best = pr_kernels_for(pr_isa_best());
    char gname[96];

    fa = aligned_alloc(64, NPIX);
    fb = aligned_alloc(64, NPIX);
    out = aligned_alloc(64, NPIX);
    rgb = aligned_alloc(64, 3 * NPIX);
    yuyv = aligned_alloc(64, 2 * NPIX);
    bg = aligned_alloc(64, NPIX);
    if (!fa || !fb || !out || !rgb || !yuyv || !bg)
        return 1;
    uint32_t s = 12345;
    for (size_t i = 0; i < 3 * NPIX; i++) {
        s = s * 1103515245u + 12345u;
        rgb[i] = (uint8_t)(s >> 24);
        if (i < 2 * NPIX)
            yuyv[i] = (uint8_t)(s >> 16);
        if (i < NPIX) {
            fa[i] = (uint8_t)(s >> 8);
            fb[i] = (uint8_t)(fa[i] + (uint8_t)((s >> 28) * 3)); /* some small, some large changes */
            bg[i] = fb[i];
        }
    }

    printf("(best variant here: %s; ratios are ns / scalar ns)\n", best->isa_name);
    for (int k = 0; k < NKERNELS; k++) {
        double ns_best = bench_isas(kinfo[k].name, &cur, call, &k);
        snprintf(gname, sizeof gname, "%s.best.%s", kinfo[k].name, "gbps");
        bench_report(gname, kinfo[k].bytes / ns_best, "GB/s", NULL, 0);
    }
    free(fa);
    free(fb);
    free(out);
    free(rgb);
    free(yuyv);
    free(bg);
    return 0;
}
