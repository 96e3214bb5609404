/* source_dir.c - the dir frame source (frame_source.h): JPEG files of a
 * directory in byte order of their names, one per tick.  Each file is read
 * whole and must be one complete JPEG (pr_mjpeg_is_complete); anything
 * else (a half-copied file, a text file named .jpg, one past max_frame) is
 * skipped and counted as corrupt, and the next file is tried in the same
 * tick. */
#include "fsrc_impl.h"

#include "error.h"
#include "mjpeg_split.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct dsrc {
    char **names;
    size_t n, next;
} dsrc_t;

static void free_names(dsrc_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->names[i]);
    free(d->names);
    d->names = NULL;
    d->n = d->next = 0;
}

static int is_jpeg_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int scan(pr_fsrc_t *s, dsrc_t *d)
{
    DIR *dir = opendir(s->o.path);
    struct dirent *e;
    size_t cap = 0;
    free_names(d);
    if (!dir) {
        int err = errno;
        snprintf(s->err, sizeof s->err, "%s: %s", s->o.path, strerror(err));
        return -err;
    }
    while ((e = readdir(dir)) != NULL) {
        if (!is_jpeg_name(e->d_name))
            continue;
        if (d->n == cap) {
            char **nn = realloc(d->names, (cap = cap ? cap * 2 : 64) * sizeof *nn);
            if (!nn)
                break;
            d->names = nn;
        }
        if (!(d->names[d->n] = strdup(e->d_name)))
            break;
        d->n++;
    }
    closedir(dir);
    if (d->n)
        qsort(d->names, d->n, sizeof *d->names, cmp_name);
    return 0;
}

/* Read one file into f; 0 if it is a complete JPEG. */
static int load(pr_fsrc_t *s, const char *name, pr_frame_t *f)
{
    char path[4096];
    struct stat sb;
    size_t got = 0;
    int fd, ok = 0;
    snprintf(path, sizeof path, "%s/%s", s->o.path, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size <= f->cap) {
        while (got < (size_t)sb.st_size) {
            ssize_t r = read(fd, f->data + got, (size_t)sb.st_size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        ok = got == (size_t)sb.st_size && pr_mjpeg_is_complete(f->data, got);
    } else if (S_ISREG(sb.st_mode)) {
        s->st.oversize++;
    }
    close(fd);
    s->st.bytes += got;
    f->len = got;
    f->fmt = PR_FRAME_JPEG;
    return ok ? 0 : -1;
}

static void d_tick(pr_fsrc_t *s, uint64_t n)
{
    dsrc_t *d = s->be_state;
    size_t tried = 0;
    (void)n;   /* one file per tick, late or not */
    for (;;) {
        if (tried++ > d->n)
            return;   /* a whole pass without a readable file: next tick */
        if (d->next == d->n) {
            if (!s->o.loop || d->n == 0) {
                char why[300];
                snprintf(why, sizeof why, "%s: %s", s->o.path,
                         d->n ? "no more files" : "no JPEG files");
                fsrc_end(s, why);
                return;
            }
            if (scan(s, d) < 0) {
                fsrc_end(s, s->err);
                return;
            }
            continue;
        }
        pr_frame_t *f = fsrc_frame(s);
        if (!f)
            return;
        if (load(s, d->names[d->next++], f) == 0) {
            fsrc_emit(s, f);
            return;
        }
        s->st.corrupt++;
        pr_frame_unref(f);
    }
}

static int d_open(pr_fsrc_t *s)
{
    dsrc_t *d = calloc(1, sizeof *d);
    if (!d)
        return PR_ENOMEM;
    s->be_state = d;
    s->timer_driven = 1;
    return scan(s, d);
}

static void d_close(pr_fsrc_t *s)
{
    free_names(s->be_state);
    free(s->be_state);
    s->be_state = NULL;
}

static int d_reopen(pr_fsrc_t *s)
{
    return scan(s, s->be_state);
}

const fsrc_backend_t pr_fsrc_dir = {
    .open = d_open, .close = d_close, .watch = NULL, .tick = d_tick, .reopen = d_reopen,
};
