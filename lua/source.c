/* source.c - an app version's source files, kept in memory, and the
 * `require` searcher that loads Lua modules from them.  See source.h. */
#include "source.h"

#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

struct pr_source {
    pr_source_file_t *files;
    size_t n, cap;
    void (*on_read)(void *ud, const char *path);
    void *on_read_ud;
};

int pr_source_create(pr_source_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : PR_ENOMEM;
}

void pr_source_destroy(pr_source_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->files[i].path);
        free(s->files[i].text);
    }
    free(s->files);
    free(s);
}

size_t pr_source_count(const pr_source_t *s) { return s->n; }
const pr_source_file_t *pr_source_file(const pr_source_t *s, size_t i) { return &s->files[i]; }

const pr_source_file_t *pr_source_find(const pr_source_t *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!strcmp(s->files[i].path, path))
            return &s->files[i];
    }
    return NULL;
}

void pr_source_on_read(pr_source_t *s, void (*fn)(void *ud, const char *path), void *ud)
{
    s->on_read = fn;
    s->on_read_ud = ud;
}

/* Whole file into a NUL-terminated buffer. */
static int slurp(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f)
        return -errno;
    for (;;) {
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap ? cap * 2 : 8192);
            if (!nb) {
                free(buf);
                fclose(f);
                return PR_ENOMEM;
            }
            buf = nb;
            cap = cap ? cap * 2 : 8192;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int err = errno ? -errno : -EIO;
        free(buf);
        fclose(f);
        return err;
    }
    fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

static pr_source_file_t *slot(pr_source_t *s, const char *path)
{
    pr_source_file_t *f = (pr_source_file_t *)pr_source_find(s, path);
    if (f)
        return f;
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 8;
        pr_source_file_t *nf = realloc(s->files, ncap * sizeof *nf);
        if (!nf)
            return NULL;
        s->files = nf;
        s->cap = ncap;
    }
    f = &s->files[s->n];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path)))
        return NULL;
    s->n++;
    return f;
}

int pr_source_read(pr_source_t *s, const char *path)
{
    pr_source_file_t *f;
    char *text = NULL;
    size_t len = 0;
    int rc = slurp(path, &text, &len);

    if (rc < 0)
        return rc;
    if (!(f = slot(s, path))) {
        free(text);
        return PR_ENOMEM;
    }
    free(f->text);
    f->text = text;
    f->len = len;
    return 0;
}

int pr_source_get(pr_source_t *s, const char *path, const pr_source_file_t **out)
{
    pr_source_file_t *f = (pr_source_file_t *)pr_source_find(s, path);
    int rc;

    if (!f || !f->text) {
        if ((rc = pr_source_read(s, path)) < 0)
            return rc;
        f = (pr_source_file_t *)pr_source_find(s, path);
        if (s->on_read)
            s->on_read(s->on_read_ud, path);
    }
    f->used = 1;
    *out = f;
    return 0;
}

const char *pr_source_chunk(const pr_source_file_t *f, size_t *len)
{
    const char *p = f->text, *end = f->text + f->len;
    if (end - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    if (p < end && *p == '#') {
        while (p < end && *p != '\n')
            p++;
    }
    *len = (size_t)(end - p);
    return p;
}

/* ------------------------------------------------------------- searcher */

/* Like Lua's searcher_Lua, but a path kept in the source wins even when the
 * file is gone from disk, and the text comes from the source. */
static int searcher(lua_State *L)
{
    pr_source_t *s = lua_touserdata(L, lua_upvalueindex(1));
    const char *name = luaL_checkstring(L, 1);
    const char *tmpl, *found = NULL;
    const pr_source_file_t *f;
    const char *text;
    size_t len;
    int rc, tried;

    lua_getglobal(L, "package");
    if (lua_getfield(L, -1, "path") != LUA_TSTRING)
        return luaL_error(L, "'package.path' must be a string");
    tmpl = lua_tostring(L, -1);
    name = luaL_gsub(L, name, ".", LUA_DIRSEP);
    lua_pushliteral(L, "");  /* the files tried, for the not-found message */
    tried = lua_gettop(L);
    /* Each ';'-separated template with '?' replaced by the name. */
    while (*tmpl) {
        size_t n = strcspn(tmpl, ";");
        if (n > 0) {
            lua_pushlstring(L, tmpl, n);
            const char *cand = luaL_gsub(L, lua_tostring(L, -1), LUA_PATH_MARK, name);
            lua_remove(L, -2);
            if (pr_source_find(s, cand) || access(cand, R_OK) == 0) {
                found = cand;  /* stays on the stack */
                break;
            }
            lua_pushfstring(L, "%s\n\tno file '%s'", lua_tostring(L, tried), cand);
            lua_replace(L, tried);
            lua_pop(L, 1);
        }
        tmpl += n + (tmpl[n] == ';');
    }
    if (!found) {
        /* Lua's findloader puts its own "\n\t" before each searcher's text */
        const char *msg = lua_tostring(L, tried);
        lua_pushstring(L, msg + (msg[0] ? 2 : 0));
        return 1;
    }
    rc = pr_source_get(s, found, &f);
    if (rc < 0)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
                          lua_tostring(L, 1), found, rc == PR_ENOMEM ? "out of memory"
                                                                    : strerror(-rc));
    lua_pushfstring(L, "@%s", found);
    text = pr_source_chunk(f, &len);
    if (luaL_loadbuffer(L, text, len, lua_tostring(L, -1)) != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s",
                          lua_tostring(L, 1), found, lua_tostring(L, -1));
    lua_pushstring(L, found);  /* the second argument of the loader */
    return 2;
}

void pr_source_install(lua_State *L, pr_source_t *s)
{
    lua_Integer n;

    /* package.searchers is preload, perch's embedded modules, Lua files,
     * C libraries, C all-in-one: the Lua-file one is third from the end. */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    n = (lua_Integer)luaL_len(L, -1);
    if (n < 3)
        luaL_error(L, "package.searchers has %d entries, expected Lua's four", (int)n);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, searcher, 1);
    lua_rawseti(L, -2, n - 2);
    lua_pop(L, 2);
}
