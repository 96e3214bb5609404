/* motion.h - motion detection on gray frames: the SIMD u8 kernels
 * (kernels/list_u8.h) against a running-average background.
 *
 * Each frame is first halved (2x2 box, u8_down2x2) until it is at most
 * opts.width pixels wide: motion is a coarse measure and a 160x120 image
 * costs 1/16 of a 640x480 one.  Then
 *   changed = pixels whose |frame - background| > thresh    (u8_motion)
 *   fraction = changed / pixels                             -> inputs.motion
 * and the background moves toward the frame by 2^-shift (u8_bg_update), so
 * slow changes (daylight) fade into it and a thing that stops moving stops
 * counting after a few dozen frames.
 *
 * Lightswitch guard: when at least opts.lightswitch of the frame changes at
 * once (a lamp, the camera's exposure) the background is reset to the
 * frame and 0 is reported, for up to opts.lightswitch_frames frames in a
 * row (exposure can take a few frames to settle; a change that lasts longer
 * is real and is reported).  For as many frames after a reset the
 * background follows each frame fully, so the scene settles at once while
 * things that move against it still count: motion after a lightswitch is
 * reported, not swallowed.
 *
 * A change of frame size restarts the background.  Not thread-safe. */
#ifndef PR_MOTION_H
#define PR_MOTION_H

#include <stddef.h>
#include <stdint.h>

typedef struct pr_motion pr_motion_t;

typedef struct pr_motion_opts {
    int width;               /* analysis width bound, px (default 160) */
    int thresh;              /* per-pixel noise threshold 0..254 (default 25) */
    int shift;               /* background rate 2^-shift per frame, 0..8 (default 4) */
    double lightswitch;      /* fraction that counts as a lightswitch,
                                (0, 1]; 1 (or more) turns the guard off (default 0.6) */
    int lightswitch_frames;  /* frames that may be suppressed in a row (default 5) */
} pr_motion_opts_t;

typedef struct pr_motion_stats {
    uint64_t frames;         /* frames measured */
    uint64_t lightswitches;  /* guard engagements (runs of suppressed frames) */
    uint64_t suppressed;     /* frames reported as 0 by the guard */
    int width, height;       /* analysis size of the last frame */
    double last;             /* last fraction reported */
    size_t changed;          /* changed pixels in the last frame */
} pr_motion_stats_t;

void pr_motion_opts_default(pr_motion_opts_t *o);
/* Returns 0, PR_EINVAL (out-of-range option) or PR_ENOMEM. */
int pr_motion_create(pr_motion_t **out, const pr_motion_opts_t *o);
void pr_motion_destroy(pr_motion_t *m);

/* Measure one w x h gray frame (rows stride bytes apart).  *fraction gets
 * 0..1 (0 for the first frame, which only becomes the background).  Returns
 * 0, PR_EINVAL (bad size) or PR_ENOMEM (a new size's buffers). */
int pr_motion_update(pr_motion_t *m, const uint8_t *gray, int w, int h, size_t stride,
                     double *fraction);
/* Forget the background: the next frame starts it again. */
void pr_motion_reset(pr_motion_t *m);
void pr_motion_stats(const pr_motion_t *m, pr_motion_stats_t *st);

#endif
