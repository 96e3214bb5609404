/* sig-fir/sig_fir__scalar.c - FIR filter, the reference: 'valid' output,
 * each output a sequential float sum over the taps. */
#include "variants.h"

void pr_sig_fir__scalar(const float *x, size_t n, const float *taps, size_t ntaps, float *y)
{
    if (ntaps == 0 || n < ntaps)
        return;
    for (size_t i = 0; i + ntaps <= n; i++) {
        float s = 0.0f;
        for (size_t k = 0; k < ntaps; k++)
            s += taps[k] * x[i + k];
        y[i] = s;
    }
}
