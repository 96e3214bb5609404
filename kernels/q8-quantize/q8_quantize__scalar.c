/* q8-quantize/q8_quantize__scalar.c - symmetric per-row int8 quantization, the
 * reference: scale = max|w| / 127, q = w / scale rounded half-to-even. */
#include "variants.h"

#include <math.h>
#include <string.h>

void pr_q8_quantize__scalar(const float *w, size_t rows, size_t cols, int8_t *q, float *scale)
{
    for (size_t r = 0; r < rows; r++, w += cols, q += cols) {
        float mx = 0.0f;
        for (size_t c = 0; c < cols; c++) {
            float a = fabsf(w[c]);
            if (a > mx)
                mx = a;
        }
        /* Test the scale, not the maximum: a denormal maximum can give a
         * zero scale, and that row must come out as zeros, not NaNs. */
        float s = mx / 127.0f;
        scale[r] = s;
        if (s == 0.0f) {
            memset(q, 0, cols);
            continue;
        }
        for (size_t c = 0; c < cols; c++) {
            /* nearbyintf rounds half to even in the default rounding mode,
             * like the vector variants' round/convert instructions. */
            float t = nearbyintf(w[c] / s);
            t = t > 127.0f ? 127.0f : t < -127.0f ? -127.0f : t;
            q[c] = (int8_t)t;
        }
    }
}
