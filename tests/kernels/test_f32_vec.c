/* test_f32_vec.c - f32 axpy, scale, add and relu: every variant against the
 * scalar reference, in place where allowed, with guard zones after n.
 * Tolerance: scale, add and relu must match bit for bit (one rounding per
 * element, same operation); axpy may fuse the multiply-add (one rounding
 * instead of two), so |got - want| <= 1e-6 * (|y| + |a*x|) + 1e-30. */
#include "kcheck.h"

#define GUARD 16
#define SENTINEL 12345.0f
#define ALLISA(t)                                                           \
    for (int ai_ = 0; ai_ < PR_ISA_COUNT; ai_++)                            \
        for (const pr_kernels_t *t = pr_kernels_for((pr_isa_t)ai_); t; t = NULL)

static float *xin, *bin, *yinit, *yref, *ygot;

static void guards_set(float *y, size_t n)
{
    for (size_t i = 0; i < GUARD; i++)
        y[n + i] = SENTINEL;
}

static int guards_ok(const float *y, size_t n)
{
    for (size_t i = 0; i < GUARD; i++)
        if (y[n + i] != SENTINEL)
            return 0;
    return 1;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof(float)) == 0;
}

static void test_axpy(const pr_kernels_t *ref)
{
    const float a = 0.73f;
    KC_FOR_EACH_VARIANT(t) {
        int bad = 0;
        for (size_t s = 0; s < KC_NSIZES; s++) {
            for (size_t o = 0; o < KC_NOFFSETS; o++) {
                size_t n = kc_sizes[s], off = kc_offsets[o];
                const float *x = xin + off + 1;
                float *w = yref + off, *g = ygot + off;
                memcpy(w, yinit, n * sizeof(float));
                memcpy(g, yinit, n * sizeof(float));
                guards_set(g, n);
                ref->f32_axpy(a, x, w, n);
                t->f32_axpy(a, x, g, n);
                for (size_t i = 0; i < n; i++) {
                    double tol = 1e-6 * (fabs(yinit[i]) + fabs(a * x[i])) + 1e-30;
                    if (!(fabs((double)g[i] - w[i]) <= tol) && bad++ < 3)
                        diag("%s axpy n=%zu off=%zu i=%zu: got %.9g want %.9g", t->isa_name,
                             n, off, i, g[i], w[i]);
                }
                if (!guards_ok(g, n) && bad++ < 3)
                    diag("%s axpy n=%zu off=%zu: wrote past n", t->isa_name, n, off);
            }
        }
        ok(!bad, "%s f32_axpy matches the reference", t->isa_name);
    }
}

/* Unary/binary kernels whose variants must match bit for bit; inplace: y
 * is also the first input. */
enum { K_SCALE, K_ADD, K_RELU };
static const char *const kname[] = { "f32_scale", "f32_add", "f32_relu" };

static void run(const pr_kernels_t *t, int k, const float *a, const float *b, float *y, size_t n)
{
    switch (k) {
    case K_SCALE: t->f32_scale(-1.37f, a, y, n); break;
    case K_ADD: t->f32_add(a, b, y, n); break;
    default: t->f32_relu(a, y, n); break;
    }
}

static void test_exact(const pr_kernels_t *ref, int k)
{
    KC_FOR_EACH_VARIANT(t) {
        int bad = 0;
        for (size_t s = 0; s < KC_NSIZES; s++) {
            for (size_t o = 0; o < KC_NOFFSETS; o++) {
                size_t n = kc_sizes[s], off = kc_offsets[o];
                const float *a = xin + off, *b = bin + off + 3;
                float *w = yref + off + 2, *g = ygot + off + 2;
                guards_set(g, n);
                run(ref, k, a, b, w, n);
                run(t, k, a, b, g, n);
                if (!same_bits(w, g, n) && bad++ < 3)
                    diag("%s %s n=%zu off=%zu differs", t->isa_name, kname[k], n, off);
                if (!guards_ok(g, n) && bad++ < 3)
                    diag("%s %s n=%zu off=%zu: wrote past n", t->isa_name, kname[k], n, off);
                /* In place: y is the first input. */
                memcpy(g, a, n * sizeof(float));
                run(t, k, g, b, g, n);
                if (!same_bits(w, g, n) && bad++ < 3)
                    diag("%s %s in place n=%zu off=%zu differs", t->isa_name, kname[k], n, off);
            }
        }
        ok(!bad, "%s %s matches the reference bit for bit (also in place)", t->isa_name,
           kname[k]);
    }
}

static void test_known(void)
{
    float x[7] = { 1, 2, 3, -4, 0.5f, 8, 1e30f }, y[7] = { 10, 20, 30, 40, 1, -16, 0 };
    float want_axpy[7] = { 12, 24, 36, 32, 2, 0, 2e30f };
    float r[7];
    ALLISA(t) {
        float yy[7];
        memcpy(yy, y, sizeof yy);
        t->f32_axpy(2.0f, x, yy, 7);
        ok(!memcmp(yy, want_axpy, sizeof yy), "%s axpy known values", t->isa_name);
        t->f32_axpy(2.0f, x, yy, 0);
        ok(!memcmp(yy, want_axpy, sizeof yy), "%s axpy n=0 touches nothing", t->isa_name);

        float want_scale[7] = { 0.5f, 1, 1.5f, -2, 0.25f, 4, 5e29f };
        t->f32_scale(0.5f, x, r, 7);
        ok(!memcmp(r, want_scale, sizeof r), "%s scale known values", t->isa_name);

        float want_add[7] = { 11, 22, 33, 36, 1.5f, -8, 1e30f };
        t->f32_add(x, y, r, 7);
        ok(!memcmp(r, want_add, sizeof r), "%s add known values", t->isa_name);

        float rx[9] = { -1, 0, 2, -0.0f, NAN, INFINITY, -INFINITY, 3e38f, -1e-45f };
        float want_relu[9] = { 0, 0, 2, 0, 0, INFINITY, 0, 3e38f, 0 };
        float rr[9];
        t->f32_relu(rx, rr, 9);
        /* memcmp: -0 and NaN inputs must give +0, not -0 or NaN. */
        ok(!memcmp(rr, want_relu, sizeof rr), "%s relu known values (NaN -> +0, -0 -> +0)",
           t->isa_name);
    }
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    size_t cap = (KC_MAXN + 8 + GUARD) * sizeof(float);
    xin = kc_alloc(cap);
    bin = kc_alloc(cap);
    yinit = kc_alloc(cap);
    yref = kc_alloc(cap);
    ygot = kc_alloc(cap);
    kc_fill_f32(xin, KC_MAXN + 8, -10, 10);
    kc_fill_f32(bin, KC_MAXN + 8, -10, 10);
    kc_fill_f32(yinit, KC_MAXN + 8, -10, 10);
    /* Make relu see exact zeros and negative zeros too. */
    for (size_t i = 0; i < KC_MAXN + 8; i += 37) {
        xin[i] = 0.0f;
        xin[i + 1] = -0.0f;
    }

    ok(ref && ref->f32_axpy && ref->f32_scale && ref->f32_add && ref->f32_relu,
       "scalar references present");
    test_known();
    test_axpy(ref);
    test_exact(ref, K_SCALE);
    test_exact(ref, K_ADD);
    test_exact(ref, K_RELU);

    free(xin);
    free(bin);
    free(yinit);
    free(yref);
    free(ygot);
    return exit_status();
}
