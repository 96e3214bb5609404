/* test_u8_frames.c - u8 frame kernels (motion score, RGB24/YUYV to gray, 2x2
 * downscale, background update): every variant against the scalar reference,
 * exact match, with guard bytes past each output that must stay untouched;
 * plus hand-computed values that the reference itself must meet. */
#include "kcheck.h"
#include "u8-rgb2gray/u8_rgb2gray_paths.h"

#define GUARD 64
#define G8 0xA5

static uint8_t *ga, *gb, *gsrc, *gwant, *ggot;

static void fill_u8(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(kc_u32() >> 24);
}

/* 1 if the n bytes match and the GUARD bytes after them are untouched in both. */
static int same_guarded(const uint8_t *want, const uint8_t *got, size_t n)
{
    if (memcmp(want, got, n))
        return 0;
    for (size_t i = n; i < n + GUARD; i++)
        if (want[i] != G8 || got[i] != G8)
            return 0;
    return 1;
}

static void check_motion(const pr_kernels_t *ref, const pr_kernels_t *t)
{
    static const uint8_t th[] = { 0, 1, 20, 128, 254, 255 };
    int bad = 0;
    for (size_t s = 0; s < KC_NSIZES; s++)
        for (size_t o = 0; o < KC_NOFFSETS; o++)
            for (size_t k = 0; k < sizeof th; k++) {
                size_t n = kc_sizes[s];
                const uint8_t *a = ga + kc_offsets[o], *b = gb + kc_offsets[o] + 1;
                uint8_t *want = gwant + kc_offsets[o], *got = ggot + kc_offsets[o] + 2;
                memset(want, G8, n + GUARD);
                memset(got, G8, n + GUARD);
                size_t cw = ref->u8_motion(a, b, n, th[k], want);
                size_t cg = t->u8_motion(a, b, n, th[k], got);
                size_t cn = t->u8_motion(a, b, n, th[k], NULL);
                if (cw != cg || cw != cn || !same_guarded(want, got, n)) {
                    if (bad++ < 3)
                        diag("%s n=%zu off=%zu thresh=%u: count %zu/%zu want %zu", t->isa_name,
                             n, kc_offsets[o], th[k], cg, cn, cw);
                }
            }
    ok(!bad, "%s u8_motion matches the reference", t->isa_name);
}

static void check_rgb2gray(const pr_kernels_t *ref, const pr_kernels_t *t)
{
    int bad = 0;
    for (size_t s = 0; s < KC_NSIZES; s++)
        for (size_t o = 0; o < KC_NOFFSETS; o++) {
            size_t n = kc_sizes[s];
            const uint8_t *rgb = gsrc + kc_offsets[o];
            uint8_t *want = gwant, *got = ggot + kc_offsets[o];
            memset(want, G8, n + GUARD);
            memset(got, G8, n + GUARD);
            ref->u8_rgb2gray(rgb, want, n);
            t->u8_rgb2gray(rgb, got, n);
            if (!same_guarded(want, got, n) && bad++ < 3)
                diag("%s n=%zu off=%zu differs", t->isa_name, n, kc_offsets[o]);
        }
    ok(!bad, "%s u8_rgb2gray matches the reference", t->isa_name);
}

/* The AVX-512 variant's two paths, each on its own (the dispatch table only
 * ever reaches the one this CPU prefers). */
static void check_rgb2gray_paths(const pr_kernels_t *ref)
{
#if defined(__x86_64__)
    if (!pr_isa_supported(PR_ISA_AVX512))
        return;
    pr_kt_u8_rgb2gray *paths[2] = { pr_u8_rgb2gray__avx512_bw, pr_u8_rgb2gray__avx512_vbmi };
    static const char *names[2] = { "avx512 BW path", "avx512 VBMI path" };
    for (int p = 0; p < 2; p++) {
        if (p == 1 && !pr_u8_rgb2gray__avx512_has_vbmi()) {
            diag("no AVX512-VBMI here: VBMI path not tested");
            continue;
        }
        int bad = 0;
        for (size_t s = 0; s < KC_NSIZES; s++)
            for (size_t o = 0; o < KC_NOFFSETS; o++) {
                size_t n = kc_sizes[s];
                const uint8_t *rgb = gsrc + kc_offsets[o];
                uint8_t *want = gwant, *got = ggot + kc_offsets[o];
                memset(want, G8, n + GUARD);
                memset(got, G8, n + GUARD);
                ref->u8_rgb2gray(rgb, want, n);
                paths[p](rgb, got, n);
                if (!same_guarded(want, got, n) && bad++ < 3)
                    diag("%s n=%zu off=%zu differs", names[p], n, kc_offsets[o]);
            }
        ok(!bad, "u8_rgb2gray %s matches the reference", names[p]);
    }
#else
    (void)ref;
#endif
}

static void check_yuyv2gray(const pr_kernels_t *ref, const pr_kernels_t *t)
{
    int bad = 0;
    for (size_t s = 0; s < KC_NSIZES; s++)
        for (size_t o = 0; o < KC_NOFFSETS; o++) {
            size_t n = kc_sizes[s];
            const uint8_t *yuyv = gsrc + kc_offsets[o];
            uint8_t *want = gwant, *got = ggot + kc_offsets[o];
            memset(want, G8, n + GUARD);
            memset(got, G8, n + GUARD);
            ref->u8_yuyv2gray(yuyv, want, n);
            t->u8_yuyv2gray(yuyv, got, n);
            if (!same_guarded(want, got, n) && bad++ < 3)
                diag("%s n=%zu off=%zu differs", t->isa_name, n, kc_offsets[o]);
        }
    ok(!bad, "%s u8_yuyv2gray matches the reference", t->isa_name);
}

/* Widths around 16/32/64-byte bodies, heights odd and even, strides equal
 * to and larger than the width; every output row's padding and the rows
 * after the last must stay untouched. */
static void check_down2x2(const pr_kernels_t *ref, const pr_kernels_t *t)
{
    static const size_t ws[] = { 0, 1, 2, 3, 4, 7, 15, 16, 17, 30, 31, 32, 33, 34, 63, 64, 65,
                                 66, 127, 128, 129, 130, 131, 191, 256, 257, 640 };
    static const size_t hs[] = { 0, 1, 2, 3, 4, 5, 8 };
    static const size_t pads[] = { 0, 1, 13, 64 };
    int bad = 0;
    for (size_t wi = 0; wi < sizeof ws / sizeof ws[0]; wi++)
        for (size_t hi = 0; hi < sizeof hs / sizeof hs[0]; hi++)
            for (size_t pi = 0; pi < sizeof pads / sizeof pads[0]; pi++)
                for (size_t o = 0; o < KC_NOFFSETS; o++) {
                    size_t w = ws[wi], h = hs[hi], stride = w + pads[pi];
                    size_t dstride = w / 2 + pads[(pi + 1) % 4];
                    size_t outbytes = (h / 2) * dstride;
                    const uint8_t *src = gsrc + kc_offsets[o];
                    uint8_t *want = gwant, *got = ggot + kc_offsets[o];
                    memset(want, G8, outbytes + GUARD);
                    memset(got, G8, outbytes + GUARD);
                    ref->u8_down2x2(src, w, h, stride, want, dstride);
                    t->u8_down2x2(src, w, h, stride, got, dstride);
                    if (!same_guarded(want, got, outbytes) && bad++ < 3)
                        diag("%s w=%zu h=%zu stride=%zu dstride=%zu off=%zu differs",
                             t->isa_name, w, h, stride, dstride, kc_offsets[o]);
                }
    ok(!bad, "%s u8_down2x2 matches the reference", t->isa_name);
}

static void check_bg_update(const pr_kernels_t *ref, const pr_kernels_t *t)
{
    static const unsigned shifts[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 40 };
    int bad = 0;
    for (size_t s = 0; s < KC_NSIZES; s++)
        for (size_t o = 0; o < KC_NOFFSETS; o++)
            for (size_t k = 0; k < sizeof shifts / sizeof shifts[0]; k++) {
                size_t n = kc_sizes[s];
                const uint8_t *frame = ga + kc_offsets[o] + 1;
                uint8_t *want = gwant, *got = ggot + kc_offsets[o];
                memset(want, G8, n + GUARD);
                memset(got, G8, n + GUARD);
                memcpy(want, gb, n);
                memcpy(got, gb, n);
                ref->u8_bg_update(want, frame, n, shifts[k]);
                t->u8_bg_update(got, frame, n, shifts[k]);
                if (!same_guarded(want, got, n) && bad++ < 3)
                    diag("%s n=%zu off=%zu shift=%u differs", t->isa_name, n, kc_offsets[o],
                         shifts[k]);
            }
    ok(!bad, "%s u8_bg_update matches the reference", t->isa_name);
}

static void known_values(const pr_kernels_t *r)
{
    uint8_t a[] = { 10, 20, 30, 200, 0, 255 }, b[] = { 15, 20, 0, 0, 255, 0 }, d[6];
    static const uint8_t dw[] = { 5, 0, 30, 200, 255, 255 };
    is_int(r->u8_motion(a, b, 6, 5, d), 4, "motion: 4 of 6 differ by more than 5");
    ok(!memcmp(d, dw, 6), "motion: difference image |a-b|");
    is_int(r->u8_motion(a, b, 6, 0, NULL), 5, "motion: thresh 0 counts every change");
    is_int(r->u8_motion(a, b, 6, 255, NULL), 0, "motion: thresh 255 counts nothing");
    is_int(r->u8_motion(a, b, 0, 0, NULL), 0, "motion: n = 0 gives 0");

    uint8_t rgb[] = { 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30 }, g[6];
    r->u8_rgb2gray(rgb, g, 6);
    /* (77*10 + 150*20 + 29*30 + 128) >> 8 = 4768 >> 8 = 18 */
    ok(g[0] == 255 && g[1] == 0 && g[2] == 77 && g[3] == 149 && g[4] == 29 && g[5] == 18,
       "rgb2gray: white 255, black 0, R 77, G 149, B 29, (10,20,30) 18");

    uint8_t yuyv[] = { 1, 100, 2, 200, 3, 101, 4, 201 };
    r->u8_yuyv2gray(yuyv, g, 4);
    ok(g[0] == 1 && g[1] == 2 && g[2] == 3 && g[3] == 4, "yuyv2gray takes the Y bytes");

    /* 5x3 image, stride 6: blocks [1 2;3 4] -> 3, [0 0;0 1] -> 0, [0 0;1 1] -> 1 ... */
    uint8_t img[] = { 1, 2, 0, 0, 9, 99, 3, 4, 0, 1, 9, 99, 7, 7, 7, 7, 7, 99 }, o[4] = { 0, 0, 0, 0 };
    r->u8_down2x2(img, 5, 3, 6, o, 2);
    ok(o[0] == 3 && o[1] == 0 && o[2] == 0 && o[3] == 0, "down2x2: (1+2+3+4+2)>>2 = 3, (1+2)>>2 = 0");
    uint8_t img2[] = { 0, 0, 255, 255, 1, 1, 255, 255 };
    r->u8_down2x2(img2, 4, 2, 4, o, 2);
    ok(o[0] == 1 && o[1] == 255, "down2x2: (0+0+1+1+2)>>2 = 1, 255s stay 255");

    uint8_t bg[] = { 100, 200, 10, 11, 0, 255 }, fr[] = { 200, 100, 11, 10, 255, 0 };
    r->u8_bg_update(bg, fr, 6, 2);
    /* 100 + (100+2)>>2 = 125; 200 + floor(-98/4) = 175; 10 + 3>>2 = 10; 11 + floor(1/4) = 11 */
    ok(bg[0] == 125 && bg[1] == 175 && bg[2] == 10 && bg[3] == 11 && bg[4] == 64 && bg[5] == 191,
       "bg_update shift 2: 125 175 10 11 64 191");
    uint8_t bg1[] = { 10, 11 }, fr1[] = { 11, 10 };
    r->u8_bg_update(bg1, fr1, 2, 1);
    ok(bg1[0] == 11 && bg1[1] == 11, "bg_update shift 1 rounds half up: 10->11, 11 stays");
    r->u8_bg_update(bg, fr, 6, 9);
    ok(bg[0] == 125 && bg[5] == 191, "bg_update shift > 8 changes nothing");
    r->u8_bg_update(bg, fr, 6, 0);
    ok(!memcmp(bg, fr, 6), "bg_update shift 0 copies the frame");
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    size_t big = 4 * (KC_MAXN + 1024);
    int variants = 0;

    ga = kc_alloc(big);
    gb = kc_alloc(big);
    gsrc = kc_alloc(big);
    gwant = kc_alloc(big);
    ggot = kc_alloc(big);
    fill_u8(ga, big);
    fill_u8(gb, big);
    fill_u8(gsrc, big);
    /* Some exact equalities and near-threshold differences for motion. */
    for (size_t i = 0; i < big; i += 7)
        gb[i + 1] = ga[i];

    known_values(ref);
    KC_FOR_EACH_VARIANT(t) {
        variants++;
        check_motion(ref, t);
        check_rgb2gray(ref, t);
        check_yuyv2gray(ref, t);
        check_down2x2(ref, t);
        check_bg_update(ref, t);
    }
    check_rgb2gray_paths(ref);
    diag("variants tested: %d (best here: %s)", variants, pr_isa_name(pr_isa_best()));
    free(ga);
    free(gb);
    free(gsrc);
    free(gwant);
    free(ggot);
    return exit_status();
}
