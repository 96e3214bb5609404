/* q8-gemv/q8_gemv__scalar.c - int8 x int8 GEMV with int32 sums and per-row
 * scale, the reference. */
#include "variants.h"

void pr_q8_gemv__scalar(const int8_t *q, const float *scale, size_t rows, size_t cols,
                        const int8_t *x, float xscale, const float *bias, float *y)
{
    for (size_t r = 0; r < rows; r++, q += cols) {
        int32_t acc = 0;
        for (size_t c = 0; c < cols; c++)
            acc += (int32_t)q[c] * x[c];
        /* The same two roundings in every variant: scale product, then
         * the product with the sum, then the bias. */
        float yr = (float)acc * (scale[r] * xscale);
        if (bias)
            yr += bias[r];
        y[r] = yr;
    }
}
