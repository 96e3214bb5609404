/* bench_u8.c - u8 frame kernels on a 640x480 frame, hot caches: ns per call
 * of the scalar reference and of the best variant here (their ratio, best /
 * scalar), and the best variant's GB/s (bytes read + written per call).
 * Each figure is the best of 5 runs of ~20 ms. */
#include "bench.h"
#include "kernels.h"

#include <string.h>

#define W 640
#define H 480
#define NPIX (W * H)
#define ROUNDS 5
#define TARGET_NS 20000000ull

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

static void call(int k)
{
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

/* Best ns per call over ROUNDS runs of about TARGET_NS each. */
static double measure(const pr_kernels_t *t, int k)
{
    cur = t;
    call(k); /* warm the caches */
    size_t iters = 1;
    for (;;) {
        uint64_t t0 = bench_ns();
        for (size_t i = 0; i < iters; i++)
            call(k);
        if (bench_ns() - t0 >= TARGET_NS / 10 || iters >= (1u << 24))
            break;
        iters *= 2;
    }
    iters *= 10;
    double best = 1e300;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = bench_ns();
        for (size_t i = 0; i < iters; i++)
            call(k);
        double ns = (double)(bench_ns() - t0) / (double)iters;
        if (ns < best)
            best = ns;
    }
    return best;
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    const pr_kernels_t *best = pr_kernels_for(pr_isa_best());
    char sname[96], bname[96], gname[96];

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
        double ns_ref = measure(ref, k);
        snprintf(sname, sizeof sname, "%s.scalar", kinfo[k].name);
        bench_report(sname, ns_ref, "ns", NULL, 0);
        /* The other x86 variants too, to show what each ISA step buys. */
        for (int i = PR_ISA_SSE4; i < PR_ISA_COUNT; i++) {
            const pr_kernels_t *t = pr_kernels_for((pr_isa_t)i);
            if (!t || t == best)
                continue;
            double ns = measure(t, k);
            snprintf(bname, sizeof bname, "%s.%s", kinfo[k].name, t->isa_name);
            bench_report(bname, ns, "ns", sname, ns / ns_ref);
        }
        double ns_best = measure(best, k);
        snprintf(bname, sizeof bname, "%s.best", kinfo[k].name);
        snprintf(gname, sizeof gname, "%s.best.%s", kinfo[k].name, "gbps");
        bench_report(bname, ns_best, "ns", sname, ns_best / ns_ref);
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
