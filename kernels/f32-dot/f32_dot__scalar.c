/* f32-dot/f32_dot__scalar.c - dot product, the reference: sequential float sums. */
#include "variants.h"

float pr_f32_dot__scalar(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}
