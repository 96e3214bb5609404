/* test_mjpeg_split.c - the MJPEG splitter on crafted and real JPEGs: every
 * way of cutting a stream into two reads, one byte at a time, marker
 * segments holding 0xFF D9 / 0xFF D8, entropy data with 0xFF00 stuffing,
 * RSTn, fill bytes and a second scan, garbage between frames, a truncated
 * last frame, a frame cut by the next SOI, oversize frames; the frames that
 * come out are byte-identical to what went in and decode. */
#include "tap.h"

#include "jpeg.h"
#include "mjpeg_split.h"

#include <stdint.h>
#include <string.h>

/* A frame whose segments carry 0xFF D9 / D8 in their payloads and whose
 * entropy data has stuffing, restarts and fill bytes. */
static const uint8_t crafted1[] = {
    0xFF, 0xD8,
    0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0xFF, 0xD9, 0xFF, 0xD8, 0xFF, 0x00, 0xFF,
    0x01, 0x02,
    0xFF, 0xFF, 0xFF, 0xDB, 0x00, 0x05, 0xFF, 0xFF, 0xFF,          /* fill, then DQT */
    0xFF, 0xDD, 0x00, 0x04, 0x00, 0x08,                          /* DRI */
    0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00,  /* SOS */
    0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0xFF, 0xD1, 0x9A, 0xFF, 0xFF, 0xFF, 0x00,
    0xBC, 0xFF, 0xD7, 0xDE,
    0xFF, 0xD9,
};
/* Two scans with a DHT between them (progressive style); the second scan's
 * data starts with a stuffed 0xFF. */
static const uint8_t crafted2[] = {
    0xFF, 0xD8,
    0xFF, 0xDA, 0x00, 0x03, 0xFF,
    0x11, 0xFF, 0x00, 0x22,
    0xFF, 0xC4, 0x00, 0x05, 0xFF, 0xD9, 0xAA,
    0xFF, 0xDA, 0x00, 0x02,
    0xFF, 0x00, 0x33, 0xFF, 0xD3,
    0xFF, 0xD9,
};
static const uint8_t garbage1[] = { 'x', 0xFF, 0x00, 0xFF, 0xFF, 0x12, 0xD9, 0xD8 };
static const uint8_t garbage2[] = { 0xFF, 0xFF, 0xFF };

typedef struct got {
    int n;
    const uint8_t *want[8];
    size_t want_len[8];
    int mismatch;
} got_t;

static int collect(const uint8_t *d, size_t len, void *ud)
{
    got_t *g = ud;
    if (g->n >= 8 || len != g->want_len[g->n] || memcmp(d, g->want[g->n], len))
        g->mismatch++;
    g->n++;
    return 0;
}

static int stop_first(const uint8_t *d, size_t len, void *ud)
{
    (void)d;
    (void)len;
    (*(size_t *)ud)++;
    return 1;
}

static uint8_t stream[1 << 20];
static size_t slen;

static void add(const void *p, size_t n)
{
    memcpy(stream + slen, p, n);
    slen += n;
}

/* One splitter per max_frame, reused (reset between runs): creating one per
 * cut would make this test an allocator benchmark under ASan. */
static pr_mjpeg_split_t *splitter(size_t max)
{
    static pr_mjpeg_split_t *s;
    static size_t smax;
    if (s && smax == max)
        return s;
    pr_mjpeg_split_destroy(s);
    if (pr_mjpeg_split_create(&s, max) < 0)
        bail_out("create");
    smax = max;
    return s;
}

/* Feed stream[0..slen) cut at `cut` (or in reads of `step` bytes), then
 * finish; returns the stats of this run alone. */
static pr_mjpeg_split_stats_t run(size_t cut, size_t step, got_t *g, size_t max)
{
    pr_mjpeg_split_t *s = splitter(max);
    pr_mjpeg_split_stats_t a, b;
    g->n = g->mismatch = 0;
    pr_mjpeg_split_reset(s);
    pr_mjpeg_split_stats(s, &a);
    if (step) {
        for (size_t i = 0; i < slen; i += step)
            pr_mjpeg_split_feed(s, stream + i, slen - i < step ? slen - i : step, collect, g);
    } else {
        pr_mjpeg_split_feed(s, stream, cut, collect, g);
        pr_mjpeg_split_feed(s, stream + cut, slen - cut, collect, g);
    }
    pr_mjpeg_split_finish(s);
    pr_mjpeg_split_stats(s, &b);
    b.frames -= a.frames;
    b.corrupt -= a.corrupt;
    b.oversize -= a.oversize;
    b.truncated -= a.truncated;
    b.garbage -= a.garbage;
    b.bytes -= a.bytes;
    return b;
}

int main(void)
{
    pr_jpeg_t *j;
    static uint8_t pix[160 * 120 * 3], real[2][65536];
    size_t real_len[2];
    got_t g;
    pr_mjpeg_split_stats_t st;

    plan(20);
    if (pr_jpeg_create(&j) < 0)
        bail_out("jpeg");
    /* Two real JPEGs: noise makes their entropy data full of 0xFF00. */
    for (int k = 0; k < 2; k++) {
        const uint8_t *out;
        uint32_t r = 12345u + (uint32_t)k;
        for (size_t i = 0; i < sizeof pix; i++) {
            r = r * 1664525u + 1013904223u;
            pix[i] = (uint8_t)(r >> 24);
        }
        if (pr_jpeg_encode(j, pix, 160, 120, 480, k ? PR_FRAME_GRAY : PR_FRAME_RGB, 90, &out,
                           &real_len[k]) < 0)
            bail_out("encode");
        memcpy(real[k], out, real_len[k]);
    }
    {
        int stuffed = 0;
        for (size_t i = 0; i + 1 < real_len[0]; i++)
            stuffed += real[0][i] == 0xFF && real[0][i + 1] == 0x00;
        ok(stuffed > 10, "the real JPEG has %d stuffed 0xFF bytes", stuffed);
    }

    /* garbage, crafted1, real0, garbage, crafted2, real1, half of real0 */
    add(garbage1, sizeof garbage1);
    add(crafted1, sizeof crafted1);
    add(real[0], real_len[0]);
    add(garbage2, sizeof garbage2);
    add(crafted2, sizeof crafted2);
    add(real[1], real_len[1]);
    add(real[0], real_len[0] / 2);
    g.want[0] = crafted1, g.want_len[0] = sizeof crafted1;
    g.want[1] = real[0], g.want_len[1] = real_len[0];
    g.want[2] = crafted2, g.want_len[2] = sizeof crafted2;
    g.want[3] = real[1], g.want_len[3] = real_len[1];

    st = run(0, 0, &g, 1 << 20);
    ok(g.n == 4 && !g.mismatch, "one read: 4 frames, byte-identical (got %d, %d differ)", g.n,
       g.mismatch);
    is_int(st.truncated, 1, "the cut last frame counts as truncated");
    is_int(st.corrupt, 0, "nothing corrupt");
    is_int(st.garbage, sizeof garbage1 + sizeof garbage2, "garbage bytes counted");
    is_int(st.bytes, slen, "every byte fed is counted");

    int bad = 0;
    for (size_t cut = 0; cut <= slen; cut++) {
        st = run(cut, 0, &g, 1 << 20);
        if (g.n != 4 || g.mismatch || st.truncated != 1 || st.corrupt) {
            if (bad++ < 3)
                diag("cut at %zu: %d frames, %d differ, %llu truncated, %llu corrupt", cut, g.n,
                     g.mismatch, (unsigned long long)st.truncated,
                     (unsigned long long)st.corrupt);
        }
    }
    ok(!bad, "cut into two reads at each of %zu boundaries: the same 4 frames", slen + 1);
    bad = 0;
    for (size_t step = 1; step <= 7; step++) {
        st = run(0, step, &g, 1 << 20);
        bad += g.n != 4 || g.mismatch || st.truncated != 1;
    }
    ok(!bad, "reads of 1..7 bytes: the same 4 frames");

    /* The frames decode, at the size they were made. */
    {
        static uint8_t out[160 * 120 * 3];
        int w = 0, h = 0;
        pr_jpeg_decode_opts_t o = { .fmt = PR_FRAME_RGB };
        ok(pr_jpeg_decode(j, g.want[1], g.want_len[1], &o, out, sizeof out, &w, &h) == 0 &&
               w == 160 && h == 120, "a frame split out decodes (160x120)");
    }

    /* Broken structure: a frame with 0x00 where a marker must be, one cut
     * by the next SOI, one with a segment length of 1: each is dropped and
     * the frame after it comes out. */
    slen = 0;
    {
        static const uint8_t no_marker[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00,
                                             0x00, 0x42 };
        static const uint8_t bad_len[] = { 0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01 };
        add(no_marker, sizeof no_marker);
        add(crafted1, sizeof crafted1);
        add(real[1], real_len[1] / 2);        /* cut by the next SOI */
        add(crafted2, sizeof crafted2);
        add(bad_len, sizeof bad_len);
        add(real[0], real_len[0]);
    }
    g.want[0] = crafted1, g.want_len[0] = sizeof crafted1;
    g.want[1] = crafted2, g.want_len[1] = sizeof crafted2;
    g.want[2] = real[0], g.want_len[2] = real_len[0];
    bad = 0;
    for (size_t cut = 0; cut <= slen; cut++) {
        st = run(cut, 0, &g, 1 << 20);
        if (g.n != 3 || g.mismatch || st.corrupt != 3 || st.truncated)
            bad++;
    }
    ok(!bad, "3 broken frames dropped and counted, the 3 good ones intact, at every cut");

    /* A frame without a scan is not an image. */
    slen = 0;
    {
        static const uint8_t tables_only[] = { 0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x03, 0x01, 0xFF,
                                               0xD9 };
        add(tables_only, sizeof tables_only);
        add(crafted2, sizeof crafted2);
    }
    g.want[0] = crafted2, g.want_len[0] = sizeof crafted2;
    st = run(slen, 0, &g, 1 << 20);
    ok(g.n == 1 && !g.mismatch && st.corrupt == 1, "SOI..EOI without SOS: corrupt, skipped");

    /* Oversize: max_frame below the real frame. */
    slen = 0;
    add(real[0], real_len[0]);
    add(crafted1, sizeof crafted1);
    g.want[0] = crafted1, g.want_len[0] = sizeof crafted1;
    st = run(0, 0, &g, 1000);
    ok(g.n == 1 && !g.mismatch && st.oversize == 1, "a frame over max_frame is dropped (oversize)");
    st = run(0, 3, &g, 1000);
    ok(g.n == 1 && !g.mismatch && st.oversize == 1, "... also in 3-byte reads");
    st = run(0, 0, &g, sizeof crafted1);
    ok(g.n == 1 && !g.mismatch, "a frame of exactly max_frame bytes passes");

    /* The callback can stop the feed; the rest is fed later. */
    {
        pr_mjpeg_split_t *s;
        size_t used, n = 0;
        slen = 0;
        add(crafted1, sizeof crafted1);
        add(crafted2, sizeof crafted2);
        pr_mjpeg_split_create(&s, 4096);
        used = pr_mjpeg_split_feed(s, stream, slen, stop_first, &n);
        is_int(used, sizeof crafted1, "a callback returning nonzero stops after its frame");
        used += pr_mjpeg_split_feed(s, stream + used, slen - used, stop_first, &n);
        ok(used == slen && n == 2, "the rest gives the second frame");
        pr_mjpeg_split_destroy(s);
    }

    ok(pr_mjpeg_is_complete(real[0], real_len[0]) && pr_mjpeg_is_complete(crafted2, sizeof crafted2),
       "is_complete: whole JPEGs");
    ok(!pr_mjpeg_is_complete(real[0], real_len[0] - 1) && !pr_mjpeg_is_complete(crafted1 + 1, sizeof crafted1 - 1),
       "is_complete: a truncated one or one with a byte before SOI is not");
    ok(!pr_mjpeg_is_complete((const uint8_t *)"hello world", 11), "is_complete: text is not");
    {
        pr_mjpeg_split_t *s;
        ok(pr_mjpeg_split_create(&s, 3) < 0 && pr_mjpeg_split_create(NULL, 100) < 0,
           "create refuses max_frame < 4 and NULL");
    }
    pr_jpeg_destroy(j);
    pr_mjpeg_split_destroy(splitter(0 + 4));
    return exit_status();
}

