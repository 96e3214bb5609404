/* f32-add/f32_add__scalar.c - y = a + b (y may be a or b: each element is
 * read before it is written); the reference. */
#include "variants.h"

void pr_f32_add__scalar(const float *a, const float *b, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = a[i] + b[i];
}
