/* test_esn.c - echo-state reservoir update: every variant against the scalar
 * reference (libm tanhf, sequential sums).  Tolerance: the variants
 * reassociate the sums and use sleef's u35 tanh, so per unit, with mag =
 * sum|w_in u| + sum|val x| + |b|:
 *   |pre - pre_ref| <= 1e-5 mag + 1e-6,  |x - x_ref| <= 1e-5 a mag + 2e-6. */
#include "kcheck.h"

static const size_t m_list[] = { 0, 1, 7, 16, 17, 33, 384 };
#define NM (sizeof m_list / sizeof m_list[0])
#define MAXM 384
#define OFF 3

static float *win, *u, *val, *b, *xa, *xb, *pa, *pb, *x0;
static int32_t *row_ptr, *col;

/* Random CSR over n units, about pct% dense, so some rows pass 16 entries. */
static void make_csr(size_t n, unsigned pct)
{
    int32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        row_ptr[i] = k;
        for (size_t c = 0; c < n; c++)
            if (kc_u32() % 1000 < pct * 10) {
                col[k] = (int32_t)c;
                val[k++] = kc_f32(-0.3f, 0.3f);
            }
    }
    row_ptr[n] = k;
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    size_t nmax = 1025 + OFF;
    win = kc_alloc(nmax * MAXM * sizeof(float));
    u = kc_alloc((MAXM + OFF) * sizeof(float));
    val = kc_alloc(nmax * nmax / 4 * sizeof(float));
    col = kc_alloc(nmax * nmax / 4 * sizeof(int32_t));
    row_ptr = kc_alloc((nmax + 1) * sizeof(int32_t));
    b = kc_alloc(nmax * 4);
    xa = kc_alloc(nmax * 4), xb = kc_alloc(nmax * 4), x0 = kc_alloc(nmax * 4);
    pa = kc_alloc(nmax * 4), pb = kc_alloc(nmax * 4);

    /* --- known values of the reference --- */
    {
        const float w2[4] = { 1, 0, 0, 1 }, u2[2] = { 0.5f, -0.5f }, b2[2] = { 0, 0.1f };
        const int32_t rp[3] = { 0, 1, 1 }, c2[1] = { 1 };
        const float v2[1] = { 0.5f };
        float x[2] = { 0, 1 }, pre[2];
        ref->esn_update(x, 2, u2, 2, w2, rp, c2, v2, b2, 0.5f, pre);
        ok(pre[0] == 1.0f && fabsf(pre[1] + 0.4f) < 1e-7f, "esn: pre = W_in u + W x + b");
        ok(fabs(x[0] - 0.5 * tanh(1.0)) < 1e-7 && fabs(x[1] - (0.5 + 0.5 * tanh(-0.4))) < 1e-7,
           "esn: x = (1-a) x + a tanh(pre)");
        float big[2] = { 1e4f, -1e4f }, xs[2] = { 0.3f, 0.3f };
        const int32_t rp0[3] = { 0, 0, 0 };
        ref->esn_update(xs, 2, big, 2, w2, rp0, c2, v2, NULL, 1.0f, pre);
        ok(xs[0] == 1.0f && xs[1] == -1.0f, "esn: large |pre| saturates to +-1, a = 1");
        xs[0] = 0.3f;
        ref->esn_update(xs, 1, big, 2, w2, rp0, c2, v2, NULL, 0.0f, pre);
        ok(xs[0] == 0.3f, "esn: a = 0 keeps x");
        KC_FOR_EACH_VARIANT(t) {
            float xv[2] = { 0.3f, 0.3f };
            t->esn_update(xv, 2, big, 2, w2, rp0, c2, v2, NULL, 1.0f, pre);
            ok(xv[0] == 1.0f && xv[1] == -1.0f, "%s esn: large |pre| saturates to +-1", t->isa_name);
        }
    }

    /* --- variants against the reference --- */
    kc_fill_f32(win, nmax * MAXM, -0.2f, 0.2f);
    kc_fill_f32(u, MAXM + OFF, -1, 1);
    kc_fill_f32(b, nmax, -0.5f, 0.5f);
    KC_FOR_EACH_VARIANT(t) {
        int bad = 0;
        double worst = 0;
        for (size_t s = 0; s < KC_NSIZES; s++) {
            size_t n = kc_sizes[s];
            if (n > 1025)
                continue;
            make_csr(n, 10);
            for (size_t mi = 0; mi < NM; mi++)
                for (int withb = 0; withb < 2; withb++) {
                    size_t m = m_list[mi], o = kc_offsets[(s + mi + (size_t)withb) % KC_NOFFSETS];
                    float a = withb ? 0.3f : 1.0f;
                    kc_fill_f32(x0, n + OFF + 1, -1, 1);
                    memcpy(xa, x0, (n + OFF + 1) * 4);
                    memcpy(xb, x0, (n + OFF + 1) * 4);
                    const float *bb = withb ? b + o : NULL;
                    ref->esn_update(xa + o, n, u + o, m, win + o, row_ptr, col, val, bb, a, pa + o);
                    t->esn_update(xb + o, n, u + o, m, win + o, row_ptr, col, val, bb, a, pb + o);
                    for (size_t i = 0; i < n; i++) {
                        double mag = bb ? fabs(bb[i]) : 0;
                        for (size_t c = 0; c < m; c++)
                            mag += fabs((double)win[o + i * m + c] * u[o + c]);
                        for (int32_t k = row_ptr[i]; k < row_ptr[i + 1]; k++)
                            mag += fabs((double)val[k] * x0[o + col[k]]);
                        double dp = fabs((double)pb[o + i] - pa[o + i]);
                        double dx = fabs((double)xb[o + i] - xa[o + i]);
                        if (dx > worst)
                            worst = dx;
                        if (!(dp <= 1e-5 * mag + 1e-6) || !(dx <= 1e-5 * a * mag + 2e-6)) {
                            if (bad++ < 3)
                                diag("%s n=%zu m=%zu i=%zu: x %.9g vs %.9g, pre %.9g vs %.9g",
                                     t->isa_name, n, m, i, xb[o + i], xa[o + i], pb[o + i], pa[o + i]);
                        }
                    }
                    /* Past the end nothing moves. */
                    if (xb[o + n] != x0[o + n] && bad++ < 3)
                        diag("%s n=%zu: wrote past x", t->isa_name, n);
                }
        }
        ok(!bad, "%s esn_update within tolerance of the reference (worst |dx| %.3g)", t->isa_name,
           worst);
    }
    diag("best here: %s", pr_isa_name(pr_isa_best()));

    free(win), free(u), free(val), free(col), free(row_ptr), free(b);
    free(xa), free(xb), free(x0), free(pa), free(pb);
    return exit_status();
}
