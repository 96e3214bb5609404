/* frame_source.h - where frames come from, on the event loop without ever
 * blocking it:
 *
 *   synthetic  a deterministic test pattern (gray, RGB or JPEG): a
 *              checkerboard with a gradient and a bright square that moves
 *              or stays still, under a light level, following a script of
 *              segments (so tests know when there is motion, stillness or a
 *              lightswitch); optional seeded noise.  It behaves like a
 *              camera: periods the loop was too busy to take are still
 *              captured, late (up to 4 per tick), and the ring drops the
 *              oldest.
 *   mjpeg      concatenated JPEGs from a pipe, FIFO, character device or
 *              stdin ("-"), read non-blocking with a pr_io_t and cut by
 *              mjpeg_split; frames arriving faster than the frame rate are
 *              skipped before any copy (a token bucket holding up to a
 *              ring's worth, so a burst after a busy moment gets through
 *              to the ring, which keeps the newest).  A regular file is read at the frame
 *              rate instead (one frame per tick), like a recording played
 *              back.
 *   dir        the JPEG files of a directory (.jpg/.jpeg, any case), in
 *              byte order of their names, one per tick; optionally looping
 *              (the directory is read again at each pass).
 *
 * Frames go into a pool of ring + keep frames and through a drop-oldest
 * frame ring (frame_ring.h) to the consumer: with a callback, one frame per
 * loop turn is popped and handed to it (the loop reads and ticks between
 * two), or the consumer pops with pr_fsrc_pop().  Nothing grows with a slow
 * consumer: frames past the ring are dropped, and a frame that finds the
 * pool empty (consumers keep too many) is dropped; both are counted.
 *
 * A corrupt or truncated frame is skipped and counted.  The end of the
 * stream (EOF, the last file without loop) or a read error stops the
 * source and is reported to the callback after the frames still queued;
 * pr_fsrc_reopen() opens the path again (a FIFO whose writer restarted).
 *
 * The rate (fps, 0 pauses) can change at any time, by pr_fsrc_set_fps() or
 * by a rate function polled every 100 ms (the Lua binding follows the
 * actuators' effective fps with it).  Not thread-safe: the loop's thread. */
#ifndef PR_FRAME_SOURCE_H
#define PR_FRAME_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "loop.h"

typedef enum { PR_FSRC_SYNTHETIC, PR_FSRC_MJPEG, PR_FSRC_DIR } pr_fsrc_kind_t;

/* Synthetic script segment: `frames` frames with the square moving or
 * not, at light level `light` (added to every pixel, clamped; a change
 * between segments is a lightswitch). */
typedef struct pr_synth_seg {
    uint32_t frames;
    int move;
    int light;
} pr_synth_seg_t;

typedef struct pr_fsrc_opts {
    pr_fsrc_kind_t kind;
    double fps;              /* frames/s, 0..1000; 0 pauses */
    size_t ring;             /* frames queued for the consumer (default 4) */
    size_t keep;             /* frames consumers may hold beyond that (default 4) */
    size_t max_frame;        /* bytes per frame; mjpeg/dir default 2 MiB,
                                synthetic: what the size and format need */
    /* synthetic */
    int width, height;       /* default 640 x 480 */
    pr_frame_fmt_t fmt;      /* default PR_FRAME_GRAY */
    int quality;             /* JPEG format: 1..100 (default 85) */
    int noise;               /* +- per pixel, 0..64 */
    uint32_t seed;
    const pr_synth_seg_t *script;   /* copied; NULL: the square moves forever */
    size_t nscript;
    /* mjpeg, dir */
    const char *path;        /* copied; mjpeg: "-" is stdin (made non-blocking) */
    int loop;                /* dir: start again after the last file */
} pr_fsrc_opts_t;

typedef enum {
    PR_FSRC_FRAME,   /* f: a frame, borrowed for the call (pr_frame_ref to keep) */
    PR_FSRC_END,     /* the stream ended or broke: pr_fsrc_error() says how */
} pr_fsrc_event_t;

typedef struct pr_fsrc pr_fsrc_t;
typedef void (*pr_fsrc_cb)(pr_fsrc_t *s, pr_fsrc_event_t ev, pr_frame_t *f, void *ud);

typedef struct pr_fsrc_stats {
    uint64_t produced;       /* frames put into the ring */
    uint64_t delivered;      /* frames handed to the callback or popped */
    uint64_t dropped;        /* oldest frames dropped by the ring */
    uint64_t skipped;        /* frames not taken because of the frame rate */
    uint64_t pool_empty;     /* frames lost because consumers held every buffer */
    uint64_t corrupt;        /* broken frames skipped (structure, unreadable file) */
    uint64_t truncated;      /* a frame cut by the end of the stream */
    uint64_t oversize;       /* frames larger than max_frame */
    uint64_t garbage;        /* bytes between frames */
    uint64_t bytes;          /* bytes read */
    uint64_t late;           /* synthetic: periods captured late */
    uint64_t ends, reopens;
    size_t queued, pool_in_use, pool_capacity;
    double fps;              /* the rate in force */
    const char *state;       /* "running", "paused", "ended", "stopped" */
} pr_fsrc_stats_t;

void pr_fsrc_opts_default(pr_fsrc_opts_t *o);

/* Create and start.  Returns 0, PR_EINVAL (err says which option),
 * PR_ENOMEM, or a negated errno (err names the path). */
int pr_fsrc_create(pr_fsrc_t **out, pr_loop_t *loop, const pr_fsrc_opts_t *o,
                   pr_fsrc_cb cb, void *ud, char *err, size_t errlen);
/* Stops, releases queued frames; safe from inside the callback (the
 * memory goes when it returns).  Frames still referenced stay valid. */
void pr_fsrc_destroy(pr_fsrc_t *s);

/* 1: frames go to the callback one per loop turn; 0: they wait in the ring
 * for pr_fsrc_pop(). */
void pr_fsrc_set_delivery(pr_fsrc_t *s, int on);
/* Oldest queued frame (the caller owns the reference) or NULL. */
pr_frame_t *pr_fsrc_pop(pr_fsrc_t *s);

/* 0..1000 frames/s; 0 pauses.  PR_EINVAL out of range. */
int pr_fsrc_set_fps(pr_fsrc_t *s, double fps);
/* Poll fn(ud) every 100 ms (weak timer) and at start, and take its value as
 * the rate; NULL stops following. */
void pr_fsrc_follow(pr_fsrc_t *s, double (*fn)(void *ud), void *ud);

/* Stop producing / start again (not after an end: see reopen). */
void pr_fsrc_stop(pr_fsrc_t *s);
int pr_fsrc_start(pr_fsrc_t *s);
/* mjpeg: open the path again and go on (stdin cannot be reopened: -ESPIPE);
 * dir: start again at the first file.  0 or a negated errno. */
int pr_fsrc_reopen(pr_fsrc_t *s);

void pr_fsrc_stats(const pr_fsrc_t *s, pr_fsrc_stats_t *st);
/* Why the source ended ("end of stream", "read: Input/output error"), ""
 * while it runs. */
const char *pr_fsrc_error(const pr_fsrc_t *s);
const char *pr_fsrc_kind_name(pr_fsrc_kind_t k);
/* The pool frames come from (the binding installs its on-empty hook). */
pr_frame_pool_t *pr_fsrc_pool(pr_fsrc_t *s);

#endif
