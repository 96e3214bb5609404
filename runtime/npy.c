/* npy.c - a strict reader of numpy .npy headers and float32 data. */
#include "npy.h"

#include "error.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_HEADER 65536  /* numpy itself refuses larger headers */

static int fail(pr_npy_t *n, int code, char *err, size_t errlen, const char *path,
                const char *what)
{
    snprintf(err, errlen, "%s: %s", path, what);
    if (n->f) {
        fclose(n->f);
        n->f = NULL;
    }
    return code;
}

/* Find 'key': in the header dict and return a pointer past the colon. */
static const char *dict_value(const char *hdr, const char *key)
{
    char pat[32];
    const char *p;
    snprintf(pat, sizeof pat, "'%s'", key);
    p = strstr(hdr, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

int pr_npy_open(pr_npy_t *n, const char *path, size_t max_count, char *err, size_t errlen)
{
    unsigned char pre[12];
    char *hdr = NULL;
    size_t hlen, prelen;
    const char *v;
    struct stat st;
    char msg[160];
    int rc;

    memset(n, 0, sizeof *n);
    n->f = fopen(path, "rb");
    if (!n->f) {
        snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
        return fail(n, -errno, err, errlen, path, msg);
    }
    if (fread(pre, 1, 10, n->f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return fail(n, PR_EINVAL, err, errlen, path, "not a .npy file (bad magic)");
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        prelen = 10;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, n->f) != 2)
            return fail(n, PR_EINVAL, err, errlen, path, "truncated header");
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        prelen = 12;
    } else {
        snprintf(msg, sizeof msg, "unsupported .npy format version %d.%d", pre[6], pre[7]);
        return fail(n, PR_EINVAL, err, errlen, path, msg);
    }
    if (hlen == 0 || hlen > MAX_HEADER)
        return fail(n, PR_EINVAL, err, errlen, path, "header length out of range");
    hdr = malloc(hlen + 1);
    if (!hdr)
        return fail(n, PR_ENOMEM, err, errlen, path, "out of memory");
    if (fread(hdr, 1, hlen, n->f) != hlen) {
        free(hdr);
        return fail(n, PR_EINVAL, err, errlen, path, "truncated header");
    }
    hdr[hlen] = '\0';
    if (memchr(hdr, '\0', hlen)) {
        rc = fail(n, PR_EINVAL, err, errlen, path, "header contains a NUL byte");
        goto out;
    }

    /* dtype: only little-endian float32 */
    v = dict_value(hdr, "descr");
    if (!v || *v != '\'') {
        rc = fail(n, PR_EINVAL, err, errlen, path, "header has no 'descr'");
        goto out;
    }
    if (strncmp(v, "'<f4'", 5) != 0) {
        const char *end = strchr(v + 1, '\'');
        int len = end ? (int)(end - v + 1) : 8;
        snprintf(msg, sizeof msg, "dtype %.*s is not supported (need '<f4', little-endian float32)",
                 len > 20 ? 20 : len, v);
        rc = fail(n, PR_EINVAL, err, errlen, path, msg);
        goto out;
    }
    v = dict_value(hdr, "fortran_order");
    if (!v || (strncmp(v, "False", 5) != 0 && strncmp(v, "True", 4) != 0)) {
        rc = fail(n, PR_EINVAL, err, errlen, path, "header has no valid 'fortran_order'");
        goto out;
    }
    if (*v == 'T') {
        rc = fail(n, PR_EINVAL, err, errlen, path,
                  "Fortran order is not supported (save with C order: np.ascontiguousarray)");
        goto out;
    }

    /* shape: a tuple of non-negative integers */
    v = dict_value(hdr, "shape");
    if (!v || *v != '(') {
        rc = fail(n, PR_EINVAL, err, errlen, path, "header has no valid 'shape'");
        goto out;
    }
    v++;
    n->count = 1;
    for (;;) {
        char *end;
        unsigned long long d;
        while (*v == ' ')
            v++;
        if (*v == ')')
            break;
        if (*v < '0' || *v > '9') {
            rc = fail(n, PR_EINVAL, err, errlen, path, "bad 'shape' in header");
            goto out;
        }
        errno = 0;
        d = strtoull(v, &end, 10);
        if (errno || n->ndim == PR_NPY_MAXDIM) {
            snprintf(msg, sizeof msg, "shape has too many dimensions or a huge one (at most %d "
                     "dimensions)", PR_NPY_MAXDIM);
            rc = fail(n, PR_EINVAL, err, errlen, path, msg);
            goto out;
        }
        n->shape[n->ndim++] = (size_t)d;
        if (d != 0 && n->count > max_count / d) {
            snprintf(msg, sizeof msg, "shape is too large (more than %zu elements)", max_count);
            rc = fail(n, PR_ETOOBIG, err, errlen, path, msg);
            goto out;
        }
        n->count *= (size_t)d;
        v = end;
        while (*v == ' ')
            v++;
        if (*v == ',')
            v++;
        else if (*v != ')') {
            rc = fail(n, PR_EINVAL, err, errlen, path, "bad 'shape' in header");
            goto out;
        }
    }
    if (n->count > max_count) {
        snprintf(msg, sizeof msg, "shape is too large (more than %zu elements)", max_count);
        rc = fail(n, PR_ETOOBIG, err, errlen, path, msg);
        goto out;
    }

    /* The data must be exactly count floats: no truncation, no trailer. */
    n->data_offset = (long)(prelen + hlen);
    if (fstat(fileno(n->f), &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = fail(n, PR_EINVAL, err, errlen, path, "not a regular file");
        goto out;
    }
    if ((uint64_t)st.st_size != (uint64_t)n->data_offset + (uint64_t)n->count * 4) {
        snprintf(msg, sizeof msg, "%s: data is %lld bytes, the shape needs %llu",
                 (uint64_t)st.st_size < (uint64_t)n->data_offset + (uint64_t)n->count * 4
                     ? "truncated" : "trailing bytes",
                 (long long)st.st_size - n->data_offset, (unsigned long long)n->count * 4);
        rc = fail(n, PR_EINVAL, err, errlen, path, msg);
        goto out;
    }
    rc = 0;
out:
    free(hdr);
    return rc;
}

int pr_npy_read_f32(pr_npy_t *n, float *dst, char *err, size_t errlen)
{
    if (!n->f) {
        snprintf(err, errlen, "npy file is not open");
        return PR_ECLOSED;
    }
    if (fseek(n->f, n->data_offset, SEEK_SET) != 0 ||
        fread(dst, 4, n->count, n->f) != n->count) {
        snprintf(err, errlen, "read failed: %s", ferror(n->f) ? strerror(errno) : "short read");
        return PR_EINVAL;
    }
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; i < n->count; i++) {
        uint32_t u;
        memcpy(&u, dst + i, 4);
        u = __builtin_bswap32(u);
        memcpy(dst + i, &u, 4);
    }
#endif
    return 0;
}

void pr_npy_close(pr_npy_t *n)
{
    if (n->f)
        fclose(n->f);
    n->f = NULL;
}
