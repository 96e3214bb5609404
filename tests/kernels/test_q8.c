/* test_q8.c - int8 kernels: q8_quantize and q8_gemv, every variant (and both
 * run-time paths of AVX-512 and NEON GEMV) against the scalar reference.
 * Tolerance: none.  Quantization uses an IEEE division and round-half-even
 * everywhere, and the GEMV's int32 sums are exact with the same float steps
 * after them, so scales, codes and outputs must match bit for bit. */
#include "kcheck.h"
#include "q8-gemv/q8_gemv_paths.h"

#define MAXROWS 9
static const size_t rows_list[] = { 1, 3, 4, 5, 9 };
#define NROWS (sizeof rows_list / sizeof rows_list[0])

static float *w;
static int8_t *qa, *qb, *xq;
static float sa[MAXROWS], sb[MAXROWS];
static float ya[MAXROWS], yb[MAXROWS], bias[MAXROWS], scl[MAXROWS];

static int check_quantize(const char *name, pr_kt_q8_quantize *f, pr_kt_q8_quantize *ref)
{
    int bad = 0;
    for (size_t s = 0; s < KC_NSIZES; s++)
        for (size_t o = 0; o < KC_NOFFSETS; o++)
            for (size_t ri = 0; ri < NROWS; ri++) {
                size_t cols = kc_sizes[s], rows = rows_list[ri], off = kc_offsets[o];
                const float *pw = w + off;
                memset(qa, 0x55, MAXROWS * (KC_MAXN + 8));
                memset(qb, 0x55, MAXROWS * (KC_MAXN + 8));
                ref(pw, rows, cols, qa + off, sa);
                f(pw, rows, cols, qb + off, sb);
                /* Whole buffers: the guard bytes past rows*cols must match too. */
                if (memcmp(sa, sb, rows * sizeof(float)) ||
                    memcmp(qa, qb, MAXROWS * (KC_MAXN + 8))) {
                    if (bad++ < 3)
                        diag("%s quantize rows=%zu cols=%zu offset=%zu differs", name, rows,
                             cols, off);
                }
            }
    return bad;
}

static int check_gemv(const char *name, pr_kt_q8_gemv *f, pr_kt_q8_gemv *ref)
{
    int bad = 0;
    for (size_t s = 0; s < KC_NSIZES; s++)
        for (size_t o = 0; o < KC_NOFFSETS; o++)
            for (size_t ri = 0; ri < NROWS; ri++)
                for (int withb = 0; withb < 2; withb++) {
                    size_t cols = kc_sizes[s], rows = rows_list[ri], off = kc_offsets[o];
                    const float *pb = withb ? bias : NULL;
                    ref(qa + off, scl, rows, cols, xq + off + 1, 0.37f, pb, ya);
                    f(qa + off, scl, rows, cols, xq + off + 1, 0.37f, pb, yb);
                    if (memcmp(ya, yb, rows * sizeof(float))) {
                        if (bad++ < 3)
                            diag("%s gemv rows=%zu cols=%zu offset=%zu bias=%d: y0 %.9g vs %.9g",
                                 name, rows, cols, off, withb, yb[0], ya[0]);
                    }
                }
    return bad;
}

static void fill_codes(int8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (int8_t)((int)(kc_u32() % 255) - 127);
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    size_t wn = MAXROWS * (KC_MAXN + 8);
    w = kc_alloc(wn * sizeof(float));
    qa = kc_alloc(wn);
    qb = kc_alloc(wn);
    xq = kc_alloc(KC_MAXN + 8);

    /* --- known values of the references --- */
    {
        /* max 127 gives scale 1 exactly, so the codes show the rounding:
         * -63.5 -> -64, 0.5 -> 0, 1.5 -> 2, 2.5 -> 2 (half to even). */
        const float m[3][7] = { { 127, -63.5f, 0.5f, 1.5f, 2.5f, -0.5f, 0 },
                                { 0, 0, 0, 0, 0, 0, 0 },
                                { 1e-44f, -1e-44f, 0, 0, 0, 0, 0 } };
        const int8_t want[7] = { 127, -64, 0, 2, 2, 0, 0 };
        int8_t q[21];
        float s[3];
        memset(q, 0x55, sizeof q);
        ref->q8_quantize(&m[0][0], 3, 7, q, s);
        ok(s[0] == 1.0f && !memcmp(q, want, 7), "quantize: scale 1, half-to-even codes");
        ok(s[1] == 0.0f && !memcmp(q + 7, "\0\0\0\0\0\0\0", 7), "quantize: zero row -> scale 0, zeros");
        ok(s[2] == 0.0f && !memcmp(q + 14, "\0\0\0\0\0\0\0", 7),
           "quantize: denormal row whose scale underflows -> zeros, no NaN");
        const float m2[2] = { -254, 1 };
        ref->q8_quantize(m2, 1, 2, q, s);
        ok(s[0] == 2.0f && q[0] == -127 && q[1] == 0, "quantize: -254,1 -> scale 2, -127,0");
        s[0] = 42;
        ref->q8_quantize(m2, 0, 2, q, s);
        ok(s[0] == 42, "quantize: rows = 0 writes nothing");

        const int8_t gq[6] = { 1, 2, 3, -127, 127, 0 }, gx[3] = { 1, 1, 1 };
        const float gs[2] = { 0.5f, 0.5f }, gb[2] = { 1, -1 };
        float y[2];
        ref->q8_gemv(gq, gs, 2, 3, gx, 2.0f, NULL, y);
        ok(y[0] == 6.0f && y[1] == 0.0f, "gemv: (1+2+3)*0.5*2 = 6, (-127+127)=0");
        ref->q8_gemv(gq, gs, 2, 3, gx, 2.0f, gb, y);
        ok(y[0] == 7.0f && y[1] == -1.0f, "gemv: plus bias 1, -1");
        ref->q8_gemv(gq, gs, 2, 0, gx, 2.0f, gb, y);
        ok(y[0] == 1.0f && y[1] == -1.0f, "gemv: cols = 0 gives the bias");
    }

    /* --- variants against the reference --- */
    kc_fill_f32(w, wn, -3, 3);
    /* Rows of half-integers with a max of 127 make exact ties. */
    for (size_t i = 0; i < KC_MAXN + 8; i++)
        w[2 * (KC_MAXN + 8) + i] = (float)((int)(kc_u32() % 509) - 254) * 0.5f;
    w[2 * (KC_MAXN + 8) + 3] = 127.0f;
    /* A zero row. */
    memset(w + 3 * (KC_MAXN + 8), 0, (KC_MAXN + 8) * sizeof(float));
    fill_codes(qa, wn);
    fill_codes(xq, KC_MAXN + 8);
    kc_fill_f32(scl, MAXROWS, 0.001f, 0.1f);
    kc_fill_f32(bias, MAXROWS, -1, 1);

    int variants = 0;
    KC_FOR_EACH_VARIANT(t) {
        variants++;
        ok(!check_quantize(t->isa_name, t->q8_quantize, ref->q8_quantize),
           "%s q8_quantize matches the reference bit for bit", t->isa_name);
        fill_codes(qa, wn);
        ok(!check_gemv(t->isa_name, t->q8_gemv, ref->q8_gemv),
           "%s q8_gemv matches the reference bit for bit", t->isa_name);
    }
    diag("variants tested: %d (best here: %s)", variants, pr_isa_name(pr_isa_best()));

#if defined(__x86_64__)
    if (pr_isa_supported(PR_ISA_AVX512)) {
        ok(!check_gemv("avx512 plain", pr_q8_gemv__avx512_plain, ref->q8_gemv),
           "avx512 gemv without VNNI matches");
        if (pr_q8_gemv__avx512_has_vnni())
            ok(!check_gemv("avx512 vnni", pr_q8_gemv__avx512_vnni, ref->q8_gemv),
               "avx512 gemv with VNNI matches");
        else
            diag("no VNNI on this CPU: VNNI path not run");
    }
#elif defined(__aarch64__)
    ok(!check_gemv("neon plain", pr_q8_gemv__neon_plain, ref->q8_gemv),
       "neon gemv without sdot matches");
    if (pr_q8_gemv__neon_has_dot())
        ok(!check_gemv("neon dot", pr_q8_gemv__neon_dot, ref->q8_gemv), "neon gemv with sdot matches");
    else
        diag("no dot-product extension here: sdot path not run");
#endif

    /* --- extremes: the largest sums must not saturate anywhere --- */
    {
        size_t cols = KC_MAXN;
        memset(qa, 0x81, cols); /* -127 */
        memset(xq, 0x81, cols);
        memset(qa + cols, 0x7f, cols); /* 127 */
        float one[2] = { 1, 1 };
        ref->q8_gemv(qa, one, 2, cols, xq, 1.0f, NULL, ya);
        ok(ya[0] == (float)(127 * 127 * (int32_t)cols) && ya[1] == -(float)(127 * 127 * (int32_t)cols),
           "gemv reference: +-127*127*%zu exact", cols);
        KC_FOR_EACH_VARIANT(t) {
            t->q8_gemv(qa, one, 2, cols, xq, 1.0f, NULL, yb);
            ok(!memcmp(ya, yb, 2 * sizeof(float)), "%s gemv: extreme codes do not saturate",
               t->isa_name);
        }
    }

    free(w);
    free(qa);
    free(qb);
    free(xq);
    return exit_status();
}
