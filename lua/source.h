/* source.h - the source files one app version is built from.
 *
 * An app reads its main chunk, and every Lua module `require` finds on the
 * file system, through a pr_source_t: a file is read once into memory and
 * every later load of the same path uses that text.  So a version can be
 * built again exactly as it was (a rollback after its files changed on
 * disk), a reload compiles exactly the text it checked, and the reloader
 * knows which files a version is made of (to watch them).
 *
 * Ownership: the texts belong to the pr_source_t and live until it is
 * destroyed; a source must outlive every Lua state it was installed in. */
#ifndef PR_SOURCE_H
#define PR_SOURCE_H

#include <stddef.h>

#include <lua.h>

typedef struct pr_source pr_source_t;

typedef struct pr_source_file {
    /* ro: */
    char *path;     /* as the app named it: "scripts/app.lua", "dir/mod.lua" */
    char *text;     /* NUL-terminated; len bytes */
    size_t len;
    int used;       /* loaded by the app (not only read ahead) */
} pr_source_file_t;

/* Returns 0 or PR_ENOMEM. */
int pr_source_create(pr_source_t **out);
void pr_source_destroy(pr_source_t *s);  /* safe with NULL */

/* Read path from disk now and keep its text (replacing one kept before),
 * not yet marked used.  0, a negated errno, or PR_ENOMEM. */
int pr_source_read(pr_source_t *s, const char *path);
/* The text of path: the kept one, else read from disk and kept.  Marks it
 * used and reports a file read from disk to the on_read hook.  *f is valid
 * while s lives.  0, a negated errno, or PR_ENOMEM. */
int pr_source_get(pr_source_t *s, const char *path, const pr_source_file_t **f);

/* The part of f's text Lua compiles: as luaL_loadfile does, without a
 * UTF-8 byte-order mark or a first line starting with '#' ("#!/usr/bin/env
 * perch"; its newline stays, so line numbers hold). */
const char *pr_source_chunk(const pr_source_file_t *f, size_t *len);

size_t pr_source_count(const pr_source_t *s);
const pr_source_file_t *pr_source_file(const pr_source_t *s, size_t i);  /* in read order */
const pr_source_file_t *pr_source_find(const pr_source_t *s, const char *path);

/* fn(ud, path) after each file pr_source_get() reads from disk: a module
 * required at run time joins the files the reloader watches. */
void pr_source_on_read(pr_source_t *s, void (*fn)(void *ud, const char *path), void *ud);

/* In L (a state being set up, called protected): put a searcher in place
 * of Lua's own file searcher that takes `require`d Lua files from s,
 * searching package.path as Lua does. */
void pr_source_install(lua_State *L, pr_source_t *s);

#endif
