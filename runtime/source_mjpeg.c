/* source_mjpeg.c - the mjpeg frame source (frame_source.h): a stream of
 * concatenated JPEGs cut by mjpeg_split.  Pipes, FIFOs and devices are read
 * non-blocking from a pr_io_t, at most READ_BURST bytes per loop turn so a
 * fast writer cannot starve the loop; a regular file is read one frame per
 * tick of the frame rate (epoll cannot watch files, and a recording should
 * play at its rate, not be swallowed at once). */
#include "fsrc_impl.h"

#include "error.h"
#include "mjpeg_split.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define READ_BURST (1024 * 1024)

typedef struct mj {
    int fd;
    pr_io_t io;
    pr_mjpeg_split_t *split;
    pr_mjpeg_split_stats_t seen;     /* splitter stats already added to s->st */
    uint8_t buf[READ_CHUNK];
    size_t pos, len;                 /* file mode: unread part of buf */
    int got;                         /* file mode: a frame came out of this tick */
} mj_t;

static void sync_stats(pr_fsrc_t *s, mj_t *m)
{
    pr_mjpeg_split_stats_t now;
    pr_mjpeg_split_stats(m->split, &now);
    s->st.corrupt += now.corrupt - m->seen.corrupt;
    s->st.truncated += now.truncated - m->seen.truncated;
    s->st.oversize += now.oversize - m->seen.oversize;
    s->st.garbage += now.garbage - m->seen.garbage;
    s->st.bytes += now.bytes - m->seen.bytes;
    m->seen = now;
}

static int on_split(const uint8_t *data, size_t len, void *ud)
{
    pr_fsrc_t *s = ud;
    mj_t *m = s->be_state;
    pr_frame_t *f;
    if (!s->timer_driven && !fsrc_admit(s))
        return 0;
    if (!(f = fsrc_frame(s))) {
        m->got = 1;   /* file mode: that was this tick's frame, lost */
        return s->timer_driven;
    }
    memcpy(f->data, data, len);
    f->len = len;
    f->fmt = PR_FRAME_JPEG;
    fsrc_emit(s, f);
    m->got = 1;
    return s->timer_driven;
}

static void at_eof(pr_fsrc_t *s, mj_t *m, int err)
{
    char why[200];
    pr_mjpeg_split_finish(m->split);
    sync_stats(s, m);
    if (err)
        snprintf(why, sizeof why, "%s: read: %s", s->o.path, strerror(err));
    else
        snprintf(why, sizeof why, "%s: end of stream", s->o.path);
    fsrc_end(s, why);
}

static void on_readable(pr_io_t *io, int revents, void *ud)
{
    pr_fsrc_t *s = ud;
    mj_t *m = s->be_state;
    size_t total = 0;
    (void)io;
    (void)revents;
    while (total < READ_BURST) {
        ssize_t n = read(m->fd, m->buf, sizeof m->buf);
        if (n > 0) {
            total += (size_t)n;
            pr_mjpeg_split_feed(m->split, m->buf, (size_t)n, on_split, s);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        sync_stats(s, m);
        at_eof(s, m, n < 0 ? errno : 0);
        return;
    }
    sync_stats(s, m);
}

static void m_tick(pr_fsrc_t *s, uint64_t n)
{
    mj_t *m = s->be_state;
    (void)n;   /* a recording plays one frame per tick, late or not */
    m->got = 0;
    while (!m->got) {
        if (m->pos == m->len) {
            ssize_t r = read(m->fd, m->buf, sizeof m->buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                at_eof(s, m, r < 0 ? errno : 0);
                return;
            }
            m->pos = 0;
            m->len = (size_t)r;
        }
        m->pos += pr_mjpeg_split_feed(m->split, m->buf + m->pos, m->len - m->pos, on_split, s);
    }
    sync_stats(s, m);
}

static int open_path(pr_fsrc_t *s, mj_t *m)
{
    struct stat sb;
    int stdin_ = !strcmp(s->o.path, "-");
    m->fd = stdin_ ? dup(0) : open(s->o.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (m->fd < 0 || fstat(m->fd, &sb) < 0) {
        int e = errno;
        snprintf(s->err, sizeof s->err, "%s: %s", s->o.path, strerror(e));
        if (m->fd >= 0)
            close(m->fd);
        m->fd = -1;
        return -e;
    }
    s->timer_driven = S_ISREG(sb.st_mode);
    /* Files read blocking (they never wait); everything else must not.
     * For stdin this changes the description shared with the parent,
     * which a pipe's writer does not notice. */
    int fl = fcntl(m->fd, F_GETFL);
    if (fl >= 0)
        fcntl(m->fd, F_SETFL, s->timer_driven ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
    m->pos = m->len = 0;
    return 0;
}

static int m_open(pr_fsrc_t *s)
{
    mj_t *m = calloc(1, sizeof *m);
    int rc;
    if (!m)
        return PR_ENOMEM;
    m->fd = -1;
    s->be_state = m;
    pr_io_init(&m->io, on_readable, s);
    if ((rc = pr_mjpeg_split_create(&m->split, s->o.max_frame)) < 0)
        return rc;
    return open_path(s, m);
}

static void m_close(pr_fsrc_t *s)
{
    mj_t *m = s->be_state;
    pr_io_stop(&m->io);
    if (m->fd >= 0)
        close(m->fd);
    pr_mjpeg_split_destroy(m->split);
    free(m);
    s->be_state = NULL;
}

static int m_watch(pr_fsrc_t *s, int on)
{
    mj_t *m = s->be_state;
    if (!on || s->timer_driven || m->fd < 0) {
        pr_io_stop(&m->io);
        return 0;
    }
    return pr_io_active(&m->io) ? 0 : pr_io_start(s->loop, &m->io, m->fd, PR_IO_READ);
}

static int m_reopen(pr_fsrc_t *s)
{
    mj_t *m = s->be_state;
    if (!strcmp(s->o.path, "-"))
        return -ESPIPE;
    pr_io_stop(&m->io);
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    pr_mjpeg_split_reset(m->split);
    return open_path(s, m);
}

const fsrc_backend_t pr_fsrc_mjpeg = {
    .open = m_open, .close = m_close, .watch = m_watch, .tick = m_tick, .reopen = m_reopen,
};
