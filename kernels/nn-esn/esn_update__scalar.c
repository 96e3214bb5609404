/* nn-esn/esn_update__scalar.c - echo-state reservoir update, the reference:
 * sequential float sums (dense input part, then the CSR recurrent part, then
 * the bias) and libm's tanhf. */
#include "variants.h"

#include <math.h>

void pr_esn_update__scalar(float *x, size_t n, const float *u, size_t m, const float *w_in,
                           const int32_t *row_ptr, const int32_t *col, const float *val,
                           const float *b, float a, float *pre)
{
    /* All of pre first: the recurrent part reads the old state. */
    for (size_t i = 0; i < n; i++) {
        const float *wr = w_in + i * m;
        float s = 0.0f;
        for (size_t c = 0; c < m; c++)
            s += wr[c] * u[c];
        for (int32_t k = row_ptr[i]; k < row_ptr[i + 1]; k++)
            s += val[k] * x[col[k]];
        if (b)
            s += b[i];
        pre[i] = s;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = (1.0f - a) * x[i] + a * tanhf(pre[i]);
}
