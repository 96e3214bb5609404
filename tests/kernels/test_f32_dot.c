/* test_f32_dot.c - f32 dot product: every variant against the scalar
 * reference.  Tolerance: float sums reassociate, so the bound scales with
 * sum(|a_i * b_i|): |got - want| <= 1e-5 * sum|a*b| + 1e-6. */
#include "kcheck.h"

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    float *a = kc_alloc((KC_MAXN + 8) * sizeof(float));
    float *b = kc_alloc((KC_MAXN + 8) * sizeof(float));
    int variants = 0;

    kc_fill_f32(a, KC_MAXN + 8, -1, 1);
    kc_fill_f32(b, KC_MAXN + 8, -1, 1);
    ok(ref && ref->f32_dot, "scalar reference present");
    is_int(ref->f32_dot(a, b, 0), 0, "empty input gives 0");

    KC_FOR_EACH_VARIANT(t) {
        int bad = 0;
        variants++;
        for (size_t s = 0; s < KC_NSIZES; s++) {
            for (size_t o = 0; o < KC_NOFFSETS; o++) {
                size_t n = kc_sizes[s];
                const float *pa = a + kc_offsets[o], *pb = b + kc_offsets[o] + 1;
                float want = ref->f32_dot(pa, pb, n), got = t->f32_dot(pa, pb, n);
                double mag = 0;
                for (size_t i = 0; i < n; i++)
                    mag += fabs((double)pa[i] * pb[i]);
                if (!(fabs((double)got - want) <= 1e-5 * mag + 1e-6)) {
                    if (bad++ < 3)
                        diag("%s n=%zu offset=%zu: got %.9g want %.9g", t->isa_name, n,
                             kc_offsets[o], got, want);
                }
            }
        }
        ok(!bad, "%s matches the reference at %zu sizes x %zu offsets", t->isa_name,
           KC_NSIZES, KC_NOFFSETS);
    }
    diag("variants tested: %d (best here: %s)", variants, pr_isa_name(pr_isa_best()));

    /* A known value: 1..n dot 1 = n(n+1)/2. */
    for (size_t i = 0; i < 100; i++) {
        a[i] = (float)(i + 1);
        b[i] = 1.0f;
    }
    is_int((long long)pr_kernels()->f32_dot(a, b, 100), 5050, "active variant: 1+...+100 = 5050");
    free(a);
    free(b);
    return exit_status();
}
