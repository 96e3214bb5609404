/* sig-mix/sig_mix__scalar.c - mix of two signals, the reference:
 * y = ga * a + gb * b (y may be a or b). */
#include "variants.h"

void pr_sig_mix__scalar(const float *a, float ga, const float *b, float gb, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = ga * a[i] + gb * b[i];
}
