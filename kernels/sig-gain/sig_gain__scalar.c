/* sig-gain/sig_gain__scalar.c - gain, the reference: y = g * x (in place allowed). */
#include "variants.h"

void pr_sig_gain__scalar(const float *x, float g, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = g * x[i];
}
