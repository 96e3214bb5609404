/* test_f32_act.c - f32 tanh, sigmoid, exp and softmax: every variant against
 * the scalar reference (libm) at every size and offset, in place, with guard
 * zones; known values of every ISA (scalar included) and extreme inputs.
 * Tolerance: tanh, sigmoid, exp within 1e-6 relative (about 8 ulp: sleef u10
 * against libm, each within 1-2 ulp) plus 1e-38 absolute (subnormal
 * results); infinities and NaN must match exactly.  softmax within 2e-5
 * relative (the float sum over up to 4099 terms is reassociated) plus 1e-12. */
#include "kcheck.h"

#define GUARD 16
#define SENTINEL 12345.0f
#define ALLISA(t)                                                           \
    for (int ai_ = 0; ai_ < PR_ISA_COUNT; ai_++)                            \
        for (const pr_kernels_t *t = pr_kernels_for((pr_isa_t)ai_); t; t = NULL)

enum { K_TANH, K_SIGMOID, K_EXP, K_SOFTMAX, K_COUNT };
static const char *const kname[K_COUNT] = { "f32_tanh", "f32_sigmoid", "f32_exp", "f32_softmax" };

static pr_kt_f32_tanh *fn(const pr_kernels_t *t, int k)
{
    switch (k) {
    case K_TANH: return t->f32_tanh;
    case K_SIGMOID: return t->f32_sigmoid;
    case K_EXP: return t->f32_exp;
    default: return t->f32_softmax;
    }
}

static int close_to(float got, float want, double rel, double abs_tol)
{
    if (isnan(want))
        return isnan(got) != 0;
    if (isinf(want))
        return got == want;
    return fabs((double)got - want) <= rel * fabs(want) + abs_tol;
}

static void test_variants(const pr_kernels_t *ref, int k, const float *xin, float *yref,
                          float *ygot)
{
    double rel = k == K_SOFTMAX ? 2e-5 : 1e-6, abs_tol = k == K_SOFTMAX ? 1e-12 : 1e-38;
    KC_FOR_EACH_VARIANT(t) {
        int bad = 0;
        for (size_t s = 0; s < KC_NSIZES; s++) {
            for (size_t o = 0; o < KC_NOFFSETS; o++) {
                size_t n = kc_sizes[s], off = kc_offsets[o];
                const float *x = xin + off;
                float *w = yref + off + 1, *g = ygot + off + 1;
                for (size_t i = 0; i < GUARD; i++)
                    g[n + i] = SENTINEL;
                fn(ref, k)(x, w, n);
                fn(t, k)(x, g, n);
                for (size_t i = 0; i < n; i++)
                    if (!close_to(g[i], w[i], rel, abs_tol) && bad++ < 3)
                        diag("%s %s n=%zu off=%zu x[%zu]=%.9g: got %.9g want %.9g",
                             t->isa_name, kname[k], n, off, i, x[i], g[i], w[i]);
                for (size_t i = 0; i < GUARD; i++)
                    if (g[n + i] != SENTINEL && bad++ < 3)
                        diag("%s %s n=%zu off=%zu: wrote past n", t->isa_name, kname[k], n, off);
                /* In place must give what out of place gave. */
                float *ip = ygot + off + 1;
                memcpy(ip, x, n * sizeof(float));
                fn(t, k)(ip, ip, n);
                for (size_t i = 0; i < n; i++)
                    if (!close_to(ip[i], w[i], rel, abs_tol) && bad++ < 3)
                        diag("%s %s in place n=%zu off=%zu i=%zu: got %.9g want %.9g",
                             t->isa_name, kname[k], n, off, i, ip[i], w[i]);
            }
        }
        ok(!bad, "%s %s matches the reference at %zu sizes x %zu offsets (also in place)",
           t->isa_name, kname[k], KC_NSIZES, KC_NOFFSETS);
    }
}

/* Known values through every ISA, scalar first: want[] from double math by
 * hand (NaN / inf exact).  Run at a few lengths so the value lands in the
 * vector body and in the tail. */
static void known(const pr_kernels_t *t, int k, const float *x, const float *want, size_t n,
                  const char *what)
{
    float y[40];
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        y[i] = SENTINEL;
    y[n] = SENTINEL;
    fn(t, k)(x, y, n);
    for (size_t i = 0; i < n; i++)
        if (!close_to(y[i], want[i], 1e-6, 1e-38) && bad++ < 3)
            diag("%s %s x=%.9g: got %.9g want %.9g", t->isa_name, kname[k], x[i], y[i], want[i]);
    ok(!bad && y[n] == SENTINEL, "%s %s: %s", t->isa_name, kname[k], what);
}

static void test_known(void)
{
    static const float tx[] = { 0, 0.5f, -0.5f, 1, 2, -3, 9, 20, -20, 1e4f, -1e4f, INFINITY,
                                -INFINITY, NAN, 1e-20f, -1e-3f, 0.25f };
    static const float tw[] = { 0, 0.46211715726f, -0.46211715726f, 0.76159415596f,
                                0.96402758007f, -0.99505475368f, 0.99999997f, 1, -1, 1, -1, 1,
                                -1, NAN, 1e-20f, -0.00099999967f, 0.24491866240f };
    static const float ex[] = { 0, 1, -1, 2, 10, -10, 88, 88.8f, 100, 1e4f, -87, -104, -200,
                                -1e4f, INFINITY, -INFINITY, NAN };
    static const float ew[] = { 1, 2.7182818285f, 0.36787944117f, 7.3890560989f, 22026.465795f,
                                4.5399929762e-05f, 1.6516362549e38f, INFINITY, INFINITY, INFINITY,
                                1.6458114369e-38f, 0, 0, 0, INFINITY, 0, NAN };
    static const float sx[] = { 0, 1, -1, 2, -2, 10, -10, 50, -50, 100, -100, 1e4f, -1e4f,
                                INFINITY, -INFINITY, NAN };
    static const float sw[] = { 0.5f, 0.73105857863f, 0.26894142137f, 0.88079707798f,
                                0.11920292202f, 0.99995460213f, 4.5397868702e-05f, 1,
                                1.9287498479e-22f, 1, 3.7200759760e-44f, 1, 0, 1, 0, NAN };
    size_t nt = sizeof tx / sizeof tx[0], ne = sizeof ex / sizeof ex[0];
    size_t ns = sizeof sx / sizeof sx[0];
    ALLISA(t) {
        known(t, K_TANH, tx, tw, nt, "hand-computed values, +-inf, NaN");
        known(t, K_TANH, tx, tw, 3, "the same at n = 3");
        known(t, K_EXP, ex, ew, ne, "hand-computed values, overflow to inf, underflow to 0, NaN");
        known(t, K_EXP, ex, ew, 7, "the same at n = 7");
        known(t, K_SIGMOID, sx, sw, ns, "hand-computed values, +-1e4 and +-inf saturate, NaN");
        known(t, K_SIGMOID, sx, sw, 9, "the same at n = 9");
    }
}

/* Softmax's own checks, every ISA. */
static void test_softmax_edges(void)
{
    ALLISA(t) {
        float y[40], x[40];
        /* n == 0 does nothing (and reads nothing). */
        y[0] = SENTINEL;
        t->f32_softmax(NULL, y, 0);
        ok(y[0] == SENTINEL, "%s softmax n=0 writes nothing", t->isa_name);

        x[0] = -7.5f;
        t->f32_softmax(x, y, 1);
        ok(y[0] == 1.0f, "%s softmax of one element is 1", t->isa_name);

        /* Large inputs: naive exp(1e4) overflows; max-subtracted it is exact. */
        float lx[3] = { 1e4f, 1e4f - 1, -1e4f };
        const double e1 = exp(-1.0);
        t->f32_softmax(lx, y, 3);
        ok(fabs(y[0] - 1 / (1 + e1)) < 1e-6 && fabs(y[1] - e1 / (1 + e1)) < 1e-6 && y[2] == 0,
           "%s softmax [1e4, 1e4-1, -1e4] = [0.731, 0.269, 0]", t->isa_name);

        for (int i = 0; i < 37; i++)
            x[i] = 3e4f;
        t->f32_softmax(x, y, 37);
        int uni = 1;
        for (int i = 0; i < 37; i++)
            uni &= fabs(y[i] - 1.0 / 37) < 1e-7;
        ok(uni, "%s softmax of 37 equal values of 3e4 is uniform", t->isa_name);

        /* Hand value: [0, ln 2, ln 3] -> [1, 2, 3] / 6. */
        float hx[3] = { 0, 0.69314718056f, 1.09861228867f };
        t->f32_softmax(hx, y, 3);
        ok(fabs(y[0] - 1 / 6.0) < 1e-6 && fabs(y[1] - 2 / 6.0) < 1e-6 &&
               fabs(y[2] - 3 / 6.0) < 1e-6,
           "%s softmax [0, ln2, ln3] = [1/6, 2/6, 3/6]", t->isa_name);

        /* NaN anywhere (first, body, tail) makes every output NaN. */
        static const size_t at[] = { 0, 5, 19, 36 };
        int allnan = 1;
        for (size_t a = 0; a < 4; a++) {
            for (int i = 0; i < 37; i++)
                x[i] = (float)i * 0.1f;
            x[at[a]] = NAN;
            t->f32_softmax(x, y, 37);
            for (int i = 0; i < 37; i++)
                allnan &= isnan(y[i]) != 0;
        }
        ok(allnan, "%s softmax: a NaN input makes every output NaN", t->isa_name);
    }
}

static void test_softmax_sums(const float *xin, float *y)
{
    const pr_kernels_t *t = pr_kernels();
    int bad = 0;
    for (size_t s = 1; s < KC_NSIZES; s++) {
        size_t n = kc_sizes[s];
        double sum = 0;
        t->f32_softmax(xin, y, n);
        for (size_t i = 0; i < n; i++)
            sum += y[i];
        if (!(fabs(sum - 1) < 1e-5) && bad++ < 3)
            diag("%s softmax n=%zu sums to %.9g", t->isa_name, n, sum);
    }
    ok(!bad, "active variant (%s): softmax sums to 1 at every size", t->isa_name);
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    size_t cap = (KC_MAXN + 8 + GUARD) * sizeof(float);
    float *x = kc_alloc(cap), *wide = kc_alloc(cap), *yref = kc_alloc(cap),
          *ygot = kc_alloc(cap);

    kc_fill_f32(x, KC_MAXN + 8, -10, 10);
    /* exp and sigmoid also over and under their float range. */
    kc_fill_f32(wide, KC_MAXN + 8, -120, 120);
    ok(ref && ref->f32_tanh && ref->f32_sigmoid && ref->f32_exp && ref->f32_softmax,
       "scalar references present");

    test_known();
    test_softmax_edges();
    test_variants(ref, K_TANH, x, yref, ygot);
    test_variants(ref, K_SIGMOID, wide, yref, ygot);
    test_variants(ref, K_EXP, wide, yref, ygot);
    test_variants(ref, K_SOFTMAX, x, yref, ygot);
    test_softmax_sums(x, yref);

    free(x);
    free(wide);
    free(yref);
    free(ygot);
    return exit_status();
}
