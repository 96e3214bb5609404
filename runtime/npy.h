/* npy.h - reading numpy's .npy files (format versions 1-3).
 *
 * Only what perch's models use is accepted: little-endian float32 ('<f4')
 * in C order, 1 to PR_NPY_MAXDIM dimensions.  Everything else - another
 * dtype, Fortran order, a header that does not parse, a shape whose size
 * overflows or does not match the file's length (truncated or trailing
 * bytes) - is refused with a message that names the file and the problem.
 * The caller reads the header first, allocates room for `count` floats
 * (perch puts them in a perch.buffer), then reads the data. */
#ifndef PR_NPY_H
#define PR_NPY_H

#include <stdio.h>
#include <stddef.h>

#define PR_NPY_MAXDIM 4

typedef struct pr_npy {
    /* ro: */
    int ndim;
    size_t shape[PR_NPY_MAXDIM];
    size_t count;          /* product of the shape (1 for a 0-d array) */
    /* private: */
    FILE *f;
    long data_offset;
} pr_npy_t;

/* Open path and validate its header against the file's size.  max_count
 * bounds the element count (a guard against absurd shapes).  Returns 0, or
 * a negative PR_E* code with the reason in err ("file.npy: dtype '<f8' is
 * not supported (need '<f4')"); nothing stays open on failure. */
int pr_npy_open(pr_npy_t *n, const char *path, size_t max_count, char *err, size_t errlen);
/* Read the count floats into dst.  Returns 0 or a negative code (err). */
int pr_npy_read_f32(pr_npy_t *n, float *dst, char *err, size_t errlen);
void pr_npy_close(pr_npy_t *n);

#endif
