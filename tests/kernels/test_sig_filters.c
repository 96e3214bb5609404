/* test_sig_filters.c - f32 signal kernels (FIR, gain, mix): every variant
 * against the scalar reference, plus hand-computed values for the reference.
 * Tolerances: gain is one multiply per sample, so exact; mix may fuse the
 * multiply-add: |got - want| <= 2^-22 (|ga a| + |gb b|); FIR sums
 * reassociate: |got - want| <= 1e-5 sum_k |taps[k] x[i+k]| + 1e-6.  Outputs
 * past the last one must stay untouched. */
#include "kcheck.h"

#define GUARD 16

static int guard_ok(const float *p, size_t n)
{
    for (size_t i = n; i < n + GUARD; i++)
        if (p[i] != -7.0f)
            return 0;
    return 1;
}

static void set_guard(float *p, size_t n)
{
    for (size_t i = 0; i < n + GUARD; i++)
        p[i] = -7.0f;
}

static void check_fir(const pr_kernels_t *ref, const pr_kernels_t *t, const float *x,
                      const float *taps, float *want, float *got)
{
    static const size_t nt[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 64 };
    int bad = 0;
    for (size_t s = 0; s < KC_NSIZES; s++)
        for (size_t k = 0; k < sizeof nt / sizeof nt[0]; k++)
            for (size_t o = 0; o < KC_NOFFSETS; o++) {
                size_t n = kc_sizes[s], ntaps = nt[k];
                size_t ny = ntaps && n >= ntaps ? n - ntaps + 1 : 0;
                const float *px = x + kc_offsets[o], *pt = taps + kc_offsets[o];
                float *pg = got + kc_offsets[o];
                set_guard(want, ny);
                set_guard(pg, ny);
                ref->sig_fir(px, n, pt, ntaps, want);
                t->sig_fir(px, n, pt, ntaps, pg);
                int fail = !guard_ok(pg, ny);
                for (size_t i = 0; i < ny && !fail; i++) {
                    double mag = 0;
                    for (size_t j = 0; j < ntaps; j++)
                        mag += fabs((double)pt[j] * px[i + j]);
                    fail = !(fabs((double)pg[i] - want[i]) <= 1e-5 * mag + 1e-6);
                }
                if (fail && bad++ < 3)
                    diag("%s n=%zu ntaps=%zu off=%zu differs", t->isa_name, n, ntaps,
                         kc_offsets[o]);
            }
    ok(!bad, "%s sig_fir matches the reference", t->isa_name);
}

static void check_gain_mix(const pr_kernels_t *ref, const pr_kernels_t *t, const float *a,
                           const float *b, float *want, float *got)
{
    int badg = 0, badm = 0, badi = 0;
    const float ga = 0.7f, gb = -1.3f;
    for (size_t s = 0; s < KC_NSIZES; s++)
        for (size_t o = 0; o < KC_NOFFSETS; o++) {
            size_t n = kc_sizes[s];
            const float *pa = a + kc_offsets[o], *pb = b + kc_offsets[o] + 1;
            float *pg = got + kc_offsets[o] + 2;
            set_guard(want, n);
            set_guard(pg, n);
            ref->sig_gain(pa, ga, want, n);
            t->sig_gain(pa, ga, pg, n);
            if ((memcmp(want, pg, n * sizeof(float)) || !guard_ok(pg, n)) && badg++ < 3)
                diag("%s gain n=%zu off=%zu differs", t->isa_name, n, kc_offsets[o]);
            /* In place: y == x. */
            memcpy(pg, pa, n * sizeof(float));
            t->sig_gain(pg, ga, pg, n);
            if (memcmp(want, pg, n * sizeof(float)) && badi++ < 3)
                diag("%s gain in place n=%zu differs", t->isa_name, n);

            set_guard(pg, n);
            ref->sig_mix(pa, ga, pb, gb, want, n);
            t->sig_mix(pa, ga, pb, gb, pg, n);
            int fail = !guard_ok(pg, n);
            for (size_t i = 0; i < n && !fail; i++) {
                double mag = fabs((double)ga * pa[i]) + fabs((double)gb * pb[i]);
                fail = !(fabs((double)pg[i] - want[i]) <= mag * (1.0 / 4194304.0));
            }
            if (fail && badm++ < 3)
                diag("%s mix n=%zu off=%zu differs", t->isa_name, n, kc_offsets[o]);
        }
    ok(!badg, "%s sig_gain matches the reference exactly", t->isa_name);
    ok(!badi, "%s sig_gain in place", t->isa_name);
    ok(!badm, "%s sig_mix matches the reference", t->isa_name);
}

static void known_values(const pr_kernels_t *r)
{
    const float x[] = { 1, 2, 3, 4, 5 }, taps[] = { 1, 2, 3 };
    float y[5] = { -1, -1, -1, -1, -1 };
    r->sig_fir(x, 5, taps, 3, y);
    ok(y[0] == 14 && y[1] == 20 && y[2] == 26 && y[3] == -1,
       "fir: taps 1 2 3 over 1..5 gives 14 20 26, 3 outputs");
    y[0] = -1;
    r->sig_fir(x, 2, taps, 3, y);
    r->sig_fir(x, 5, taps, 0, y);
    ok(y[0] == -1, "fir: n < ntaps and ntaps = 0 write nothing");
    r->sig_fir(x, 5, taps, 1, y);
    ok(y[0] == 1 && y[4] == 5, "fir: one tap of 1 copies the input");

    r->sig_gain(x, -0.5f, y, 5);
    ok(y[0] == -0.5f && y[4] == -2.5f, "gain -0.5: 1 -> -0.5, 5 -> -2.5");
    const float a[] = { 2, 1e30f, 0 }, b[] = { 4, 1e30f, NAN };
    r->sig_mix(a, 0.5f, b, 0.25f, y, 3);
    ok(y[0] == 2.0f && fabsf(y[1] - 0.75e30f) <= 1e24f && isnan(y[2]),
       "mix 0.5 a + 0.25 b: 2, large values, NaN propagates");
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    size_t cap = KC_MAXN + 64;
    float *a = kc_alloc(cap * sizeof(float)), *b = kc_alloc(cap * sizeof(float));
    float *taps = kc_alloc(cap * sizeof(float));
    float *want = kc_alloc((cap + GUARD) * sizeof(float)), *got = kc_alloc((cap + GUARD) * sizeof(float));
    int variants = 0;

    kc_fill_f32(a, cap, -1, 1);
    kc_fill_f32(b, cap, -100, 100);
    kc_fill_f32(taps, cap, -0.5f, 0.5f);
    known_values(ref);
    KC_FOR_EACH_VARIANT(t) {
        variants++;
        check_fir(ref, t, a, taps, want, got);
        check_gain_mix(ref, t, a, b, want, got);
    }
    diag("variants tested: %d (best here: %s)", variants, pr_isa_name(pr_isa_best()));
    free(a);
    free(b);
    free(taps);
    free(want);
    free(got);
    return exit_status();
}
