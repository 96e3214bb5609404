/* bench_frames.c - the camera path per 640x480 frame on one core: JPEG
 * decode (scaled gray for motion) + motion + JPEG re-encode, in ms per frame
 * and frames/s; and perch's JPEG encode of one RGB frame against
 * libjpeg-turbo's own tjbench (same image, quality, 4:2:0: the overhead
 * ratio, goal <= 1.05) and against python3-pil encoding it.  The image is a
 * textured test pattern with noise, like a camera frame. */
#include "bench.h"
#include "jpeg.h"
#include "kernels.h"
#include "motion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define W 640
#define H 480
#define Q 75

static uint8_t rgb[W * H * 3], gray[(W / 4) * (H / 4)];
static const uint8_t *jpeg_in;
static size_t jpeg_len;
static pr_jpeg_t *j;
static pr_motion_t *m;

static void render(int shift)
{
    uint32_t r = 7;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            r = r * 1664525u + 1013904223u;
            int v = ((((x + shift) >> 4) ^ (y >> 4)) & 1 ? 150 : 70) + x / 8 + (int)(r >> 28);
            uint8_t *p = rgb + 3 * (y * W + x);
            p[0] = (uint8_t)v;
            p[1] = (uint8_t)(v * 3 / 4);
            p[2] = (uint8_t)(255 - v);
        }
}

static void encode_only(void *ctx)
{
    const uint8_t *out;
    size_t len;
    (void)ctx;
    pr_jpeg_encode(j, rgb, W, H, W * 3, PR_FRAME_RGB, Q, &out, &len);
    bench_keep(out);
}

static void pipeline(void *ctx)
{
    pr_jpeg_decode_opts_t o = { .fmt = PR_FRAME_GRAY, .max_width = 160, .fast = 1 };
    const uint8_t *out;
    size_t len;
    double frac;
    int w, h;
    (void)ctx;
    pr_jpeg_decode(j, jpeg_in, jpeg_len, &o, gray, sizeof gray, &w, &h);
    pr_motion_update(m, gray, w, h, (size_t)w, &frac);
    pr_jpeg_transcode(j, jpeg_in, jpeg_len, Q, &out, &len);
    bench_keep(out);
}

/* Last number-looking field `col` (1-based) of the last line of cmd's output. */
static double run_field(const char *cmd, int col)
{
    char line[512], last[512] = "";
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    while (fgets(line, sizeof line, p))
        if (strspn(line, " \t\n") < strlen(line))
            memcpy(last, line, sizeof last);
    if (pclose(p) != 0)
        return 0;
    double v = 0;
    char *tok = strtok(last, " \t\n()");
    for (int i = 1; tok && i <= col; i++, tok = strtok(NULL, " \t\n()"))
        if (i == col)
            v = atof(tok);
    return v;
}

int main(void)
{
    static uint8_t first[W * H * 3];
    char ppm[64], cmd[512];
    const uint8_t *out;
    size_t len;
    FILE *f;

    pr_kernels_init(NULL, 0);
    if (pr_jpeg_create(&j) < 0 || pr_motion_create(&m, NULL) < 0)
        return 1;
    render(0);
    /* The camera's frame, at quality 85, as a pipe would bring it. */
    pr_jpeg_encode(j, rgb, W, H, W * 3, PR_FRAME_RGB, 85, &out, &len);
    memcpy(first, out, len);
    jpeg_in = first;
    jpeg_len = len;

    double ns = bench_time(pipeline, NULL);
    bench_report("frames.pipeline.640x480.ms", ns / 1e6, "ms", NULL, 0);
    bench_report("frames.pipeline.640x480.fps", 1e9 / ns, "fps", NULL, 0);

    double enc = bench_time(encode_only, NULL), mpix = (double)W * H / enc * 1e3;
    bench_report("jpeg.encode.640x480.q75.ms", enc / 1e6, "ms", NULL, 0);

    snprintf(ppm, sizeof ppm, "/tmp/perch-bench-frame-%d.ppm", (int)getpid());
    if (!(f = fopen(ppm, "wb")))
        return 1;
    fprintf(f, "P6\n%d %d\n255\n", W, H);
    fwrite(rgb, 1, sizeof rgb, f);
    fclose(f);
    /* tjbench: RGB input, 4:2:0, quality 75; column 6 of its result line
     * is compression Mpixels/s. */
    snprintf(cmd, sizeof cmd, "tjbench %s %d -rgb -subsamp 420 -benchtime 2 -warmup 1 -quiet 2>/dev/null",
             ppm, Q);
    double tj = run_field(cmd, 7);
    /* ratio: perch's time per encode over tjbench's (1.05 = 5% overhead) */
    if (tj > 0)
        bench_report("jpeg.encode.640x480.q75.vs_tjbench", enc / 1e6, "ms", "tjbench", tj / mpix);
    else
        printf("tjbench not available (libjpeg-turbo-progs): no overhead ratio\n");
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import io,timeit; from PIL import Image; im=Image.open('%s'); "
             "im.load(); f=lambda: im.save(io.BytesIO(),'JPEG',quality=%d); "
             "n=200; print(min(timeit.repeat(f, number=n, repeat=5))/n*1e3)\" 2>/dev/null", ppm, Q);
    double pil_ms = run_field(cmd, 1);
    if (pil_ms > 0)
        bench_report("jpeg.encode.640x480.q75.vs_pil", enc / 1e6, "ms", "python3-pil",
                     (enc / 1e6) / pil_ms);
    unlink(ppm);
    pr_motion_destroy(m);
    pr_jpeg_destroy(j);
    return 0;
}
