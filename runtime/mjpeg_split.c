/* mjpeg_split.c - MJPEG stream splitter: a byte-level state machine over the
 * JPEG marker structure (see mjpeg_split.h), with fast paths for the two
 * places where most bytes are: skipped segments and entropy-coded data
 * (memchr for the next 0xFF). */
#include "mjpeg_split.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

enum {
    S_SEARCH,     /* outside a frame, looking for 0xFF */
    S_SEARCH_FF,  /* outside, after 0xFF: 0xD8 starts a frame */
    S_MARKER,     /* in a frame, between segments: expect 0xFF */
    S_MARKER_FF,  /* ... after 0xFF: the marker code (0xFF: fill) */
    S_LEN1,       /* segment length, high byte */
    S_LEN2,       /* ... low byte */
    S_SKIP,       /* segment payload */
    S_ECS,        /* entropy-coded data after SOS */
    S_ECS_FF,     /* ... after 0xFF: 00 stuffing, RSTn, fill or a marker */
};

#define M_SOI 0xD8
#define M_EOI 0xD9
#define M_SOS 0xDA
#define M_TEM 0x01
#define IS_RST(c) ((c) >= 0xD0 && (c) <= 0xD7)

typedef struct scan {
    int state;
    int seen_sos;     /* a frame needs a scan to be an image */
    int seg_is_sos;
    unsigned len_hi;
    size_t seg_left;
} scan_t;

struct pr_mjpeg_split {
    scan_t sc;
    uint8_t *buf;         /* the frame being assembled */
    size_t len, max;
    int dropping;         /* oversize: bytes of this frame are not kept */
    pr_mjpeg_split_stats_t st;
};

/* After a segment's payload: entropy-coded data follows SOS. */
static void segment_done(scan_t *sc)
{
    if (sc->seg_is_sos)
        sc->seen_sos = 1;
    sc->state = sc->seg_is_sos ? S_ECS : S_MARKER;
}

/* What one call of step() saw. */
enum { EV_NONE, EV_START, EV_END, EV_BROKEN, EV_RESTART };

/* Advance over data[*i..n): stops after a frame event or at the end.
 * in_frame bytes are those from EV_START (the 0xFF 0xD8 included, even when
 * the 0xFF came in an earlier chunk) up to and including the EOI. */
static int step(scan_t *sc, const uint8_t *d, size_t n, size_t *i, uint64_t *garbage)
{
    while (*i < n) {
        uint8_t c = d[*i];
        switch (sc->state) {
        case S_SEARCH: {
            const uint8_t *ff = memchr(d + *i, 0xFF, n - *i);
            size_t skip = ff ? (size_t)(ff - (d + *i)) : n - *i;
            *garbage += skip;
            *i += skip;
            if (ff) {
                sc->state = S_SEARCH_FF;
                (*i)++;
            }
            continue;
        }
        case S_SEARCH_FF:
            (*i)++;
            if (c == M_SOI) {
                sc->state = S_MARKER;
                sc->seen_sos = 0;
                return EV_START;
            }
            if (c != 0xFF) {
                *garbage += 2;
                sc->state = S_SEARCH;
            } else {
                *garbage += 1;   /* the first 0xFF; the second may start SOI */
            }
            continue;
        case S_MARKER:
            if (c != 0xFF) {
                sc->state = S_SEARCH;  /* this byte is looked at again as garbage */
                return EV_BROKEN;
            }
            (*i)++;
            sc->state = S_MARKER_FF;
            continue;
        case S_MARKER_FF:
        case S_ECS_FF:
            (*i)++;
            if (c == 0xFF)
                continue;                      /* fill byte */
            if (c == M_SOI) {
                sc->state = S_MARKER;
                sc->seen_sos = 0;
                return EV_RESTART;             /* a new frame cuts this one */
            }
            if (c == M_EOI) {
                int ok = sc->seen_sos;
                sc->state = S_SEARCH;
                return ok ? EV_END : EV_BROKEN;
            }
            if (sc->state == S_ECS_FF && (c == 0x00 || IS_RST(c) || c == M_TEM)) {
                sc->state = S_ECS;             /* stuffing or restart: still data */
                continue;
            }
            if (IS_RST(c) || c == M_TEM) {
                sc->state = S_MARKER;          /* standalone marker, no length */
                continue;
            }
            if (c == 0x00) {
                sc->state = S_SEARCH;
                return EV_BROKEN;
            }
            sc->seg_is_sos = c == M_SOS;
            sc->state = S_LEN1;
            continue;
        case S_LEN1:
            (*i)++;
            sc->len_hi = c;
            sc->state = S_LEN2;
            continue;
        case S_LEN2: {
            size_t len = (size_t)sc->len_hi << 8 | c;
            (*i)++;
            if (len < 2) {
                sc->state = S_SEARCH;
                return EV_BROKEN;
            }
            sc->seg_left = len - 2;
            sc->state = S_SKIP;
            if (sc->seg_left == 0)
                segment_done(sc);
            continue;
        }
        case S_SKIP: {
            size_t take = n - *i < sc->seg_left ? n - *i : sc->seg_left;
            *i += take;
            sc->seg_left -= take;
            if (sc->seg_left == 0)
                segment_done(sc);
            continue;
        }
        case S_ECS: {
            const uint8_t *ff = memchr(d + *i, 0xFF, n - *i);
            if (!ff) {
                *i = n;
                continue;
            }
            *i = (size_t)(ff - d) + 1;
            sc->state = S_ECS_FF;
            continue;
        }
        }
    }
    return EV_NONE;
}

int pr_mjpeg_split_create(pr_mjpeg_split_t **out, size_t max_frame)
{
    pr_mjpeg_split_t *s;
    if (!out)
        return PR_EINVAL;
    *out = NULL;
    if (max_frame < 4)
        return PR_EINVAL;
    s = calloc(1, sizeof *s);
    if (!s || !(s->buf = malloc(max_frame))) {
        free(s);
        return PR_ENOMEM;
    }
    s->max = max_frame;
    s->sc.state = S_SEARCH;
    *out = s;
    return 0;
}

void pr_mjpeg_split_destroy(pr_mjpeg_split_t *s)
{
    if (!s)
        return;
    free(s->buf);
    free(s);
}

static int in_frame(const pr_mjpeg_split_t *s)
{
    return s->sc.state != S_SEARCH && s->sc.state != S_SEARCH_FF;
}

/* Append d[from..to) to the frame, or switch to dropping it if it would
 * pass max_frame. */
static void keep(pr_mjpeg_split_t *s, const uint8_t *d, size_t from, size_t to)
{
    size_t k = to - from;
    if (s->dropping)
        return;
    if (k > s->max - s->len) {
        s->dropping = 1;
        return;
    }
    memcpy(s->buf + s->len, d + from, k);
    s->len += k;
}

static void begin(pr_mjpeg_split_t *s)
{
    s->buf[0] = 0xFF;
    s->buf[1] = M_SOI;
    s->len = 2;
    s->dropping = 0;
}

size_t pr_mjpeg_split_feed(pr_mjpeg_split_t *s, const uint8_t *data, size_t n,
                           pr_mjpeg_frame_cb cb, void *ud)
{
    size_t i = 0;
    if (!s || !data)
        return 0;
    while (i < n) {
        size_t from = i;
        int was_in = in_frame(s);
        int ev = step(&s->sc, data, n, &i, &s->st.garbage);
        s->st.bytes += i - from;
        switch (ev) {
        case EV_NONE:
            if (was_in)
                keep(s, data, from, i);
            break;
        case EV_START:
            begin(s);
            break;
        case EV_RESTART:
            /* The bytes up to the new SOI belonged to the broken frame. */
            s->st.corrupt++;
            begin(s);
            break;
        case EV_BROKEN:
            s->st.corrupt++;
            s->len = 0;
            s->dropping = 0;
            break;
        case EV_END:
            keep(s, data, from, i);
            if (s->dropping) {
                s->st.oversize++;
                s->dropping = 0;
            } else {
                s->st.frames++;
                if (cb && cb(s->buf, s->len, ud)) {
                    s->len = 0;
                    return i;
                }
            }
            s->len = 0;
            break;
        }
    }
    return n;
}

void pr_mjpeg_split_reset(pr_mjpeg_split_t *s)
{
    if (!s)
        return;
    memset(&s->sc, 0, sizeof s->sc);
    s->sc.state = S_SEARCH;
    s->len = 0;
    s->dropping = 0;
}

void pr_mjpeg_split_finish(pr_mjpeg_split_t *s)
{
    if (!s)
        return;
    if (in_frame(s))
        s->st.truncated++;
    pr_mjpeg_split_reset(s);
}

void pr_mjpeg_split_stats(const pr_mjpeg_split_t *s, pr_mjpeg_split_stats_t *st)
{
    if (s && st)
        *st = s->st;
}

int pr_mjpeg_is_complete(const uint8_t *data, size_t len)
{
    scan_t sc = { .state = S_SEARCH };
    uint64_t garbage = 0;
    size_t i = 0;
    if (!data || len < 4 || data[0] != 0xFF || data[1] != M_SOI)
        return 0;
    if (step(&sc, data, len, &i, &garbage) != EV_START)
        return 0;
    return step(&sc, data, len, &i, &garbage) == EV_END;
}
