/* sink_dir.c - rotated directory of files with atomic rename (see
 * sink_dir.h).  The files this sink owns are kept in a deque, oldest
 * first, with their sizes, so rotation needs no directory scan. */
#include "sink_dir.h"

#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 128

typedef struct entry {
    uint64_t seq;
    uint64_t size;
} entry_t;

struct pr_sink_dir {
    int dirfd;
    char *path;
    char prefix[48], ext[16];
    size_t max_files;
    uint64_t max_bytes;
    int fsync;
    entry_t *ent;            /* deque: ent[(head + i) % cap] */
    size_t head, count, cap;
    pr_sink_dir_stats_t st;
};

static void name_of(const pr_sink_dir_t *s, uint64_t seq, int tmp, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s-%010" PRIu64 "%s%s", tmp ? "." : "", s->prefix, seq, s->ext,
             tmp ? ".tmp" : "");
}

static int push_entry(pr_sink_dir_t *s, uint64_t seq, uint64_t size)
{
    if (s->count == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        entry_t *n = malloc(ncap * sizeof *n);
        if (!n)
            return PR_ENOMEM;
        for (size_t i = 0; i < s->count; i++)
            n[i] = s->ent[(s->head + i) % s->cap];
        free(s->ent);
        s->ent = n;
        s->cap = ncap;
        s->head = 0;
    }
    s->ent[(s->head + s->count) % s->cap] = (entry_t){ seq, size };
    s->count++;
    s->st.bytes += size;
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    uint64_t x = ((const entry_t *)a)->seq, y = ((const entry_t *)b)->seq;
    return x < y ? -1 : x > y;
}

/* NAME is ours if it is [.]PREFIX-DIGITS EXT[.tmp]: returns 1 (file) or 2
 * (temporary) and the number, else 0. */
static int parse_name(const pr_sink_dir_t *s, const char *name, uint64_t *seq)
{
    int tmp = name[0] == '.';
    const char *p = name + tmp;
    size_t pl = strlen(s->prefix), el = strlen(s->ext);
    char *end;
    if (strncmp(p, s->prefix, pl) || p[pl] != '-' || p[pl + 1] < '0' || p[pl + 1] > '9')
        return 0;
    errno = 0;
    *seq = strtoull(p + pl + 1, &end, 10);
    if (errno || strncmp(end, s->ext, el))
        return 0;
    end += el;
    if (tmp ? strcmp(end, ".tmp") : *end != '\0')
        return 0;
    return tmp ? 2 : 1;
}

static int scan(pr_sink_dir_t *s)
{
    int fd = dup(s->dirfd);
    DIR *d;
    struct dirent *e;
    uint64_t seq, top = 0;
    if (fd < 0 || !(d = fdopendir(fd))) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        int kind = parse_name(s, e->d_name, &seq);
        if (kind == 2) {
            unlinkat(s->dirfd, e->d_name, 0);   /* a crash mid-write */
            continue;
        }
        if (kind != 1 || fstatat(s->dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        if (push_entry(s, seq, (uint64_t)sb.st_size) < 0) {
            closedir(d);
            return PR_ENOMEM;
        }
        if (seq > top)
            top = seq;
    }
    closedir(d);
    /* Freshly filled, so head is 0 and the entries are contiguous. */
    if (s->count)
        qsort(s->ent, s->count, sizeof *s->ent, cmp_entry);
    s->st.next_seq = top + 1;
    return 0;
}

static int valid_part(const char *p, size_t max)
{
    size_t n = strlen(p);
    if (n == 0 || n >= max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

int pr_sink_dir_create(pr_sink_dir_t **out, const pr_sink_dir_opts_t *o, char *err,
                       size_t errlen)
{
    pr_sink_dir_t *s;
    const char *prefix, *ext;
    int rc;
    if (!out || !o || !o->path || !*o->path)
        return PR_EINVAL;
    *out = NULL;
    prefix = o->prefix ? o->prefix : "frame";
    ext = o->ext ? o->ext : ".jpg";
    if (!valid_part(prefix, 48) || prefix[0] == '.' || (*ext && !valid_part(ext, 16))) {
        snprintf(err, errlen, "bad prefix or extension (letters, digits, - _ .)");
        return PR_EINVAL;
    }
    if (!(s = calloc(1, sizeof *s)))
        return PR_ENOMEM;
    s->dirfd = -1;
    if (!(s->path = strdup(o->path))) {
        free(s);
        return PR_ENOMEM;
    }
    strcpy(s->prefix, prefix);
    strcpy(s->ext, ext);
    s->max_files = o->max_files;
    s->max_bytes = o->max_bytes;
    s->fsync = o->fsync;
    s->dirfd = open(o->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", o->path, strerror(-rc));
        pr_sink_dir_destroy(s);
        return rc;
    }
    if ((rc = scan(s)) < 0) {
        snprintf(err, errlen, "%s: %s", o->path, pr_strerror(rc));
        pr_sink_dir_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

void pr_sink_dir_destroy(pr_sink_dir_t *s)
{
    if (!s)
        return;
    if (s->dirfd >= 0)
        close(s->dirfd);
    free(s->ent);
    free(s->path);
    free(s);
}

static void rotate(pr_sink_dir_t *s)
{
    char name[NAME_MAX_LEN];
    while (s->count > 1 && ((s->max_files && s->count > s->max_files) ||
                            (s->max_bytes && s->st.bytes > s->max_bytes))) {
        entry_t e = s->ent[s->head];
        name_of(s, e.seq, 0, name, sizeof name);
        if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
            break;   /* cannot delete: keep it counted, try again next write */
        s->head = (s->head + 1) % s->cap;
        s->count--;
        s->st.bytes -= e.size;
        s->st.removed++;
    }
}

int pr_sink_dir_write(pr_sink_dir_t *s, const void *data, size_t len, char *name,
                      size_t namelen, char *err, size_t errlen)
{
    char tmp[NAME_MAX_LEN], fin[NAME_MAX_LEN];
    const char *step = "open";
    const uint8_t *p = data;
    size_t left = len;
    int fd, rc;
    uint64_t seq;

    if (!s || (!data && len))
        return PR_EINVAL;
    seq = s->st.next_seq;
    name_of(s, seq, 1, tmp, sizeof tmp);
    name_of(s, seq, 0, fin, sizeof fin);
    fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    step = "write";
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            goto fail_fd;
        }
        p += w;
        left -= (size_t)w;
    }
    step = "fsync";
    if (s->fsync && fsync(fd) < 0)
        goto fail_fd;
    step = "close";
    if (close(fd) < 0) {
        fd = -1;
        goto fail_fd;
    }
    step = "rename";
    if (renameat(s->dirfd, tmp, s->dirfd, fin) < 0)
        goto fail_unlink;
    if (s->fsync)
        fsync(s->dirfd);   /* the rename itself; a failure here loses nothing yet */
    s->st.next_seq++;
    s->st.written++;
    s->st.bytes_written += len;
    if ((rc = push_entry(s, seq, len)) < 0)
        return rc;
    rotate(s);
    if (name)
        snprintf(name, namelen, "%s", fin);
    return 0;

fail_fd:
    rc = -errno;
    if (fd >= 0)
        close(fd);
    errno = -rc;
fail_unlink:
    rc = -errno;
    unlinkat(s->dirfd, tmp, 0);
    goto out;
fail:
    rc = -errno;
out:
    s->st.failures++;
    s->st.last_error = rc;
    /* The number is not used up: the next write takes it again. */
    snprintf(err, errlen, "%s/%s: %s: %s", s->path, fin, step, strerror(-rc));
    return rc;
}

void pr_sink_dir_stats(const pr_sink_dir_t *s, pr_sink_dir_stats_t *st)
{
    if (!s || !st)
        return;
    *st = s->st;
    st->files = s->count;
}

const char *pr_sink_dir_path(const pr_sink_dir_t *s)
{
    return s ? s->path : "";
}
