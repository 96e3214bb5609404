/* repl.c - the REPL server: unix socket, peer checks, framing, and the
 * requests run in the app's state through the host.  See repl.h for the
 * protocol and the security rules. */
#include "repl.h"

#include "error.h"
#include "log.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <lauxlib.h>

/* A client that does not read its replies is dropped past this. */
#define MAX_PENDING_OUT (4u << 20)

typedef struct buf {
    char *p;
    size_t len, cap;
} buf_t;

struct session {
    pr_repl_t *r;
    struct session *next;
    unsigned id;
    int fd;
    unsigned uid;
    int pid;
    pr_io_t io;
    buf_t in, out;
    int closing;        /* peer gone or protocol error: drop after the request */
    int busy;           /* a request is being handled (do not free) */
    pr_host_t *host;    /* host the session's scope was made in */
};

struct pr_repl {
    pr_loop_t *loop;
    pr_repl_hooks_t hooks;
    void *ud;
    int fd;
    pr_io_t io;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev;          /* the socket file we made: removed only if unchanged */
    ino_t ino;
    char app[64];
    struct session *sessions;
    int nsessions;
    unsigned next_id;
    double started;
};

/* --------------------------------------------------------------- buffers */

static int buf_put(buf_t *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *p;
        while (cap < b->len + n)
            cap *= 2;
        if (!(p = realloc(b->p, cap)))
            return PR_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static void buf_cut(buf_t *b, size_t off, size_t n)
{
    memmove(b->p + off, b->p + off + n, b->len - off - n);
    b->len -= n;
}

static void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* A complete frame at off: 1 with its type and payload length, else 0. */
static int frame_at(const buf_t *b, size_t off, int *type, size_t *len)
{
    const unsigned char *p = (const unsigned char *)b->p + off;
    if (b->len - off < 5)
        return 0;
    *type = p[0];
    *len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    return *len <= PR_REPL_MAX_IN && b->len - off - 5 >= *len;
}

/* ---------------------------------------------------------------- config */

int pr_repl_config(char *const *sets, int nsets, const char *app_path,
                   pr_repl_opts_t *o, char *err, size_t errlen)
{
    const char *base = strrchr(app_path, '/');
    static char app[64];
    size_t n;

    o->enabled = 1;
    o->path = NULL;
    base = base ? base + 1 : app_path;
    n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".lua"))
        n -= 4;
    if (n >= sizeof app)
        n = sizeof app - 1;
    for (size_t i = 0; i < n; i++) {
        char c = base[i];
        app[i] = (c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') ||
                  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ? c : '_';
    }
    app[n] = '\0';
    o->app_name = n ? app : "app";

    for (int i = 0; i < nsets; i++) {
        const char *kv = sets[i];
        if (!strncmp(kv, "repl.enabled=", 13)) {
            if (!strcmp(kv + 13, "true"))
                o->enabled = 1;
            else if (!strcmp(kv + 13, "false"))
                o->enabled = 0;
            else {
                snprintf(err, errlen, "--set %s: repl.enabled must be true or false", kv);
                return PR_EINVAL;
            }
        } else if (!strncmp(kv, "repl.socket=", 12)) {
            if (!kv[12] || strlen(kv + 12) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                snprintf(err, errlen, "--set %s: repl.socket must be a path of 1 to %zu bytes",
                         kv, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
                return PR_EINVAL;
            }
            o->path = kv + 12;
        }
    }
    return 0;
}

int pr_repl_default_dir(char *buf, size_t len, int create, char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    int n;

    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/perch", xdg);
    else
        n = snprintf(buf, len, "/tmp/perch-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "socket directory name too long");
        return PR_EINVAL;
    }
    if (create && mkdir(buf, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create %s: %s", buf, strerror(e));
        return -e;
    }
    if (lstat(buf, &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", buf, strerror(e));
        return -e;
    }
    /* In /tmp anyone could have made it first: use it only if it is ours
     * and closed to everyone else. */
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        snprintf(err, errlen, "%s is not a private directory of uid %u (mode 0700); "
                 "not using it (set repl.socket=PATH)", buf, (unsigned)geteuid());
        return PR_EINVAL;
    }
    return 0;
}

/* -------------------------------------------------------------- sessions */

static void session_flush(struct session *s);

static void session_free(struct session *s)
{
    pr_repl_t *r = s->r;
    struct session **pp = &r->sessions;
    pr_host_t *h;

    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp)
        *pp = s->next;
    r->nsessions--;
    pr_io_stop(&s->io);
    close(s->fd);
    /* Drop the session's scope from the state it lives in. */
    h = r->hooks.current_host(r->ud);
    if (h && h == s->host) {
        lua_State *L = pr_host_lua(h);
        pr_host_callopts_t co = { NULL, NULL, 1 };
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        if (lua_getfield(L, -1, "perch.repl") == LUA_TTABLE &&
            lua_getfield(L, -1, "close") == LUA_TFUNCTION) {
            lua_pushinteger(L, s->id);
            pr_host_pcallx(h, 1, 0, "repl", NULL, &co);
            lua_pop(L, 2);
        } else {
            lua_pop(L, 3);
        }
    }
    pr_log_debug("repl: session %u of uid %u closed", s->id, s->uid);
    buf_free(&s->in);
    buf_free(&s->out);
    free(s);
}

static void reply(struct session *s, int type, const char *text, size_t len)
{
    static const char cut[] = "\n... (reply cut at 1 MiB)";
    unsigned char hdr[5];
    int over = len > PR_REPL_MAX_OUT;
    size_t n = over ? PR_REPL_MAX_OUT - (sizeof cut - 1) : len;
    size_t total = over ? PR_REPL_MAX_OUT : len;

    if (s->closing)
        return;
    hdr[0] = (unsigned char)type;
    hdr[1] = (unsigned char)(total >> 24);
    hdr[2] = (unsigned char)(total >> 16);
    hdr[3] = (unsigned char)(total >> 8);
    hdr[4] = (unsigned char)total;
    if (s->out.len + 5 + total > MAX_PENDING_OUT || buf_put(&s->out, hdr, 5) < 0 ||
        buf_put(&s->out, text, n) < 0 || (over && buf_put(&s->out, cut, sizeof cut - 1) < 0)) {
        s->closing = 1;
        return;
    }
    session_flush(s);
}

static void reply_str(struct session *s, int type, const char *text)
{
    reply(s, type, text, strlen(text));
}

/* Read what the client sent so far.  0, or -1 when it is gone. */
static int session_fill(struct session *s)
{
    char tmp[4096];
    for (;;) {
        ssize_t n = recv(s->fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n > 0) {
            if (buf_put(&s->in, tmp, (size_t)n) < 0)
                return -1;
            if (s->in.len > 2 * (PR_REPL_MAX_IN + 5))
                return 0;  /* enough queued: the rest waits in the kernel */
            continue;
        }
        if (n == 0)
            return -1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

/* Called from the host's count hook while a request of this session runs:
 * an 'I' frame (or the client going away) stops it.  Other frames stay
 * queued for later. */
static int session_poll(void *ud)
{
    struct session *s = ud;
    size_t off = 0, len;
    int type;

    if (s->closing)
        return 1;
    if (session_fill(s) < 0) {
        s->closing = 1;
        return 1;
    }
    while (frame_at(&s->in, off, &type, &len)) {
        if (type == 'I') {
            buf_cut(&s->in, off, 5 + len);
            return 1;
        }
        off += 5 + len;
    }
    return 0;
}

/* Runs protected in the app's state: perch.repl[fn](args...) -> 3 results.
 * The module is required on first use (it is embedded in the binary). */
static int dispatch(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "perch.repl") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_getglobal(L, "require");
        lua_pushliteral(L, "perch.repl");
        lua_call(L, 1, 1);
    }
    lua_getfield(L, -1, lua_tostring(L, 1));
    lua_replace(L, 1);
    lua_settop(L, n);
    lua_call(L, n - 1, 3);
    return 3;
}

/* Run perch.repl[fn](id[, arg]) and reply with its result: ok_type for
 * "ok", 'X' for "error" (and for a failed call: budget, interrupt, memory),
 * 'M' for "more". */
static void call_lua(struct session *s, const char *fn, const char *arg, size_t len, int ok_type)
{
    pr_repl_t *r = s->r;
    pr_host_t *h = r->hooks.current_host(r->ud);
    pr_host_callopts_t co = { session_poll, s, 1 };
    const char *note = "";
    lua_State *L;
    int top, rc;

    if (!h) {
        reply_str(s, 'X', "no app is running");
        return;
    }
    L = pr_host_lua(h);
    top = lua_gettop(L);
    if (h != s->host) {
        lua_pushcfunction(L, dispatch);
        lua_pushliteral(L, "open");
        lua_pushinteger(L, s->id);
        rc = pr_host_pcallx(h, 2, 3, "repl", NULL, &co);
        if (rc < 0) {
            reply_str(s, 'X', lua_tostring(L, -1));
            lua_settop(L, top);
            return;
        }
        if (s->host && lua_toboolean(L, -3))
            note = "(the app was reloaded: this session starts a new scope)\n";
        lua_settop(L, top);
        s->host = h;
    }
    lua_pushcfunction(L, dispatch);
    lua_pushstring(L, fn);
    lua_pushinteger(L, s->id);
    if (arg)
        lua_pushlstring(L, arg, len);
    rc = pr_host_pcallx(h, arg ? 3 : 2, 3, "repl", NULL, &co);
    if (rc < 0) {
        const char *msg = lua_tostring(L, -1);
        reply_str(s, 'X', msg ? msg : pr_strerror(rc));
    } else {
        const char *kind = lua_tostring(L, -3);
        size_t tlen = 0;
        const char *text = lua_tolstring(L, -2, &tlen);
        const char *audit = lua_tostring(L, -1);
        int type = !kind ? 'X' : !strcmp(kind, "ok") ? ok_type : !strcmp(kind, "more") ? 'M' : 'X';
        if (!text)
            text = "";
        if (audit)
            pr_log_info("repl: uid %u (pid %d) %s", s->uid, s->pid, audit);
        if (*note) {
            buf_t b = { 0 };
            if (buf_put(&b, note, strlen(note)) == 0 && buf_put(&b, text, tlen) == 0)
                reply(s, type, b.p, b.len);
            buf_free(&b);
        } else {
            reply(s, type, text, tlen);
        }
    }
    lua_settop(L, top);
}

/* ------------------------------------------------------------- commands */

static const char help_text[] =
    "Lua input runs in the app between two callbacks, under its budget and memory\n"
    "ceiling; expressions print their values.  New names stay in this session\n"
    "(_G.x = 1 sets a global).  An incomplete chunk waits for more lines.\n"
    "Ctrl-C interrupts a running input; Ctrl-D leaves.\n"
    "  :help                     this text\n"
    "  :policies                 live policies: last decision, why, params\n"
    "  :set POLICY.PARAM VALUE   change a policy parameter (schema-checked, logged)\n"
    "  :watch EXPR [SECONDS]     print EXPR every SECONDS (1) until a key is pressed\n"
    "  :metrics                  host figures: calls, errors, memory, timers\n"
    "  :reload                   reload the app's script now";

static void cmd_metrics(struct session *s)
{
    pr_repl_t *r = s->r;
    pr_host_t *h = r->hooks.current_host(r->ud);
    pr_host_stats_t st;
    char text[1024];

    if (!h) {
        reply_str(s, 'X', "no app is running");
        return;
    }
    pr_host_stats(h, &st);
    snprintf(text, sizeof text,
             "calls          %llu\n"
             "errors         %llu (budget aborts %llu, memory errors %llu)\n"
             "disabled       %llu callbacks\n"
             "memory         %zu KiB used, peak %zu KiB, ceiling %zu KiB\n"
             "budget         %llu instructions per call%s\n"
             "timers         %zu active\n"
             "repl           %d session%s on %s, up %.1f s",
             (unsigned long long)st.calls, (unsigned long long)st.errors,
             (unsigned long long)st.budget_aborts, (unsigned long long)st.mem_errors,
             (unsigned long long)st.disabled, st.mem_used >> 10, st.mem_peak >> 10,
             pr_host_opts(h)->max_bytes >> 10,
             (unsigned long long)pr_host_opts(h)->budget,
             pr_host_opts(h)->budget ? "" : " (off)",
             pr_loop_active_timers(r->loop), r->nsessions, r->nsessions == 1 ? "" : "s",
             r->path, pr_time_now() - r->started);
    reply_str(s, 'R', text);
}

static void cmd_reload(struct session *s)
{
    pr_repl_t *r = s->r;
    char msg[512] = "";
    int rc;

    if (!r->hooks.reload) {
        reply_str(s, 'X', "reload not available");
        return;
    }
    rc = r->hooks.reload(r->ud, msg, sizeof msg);
    pr_log_info("repl: uid %u (pid %d) reload: %s", s->uid, s->pid,
                rc == 0 ? "done" : msg[0] ? msg : pr_strerror(rc));
    if (rc == 0)
        reply_str(s, 'R', msg[0] ? msg : "reloaded");
    else
        reply_str(s, 'X', msg[0] ? msg : pr_strerror(rc));
}

/* The commands the server answers itself; others go to perch.repl. */
static int c_command(struct session *s, const char *text)
{
    size_t n = strcspn(text, " \t");
    if (text[0] != ':' || text[n + strspn(text + n, " \t")] != '\0')
        return 0;
    if (n == 5 && !strncmp(text, ":help", n))
        reply_str(s, 'R', help_text);
    else if (n == 8 && !strncmp(text, ":metrics", n))
        cmd_metrics(s);
    else if (n == 7 && !strncmp(text, ":reload", n))
        cmd_reload(s);
    else
        return 0;
    return 1;
}

static void handle(struct session *s, int type, const char *p, size_t len)
{
    switch (type) {
    case 'L':
    case 'E':
        if (memchr(p, '\0', len)) {
            reply_str(s, 'X', "input contains a NUL byte");
            return;
        }
        if (c_command(s, p))
            return;
        call_lua(s, type == 'L' ? "line" : "eval", p, len, 'R');
        return;
    case 'C':
        call_lua(s, "complete", p, len, 'C');
        return;
    case 'K':
        call_lua(s, "cancel", NULL, 0, 'R');
        return;
    case 'I':
        return;  /* nothing running */
    default:
        reply_str(s, 'X', "protocol error: unknown message type");
        s->closing = 1;
    }
}

static void session_process(struct session *s)
{
    size_t len;
    int type;

    s->busy = 1;
    while (!s->closing) {
        char *p;
        if (!frame_at(&s->in, 0, &type, &len)) {
            if (s->in.len >= 5 && len > PR_REPL_MAX_IN) {
                reply_str(s, 'X', "protocol error: message too large");
                s->closing = 1;
            }
            break;
        }
        if (!(p = malloc(len + 1))) {
            s->closing = 1;
            break;
        }
        memcpy(p, s->in.p + 5, len);
        p[len] = '\0';
        buf_cut(&s->in, 0, 5 + len);
        handle(s, type, p, len);
        free(p);
    }
    s->busy = 0;
}

static void session_flush(struct session *s)
{
    while (s->out.len) {
        ssize_t n = send(s->fd, s->out.p, s->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            buf_cut(&s->out, 0, (size_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pr_io_start(s->r->loop, &s->io, s->fd, PR_IO_READ | PR_IO_WRITE);
            return;
        } else {
            s->closing = 1;
            return;
        }
    }
    pr_io_start(s->r->loop, &s->io, s->fd, PR_IO_READ);
}

static void on_session(pr_io_t *io, int revents, void *ud)
{
    struct session *s = ud;
    (void)io;
    if (revents & PR_IO_WRITE)
        session_flush(s);
    if ((revents & PR_IO_READ) && session_fill(s) < 0)
        s->closing = 1;
    session_process(s);
    if (s->closing)
        session_free(s);
}

/* ---------------------------------------------------------------- server */

/* A refusal goes out with one send on the fresh socket; then it is closed. */
static void refuse(int fd, const char *msg)
{
    size_t len = strlen(msg);
    unsigned char hdr[5] = { 'X', (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                             (unsigned char)(len >> 8), (unsigned char)len };
    struct iovec iov[2] = { { hdr, 5 }, { (void *)msg, len } };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
    (void)!sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    close(fd);
}

static void on_accept(pr_io_t *io, int revents, void *ud)
{
    pr_repl_t *r = ud;
    (void)io;
    (void)revents;
    for (;;) {
        struct ucred cred;
        socklen_t clen = sizeof cred;
        struct session *s;
        char msg[256];
        int fd = accept4(r->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                pr_log_warn("repl: accept on %s: %s", r->path, strerror(errno));
            return;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
            pr_log_warn("repl: cannot read the peer of a connection: %s", strerror(errno));
            close(fd);
            continue;
        }
        if (cred.uid != geteuid() && cred.uid != 0) {
            pr_log_warn("repl: refused a connection from uid %u (pid %d): only uid %u "
                        "and root may use this REPL", (unsigned)cred.uid, (int)cred.pid,
                        (unsigned)geteuid());
            snprintf(msg, sizeof msg, "connection refused: uid %u may not use this REPL "
                     "(only uid %u, its owner, and root)", (unsigned)cred.uid,
                     (unsigned)geteuid());
            refuse(fd, msg);
            continue;
        }
        if (r->nsessions >= PR_REPL_MAX_SESSIONS) {
            snprintf(msg, sizeof msg, "connection refused: %d REPL sessions are open "
                     "already", PR_REPL_MAX_SESSIONS);
            refuse(fd, msg);
            continue;
        }
        if (!(s = calloc(1, sizeof *s))) {
            close(fd);
            continue;
        }
        s->r = r;
        s->fd = fd;
        s->id = ++r->next_id;
        s->uid = (unsigned)cred.uid;
        s->pid = (int)cred.pid;
        s->next = r->sessions;
        r->sessions = s;
        r->nsessions++;
        pr_io_init(&s->io, on_session, s);
        pr_io_set_weak(&s->io, 1);  /* a client does not keep the app running */
        pr_log_info("repl: session %u opened by uid %u (pid %d)", s->id, s->uid, s->pid);
        snprintf(msg, sizeof msg, "perch %s\t%s\t%d", PERCH_VERSION, r->app, (int)getpid());
        reply_str(s, 'H', msg);
        if (s->closing)
            session_free(s);
    }
}

/* A socket file already there: replace it only if nobody accepts on it. */
static int clear_stale(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int fd, rc, e;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket: not replacing it", path);
        return -EEXIST;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        e = errno;
        snprintf(err, errlen, "socket: %s", strerror(e));
        return -e;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    e = errno;
    close(fd);
    if (rc == 0) {
        snprintf(err, errlen, "another process serves a REPL on %s", path);
        return -EADDRINUSE;
    }
    if (e != ECONNREFUSED) {
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    pr_log_info("repl: removing the stale socket %s (nobody listens on it)", path);
    if (unlink(path) < 0 && errno != ENOENT) {
        e = errno;
        snprintf(err, errlen, "cannot remove the stale socket %s: %s", path, strerror(e));
        return -e;
    }
    return 0;
}

int pr_repl_create(pr_repl_t **out, pr_loop_t *loop, const pr_repl_opts_t *opts,
                   const pr_repl_hooks_t *hooks, void *ud, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    pr_repl_t *r;
    struct stat st;
    mode_t old;
    int rc, n;

    if (!hooks || !hooks->current_host) {
        snprintf(err, errlen, "repl: no current_host hook");
        return PR_EINVAL;
    }
    if (!(r = calloc(1, sizeof *r))) {
        snprintf(err, errlen, "out of memory");
        return PR_ENOMEM;
    }
    r->fd = -1;
    r->loop = loop;
    r->hooks = *hooks;
    r->ud = ud;
    r->started = pr_time_now();
    snprintf(r->app, sizeof r->app, "%s", opts->app_name ? opts->app_name : "app");
    if (opts->path) {
        n = snprintf(r->path, sizeof r->path, "%s", opts->path);
    } else {
        char dir[sizeof r->path];
        if ((rc = pr_repl_default_dir(dir, sizeof dir, 1, err, errlen)) < 0)
            goto fail;
        n = snprintf(r->path, sizeof r->path, "%s/%s.sock", dir, r->app);
    }
    if (n < 0 || (size_t)n >= sizeof r->path) {
        snprintf(err, errlen, "socket path too long (at most %zu bytes)", sizeof r->path - 1);
        rc = PR_EINVAL;
        goto fail;
    }
    if ((rc = clear_stale(r->path, err, errlen)) < 0)
        goto fail;
    if ((r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        goto fail_errno;
    memcpy(sa.sun_path, r->path, strlen(r->path) + 1);
    /* Created 0600 from the start: no moment where others could connect. */
    old = umask(0177);
    rc = bind(r->fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || chmod(r->path, 0600) < 0 || stat(r->path, &st) < 0)
        goto fail_errno;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    if (listen(r->fd, 8) < 0)
        goto fail_errno;
    pr_io_init(&r->io, on_accept, r);
    pr_io_set_weak(&r->io, 1);  /* the REPL alone does not keep the app running */
    if ((rc = pr_io_start(loop, &r->io, r->fd, PR_IO_READ)) < 0) {
        snprintf(err, errlen, "cannot watch the socket: %s", pr_strerror(rc));
        goto fail;
    }
    *out = r;
    return 0;

fail_errno:
    rc = -errno;
    snprintf(err, errlen, "%s: %s", r->path, strerror(errno));
fail:
    if (r->fd >= 0) {
        close(r->fd);
        if (r->ino)
            unlink(r->path);
    }
    free(r);
    return rc;
}

void pr_repl_destroy(pr_repl_t *r)
{
    struct stat st;

    if (!r)
        return;
    while (r->sessions)
        session_free(r->sessions);
    pr_io_stop(&r->io);
    close(r->fd);
    if (stat(r->path, &st) == 0 && st.st_dev == r->dev && st.st_ino == r->ino)
        unlink(r->path);
    free(r);
}

const char *pr_repl_path(const pr_repl_t *r) { return r->path; }
int pr_repl_sessions(const pr_repl_t *r) { return r->nsessions; }
