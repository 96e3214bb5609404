/* f32-scale/f32_scale__scalar.c - y = a*x (x == y allowed: each element is
 * read before it is written); the reference. */
#include "variants.h"

void pr_f32_scale__scalar(float a, const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = a * x[i];
}
