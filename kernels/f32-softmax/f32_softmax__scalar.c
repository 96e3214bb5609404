/* f32-softmax/f32_softmax__scalar.c - y = exp(x - max x) / sum, the reference:
 * subtracting the maximum keeps every exp in (0, 1], so inputs of 1e4 do not
 * overflow.  x == y allowed; n == 0 does nothing; a NaN anywhere in x makes
 * every output NaN (the sum is NaN). */
#include "variants.h"

#include <math.h>

void pr_f32_softmax__scalar(const float *x, float *y, size_t n)
{
    if (n == 0)
        return;
    float m = x[0];
    for (size_t i = 1; i < n; i++)
        if (x[i] > m)
            m = x[i];
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float e = expf(x[i] - m);
        y[i] = e;
        s += e;
    }
    for (size_t i = 0; i < n; i++)
        y[i] /= s;
}
