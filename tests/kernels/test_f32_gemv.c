/* test_f32_gemv.c - f32 GEMV with bias: every variant against the scalar
 * reference over row counts around the 4-row block and column counts around
 * every vector width, with and without bias, on unaligned W, x and y, with a
 * guard zone after y.  Tolerance: each row is a reassociated float sum, so
 * |got - want| <= 1e-5 * (sum_c |w_rc * x_c| + |bias_r|) + 1e-6. */
#include "kcheck.h"

#define GUARD 16
#define SENTINEL 12345.0f
#define ALLISA(t)                                                           \
    for (int ai_ = 0; ai_ < PR_ISA_COUNT; ai_++)                            \
        for (const pr_kernels_t *t = pr_kernels_for((pr_isa_t)ai_); t; t = NULL)

static const size_t row_counts[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 13 };
#define NROWS (sizeof row_counts / sizeof row_counts[0])
#define MAXROWS 13

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    size_t wcap = MAXROWS * KC_MAXN + 8;
    float *w = kc_alloc(wcap * sizeof(float));
    float *x = kc_alloc((KC_MAXN + 8) * sizeof(float));
    float *bias = kc_alloc((MAXROWS + 8) * sizeof(float));
    float *yref = kc_alloc((MAXROWS + 8 + GUARD) * sizeof(float));
    float *ygot = kc_alloc((MAXROWS + 8 + GUARD) * sizeof(float));

    kc_fill_f32(w, wcap, -1, 1);
    kc_fill_f32(x, KC_MAXN + 8, -2, 2);
    kc_fill_f32(bias, MAXROWS + 8, -5, 5);
    ok(ref && ref->f32_gemv_bias, "scalar reference present");

    /* Known values, every ISA (scalar included). */
    {
        const float kw[6] = { 1, 2, 3, 4, 5, 6 }, kx[3] = { 1, 1, 2 }, kb[2] = { 0.5f, -1 };
        ALLISA(t) {
            float ky[3] = { 0, 0, SENTINEL };
            t->f32_gemv_bias(kw, kx, kb, ky, 2, 3);
            ok(ky[0] == 9.5f && ky[1] == 20.0f && ky[2] == SENTINEL,
               "%s: [[1,2,3],[4,5,6]] [1,1,2] + [0.5,-1] = [9.5,20]", t->isa_name);
            t->f32_gemv_bias(kw, kx, NULL, ky, 2, 3);
            ok(ky[0] == 9.0f && ky[1] == 21.0f, "%s: without bias = [9,21]", t->isa_name);
            t->f32_gemv_bias(kw, kx, kb, ky, 2, 0);
            ok(ky[0] == 0.5f && ky[1] == -1.0f, "%s: cols = 0 gives the bias", t->isa_name);
            t->f32_gemv_bias(kw, kx, NULL, ky, 2, 0);
            ok(ky[0] == 0.0f && ky[1] == 0.0f, "%s: cols = 0, no bias gives 0", t->isa_name);
            ky[0] = SENTINEL;
            t->f32_gemv_bias(kw, kx, kb, ky, 0, 3);
            ok(ky[0] == SENTINEL, "%s: rows = 0 writes nothing", t->isa_name);
        }
    }

    KC_FOR_EACH_VARIANT(t) {
        int bad = 0;
        for (size_t s = 0; s < KC_NSIZES; s++) {
            for (size_t ri = 0; ri < NROWS; ri++) {
                for (size_t o = 0; o < KC_NOFFSETS; o++) {
                    size_t cols = kc_sizes[s], rows = row_counts[ri], off = kc_offsets[o];
                    const float *pw = w + off, *px = x + (off + 1) % 4;
                    const float *pb = (ri + o) % 2 ? NULL : bias + off;
                    float *wy = yref + off, *gy = ygot + off;
                    for (size_t i = 0; i < rows + GUARD; i++)
                        gy[i] = SENTINEL;
                    ref->f32_gemv_bias(pw, px, pb, wy, rows, cols);
                    t->f32_gemv_bias(pw, px, pb, gy, rows, cols);
                    for (size_t r = 0; r < rows; r++) {
                        double mag = pb ? fabs(pb[r]) : 0;
                        for (size_t c = 0; c < cols; c++)
                            mag += fabs((double)pw[r * cols + c] * px[c]);
                        if (!(fabs((double)gy[r] - wy[r]) <= 1e-5 * mag + 1e-6) && bad++ < 3)
                            diag("%s rows=%zu cols=%zu off=%zu bias=%s r=%zu: got %.9g want %.9g",
                                 t->isa_name, rows, cols, off, pb ? "yes" : "no", r, gy[r], wy[r]);
                    }
                    for (size_t i = rows; i < rows + GUARD; i++)
                        if (gy[i] != SENTINEL && bad++ < 3)
                            diag("%s rows=%zu cols=%zu: wrote past y", t->isa_name, rows, cols);
                }
            }
        }
        ok(!bad, "%s f32_gemv_bias matches the reference (%zu column counts x %zu row counts)",
           t->isa_name, KC_NSIZES, NROWS);
    }

    free(w);
    free(x);
    free(bias);
    free(yref);
    free(ygot);
    return exit_status();
}
