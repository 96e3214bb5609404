/* bench_f32.c - f32 vector-math kernels at the sizes, hot caches: ns
 * per call of the scalar reference, of each other variant this CPU runs and
 * of the best one (ratio = ns / scalar ns), and the best variant's GFLOP/s
 * (dot, axpy, GEMV: 2 flops per multiply-add) or GB/s (element-wise and
 * softmax: 4 bytes read + 4 written per element).  Each figure is the best
 * of 5 runs of ~10 ms.  GEMV RxC: R rows (outputs) x C columns (inputs), so
 * 100x384 is the MLP's 384->100 layer. */
#define BENCH_TARGET_NS 10000000ull
#include "kernels.h"
#include "bench.h"

#include <string.h>

#define MAXN 4096

static float *xa, *xb, *ya, *wm, *bias;
static const pr_kernels_t *cur;

enum { DOT, AXPY, GEMV, TANH, EXP, SIGMOID, SOFTMAX };
static const struct {
    const char *name;
    int kind;
    size_t n, rows; /* rows only for GEMV: n is then the column count */
} cases[] = {
    { "f32.dot.384", DOT, 384, 0 },
    { "f32.dot.4096", DOT, 4096, 0 },
    { "f32.axpy.384", AXPY, 384, 0 },
    { "f32.axpy.4096", AXPY, 4096, 0 },
    { "f32.gemv_bias.100x384", GEMV, 384, 100 },
    { "f32.gemv_bias.384x100", GEMV, 100, 384 },
    { "f32.tanh.1000", TANH, 1000, 0 },
    { "f32.exp.1000", EXP, 1000, 0 },
    { "f32.sigmoid.1000", SIGMOID, 1000, 0 },
    { "f32.softmax.1000", SOFTMAX, 1000, 0 },
};
#define NCASES (sizeof cases / sizeof cases[0])

static void call(void *ctx)
{
    size_t c = *(const size_t *)ctx;
    size_t n = cases[c].n;
    switch (cases[c].kind) {
    case DOT:
        bench_keep(cur->f32_dot(xa, xb, n));
        break;
    case AXPY:
        /* a tiny a keeps y bounded over millions of calls */
        cur->f32_axpy(1e-7f, xa, ya, n);
        break;
    case GEMV:
        cur->f32_gemv_bias(wm, xa, bias, ya, cases[c].rows, n);
        break;
    case TANH:
        cur->f32_tanh(xa, ya, n);
        break;
    case EXP:
        cur->f32_exp(xa, ya, n);
        break;
    case SIGMOID:
        cur->f32_sigmoid(xa, ya, n);
        break;
    case SOFTMAX:
        cur->f32_softmax(xa, ya, n);
        break;
    }
    bench_keep(ya);
}

int main(void)
{
    const pr_kernels_t *best = pr_kernels_for(pr_isa_best());
    char gname[96];

    xa = aligned_alloc(64, MAXN * sizeof(float));
    xb = aligned_alloc(64, MAXN * sizeof(float));
    ya = aligned_alloc(64, MAXN * sizeof(float));
    wm = aligned_alloc(64, 384 * 100 * sizeof(float));
    bias = aligned_alloc(64, 384 * sizeof(float));
    if (!xa || !xb || !ya || !wm || !bias)
        return 1;
    uint32_t s = 12345;
    for (size_t i = 0; i < 384 * 100; i++) {
        s = s * 1103515245u + 12345u;
        float v = (float)(s >> 8) * (1.0f / 16777216.0f) * 2.0f - 1.0f; /* [-1, 1) */
        wm[i] = v * 0.1f;
        if (i < MAXN) {
            xa[i] = v * 4.0f; /* tanh, exp, sigmoid over their interesting range */
            xb[i] = -v;
            ya[i] = v;
        }
        if (i < 384)
            bias[i] = v;
    }

    printf("(best variant here: %s; ratios are ns / scalar ns)\n", best->isa_name);
    for (size_t c = 0; c < NCASES; c++) {
        double ns_best = bench_isas(cases[c].name, &cur, call, &c);
        size_t n = cases[c].n;
        switch (cases[c].kind) {
        case DOT:
        case AXPY:
            snprintf(gname, sizeof gname, "%s.best.gflops", cases[c].name);
            bench_report(gname, 2.0 * (double)n / ns_best, "GFLOP/s", NULL, 0);
            break;
        case GEMV:
            snprintf(gname, sizeof gname, "%s.best.gflops", cases[c].name);
            bench_report(gname, 2.0 * (double)n * (double)cases[c].rows / ns_best, "GFLOP/s",
                         NULL, 0);
            break;
        default:
            snprintf(gname, sizeof gname, "%s.best.gbps", cases[c].name);
            bench_report(gname, 8.0 * (double)n / ns_best, "GB/s", NULL, 0);
            break;
        }
    }
    free(xa);
    free(xb);
    free(ya);
    free(wm);
    free(bias);
    return 0;
}
