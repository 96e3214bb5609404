/* f32-axpy/f32_axpy__scalar.c - y += a*x, the reference: one multiply and one
 * add per element (no FMA), in order. */
#include "variants.h"

void pr_f32_axpy__scalar(float a, const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}
