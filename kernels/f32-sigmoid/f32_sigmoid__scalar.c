/* f32-sigmoid/f32_sigmoid__scalar.c - y = 1/(1 + exp(-x)) (x == y allowed);
 * stable for large |x|: exp(-x) overflowing to +inf gives 0, underflowing
 * to 0 gives 1; the reference, libm expf and a division. */
#include "variants.h"

#include <math.h>

void pr_f32_sigmoid__scalar(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + expf(-x[i]));
}
