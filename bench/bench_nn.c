/* bench_nn.c - int8 and small-model kernels at the sizes, hot
 * caches: ns per call of the scalar reference and of the best variant here
 * (their ratio, best / scalar), and the best variant's GFLOP/s (GOP/s for
 * int8) or GB/s.  The int8 GEMV is also compared with a plain f32 GEMV of the
 * same shape compiled here (the scalar -O2 baseline of the goal).
 * Each figure is the best of 5 runs of ~20 ms. */
#include "kernels.h"
#include "bench.h"

#include <string.h>

/* Int8 GEMV: 100 outputs of 384 inputs (the MLP's first layer). */
#define GR 100
#define GC 384
/* ESN: 1000 units, 384 inputs, 10% recurrent density. */
#define EN 1000
#define EM 384
/* LIF: 1024 neurons, 1024 inputs, 5% of them spiking. */
#define LN 1024
#define LM 1024

static float *gw, *gx, *gy, *gscale, *gbias;
static int8_t *gq, *gxq;
static float *ex, *eu, *ewin, *eval, *eb, *epre;
static int32_t *erp, *ecol;
static float *lv, *lw, *lval;
static int32_t *lrefr, *lrp, *lidx;
static uint8_t *lspk, *lout;
static size_t enz, lnz;
static const pr_kernels_t *cur;

enum { GEMV_Q8, QUANT, ESN, LIF_IDLE, LIF_DENSE, LIF_CSR, GEMV_F32, NWORK };
static const struct {
    const char *name, *unit;
    double work; /* flops / int ops or bytes per call, filled in main */
} info0[NWORK] = {
    [GEMV_Q8] = { "q8.gemv.384x100", "GOP/s", 0 },
    [QUANT] = { "q8.quantize.100x384", "GB/s", 0 },
    [ESN] = { "nn.esn.1000x384.d10", "GFLOP/s", 0 },
    [LIF_IDLE] = { "nn.lif.1024.noinput", "GB/s", 0 },
    [LIF_DENSE] = { "nn.lif.1024x1024.spk5", "GB/s", 0 },
    [LIF_CSR] = { "nn.lif_csr.1024x1024.d5.spk5", "GB/s", 0 },
    [GEMV_F32] = { "f32.gemv_local.384x100", "GFLOP/s", 0 },
};

/* The f32 baseline the int8 goal is stated against: row dot products. */
static void gemv_f32(const float *w, const float *x, const float *b, float *y, size_t r, size_t c)
{
    for (size_t i = 0; i < r; i++) {
        float s = 0;
        for (size_t j = 0; j < c; j++)
            s += w[i * c + j] * x[j];
        y[i] = s + b[i];
    }
}

static void call(void *ctx)
{
    int k = *(const int *)ctx;

    switch (k) {
    case GEMV_Q8:
        cur->q8_gemv(gq, gscale, GR, GC, gxq, 0.01f, gbias, gy);
        break;
    case QUANT:
        cur->q8_quantize(gw, GR, GC, gq, gscale);
        break;
    case ESN:
        cur->esn_update(ex, EN, eu, EM, ewin, erp, ecol, eval, eb, 0.3f, epre);
        break;
    case LIF_IDLE:
        cur->lif_step(LN, lv, lrefr, NULL, 0, NULL, 0.95f, 1.0f, 0.0f, 3, lout);
        break;
    case LIF_DENSE:
        cur->lif_step(LN, lv, lrefr, lspk, LM, lw, 0.95f, 1.0f, 0.0f, 3, lout);
        break;
    case LIF_CSR:
        cur->lif_step_csr(LN, lv, lrefr, lspk, LM, lrp, lidx, lval, 0.95f, 1.0f, 0.0f, 3, lout);
        break;
    case GEMV_F32:
        gemv_f32(gw, gx, gbias, gy, GR, GC);
        break;
    }
    bench_keep(gy);
    bench_keep(ex);
    bench_keep(lv);
}

static uint32_t seed = 12345;
static float rnd(float lo, float hi)
{
    seed = seed * 1103515245u + 12345u;
    return lo + (hi - lo) * (float)(seed >> 8) * (1.0f / 16777216.0f);
}

static void *xalloc(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "bench_nn: out of memory\n");
        exit(1);
    }
    return p;
}

int main(void)
{
    const pr_kernels_t *ref = pr_kernels_for(PR_ISA_SCALAR);
    const pr_kernels_t *best = pr_kernels_for(pr_isa_best());
    double work[NWORK];
    char gname[96];

    gw = xalloc(GR * GC * 4), gx = xalloc(GC * 4), gy = xalloc(GR * 4);
    gscale = xalloc(GR * 4), gbias = xalloc(GR * 4), gq = xalloc(GR * GC), gxq = xalloc(GC);
    for (size_t i = 0; i < GR * GC; i++)
        gw[i] = rnd(-1, 1);
    for (size_t i = 0; i < GC; i++)
        gx[i] = rnd(-1, 1);
    for (size_t i = 0; i < GR; i++)
        gbias[i] = rnd(-1, 1);
    float xs;
    ref->q8_quantize(gw, GR, GC, gq, gscale);
    ref->q8_quantize(gx, 1, GC, gxq, &xs);

    ex = xalloc(EN * 4), eu = xalloc(EM * 4), ewin = xalloc((size_t)EN * EM * 4);
    eb = xalloc(EN * 4), epre = xalloc(EN * 4), erp = xalloc((EN + 1) * 4);
    eval = xalloc((size_t)EN * EN * 4 / 8), ecol = xalloc((size_t)EN * EN * 4 / 8);
    for (size_t i = 0; i < (size_t)EN * EM; i++)
        ewin[i] = rnd(-0.1f, 0.1f);
    for (size_t i = 0; i < EM; i++)
        eu[i] = rnd(-1, 1);
    for (size_t i = 0; i < EN; i++) {
        ex[i] = rnd(-1, 1);
        eb[i] = rnd(-0.1f, 0.1f);
        erp[i] = (int32_t)enz;
        for (size_t c = 0; c < EN; c++)
            if (rnd(0, 1) < 0.1f) {
                ecol[enz] = (int32_t)c;
                eval[enz++] = rnd(-0.1f, 0.1f);
            }
    }
    erp[EN] = (int32_t)enz;

    lv = xalloc(LN * 4), lw = xalloc((size_t)LM * LN * 4), lrefr = xalloc(LN * 4);
    lspk = xalloc(LM), lout = xalloc(LN), lrp = xalloc((LM + 1) * 4);
    lval = xalloc((size_t)LM * LN * 4 / 16), lidx = xalloc((size_t)LM * LN * 4 / 16);
    size_t nspk = 0;
    for (size_t i = 0; i < LN; i++) {
        lv[i] = rnd(0, 1);
        lrefr[i] = 0;
    }
    for (size_t i = 0; i < (size_t)LM * LN; i++)
        lw[i] = rnd(-0.02f, 0.05f);
    for (size_t j = 0; j < LM; j++) {
        lspk[j] = rnd(0, 1) < 0.05f;
        nspk += lspk[j];
        lrp[j] = (int32_t)lnz;
        for (size_t i = 0; i < LN; i++)
            if (rnd(0, 1) < 0.05f) {
                lidx[lnz] = (int32_t)i;
                lval[lnz++] = rnd(-0.02f, 0.05f);
            }
    }
    lrp[LM] = (int32_t)lnz;
    size_t csr_touched = 0;
    for (size_t j = 0; j < LM; j++)
        if (lspk[j])
            csr_touched += (size_t)(lrp[j + 1] - lrp[j]);

    work[GEMV_Q8] = 2.0 * GR * GC;
    work[QUANT] = 4.0 * GR * GC + GR * GC; /* f32 read once, codes written */
    work[ESN] = 2.0 * ((double)EN * EM + (double)enz) + 4.0 * EN;
    work[LIF_IDLE] = LN * (4.0 + 4.0 + 1.0) * 2; /* v, refr read+written, spikes */
    work[LIF_DENSE] = 4.0 * (double)nspk * LN + LM + LN * 18.0;
    work[LIF_CSR] = 8.0 * (double)csr_touched + LM + LN * 18.0;
    work[GEMV_F32] = 2.0 * GR * GC;

    printf("(best variant here: %s; ratios are ns / scalar ns; ESN nnz %zu, LIF inputs "
           "spiking %zu, CSR nnz %zu)\n", best->isa_name, enz, nspk, lnz);
    int kf = GEMV_F32;
    double f32_ns = bench_time(call, &kf);
    snprintf(gname, sizeof gname, "%s.scalar", info0[GEMV_F32].name);
    bench_report(gname, f32_ns, "ns", NULL, 0);
    for (int k = 0; k < GEMV_F32; k++) {
        double ns_best = bench_isas(info0[k].name, &cur, call, &k);
        if (k == GEMV_Q8) {
            snprintf(gname, sizeof gname, "%s.scalar", info0[GEMV_F32].name);
            bench_report("q8.gemv.384x100.best.vs_f32", ns_best, "ns", gname, ns_best / f32_ns);
        }
        snprintf(gname, sizeof gname, "%s.best.%s", info0[k].name,
                 info0[k].unit[1] == 'B' ? "gbps" : "gflops");
        bench_report(gname, work[k] / ns_best, info0[k].unit, NULL, 0);
    }
    return 0;
}
