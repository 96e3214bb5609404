/* f32-gemv/f32_gemv_bias__scalar.c - y = W x + bias (W row-major rows x cols,
 * bias may be NULL), the reference: one sequential float sum per row. */
#include "variants.h"

void pr_f32_gemv_bias__scalar(const float *w, const float *x, const float *bias, float *y,
                              size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        const float *wr = w + r * cols;
        float s = 0.0f;
        for (size_t c = 0; c < cols; c++)
            s += wr[c] * x[c];
        y[r] = bias ? s + bias[r] : s;
    }
}
