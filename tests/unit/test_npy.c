/* test_npy.c - the .npy reader: good files in all three format versions,
 * and every kind of malformed file refused with a message, never a crash
 * (the test build runs under ASan/UBSan). */
#include "error.h"
#include "npy.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

/* Write a file: version, header dict text (padded as numpy pads it to a
 * multiple of 64 with a final newline), then `ndata` floats 0, 1, 2, ...
 * plus `extra` trailing bytes. */
static void write_npy(int version, const char *dict, size_t ndata, size_t extra)
{
    FILE *f = fopen(path, "wb");
    size_t pre = version == 1 ? 10 : 12, dl = strlen(dict);
    size_t hl = ((pre + dl + 1 + 63) / 64) * 64 - pre;
    if (!f)
        bail_out("cannot write test file");
    fwrite("\x93NUMPY", 1, 6, f);
    fputc(version, f);
    fputc(0, f);
    fputc((int)(hl & 0xff), f);
    fputc((int)(hl >> 8 & 0xff), f);
    if (version != 1) {
        fputc(0, f);
        fputc(0, f);
    }
    fputs(dict, f);
    for (size_t i = dl; i + 1 < hl; i++)
        fputc(' ', f);
    fputc('\n', f);
    for (size_t i = 0; i < ndata; i++) {
        float v = (float)i;
        fwrite(&v, 4, 1, f);
    }
    for (size_t i = 0; i < extra; i++)
        fputc(0, f);
    fclose(f);
}

static void write_raw(const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        bail_out("cannot write test file");
    fwrite(bytes, 1, n, f);
    fclose(f);
}

/* Expect a refusal whose message contains `needle`. */
static void refused(const char *needle, const char *name)
{
    pr_npy_t n;
    char err[256] = "";
    int rc = pr_npy_open(&n, path, 1u << 24, err, sizeof err);
    ok(rc < 0 && strstr(err, needle) && strstr(err, path) && n.f == NULL, "%s", name);
    if (!(rc < 0 && strstr(err, needle)))
        diag("  rc %d, err '%s', wanted '%s'", rc, err, needle);
}

int main(void)
{
    pr_npy_t n;
    char err[256];
    float buf[12];

    plan(24);
    snprintf(path, sizeof path, "/tmp/perch-test-npy-%d.npy", (int)getpid());

    for (int ver = 1; ver <= 3; ver++) {
        write_npy(ver, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 12, 0);
        is_int(pr_npy_open(&n, path, 1u << 24, err, sizeof err), 0, ver == 1 ? "v1 file opens"
               : ver == 2 ? "v2 file opens" : "v3 file opens");
        ok(n.ndim == 2 && n.shape[0] == 3 && n.shape[1] == 4 && n.count == 12, "shape (3, 4)");
        memset(buf, 0xff, sizeof buf);
        ok(pr_npy_read_f32(&n, buf, err, sizeof err) == 0 && buf[0] == 0.0f && buf[11] == 11.0f,
           "data read in order");
        pr_npy_close(&n);
    }
    write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 5, 0);
    ok(pr_npy_open(&n, path, 100, err, sizeof err) == 0 && n.ndim == 1 && n.count == 5,
       "1-d shape (5,)");
    pr_npy_close(&n);
    write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1, 0);
    ok(pr_npy_open(&n, path, 100, err, sizeof err) == 0 && n.ndim == 0 && n.count == 1,
       "0-d array holds one element");
    pr_npy_close(&n);

    write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 11, 2);
    refused("truncated", "truncated data refused");
    write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 12, 4);
    refused("trailing bytes", "trailing bytes refused");
    write_npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", 24, 0);
    refused("dtype '<f8' is not supported", "float64 refused, dtype named");
    write_npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 4), }", 12, 0);
    refused("dtype '>f4'", "big-endian refused");
    write_npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }", 12, 0);
    refused("Fortran order", "Fortran order refused");
    write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", 0, 0);
    refused("too large", "huge shape refused (overflow)");
    write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", 0, 0);
    refused("huge", "shape beyond 64 bits refused");
    write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", 1, 0);
    refused("dimensions", "more than 4 dimensions refused");
    write_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }", 12, 0);
    refused("bad 'shape'", "malformed shape refused");
    write_npy(1, "{'fortran_order': False, 'shape': (3,), }", 3, 0);
    refused("no 'descr'", "missing descr refused");
    write_raw("\x93NUMPY\x01\x00\xff\x7f{", 11);
    refused("truncated header", "header longer than the file refused");
    write_raw("PK\x03\x04 not npy at all", 20);
    refused("bad magic", "a non-npy file refused");

    unlink(path);
    refused("cannot open", "a missing file refused");
    return exit_status();
}
