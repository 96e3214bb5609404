/* reload.c - the reloader: file watching, debounce, build-check-swap,
 * state handoff and automatic rollback.  See reload.h for the contract.
 *
 * Why inotify on directories rather than on the files: editors save by
 * writing a new file and renaming it over the old one, which ends a watch
 * on the old inode; a directory watch sees the new name arrive.  Only
 * events naming a watched file count. */
#include "reload.h"
#include "config.h"

#include "error.h"
#include "log.h"
#include "loop.h"
#include "perch.h"
#include "plain.h"
#include "source.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#define WATCH_MASK (IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
                    IN_CREATE | IN_DELETE)

/* Outcomes of attempt() besides 0 (swapped) and PR_E* (failed). */
#define UNCHANGED 1
#define PENDING   2

struct watch_file {
    char *path;
    const char *base;   /* inside path */
    int wd;
};

struct pr_reloader {
    pr_app_env_t *env;
    char *path;               /* the app file, as given */
    char *dir;                /* its directory with a '/': "scripts/", "./" */
    char root[4096];          /* the project's, pr_app_root(): "./" */
    pr_reload_opts_t o;
    pr_app_t *app;            /* the running version ... */
    pr_source_t *src;         /* ... and the files it is made of */
    pr_source_t *prev_src;    /* the version before it, for a rollback */
    pr_plain_t prev_state;    /* what that version saved at the swap */
    pr_reload_stats_t st;
    pr_reload_done_fn done;
    void *done_ud;
    int busy;                 /* a reload is in progress */

    /* watching */
    int ifd;
    pr_io_t io;
    struct watch_file *files;
    size_t nfiles;
    pr_timer_t debounce;      /* quiet time after file events */
    pr_timer_t settle;        /* a failure to compile becomes final */
    char pending[256];        /* that failure */

    /* work for the next loop turn: requests, rollback */
    pr_timer_t kick;
    const char *request_why;
    int rollback_due;

    /* health of the version just swapped in */
    int64_t swap_ns;          /* 0: no rollback possible */
    int failures;
};

/* --------------------------------------------------------------- options */

void pr_reload_opts_default(pr_reload_opts_t *o)
{
    o->watch = 1;
    o->debounce_s = 0.030;
    o->settle_s = 0.300;
    o->rollback_failures = 3;
    o->rollback_window_s = 10;
}

int pr_reload_parse_sets(char *const *sets, int nsets, pr_reload_opts_t *o,
                         char *err, size_t errlen)
{
    for (int i = 0; i < nsets; i++) {
        const char *kv = sets[i], *eq = strchr(kv, '=');
        double v;
        if (!eq || strncmp(kv, "reload.", 7) != 0)
            continue;
#define KEY(k) ((size_t)(eq - kv) == sizeof(k) - 1 && !strncmp(kv, k, sizeof(k) - 1))
        if (KEY("reload.watch")) {
            const char *b = eq + 1;
            if (!strcmp(b, "true") || !strcmp(b, "1"))
                o->watch = 1;
            else if (!strcmp(b, "false") || !strcmp(b, "0"))
                o->watch = 0;
            else
                goto bad;
        } else if (KEY("reload.debounce_ms")) {
            if (pr_config_num(eq + 1, 0, 10000, &v))
                goto bad;
            o->debounce_s = v / 1000;
        } else if (KEY("reload.settle_ms")) {
            if (pr_config_num(eq + 1, 0, 60000, &v))
                goto bad;
            o->settle_s = v / 1000;
        } else if (KEY("reload.rollback_failures")) {
            if (pr_config_num(eq + 1, 0, 1000000, &v) || v != floor(v))
                goto bad;
            o->rollback_failures = (int)v;
        } else if (KEY("reload.rollback_window_s")) {
            if (pr_config_num(eq + 1, 0.001, 86400, &v))
                goto bad;
            o->rollback_window_s = v;
        } else {
            snprintf(err, errlen, "--set %s: unknown reload key (reload.watch, "
                     "reload.debounce_ms, reload.settle_ms, reload.rollback_failures, "
                     "reload.rollback_window_s)", kv);
            return PR_EINVAL;
        }
#undef KEY
        continue;
bad:
        snprintf(err, errlen, "--set %s: expected %s", kv,
                 !strncmp(kv, "reload.watch", 12) ? "true or false"
                 : !strncmp(kv, "reload.rollback_failures", 24) ? "a whole number >= 0 (0: never)"
                 : !strncmp(kv, "reload.rollback_window_s", 24) ? "seconds > 0"
                 : "milliseconds >= 0");
        return PR_EINVAL;
    }
    return 0;
}

/* -------------------------------------------------------------- watching */

/* A file of the project: the app itself, or one under its directory or the
 * project's (pr_app_root: scripts/'s parent, where policies/ lives). */
static int in_project(const pr_reloader_t *r, const char *path)
{
    return !strcmp(path, r->path) || !strncmp(path, r->dir, strlen(r->dir)) ||
           !strncmp(path, r->root, strlen(r->root));
}

static void unwatch_all(pr_reloader_t *r)
{
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i].path);
    free(r->files);
    r->files = NULL;
    r->nfiles = 0;
}

/* Watch the directories of the running version's project files; drop
 * watches no file needs any more. */
static void resync_watches(pr_reloader_t *r)
{
    struct watch_file *old = r->files;
    size_t nold = r->nfiles, n = 0, count = pr_source_count(r->src);
    struct watch_file *nf;

    if (r->ifd < 0)
        return;
    nf = calloc(count ? count : 1, sizeof *nf);
    if (!nf) {
        pr_log_error("%s: out of memory updating the file watches", r->path);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const pr_source_file_t *f = pr_source_file(r->src, i);
        const char *slash = strrchr(f->path, '/');
        char *dir;
        if (!f->used || !in_project(r, f->path))
            continue;
        dir = slash ? strndup(f->path, (size_t)(slash - f->path + (slash == f->path)))
                    : strdup(".");
        nf[n].path = strdup(f->path);
        if (!dir || !nf[n].path) {
            free(dir);
            free(nf[n].path);
            continue;
        }
        nf[n].base = slash ? strrchr(nf[n].path, '/') + 1 : nf[n].path;
        nf[n].wd = inotify_add_watch(r->ifd, dir, WATCH_MASK);
        if (nf[n].wd < 0)
            pr_log_warn("%s: cannot watch %s: %s", r->path, dir, strerror(errno));
        free(dir);
        n++;
    }
    r->files = nf;
    r->nfiles = n;
    /* inotify gives one wd per directory: drop those left unused */
    for (size_t i = 0; i < nold; i++) {
        int used = old[i].wd < 0;
        for (size_t j = 0; j < n && !used; j++)
            used = nf[j].wd == old[i].wd;
        for (size_t j = 0; j < i && !used; j++)
            used = old[j].wd == old[i].wd;  /* removed already */
        if (!used)
            inotify_rm_watch(r->ifd, old[i].wd);
        free(old[i].path);
    }
    free(old);
}

/* A module required at run time joins the watched files. */
static void on_source_read(void *ud, const char *path)
{
    pr_reloader_t *r = ud;
    if (in_project(r, path))
        resync_watches(r);
}

static void on_inotify(pr_io_t *io, int revents, void *ud)
{
    pr_reloader_t *r = ud;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    const char *hit = NULL;
    ssize_t n;
    (void)io;
    (void)revents;

    while ((n = read(r->ifd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                hit = r->path;
            for (size_t i = 0; i < r->nfiles && ev->len; i++) {
                if (r->files[i].wd == ev->wd && !strcmp(r->files[i].base, ev->name))
                    hit = r->files[i].path;
            }
            p += sizeof *ev + ev->len;
        }
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        pr_log_error("%s: reading file events: %s", r->path, strerror(errno));
    if (!hit)
        return;
    /* Another write: a pending failure was not the last word. */
    pr_timer_stop(&r->settle);
    pr_timer_start(r->env->loop, &r->debounce, r->o.debounce_s, 0);
}

/* ----------------------------------------------------- calling into Lua */

/* Where a global function was defined, "app.lua:12". */
static void where_of(lua_State *L, int idx, char *buf, size_t len)
{
    lua_Debug ar;
    lua_pushvalue(L, idx);
    lua_getinfo(L, ">S", &ar);
    snprintf(buf, len, "%s:%d", ar.short_src, ar.linedefined);
}

/* Push global `name` if it is a function (1), else push nothing (0).  A
 * raw read: this runs outside any pcall, and a "strict" __index on _G
 * must not raise here. */
static int get_hook(lua_State *L, const char *name, char *where, size_t len)
{
    lua_pushglobaltable(L);
    lua_pushstring(L, name);
    if (lua_rawget(L, -2) == LUA_TFUNCTION) {
        lua_remove(L, -2);
        where_of(L, -1, where, len);
        return 1;
    }
    lua_pop(L, 2);
    return 0;
}

static int encode_state(lua_State *L)
{
    pr_plain_encode(L, 2, lua_touserdata(L, 1), "on_save() result");
    return 0;
}

static int decode_state(lua_State *L)
{
    pr_plain_decode(L, lua_touserdata(L, 1));
    return 1;
}

/* The running version's on_save() result, encoded into state (left empty,
 * which gives on_reload(nil), if there is none or it failed). */
static void save_state(pr_reloader_t *r, pr_plain_t *state)
{
    pr_host_t *h = pr_app_host(r->app);
    lua_State *L = pr_host_lua(h);
    char where[96];

    if (!get_hook(L, "on_save", where, sizeof where))
        return;
    if (pr_host_pcall(h, 0, 1, "on_save", where) == 0) {
        lua_pushcfunction(L, encode_state);
        lua_insert(L, -2);
        lua_pushlightuserdata(L, state);
        lua_insert(L, -2);
        if (pr_host_pcall(h, 2, 0, "saving the state for the reload", where) == 0)
            return;
    }
    pr_plain_free(state);
    pr_log_warn("%s: the running version's on_save failed (above): the new "
                "version gets on_reload(nil)", r->path);
}

/* Build a version from src: main chunk, on_reload(state), check().  On
 * success *out runs (its timers are linked, but none fires before the
 * caller returns to the loop); on failure err says why. */
static int build(pr_reloader_t *r, pr_source_t *src, const pr_plain_t *state,
                 pr_app_t **out, char *err, size_t errlen)
{
    pr_app_t *app;
    pr_host_t *h;
    lua_State *L;
    char where[96];
    int rc;

    if ((rc = pr_app_create_in(&app, r->env, r->path, src, err, errlen)) < 0)
        return rc;
    h = pr_app_host(app);
    L = pr_host_lua(h);
    if (get_hook(L, "on_reload", where, sizeof where)) {
        lua_pushcfunction(L, decode_state);
        lua_pushlightuserdata(L, (void *)state);
        if ((rc = pr_host_pcall(h, 1, 1, "restoring the saved state", where)) < 0 ||
            (rc = pr_host_pcall(h, 1, 0, "on_reload", where)) < 0)
            goto fail;
    }
    if (get_hook(L, "check", where, sizeof where)) {
        if ((rc = pr_host_pcall(h, 0, 2, "check", where)) < 0)
            goto fail;
        if (lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2)) {
            snprintf(err, errlen, "check() at %s returned false%s%s", where,
                     lua_isstring(L, -1) ? ": " : "",
                     lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
            lua_pop(L, 2);
            rc = PR_ESCRIPT;
            pr_app_destroy(app);
            return rc;
        }
        lua_pop(L, 2);
    }
    *out = app;
    return 0;
fail:
    snprintf(err, errlen, "%s", pr_host_last_error(h));
    pr_app_destroy(app);
    return rc;
}

/* ------------------------------------------------------------------ swap */

static void on_callback_error(pr_host_t *h, void *ud);

/* Make app (built from src) the running version.  The old one's phases go
 * to the new timers, then it is destroyed with all it owned. */
static void install(pr_reloader_t *r, pr_app_t *app, pr_source_t *src)
{
    if (r->app) {
        pr_l_timer_adopt_phases(pr_app_host(r->app), pr_app_host(app));
        pr_app_destroy(r->app);
    }
    r->app = app;
    r->src = src;
    r->st.version++;
    pr_host_on_callback_error(pr_app_host(app), on_callback_error, r);
    pr_source_on_read(src, on_source_read, r);
    resync_watches(r);
}

static void report(pr_reloader_t *r, int rc, const char *why, const char *msg)
{
    if (r->done)
        r->done(r, rc, why, msg, r->done_ud);
}

/* Is every file the running version was built from the same on disk as in
 * next (which read them ahead)? */
static int same_as_running(pr_reloader_t *r, pr_source_t *next)
{
    for (size_t i = 0; i < pr_source_count(r->src); i++) {
        const pr_source_file_t *a = pr_source_file(r->src, i), *b;
        if (!a->used || !in_project(r, a->path))
            continue;
        b = pr_source_find(next, a->path);
        if (!b || !b->text || b->len != a->len || memcmp(a->text, b->text, a->len))
            return 0;
    }
    return 1;
}

/* Compile every file read ahead, silently: a file an editor is still
 * writing fails here, and then waits for the writes to settle. */
static int precheck(pr_source_t *next, char *err, size_t errlen)
{
    lua_State *L = luaL_newstate();
    int rc = 0;

    if (!L)
        return 0;  /* let the real build report it */
    for (size_t i = 0; i < pr_source_count(next) && rc == 0; i++) {
        const pr_source_file_t *f = pr_source_file(next, i);
        size_t len;
        const char *text = pr_source_chunk(f, &len);
        lua_pushfstring(L, "@%s", f->path);
        if (luaL_loadbuffer(L, text, len, lua_tostring(L, -1)) != LUA_OK) {
            snprintf(err, errlen, "%s", lua_tostring(L, -1));
            rc = PR_ESCRIPT;
        }
        lua_settop(L, 0);
    }
    lua_close(L);
    return rc;
}

static int only_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    }
    return 1;
}

/* One reload.  force: even if no file changed.  tentative: a compile
 * failure waits for more writes (PENDING) instead of being final. */
static int attempt(pr_reloader_t *r, const char *why, int force, int tentative,
                   char *err, size_t errlen)
{
    pr_source_t *next = NULL;
    pr_plain_t state = { NULL, 0, 0 };
    const pr_source_file_t *mainf;
    pr_app_t *app;
    int64_t t0 = pr_time_ns();
    int rc;

    err[0] = '\0';
    if ((rc = pr_source_create(&next)) < 0) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }
    /* Read ahead the project files the running version is made of: what is
     * checked here is exactly what gets compiled. */
    for (size_t i = 0; i < pr_source_count(r->src); i++) {
        const pr_source_file_t *f = pr_source_file(r->src, i);
        if (f->used && in_project(r, f->path) && strcmp(f->path, r->path) != 0)
            pr_source_read(next, f->path);  /* a module gone: the build decides */
    }
    if ((rc = pr_source_read(next, r->path)) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", r->path, pr_strerror(rc));
        goto early;
    }
    mainf = pr_source_find(next, r->path);
    if (!force && same_as_running(r, next)) {
        pr_source_destroy(next);
        r->st.unchanged++;
        pr_log_debug("%s: files unchanged, nothing to reload", r->path);
        return UNCHANGED;
    }
    if (only_space(mainf->text, mainf->len)) {
        snprintf(err, errlen, "%s is empty", r->path);
        rc = PR_ESCRIPT;
        goto early;
    }
    if (tentative && (rc = precheck(next, err, errlen)) < 0)
        goto early;

    save_state(r, &state);
    if ((rc = build(r, next, &state, &app, err, errlen)) < 0) {
        pr_plain_free(&state);
        goto failed;
    }
    pr_source_destroy(r->prev_src);
    pr_plain_free(&r->prev_state);
    pr_source_on_read(r->src, NULL, NULL);
    r->prev_src = r->src;          /* kept for a rollback */
    r->prev_state = state;
    install(r, app, next);
    r->swap_ns = pr_time_ns();
    r->failures = 0;
    r->st.attempts++;
    r->st.ok++;
    r->st.last_ms = (double)(r->swap_ns - t0) / 1e6;
    pr_log_info("%s: reloaded (%s) in %.1f ms: version %llu running", r->path, why,
                r->st.last_ms, (unsigned long long)r->st.version);
    report(r, 0, why, "");
    return 0;

early:
    /* Nothing ran yet: a file still being written gets another chance. */
    if (tentative) {
        pr_source_destroy(next);
        snprintf(r->pending, sizeof r->pending, "%s", err);
        pr_log_debug("%s: %s; waiting for more writes", r->path, err);
        return PENDING;
    }
failed:
    pr_source_destroy(next);
    r->st.attempts++;
    r->st.failed++;
    snprintf(r->st.last_error, sizeof r->st.last_error, "%s", err);
    pr_log_error("%s: reload (%s) failed: %s; version %llu keeps running", r->path, why,
                 err[0] ? err : pr_strerror(rc), (unsigned long long)r->st.version);
    report(r, rc, why, err);
    return rc;
}

/* Back to the version before the running one, with the state it saved. */
static void rollback(pr_reloader_t *r)
{
    char err[256];
    pr_app_t *app;
    pr_source_t *bad = r->src;
    int rc;

    r->rollback_due = 0;
    r->swap_ns = 0;
    if (!r->prev_src)
        return;
    pr_log_warn("%s: %d callback failures within %g s of the reload: rolling back to "
                "the previous version", r->path, r->failures, r->o.rollback_window_s);
    rc = build(r, r->prev_src, &r->prev_state, &app, err, sizeof err);
    if (rc < 0) {
        pr_log_error("%s: rollback failed: %s; version %llu keeps running", r->path, err,
                     (unsigned long long)r->st.version);
        report(r, rc, "rollback", err);
        return;
    }
    install(r, app, r->prev_src);
    r->prev_src = NULL;
    pr_plain_free(&r->prev_state);
    pr_source_destroy(bad);
    r->st.rolled_back++;
    pr_log_warn("%s: rolled back: the previous source runs again as version %llu",
                r->path, (unsigned long long)r->st.version);
    report(r, 0, "rollback", "");
}

static void on_callback_error(pr_host_t *h, void *ud)
{
    pr_reloader_t *r = ud;

    if (!r->app || h != pr_app_host(r->app) || !r->prev_src || !r->swap_ns ||
        r->o.rollback_failures <= 0 || r->rollback_due)
        return;
    if ((double)(pr_time_ns() - r->swap_ns) > r->o.rollback_window_s * 1e9) {
        r->swap_ns = 0;  /* the version proved itself */
        return;
    }
    if (++r->failures >= r->o.rollback_failures) {
        /* Not from here: the failing call is still on the host's stack. */
        r->rollback_due = 1;
        pr_timer_start(r->env->loop, &r->kick, 0, 0);
    }
}

/* ---------------------------------------------------------------- timers */

static void on_debounce(pr_timer_t *t, void *ud)
{
    pr_reloader_t *r = ud;
    char err[256];
    (void)t;
    if (r->busy)
        return;
    r->busy = 1;
    if (attempt(r, "file changed", 0, 1, err, sizeof err) == PENDING)
        pr_timer_start(r->env->loop, &r->settle, r->o.settle_s, 0);
    r->busy = 0;
}

static void on_settle(pr_timer_t *t, void *ud)
{
    pr_reloader_t *r = ud;
    char err[256];
    (void)t;
    if (r->busy)
        return;
    r->busy = 1;
    attempt(r, "file changed", 0, 0, err, sizeof err);
    r->busy = 0;
}

static void on_kick(pr_timer_t *t, void *ud)
{
    pr_reloader_t *r = ud;
    char err[256];
    (void)t;
    if (r->busy)
        return;
    r->busy = 1;
    if (r->rollback_due)
        rollback(r);
    if (r->request_why) {
        const char *why = r->request_why;
        r->request_why = NULL;
        attempt(r, why, 1, 0, err, sizeof err);
    }
    r->busy = 0;
}

/* ------------------------------------------------------------------- api */

int pr_reloader_create(pr_reloader_t **out, pr_app_env_t *env, const char *path,
                       const pr_reload_opts_t *o)
{
    pr_reloader_t *r = calloc(1, sizeof *r);
    const char *slash = strrchr(path, '/');
    char err[256];
    int rc = PR_ENOMEM;

    if (!r)
        return PR_ENOMEM;
    r->env = env;
    r->ifd = -1;
    if (o)
        r->o = *o;
    else
        pr_reload_opts_default(&r->o);
    pr_timer_init(&r->debounce, on_debounce, r);
    pr_timer_init(&r->settle, on_settle, r);
    pr_timer_init(&r->kick, on_kick, r);
    pr_io_init(&r->io, on_inotify, r);
    pr_io_set_weak(&r->io, 1);  /* watching alone does not keep perch running */
    if (!(r->path = strdup(path)))
        goto err;
    r->dir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup("./");
    if (!r->dir || (rc = pr_source_create(&r->src)) < 0)
        goto err;
    if ((rc = pr_app_root(path, r->root, sizeof r->root)) < 0)
        goto err;
    if (r->o.watch) {
        r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (r->ifd < 0)
            pr_log_warn("%s: cannot watch for changes (%s); SIGHUP still reloads", path,
                        strerror(errno));
        else
            r->st.watching = 1;
    }
    env->reloader = r;
    if ((rc = pr_app_create_in(&r->app, env, path, r->src, err, sizeof err)) < 0)
        goto err;
    r->st.version = 1;
    pr_host_on_callback_error(pr_app_host(r->app), on_callback_error, r);
    pr_source_on_read(r->src, on_source_read, r);
    if (r->ifd >= 0) {
        pr_io_start(env->loop, &r->io, r->ifd, PR_IO_READ);
        resync_watches(r);
    }
    *out = r;
    return 0;
err:
    env->reloader = NULL;
    if (r->ifd >= 0)
        close(r->ifd);
    pr_source_destroy(r->src);
    free(r->dir);
    free(r->path);
    free(r);
    return rc;
}

void pr_reloader_destroy(pr_reloader_t *r)
{
    if (!r)
        return;
    pr_timer_stop(&r->debounce);
    pr_timer_stop(&r->settle);
    pr_timer_stop(&r->kick);
    pr_io_stop(&r->io);
    if (r->ifd >= 0)
        close(r->ifd);
    unwatch_all(r);
    pr_app_destroy(r->app);
    pr_source_destroy(r->src);
    pr_source_destroy(r->prev_src);
    pr_plain_free(&r->prev_state);
    if (r->env->reloader == r)
        r->env->reloader = NULL;
    free(r->dir);
    free(r->path);
    free(r);
}

int pr_reloader_request(pr_reloader_t *r, const char *why)
{
    r->request_why = why ? why : "request";
    if (!pr_timer_active(&r->kick))
        pr_timer_start(r->env->loop, &r->kick, 0, 0);
    return 0;
}

int pr_reloader_reload(pr_reloader_t *r, const char *why, char *err, size_t errlen)
{
    char buf[256];
    int rc;

    if (!err || errlen == 0) {
        err = buf;
        errlen = sizeof buf;
    }
    if (r->busy || pr_host_running(pr_app_host(r->app))) {
        snprintf(err, errlen, "cannot reload from inside the app or another reload");
        return PR_EINVAL;
    }
    r->busy = 1;
    rc = attempt(r, why ? why : "request", 1, 0, err, errlen);
    r->busy = 0;
    return rc < 0 ? rc : 0;
}

pr_app_t *pr_reloader_app(pr_reloader_t *r) { return r->app; }
pr_host_t *pr_reloader_host(pr_reloader_t *r) { return pr_app_host(r->app); }
void pr_reloader_stats(const pr_reloader_t *r, pr_reload_stats_t *st) { *st = r->st; }

void pr_reloader_on_done(pr_reloader_t *r, pr_reload_done_fn fn, void *ud)
{
    r->done = fn;
    r->done_ud = ud;
}
