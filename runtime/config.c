/* config.c - see config.h. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int pr_config_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}
