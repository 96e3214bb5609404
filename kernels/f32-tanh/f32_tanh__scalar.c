/* f32-tanh/f32_tanh__scalar.c - y = tanh(x) (x == y allowed); the
 * reference, libm tanhf. */
#include "variants.h"

#include <math.h>

void pr_f32_tanh__scalar(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = tanhf(x[i]);
}
