/* list_sig.h - f32 signals: FIR filter, gain, mix.  Part of list.h: X(name, return type, (params)) and
 * V(name, isa) entries.
 *
 * sig_fir(x, n, taps, ntaps, y): 'valid' convolution (correlation order),
 *   y[i] = sum_k taps[k] * x[i + k] for i = 0 .. n - ntaps, i.e. n - ntaps + 1
 *   outputs; nothing is written when ntaps == 0 or n < ntaps.  A streaming
 *   caller keeps history by prepending the last ntaps - 1 input samples of
 *   the previous block.  For the usual convolution pass the taps reversed.
 * sig_gain(x, g, y, n): y[i] = g * x[i]; y may be x (in place).
 * sig_mix(a, ga, b, gb, y, n): y[i] = ga * a[i] + gb * b[i]; y may be a or b.
 *   Variants may fuse the multiply-add (tests allow for it). */
#ifndef PR_KERNELS_LIST_SIG_H
#define PR_KERNELS_LIST_SIG_H

#define PR_KERNELS_SIG(X) \
    X(sig_fir, void, (const float *x, size_t n, const float *taps, size_t ntaps, float *y)) \
    X(sig_gain, void, (const float *x, float g, float *y, size_t n)) \
    X(sig_mix, void, (const float *a, float ga, const float *b, float gb, float *y, size_t n))

#define PR_VARIANTS_SIG(V) \
    V(sig_fir, scalar) V(sig_fir, sse4) V(sig_fir, avx2) V(sig_fir, avx512) V(sig_fir, neon) \
    V(sig_gain, scalar) V(sig_gain, sse4) V(sig_gain, avx2) V(sig_gain, avx512) V(sig_gain, neon) \
    V(sig_mix, scalar) V(sig_mix, sse4) V(sig_mix, avx2) V(sig_mix, avx512) V(sig_mix, neon)

#endif
