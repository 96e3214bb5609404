/* fakesys.h - a fake sysfs tree in a temporary directory, and a capture of
 * stderr for counting log lines, for the unit tests of the modules that
 * read and write sysfs (actuators, safety).  Header-only, like tap.h. */
#ifndef PR_FAKESYS_H
#define PR_FAKESYS_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static char fs_root[64];

/* mkdir -p of fs_root/rel. */
static inline void fs_mkdirs(const char *rel)
{
    char path[PATH_MAX];
    size_t rl = strlen(fs_root);
    snprintf(path, sizeof path, "%s/%s", fs_root, rel);
    for (char *p = path + rl + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                bail_out("cannot make test directory");
            *p = c;
            if (c == '\0')
                break;
        }
    }
}

/* fs_root/dir/name, in buf. */
static inline const char *fs_path(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s/%s", fs_root, dir, name);
    return buf;
}

/* Write fs_root/dir/name with exactly text. */
static inline void fs_put(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;
    fs_mkdirs(dir);
    f = fopen(fs_path(path, sizeof path, dir, name), "w");
    if (!f)
        bail_out("cannot write test file");
    fputs(text, f);
    fclose(f);
}

/* Contents of fs_root/dir/name without trailing newline, in a static
 * buffer; "<missing>" if it cannot be read. */
static inline const char *fs_get(const char *dir, const char *name)
{
    static char buf[256];
    char path[PATH_MAX];
    size_t n;
    FILE *f = fopen(fs_path(path, sizeof path, dir, name), "r");
    if (!f)
        return "<missing>";
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    return buf;
}

static inline void fs_init(const char *tag)
{
    snprintf(fs_root, sizeof fs_root, "/tmp/perch-test-%s-XXXXXX", tag);
    if (!mkdtemp(fs_root))
        bail_out("mkdtemp failed");
}

static inline int fs_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    chmod(path, 0755);   /* undo read-only test files */
    return remove(path) == 0 ? 0 : (diag("cannot remove %s", path), 0);
}

/* rm -rf fs_root */
static inline void fs_cleanup(void)
{
    nftw(fs_root, fs_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------ log capture
 *
 * stderr goes to a temporary file for the whole test; fs_log_count()
 * counts the lines written since a mark that contain a string. */

static int fs_log_fd = -1;

static inline void fs_log_capture(void)
{
    char path[] = "/tmp/perch-test-log-XXXXXX";
    fflush(stderr);
    fs_log_fd = mkstemp(path);
    if (fs_log_fd < 0)
        bail_out("mkstemp");
    unlink(path);
    if (dup2(fs_log_fd, STDERR_FILENO) < 0)
        bail_out("dup2");
}

static inline long fs_log_mark(void)
{
    return (long)lseek(fs_log_fd, 0, SEEK_END);
}

static inline int fs_log_count(long mark, const char *needle)
{
    long end = fs_log_mark();
    char *buf;
    int n = 0;
    if (end <= mark)
        return 0;
    buf = malloc((size_t)(end - mark) + 1);
    if (!buf || pread(fs_log_fd, buf, (size_t)(end - mark), mark) != end - mark)
        bail_out("reading the captured log");
    buf[end - mark] = '\0';
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        n += strstr(line, needle) != NULL;
    free(buf);
    return n;
}

#endif
