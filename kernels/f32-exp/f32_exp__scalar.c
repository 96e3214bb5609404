/* f32-exp/f32_exp__scalar.c - y = exp(x) (x == y allowed); overflows to
 * +inf above ~88.72, underflows to 0; the reference, libm expf. */
#include "variants.h"

#include <math.h>

void pr_f32_exp__scalar(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = expf(x[i]);
}
