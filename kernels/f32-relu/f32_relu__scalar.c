/* f32-relu/f32_relu__scalar.c - y = max(x, 0); NaN gives +0 and -0 gives +0
 * in every variant (x == y allowed); the reference. */
#include "variants.h"

void pr_f32_relu__scalar(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
