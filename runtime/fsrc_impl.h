/* fsrc_impl.h - what frame_source.c shares with its backends
 * (source_synthetic.c, source_mjpeg.c, source_dir.c); not a public API.
 *
 * A backend either produces on the core's tick timer (tick(), n frames due)
 * or watches its own fd and pushes frames as they arrive, asking
 * fsrc_admit() first so the frame rate holds. */
#ifndef PR_FSRC_IMPL_H
#define PR_FSRC_IMPL_H

#include "frame_ring.h"
#include "frame_source.h"

typedef struct fsrc_backend {
    int (*open)(pr_fsrc_t *s);            /* allocate, open; sets s->timer_driven */
    void (*close)(pr_fsrc_t *s);
    int (*watch)(pr_fsrc_t *s, int on);   /* fd-driven: start/stop the watcher */
    void (*tick)(pr_fsrc_t *s, uint64_t n);  /* timer-driven: n frames are due */
    int (*reopen)(pr_fsrc_t *s);
} fsrc_backend_t;

enum { FS_RUNNING, FS_PAUSED, FS_ENDED, FS_STOPPED };

struct pr_fsrc {
    pr_loop_t *loop;
    pr_fsrc_opts_t o;           /* path and script point at copies below */
    char *path;
    pr_synth_seg_t *script;
    const fsrc_backend_t *be;
    void *be_state;
    int timer_driven;
    pr_frame_pool_t *pool;
    pr_frame_ring_t *ring;
    pr_timer_t tick, deliver, poll;
    uint64_t tick_missed;       /* tick.missed already accounted */
    pr_fsrc_cb cb;
    void *ud;
    int delivery;
    double fps;
    double tokens;              /* fd-driven rate gate: frames it may take now */
    int64_t last_admit_ns;
    double (*rate_fn)(void *ud);
    void *rate_ud;
    int state;
    int end_pending;            /* report the end once the ring is drained */
    int in_cb, dead;
    uint64_t seq;
    pr_fsrc_stats_t st;
    char err[256];
};

extern const fsrc_backend_t pr_fsrc_synthetic, pr_fsrc_mjpeg, pr_fsrc_dir;

/* A fresh frame from the pool, or NULL (counted in pool_empty). */
pr_frame_t *fsrc_frame(pr_fsrc_t *s);
/* Queue f (takes the reference), stamping seq and, if unset, the time. */
void fsrc_emit(pr_fsrc_t *s, pr_frame_t *f);
/* fd-driven: 1 if a frame arriving now should be taken (else counted as
 * skipped). */
int fsrc_admit(pr_fsrc_t *s);
/* The stream ended (err 0) or failed (negated errno): stop and report
 * after the queued frames.  why: a message. */
void fsrc_end(pr_fsrc_t *s, const char *why);

#endif
