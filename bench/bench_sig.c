/* bench_sig.c - f32 signal kernels, hot caches: FIR with 64 taps over 4096
 * samples (GFLOP/s: 2 flops per tap per output), gain and mix of 4096
 * samples (GB/s: bytes read + written).  ns per call of the scalar reference
 * and of the best variant here, with their ratio (best / scalar); each
 * figure is the best of 5 runs of ~20 ms. */
#include "kernels.h"
#include "bench.h"

#define N 4096
#define NTAPS 64

static float *x, *x2, *taps, *y;
static const pr_kernels_t *cur;

enum { FIR, GAIN, MIX, NKERNELS };
static const struct {
    const char *name, *unit, *suffix;
    double work; /* flops (FIR) or bytes per call */
} kinfo[NKERNELS] = {
    [FIR] = { "sig.fir.4096x64", "GFLOP/s", "gflops", 2.0 * NTAPS * (N - NTAPS + 1) },
    [GAIN] = { "sig.gain.4096", "GB/s", "gbps", 8.0 * N },
    [MIX] = { "sig.mix.4096", "GB/s", "gbps", 12.0 * N },
};

static void call(void *ctx)
{
    int k = *(const int *)ctx;

    switch (k) {
    case FIR:
        cur->sig_fir(x, N, taps, NTAPS, y);
        break;
    case GAIN:
        cur->sig_gain(x, 0.5f, y, N);
        break;
    case MIX:
        cur->sig_mix(x, 0.5f, x2, 0.25f, y, N);
        break;
    }
    bench_keep(y);
}

int main(void)
{
    const pr_kernels_t *best = pr_kernels_for(pr_isa_best());
    char gname[96];

    x = aligned_alloc(64, N * sizeof(float));
    x2 = aligned_alloc(64, N * sizeof(float));
    taps = aligned_alloc(64, NTAPS * sizeof(float));
    y = aligned_alloc(64, N * sizeof(float));
    if (!x || !x2 || !taps || !y)
        return 1;
    for (size_t i = 0; i < N; i++) {
        x[i] = (float)((i * 7919u) % 1000u) / 500.0f - 1.0f;
        x2[i] = (float)((i * 104729u) % 1000u) / 500.0f - 1.0f;
    }
    for (size_t k = 0; k < NTAPS; k++)
        taps[k] = 1.0f / NTAPS;

    printf("(best variant here: %s; ratios are ns / scalar ns)\n", best->isa_name);
    for (int k = 0; k < NKERNELS; k++) {
        double ns_best = bench_isas(kinfo[k].name, &cur, call, &k);
        snprintf(gname, sizeof gname, "%s.best.%s", kinfo[k].name, kinfo[k].suffix);
        bench_report(gname, kinfo[k].work / ns_best, kinfo[k].unit, NULL, 0);
    }
    free(x);
    free(x2);
    free(taps);
    free(y);
    return 0;
}
