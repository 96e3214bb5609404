/* bench_roofline.c - this machine's ceilings, measured in the same run as
 * the kernels so their figures can be read as a fraction of what the core
 * can do: single-core FMA peak (GFLOP/s) and read bandwidth from L1 and L2
 * (GB/s), with the widest vectors the CPU has. */
#include "bench.h"
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

#define ITERS 20000000L

#if defined(__x86_64__)
#include <immintrin.h>

/* Independent FMA chains in named registers (an array may live on the
 * stack): enough of them to hide the FMA latency on 2 ports. */
#define CHAINS(F) F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9)
__attribute__((target("avx512f"))) static double fma_avx512(long iters)
{
    __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 a##i = _mm512_set1_ps((float)i);
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, m, c);
#define SUM(i) s = _mm512_add_ps(s, a##i);
    CHAINS(DECL)
    for (long k = 0; k < iters; k++) {
        CHAINS(STEP)
    }
    __m512 s = _mm512_setzero_ps();
    CHAINS(SUM)
    bench_keep(_mm512_reduce_add_ps(s));
    return (double)iters * 10 * 16 * 2;
#undef DECL
#undef STEP
#undef SUM
}

__attribute__((target("avx2,fma"))) static double fma_avx2(long iters)
{
    __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 a##i = _mm256_set1_ps((float)i);
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, m, c);
#define SUM(i) s = _mm256_add_ps(s, a##i);
    CHAINS(DECL)
    for (long k = 0; k < iters; k++) {
        CHAINS(STEP)
    }
    __m256 s = _mm256_setzero_ps();
    CHAINS(SUM)
    float buf[8];
    _mm256_storeu_ps(buf, s);
    bench_keep(buf[0]);
    return (double)iters * 10 * 8 * 2;
#undef DECL
#undef STEP
#undef SUM
}

/* Read bandwidth: sum a buffer that fits the cache level, many times. */
__attribute__((target("avx2"))) static double read_avx2(const float *p, size_t n, long reps)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (long r = 0; r < reps; r++)
        for (size_t i = 0; i + 32 <= n; i += 32) {
            s0 = _mm256_add_ps(s0, _mm256_load_ps(p + i));
            s1 = _mm256_add_ps(s1, _mm256_load_ps(p + i + 8));
            s2 = _mm256_add_ps(s2, _mm256_load_ps(p + i + 16));
            s3 = _mm256_add_ps(s3, _mm256_load_ps(p + i + 24));
        }
    float buf[8];
    _mm256_storeu_ps(buf, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    bench_keep(buf[0]);
    return (double)reps * (double)n * 4;
}
#elif defined(__aarch64__)
#include <arm_neon.h>

static double fma_neon(long iters)
{
    float32x4_t a[8], m = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-7f);
    for (int i = 0; i < 8; i++)
        a[i] = vdupq_n_f32((float)i);
    for (long k = 0; k < iters; k++)
        for (int i = 0; i < 8; i++)
            a[i] = vfmaq_f32(c, a[i], m);
    float s = 0;
    for (int i = 0; i < 8; i++)
        s += vaddvq_f32(a[i]);
    bench_keep(s);
    return (double)iters * 8 * 4 * 2;
}

static double read_neon(const float *p, size_t n, long reps)
{
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
    for (long r = 0; r < reps; r++)
        for (size_t i = 0; i + 16 <= n; i += 16) {
            s0 = vaddq_f32(s0, vld1q_f32(p + i));
            s1 = vaddq_f32(s1, vld1q_f32(p + i + 4));
            s2 = vaddq_f32(s2, vld1q_f32(p + i + 8));
            s3 = vaddq_f32(s3, vld1q_f32(p + i + 12));
        }
    bench_keep(vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))));
    return (double)reps * (double)n * 4;
}
#endif

static double read_bw(const float *p, size_t n, long reps)
{
#if defined(__x86_64__)
    return read_avx2(p, n, reps);
#elif defined(__aarch64__)
    return read_neon(p, n, reps);
#else
    float s = 0;
    for (long r = 0; r < reps; r++)
        for (size_t i = 0; i < n; i++)
            s += p[i];
    bench_keep(s);
    return (double)reps * (double)n * 4;
#endif
}

int main(void)
{
    pr_isa_t isa = pr_isa_best();
    double flops = 0, best = 0;
    uint64_t t0, t1;
    float *buf = aligned_alloc(64, 512 * 1024);

    if (!buf)
        return 1;
    for (size_t i = 0; i < 512 * 1024 / 4; i++)
        buf[i] = (float)(i & 7);

    /* Best of 3: the ceiling is the fastest run. */
    for (int r = 0; r < 3; r++) {
        t0 = bench_ns();
#if defined(__x86_64__)
        flops = isa == PR_ISA_AVX512 ? fma_avx512(ITERS / 4) : fma_avx2(ITERS / 4);
#elif defined(__aarch64__)
        flops = fma_neon(ITERS / 4);
#endif
        t1 = bench_ns();
        if (flops / (double)(t1 - t0) > best)
            best = flops / (double)(t1 - t0);
    }
    bench_report("roof.fma_peak.1core", best, "GFLOP/s", NULL, 0);

    const struct { const char *name; size_t bytes; long reps; } lv[] = {
        { "roof.read.l1", 16 * 1024, 100000 },
        { "roof.read.l2", 512 * 1024, 3000 },
    };
    for (size_t k = 0; k < 2; k++) {
        best = 0;
        for (int r = 0; r < 3; r++) {
            t0 = bench_ns();
            double bytes = read_bw(buf, lv[k].bytes / 4, lv[k].reps);
            t1 = bench_ns();
            if (bytes / (double)(t1 - t0) > best)
                best = bytes / (double)(t1 - t0);
        }
        bench_report(lv[k].name, best, "GB/s", NULL, 0);
    }
    printf("(isa for the probes: %s)\n", pr_isa_name(isa));
    free(buf);
    return 0;
}
