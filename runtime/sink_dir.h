/* sink_dir.h - write frames (JPEG bytes) as files in one directory,
 * rotated by file count and total bytes.
 *
 * Each write goes to a hidden temporary name in the same directory
 * (".PREFIX-NNNNNNNNNN.EXT.tmp"), optionally fsync'ed, then renamed to
 * "PREFIX-NNNNNNNNNN.EXT": rename within a directory is atomic, so a reader
 * (a web server, rsync, a person) never sees a half-written file.  With
 * fsync the directory is synced after the rename too, so the file survives
 * a power cut once the write returns.
 *
 * Numbers grow from the highest one found in the directory at creation, so
 * a restarted app continues the sequence; leftover temporaries of this
 * prefix (a crash mid-write) are removed then.  After each write the oldest
 * files of this prefix are deleted until at most max_files remain and they
 * total at most max_bytes (the newest file is always kept).  Files of other
 * names are never touched.
 *
 * A failed write (ENOSPC, EDQUOT, EACCES, EROFS, EIO ...) removes its
 * temporary, is counted, and returns the negated errno; the sink stays
 * usable and the next write tries again.  Not thread-safe. */
#ifndef PR_SINK_DIR_H
#define PR_SINK_DIR_H

#include <stddef.h>
#include <stdint.h>

typedef struct pr_sink_dir pr_sink_dir_t;

typedef struct pr_sink_dir_opts {
    const char *path;      /* an existing directory */
    const char *prefix;    /* default "frame"; letters, digits, - _ . */
    const char *ext;       /* default ".jpg" */
    size_t max_files;      /* 0: no limit */
    uint64_t max_bytes;    /* 0: no limit */
    int fsync;             /* fsync file and directory on every write */
} pr_sink_dir_opts_t;

typedef struct pr_sink_dir_stats {
    uint64_t written;       /* files written */
    uint64_t bytes_written;
    uint64_t failures;      /* writes that failed */
    uint64_t removed;       /* files deleted by rotation */
    size_t files;           /* files of this sink in the directory now */
    uint64_t bytes;         /* ... and their total size */
    int last_error;         /* negated errno of the last failure, 0 if none */
    uint64_t next_seq;
} pr_sink_dir_stats_t;

/* Opens the directory and scans it.  Returns 0, PR_EINVAL (bad option;
 * err says which), PR_ENOMEM, or a negated errno (err names the path). */
int pr_sink_dir_create(pr_sink_dir_t **out, const pr_sink_dir_opts_t *o, char *err,
                       size_t errlen);
void pr_sink_dir_destroy(pr_sink_dir_t *s);

/* Write one file.  name (may be NULL) gets its file name.  Returns 0,
 * PR_EINVAL, PR_ENOMEM, or the negated errno of the failed step (err says
 * which: "frame-0000000012.jpg: write: No space left on device"). */
int pr_sink_dir_write(pr_sink_dir_t *s, const void *data, size_t len, char *name,
                      size_t namelen, char *err, size_t errlen);

void pr_sink_dir_stats(const pr_sink_dir_t *s, pr_sink_dir_stats_t *st);
const char *pr_sink_dir_path(const pr_sink_dir_t *s);

#endif
