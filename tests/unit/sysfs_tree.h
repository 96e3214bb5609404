/* sysfs_tree.h - a fake sysfs tree in a mkdtemp directory for the sensor
 * tests: put() writes ROOT/dir/name (making directories), unput()/
 * unput_dir() remove parts of it, cleanup() removes all of it.  Header-only
 * statics, like tap.h: each test is one executable. */
#ifndef PR_SYSFS_TREE_H
#define PR_SYSFS_TREE_H

#include "tap.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

/* The files and directories made, to remove in reverse order. */
static char made[128][PATH_MAX];
static int nmade;

static inline void remember(const char *path)
{
    if (nmade == (int)(sizeof made / sizeof made[0]))
        bail_out("too many test files");
    snprintf(made[nmade++], sizeof made[0], "%s", path);
}

/* mkdir -p of root/rel. */
static inline void mkdirs(const char *rel)
{
    char path[PATH_MAX];
    size_t rl = strlen(root);
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + rl + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0755) == 0)
                remember(path);
            else if (errno != EEXIST)
                bail_out("cannot make test directory");
            *p = c;
            if (c == '\0')
                break;
        }
    }
}

/* Write root/dir/name with the given contents, exactly. */
static inline void put(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    FILE *f;
    int existed;
    mkdirs(dir);
    snprintf(path, sizeof path, "%s/%s/%s", root, dir, name);
    existed = access(path, F_OK) == 0;
    f = fopen(path, "w");
    if (!f)
        bail_out("cannot write test file");
    fputs(text, f);
    fclose(f);
    if (!existed)
        remember(path);
}

/* Remove root/dir/name made by put(). */
static inline void unput(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s/%s", root, dir, name);
    if (remove(path) != 0)
        bail_out("cannot remove test file");
    for (int i = 0; i < nmade; i++)
        if (strcmp(made[i], path) == 0) {
            memmove(made[i], made[i + 1], (size_t)(nmade - i - 1) * sizeof made[0]);
            nmade--;
            break;
        }
}

/* Remove root/dir and everything put() made under it. */
static inline void unput_dir(const char *dir)
{
    char path[PATH_MAX];
    size_t len = (size_t)snprintf(path, sizeof path, "%s/%s", root, dir);
    for (int i = nmade - 1; i >= 0; i--)
        if (strncmp(made[i], path, len) == 0 && (made[i][len] == '/' || made[i][len] == '\0')) {
            if (remove(made[i]) != 0)
                bail_out("cannot remove test file");
            memmove(made[i], made[i + 1], (size_t)(nmade - i - 1) * sizeof made[0]);
            nmade--;
        }
}

/* Remove everything made, then the root itself. */
static inline void cleanup(void)
{
    while (nmade > 0) {
        const char *p = made[--nmade];
        if (remove(p) != 0)
            diag("cannot remove %s", p);
    }
    if (rmdir(root) != 0)
        diag("cannot remove %s", root);
}

/* A fresh empty root. */
static inline void fake_root(void)
{
    snprintf(root, sizeof root, "/tmp/perch-test-sensors-XXXXXX");
    if (!mkdtemp(root))
        bail_out("mkdtemp failed");
}

#endif
