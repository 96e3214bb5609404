/* l_http_server.c - perch.http.serve{...}: the HTTP server for Lua, each
 * request's handler run as a task.
 *
 *   local srv = perch.http.serve{ listen = "127.0.0.1:8080" }
 *   srv:route("GET", "/hello", function(req) return { status = 200, body = "hi" } end)
 *
 * The listening server belongs to the process, not to one app version: a
 * socket cannot be bound twice, and a reload builds the new version while
 * the old one still runs.  So servers live in the app env (one per
 * address), and what a script holds is a binding: its routes and limits
 * on that server.  A version that serves an address already served by the
 * process gets a binding on the running server; the newest binding
 * answers requests.  At the swap the old version's binding closes, its
 * requests still in their handlers get 503 (their tasks die with their
 * app), and the new one's routes answer from the next request on.  A
 * server closes when it has no binding left and no request in a handler.
 *
 * A request runs as a task (pr_task_spawn): its first slice runs at once,
 * inside the server's callback; a handler that waits (perch.sleep,
 * perch.http.request) has its connection suspended until it returns.  The
 * task's end hook answers: the handler's response, 500 if it raised (the
 * host logged it with file:line), 504 if it overran timeout_ms (the task
 * is cancelled), 503 if its app went away.
 *
 * srv:route(method, path, fn, front): a C front (l_http_front.h) is asked
 * first and may answer without any Lua running; perch.query's front
 * answers fresh cache hits so. */
#include "perch.h"

#include "app.h"
#include "error.h"
#include "http_server.h"
#include "l_task.h"
#include "log.h"
#include "l_http_front.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <lauxlib.h>

#include "lopt.h"

#define SERVER_MT "perch.http.server"
#define DEFAULT_TIMEOUT_MS 10000

typedef struct route {
    struct route *next;
    char method[16];
    char *path;            /* "/hello"; a route given as "/static/" + "*" is a prefix */
    size_t plen;           /* what to compare: without the '*' */
    int prefix;
    int ref;               /* the handler, in the binding's state */
    int front_ref;         /* its front (l_http_front.h), or LUA_NOREF */
    pr_l_http_front_t *front;
    char where[96];        /* where it was defined */
} route_t;

typedef struct binding binding_t;

/* One listening server of the process; the env's list links them. */
struct pr_l_http_servers {
    struct pr_l_http_servers *next;
    pr_app_env_t *env;
    pr_http_server_t *s;
    binding_t *bindings;   /* newest first: the first answers */
    unsigned held;         /* requests whose handler task is alive */
    struct sockaddr_storage asked, bound;   /* as given; as bound (port 0 -> the real one) */
    unsigned asked_len, bound_len;
};
typedef struct pr_l_http_servers lserver_t;

/* The srv handle: one app version's routes on a server. */
struct binding {
    pr_res_t res;          /* first: the host's resource list links this */
    pr_host_t *h;
    lserver_t *ls;         /* NULL once closed */
    binding_t *next;
    route_t *routes;
    unsigned nroutes;
    pr_http_limits_t lim;
    double timeout_s;
    int self_ref;          /* an open server runs even if its handle is dropped */
};

/* One request in a handler. */
typedef struct hctx {
    pr_http_req_t *req;
    lserver_t *ls;
    pr_host_t *h;
    pr_task_t *task;
    pr_timer_t timeout;
    double timeout_s;
    int timed_out;
    /* the response, copied out of Lua by the task */
    int have, status;
    char **headers;        /* name, value, ..., NULL: one allocation */
    char *body;
    size_t len;
    char where[96];
} hctx_t;

/* ------------------------------------------------------------ servers -- */

static void server_release(lserver_t *ls)
{
    lserver_t **p;

    if (ls->bindings || ls->held)
        return;
    for (p = &ls->env->http_servers; *p; p = &(*p)->next) {
        if (*p == ls) {
            *p = ls->next;
            break;
        }
    }
    pr_log_info("http: stopped serving on %s", pr_http_server_address(ls->s));
    pr_http_server_destroy(ls->s);
    free(ls);
}

static route_t *find_route(binding_t *b, const char *method, const char *path, int *path_known)
{
    int head = !strcmp(method, "HEAD");
    *path_known = 0;
    for (route_t *r = b->routes; r; r = r->next) {
        if (r->prefix ? strncmp(path, r->path, r->plen) : strcmp(path, r->path))
            continue;
        *path_known = 1;
        if (!strcmp(r->method, method) || (head && !strcmp(r->method, "GET")))
            return r;
    }
    return NULL;
}

static int on_route(void *ud, pr_http_req_t *req, char *allow, size_t allowlen)
{
    lserver_t *ls = ud;
    binding_t *b = ls->bindings;
    const char *path = pr_http_req_path(req);
    int known;
    size_t n = 0;
    route_t *r;

    if (!b)
        return 503;
    r = find_route(b, pr_http_req_method(req), path, &known);

    if (r) {
        pr_http_req_set_route(req, r->path);
        return 0;
    }
    if (!known)
        return 404;
    allow[0] = '\0';
    for (r = b->routes; r; r = r->next) {
        if ((r->prefix ? strncmp(path, r->path, r->plen) : strcmp(path, r->path)) ||
            strstr(allow, r->method))
            continue;
        n += (size_t)snprintf(allow + n, n < allowlen ? allowlen - n : 0, "%s%s",
                              n ? ", " : "", r->method);
    }
    return 405;
}

/* --------------------------------------------------------- responding -- */

static void hctx_free(hctx_t *c)
{
    free(c->headers);
    free(c->body);
    free(c);
}

/* The task ended (or died with its app): answer.  No Lua here. */
static void on_task_end(void *ud, int how)
{
    hctx_t *c = ud;
    lserver_t *ls = c->ls;
    pr_http_req_t *req = c->req;
    char msg[160];

    pr_timer_stop(&c->timeout);
    c->task = NULL;
    if (how == PR_TASK_DONE && c->have) {
        pr_http_req_respond(req, c->status, (const char *const *)c->headers, c->body, c->len);
        c->body = NULL;  /* the server's now */
    } else if (c->timed_out) {
        snprintf(msg, sizeof msg, "handler did not answer within %.0f ms", c->timeout_s * 1000);
        pr_log_warn("http: %s %s (request %llu): handler %s did not answer within %.0f ms: 504",
                    pr_http_req_method(req), pr_http_req_path(req),
                    (unsigned long long)pr_http_req_id(req), c->where, c->timeout_s * 1000);
        pr_http_req_respond_error(req, 504, msg, NULL);
    } else if (how == PR_TASK_FAILED) {
        pr_log_warn("http: %s %s (request %llu): handler %s failed (above): 500",
                    pr_http_req_method(req), pr_http_req_path(req),
                    (unsigned long long)pr_http_req_id(req), c->where);
        pr_http_req_respond_error(req, 500, "handler failed", NULL);
    } else {
        static const char *const retry[] = { "Retry-After", "1", NULL };
        pr_http_req_respond_error(req, 503, "the app stopped or was reloaded while the "
                                  "handler ran", retry);
    }
    hctx_free(c);
    ls->held--;
    server_release(ls);
}

static void on_timeout(pr_timer_t *t, void *ud)
{
    hctx_t *c = ud;
    (void)t;
    c->timed_out = 1;
    if (c->task)
        pr_task_cancel(c->task);  /* its end hook answers 504 */
}

/* Raise "handler at WHERE for GET /x: msg" from inside the task. */
static int bad_response(lua_State *L, hctx_t *c, const char *fmt, const char *arg)
{
    lua_pushfstring(L, "http handler %s for %s %s: ", c->where, pr_http_req_method(c->req),
                    pr_http_req_path(c->req));
    lua_pushfstring(L, fmt, arg);
    lua_concat(L, 2);
    return lua_error(L);
}

/* Headers that describe the connection or the framing, which the server
 * sets: a handler passing an upstream's headers on has them dropped. */
static int servers_header(const char *name)
{
    return !strcasecmp(name, "content-length") || !strcasecmp(name, "transfer-encoding") ||
           !strcasecmp(name, "connection") || !strcasecmp(name, "keep-alive");
}

/* Check the handler's headers table at idx; count pairs and bytes. */
static void check_headers(lua_State *L, hctx_t *c, int idx, size_t *n, size_t *bytes,
                          int *has_type)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *name, *value;
        size_t nlen, vlen;
        if (lua_type(L, -2) != LUA_TSTRING || !pr_http_is_token(lua_tostring(L, -2)))
            bad_response(L, c, "header names must be tokens, got '%s'",
                         luaL_tolstring(L, -2, NULL));
        name = lua_tolstring(L, -2, &nlen);
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            bad_response(L, c, "header '%s' must be a string", name);
        lua_pushvalue(L, -1);
        value = lua_tolstring(L, -1, &vlen);
        if (strlen(value) != vlen || strpbrk(value, "\r\n"))
            bad_response(L, c, "header '%s' contains a line break or NUL", name);
        lua_pop(L, 2);
        if (!strcasecmp(name, "content-type"))
            *has_type = 1;
        if (servers_header(name))
            continue;
        (*n)++;
        *bytes += nlen + vlen + 2;
    }
}

/* The handler returned: copy its response out of Lua (value at top). */
static int handler_k(lua_State *L, int status, lua_KContext kctx)
{
    hctx_t *c = (hctx_t *)kctx;
    int top = lua_gettop(L), code = 200, has_type = 0, hidx = 0;
    size_t n = 0, bytes = 0, blen = 0;
    const char *body = "";
    char **h, *p;
    (void)status;

    if (lua_type(L, top) == LUA_TSTRING) {
        body = lua_tolstring(L, top, &blen);
    } else if (lua_type(L, top) == LUA_TTABLE) {
        lua_Integer v;
        int isint;
        if (lua_getfield(L, top, "status") != LUA_TNIL) {
            v = lua_tointegerx(L, -1, &isint);
            if (!isint || v < 100 || v > 599)
                bad_response(L, c, "status must be a whole number in 100..599, got '%s'",
                             luaL_tolstring(L, -1, NULL));
            code = (int)v;
        }
        switch (lua_getfield(L, top, "body")) {
        case LUA_TNIL:
            break;
        case LUA_TSTRING:
            body = lua_tolstring(L, -1, &blen);
            break;
        default:
            bad_response(L, c, "body must be a string, got %s", luaL_typename(L, -1));
        }
        if (lua_getfield(L, top, "headers") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TTABLE)
                bad_response(L, c, "headers must be a table of name = value, got %s",
                             luaL_typename(L, -1));
            hidx = lua_gettop(L);
            check_headers(L, c, hidx, &n, &bytes, &has_type);
        }
    } else {
        bad_response(L, c, "must return a table { status, headers, body } or a string, got %s",
                     luaL_typename(L, top));
    }
    if (!has_type && blen)
        bytes += sizeof "Content-Type" + sizeof "text/plain; charset=utf-8";
    /* Nothing raises from here on: one block for the header pointers and
     * their text. */
    h = malloc((2 * n + 3) * sizeof *h + bytes);
    c->body = blen ? malloc(blen) : NULL;
    if (!h || (blen && !c->body)) {
        free(h);
        free(c->body);
        c->body = NULL;
        return luaL_error(L, "http handler %s: out of memory for its response", c->where);
    }
    p = (char *)(h + 2 * n + 3);
    n = 0;
    if (hidx) {
        lua_pushnil(L);
        while (lua_next(L, hidx)) {
            size_t nlen, vlen;
            const char *name = lua_tolstring(L, -2, &nlen), *value;
            if (servers_header(name)) {
                lua_pop(L, 1);
                continue;
            }
            lua_pushvalue(L, -1);
            value = lua_tolstring(L, -1, &vlen);
            h[n++] = memcpy(p, name, nlen + 1);
            p += nlen + 1;
            h[n++] = memcpy(p, value, vlen + 1);
            p += vlen + 1;
            lua_pop(L, 2);
        }
    }
    if (!has_type && blen) {
        h[n++] = strcpy(p, "Content-Type");
        p += sizeof "Content-Type";
        h[n++] = strcpy(p, "text/plain; charset=utf-8");
    }
    h[n] = NULL;
    if (blen)
        memcpy(c->body, body, blen);
    c->headers = h;
    c->len = blen;
    c->status = code;
    c->have = 1;
    return 0;
}

/* The task's function: handler_main(ctx, fn, req). */
static int handler_main(lua_State *L)
{
    hctx_t *c = lua_touserdata(L, 1);
    lua_callk(L, 1, 1, (lua_KContext)c, handler_k);
    return handler_k(L, LUA_OK, (lua_KContext)c);
}

/* --------------------------------------------------------- dispatching -- */

struct start_args {
    hctx_t *c;
    route_t *r;
};

static int header_into(void *ud, const char *name, size_t nlen, const char *value, size_t vlen)
{
    lua_State *L = ud;
    char lower[128];
    if (nlen >= sizeof lower)
        return 0;  /* not a name any handler looks for */
    for (size_t i = 0; i < nlen; i++)
        lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    lua_pushlstring(L, lower, nlen);
    if (lua_rawget(L, -2) == LUA_TSTRING) {
        /* Repeated: one value, comma-joined (RFC 9110 5.3). */
        lua_pushliteral(L, ", ");
        lua_pushlstring(L, value, vlen);
        lua_concat(L, 3);
    } else {
        lua_pop(L, 1);
        lua_pushlstring(L, value, vlen);
    }
    lua_pushlstring(L, lower, nlen);
    lua_insert(L, -2);
    lua_rawset(L, -3);
    return 0;
}

/* Protected: build req and spawn the task handler_main(c, fn, req). */
static int start_request(lua_State *L)
{
    struct start_args *a = lua_touserdata(L, 1);
    pr_http_req_t *req = a->c->req;
    const char *body;
    size_t blen;

    lua_pushcfunction(L, handler_main);
    lua_pushlightuserdata(L, a->c);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->r->ref);
    lua_createtable(L, 0, 7);
    lua_pushstring(L, pr_http_req_method(req));
    lua_setfield(L, -2, "method");
    lua_pushstring(L, pr_http_req_path(req));
    lua_setfield(L, -2, "path");
    lua_pushstring(L, pr_http_req_query(req));
    lua_setfield(L, -2, "query");
    body = pr_http_req_body(req, &blen);
    lua_pushlstring(L, body, blen);
    lua_setfield(L, -2, "body");
    lua_pushstring(L, pr_http_req_remote(req));
    lua_setfield(L, -2, "remote");
    lua_pushinteger(L, (lua_Integer)pr_http_req_id(req));
    lua_setfield(L, -2, "id");
    lua_newtable(L);
    pr_http_req_headers(req, header_into, L);
    lua_setfield(L, -2, "headers");
    a->c->task = pr_task_spawn(L, 3, a->r->where, on_task_end, a->c);
    return 0;
}

static void on_dispatch(void *ud, pr_http_req_t *req)
{
    lserver_t *ls = ud;
    binding_t *b = ls->bindings;
    struct start_args a = { NULL, NULL };
    lua_State *L;
    int known;

    if (b)
        a.r = find_route(b, pr_http_req_method(req), pr_http_req_path(req), &known);
    if (!a.r) {  /* the routes changed while its body came in */
        pr_http_req_respond_error(req, b ? 404 : 503, b ? "not found" : "not available", NULL);
        return;
    }
    if (a.r->front && a.r->front->answer(a.r->front, req))
        return;
    if (!(a.c = calloc(1, sizeof *a.c))) {
        pr_http_req_respond_error(req, 503, "out of memory", NULL);
        return;
    }
    a.c->req = req;
    a.c->ls = ls;
    a.c->h = b->h;
    a.c->timeout_s = b->timeout_s;
    snprintf(a.c->where, sizeof a.c->where, "%s", a.r->where);
    pr_timer_init(&a.c->timeout, on_timeout, a.c);
    pr_timer_set_weak(&a.c->timeout, 1);
    L = pr_host_lua(b->h);
    lua_pushcfunction(L, start_request);
    lua_pushlightuserdata(L, &a);
    if (pr_host_pcall(b->h, 1, 0, "starting an HTTP handler", a.r->where) < 0 || !a.c->task) {
        hctx_free(a.c);
        pr_http_req_respond_error(req, 500, "could not start the handler", NULL);
        return;
    }
    ls->held++;
    pr_timer_start(pr_host_loop(b->h), &a.c->timeout, a.c->timeout_s, 0);
    /* The first slice runs now; a handler that does not wait answers
     * before this returns (and a.c is gone). */
    pr_task_start(a.c->task);
}

/* ------------------------------------------------------------ binding -- */

static void binding_close(binding_t *b)
{
    lserver_t *ls = b->ls;
    lua_State *L;
    binding_t **p;

    if (!ls)
        return;
    L = pr_host_lua(b->h);
    for (p = &ls->bindings; *p; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            break;
        }
    }
    b->ls = NULL;
    while (b->routes) {
        route_t *r = b->routes;
        b->routes = r->next;
        luaL_unref(L, LUA_REGISTRYINDEX, r->ref);
        luaL_unref(L, LUA_REGISTRYINDEX, r->front_ref);
        free(r->path);
        free(r);
    }
    if (b->self_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, b->self_ref);
        b->self_ref = LUA_NOREF;
    }
    pr_host_disown(b->h, &b->res);
    if (ls->bindings)
        pr_http_server_set_limits(ls->s, &ls->bindings->lim);
    server_release(ls);
}

static void binding_res_close(pr_res_t *r) { binding_close((binding_t *)r); }

static binding_t *check_binding(lua_State *L)
{
    binding_t *b = luaL_checkudata(L, 1, SERVER_MT);
    if (!b->ls)
        luaL_error(L, "http server is closed");
    return b;
}

static int s_route(lua_State *L)
{
    binding_t *b = check_binding(L);
    const char *method = luaL_checkstring(L, 2), *path = luaL_checkstring(L, 3);
    size_t plen = strlen(path);
    route_t *r, **p;
    pr_l_http_front_t *front;
    lua_Debug ar;

    luaL_checktype(L, 4, LUA_TFUNCTION);
    front = lua_isnoneornil(L, 5) ? NULL : luaL_checkudata(L, 5, PR_L_HTTP_FRONT_MT);
    if (!*method || strlen(method) >= sizeof r->method ||
        strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method))
        return luaL_error(L, "srv:route: method must be an upper-case word (GET, POST, ...), "
                             "got '%s'", method);
    if (path[0] != '/' || strpbrk(path, " ?#\r\n") || (strchr(path, '*') &&
                                                        strchr(path, '*') != path + plen - 1))
        return luaL_error(L, "srv:route: path must start with '/', without spaces, '?' or "
                             "'#', with '*' only at the end (a prefix), got '%s'", path);
    if (!strcmp(path, "/metrics") || !strcmp(path, "/health"))
        return luaL_error(L, "srv:route: %s is built in", path);
    if (b->nroutes >= 1000)
        return luaL_error(L, "srv:route: at most 1000 routes");
    /* Replace a route with the same method and path. */
    for (p = &b->routes; *p; p = &(*p)->next) {
        if (!strcmp((*p)->method, method) && !strcmp((*p)->path, path)) {
            lua_pushvalue(L, 4);
            lua_rawseti(L, LUA_REGISTRYINDEX, (*p)->ref);
            luaL_unref(L, LUA_REGISTRYINDEX, (*p)->front_ref);
            lua_pushvalue(L, 5);
            (*p)->front_ref = front ? luaL_ref(L, LUA_REGISTRYINDEX) : (lua_pop(L, 1), LUA_NOREF);
            (*p)->front = front;
            return 0;
        }
    }
    if (!(r = calloc(1, sizeof *r)) || !(r->path = strdup(path))) {
        free(r);
        return luaL_error(L, "srv:route: out of memory");
    }
    strcpy(r->method, method);
    r->prefix = path[plen - 1] == '*';
    r->plen = r->prefix ? plen - 1 : plen;   /* the path keeps its '*': the route label */
    lua_pushvalue(L, 4);
    lua_getinfo(L, ">S", &ar);
    snprintf(r->where, sizeof r->where, "%s:%d", ar.short_src, ar.linedefined);
    lua_pushvalue(L, 4);
    r->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, 5);
    r->front_ref = front ? luaL_ref(L, LUA_REGISTRYINDEX) : (lua_pop(L, 1), LUA_NOREF);
    r->front = front;
    /* In the order given: the first route whose path matches wins. */
    *p = r;
    b->nroutes++;
    lua_settop(L, 1);
    return 1;
}

static int s_close(lua_State *L)
{
    binding_t *b = luaL_checkudata(L, 1, SERVER_MT);
    binding_close(b);
    return 0;
}

static int s_address(lua_State *L)
{
    binding_t *b = check_binding(L);
    lua_pushstring(L, pr_http_server_address(b->ls->s));
    return 1;
}

static int s_stats(lua_State *L)
{
    binding_t *b = check_binding(L);
    pr_http_server_stats_t st;
    pr_http_server_stats(b->ls->s, &st);
    lua_createtable(L, 0, 6);
#define FIELD(name, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, name))
    FIELD("requests", st.requests);
    FIELD("connections", st.connections);
    FIELD("rejected", st.rejected);
    FIELD("slow_clients", st.slow_clients);
    FIELD("open", st.open);
    FIELD("held", st.held);
#undef FIELD
    return 1;
}

static int s_tostring(lua_State *L)
{
    binding_t *b = luaL_checkudata(L, 1, SERVER_MT);
    if (!b->ls)
        lua_pushliteral(L, "perch.http.server (closed)");
    else
        lua_pushfstring(L, "perch.http.server (%s, %d routes)", pr_http_server_address(b->ls->s),
                        (int)b->nroutes);
    return 1;
}

/* -------------------------------------------------------------- serve -- */

/* A number option: the serve{} field, else perch.config.http.server.<key>
 * (http.listen for the address), else dflt; whole, in [lo, hi]. */
static double num_opt(lua_State *L, int cfg, const char *key, double lo, double hi, double dflt)
{
    int isnum;
    double v;
    if (lua_getfield(L, 1, key) == LUA_TNIL) {
        lua_pop(L, 1);
        if (!cfg || lua_getfield(L, cfg, key) == LUA_TNIL) {
            if (cfg)
                lua_pop(L, 1);
            return dflt;
        }
    }
    v = lua_tonumberx(L, -1, &isnum);
    if (!isnum || !isfinite(v) || v < lo || v > hi || v != floor(v))
        luaL_error(L, "perch.http.serve: %s must be a whole number in %d..%f, got '%s'", key,
                   (int)lo, hi, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return v;
}

static int l_serve(lua_State *L)
{
    static const char *const fields[] = { "listen", "max_body", "max_connections", "timeout_ms",
                                          "client_timeout_s", "stall_ms", "health_hold_s", NULL };
    pr_app_env_t *env = pr_app_env_of(L);
    pr_http_server_opts_t o;
    struct sockaddr_storage ss;
    unsigned sslen;
    const char *listen = NULL;
    int cfg = 0, http_cfg = 0, rc;
    lserver_t *ls;
    binding_t *b;
    char err[256];

    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (!env)
        return luaL_error(L, "perch.http.serve: not inside an app");
    pr_lopt_keys(L, 1, "perch.http.serve", fields);
    /* perch.config.http.listen, perch.config.http.server.* */
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "perch") == LUA_TTABLE && lua_getfield(L, -1, "config") == LUA_TTABLE &&
        lua_getfield(L, -1, "http") == LUA_TTABLE) {
        http_cfg = lua_gettop(L);
        if (lua_getfield(L, http_cfg, "server") == LUA_TTABLE)
            cfg = lua_gettop(L);
    }
    pr_http_server_opts_default(&o);
    o.metrics = env->metrics;
    listen = PR_HTTP_DEFAULT_LISTEN;
    if (lua_getfield(L, 1, "listen") == LUA_TNIL && http_cfg) {
        lua_pop(L, 1);
        lua_getfield(L, http_cfg, "listen");
    }
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "perch.http.serve: listen must be a string \"ADDR:PORT\"");
        listen = lua_tostring(L, -1);
    }
    if (pr_http_parse_listen(listen, &ss, &sslen) < 0)
        return luaL_error(L, "perch.http.serve: bad listen address '%s' (IPv4:PORT, "
                             "localhost:PORT or [IPv6]:PORT)", listen);
    o.listen = listen;
    o.limits.max_body = (size_t)num_opt(L, cfg, "max_body", 0, (double)(1u << 30),
                                        PR_HTTP_DEFAULT_MAX_BODY);
    o.limits.max_connections = (unsigned)num_opt(L, cfg, "max_connections", 1,
                                                 PR_HTTP_MAX_CONNECTIONS,
                                                 PR_HTTP_DEFAULT_CONNECTIONS);
    o.limits.client_timeout_s = (unsigned)num_opt(L, cfg, "client_timeout_s", 1, 3600,
                                                  PR_HTTP_DEFAULT_CLIENT_S);
    double timeout_ms = num_opt(L, cfg, "timeout_ms", 1, 86400000, DEFAULT_TIMEOUT_MS);
    /* The watchdog's: taken when the server starts (it outlives versions). */
    o.stall_s = num_opt(L, cfg, "stall_ms", 10, 3600000, o.stall_s * 1000) / 1000;
    o.hold_s = num_opt(L, cfg, "health_hold_s", 0, 86400, o.hold_s);

    /* The process may serve this address already (a previous version).
     * Port 0 asks for a new port each time.  (sin_port and sin6_port sit
     * at the same place.) */
    for (ls = env->http_servers; ls; ls = ls->next) {
        if (((struct sockaddr_in *)&ss)->sin_port != 0 &&
            ((ls->asked_len == sslen && !memcmp(&ls->asked, &ss, sslen)) ||
             (ls->bound_len == sslen && !memcmp(&ls->bound, &ss, sslen))))
            break;
    }
    if (ls) {
        for (binding_t *o2 = ls->bindings; o2; o2 = o2->next)
            if (o2->h == pr_host_of(L))
                return luaL_error(L, "perch.http.serve: this app already serves %s (add routes "
                                     "to that server)", listen);
    }

    b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    b->h = pr_host_of(L);
    b->self_ref = LUA_NOREF;
    b->lim = o.limits;
    b->timeout_s = timeout_ms / 1000.0;
    luaL_setmetatable(L, SERVER_MT);
    lua_pushvalue(L, -1);
    b->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    if (!ls) {
        static const pr_http_server_hooks_t hooks = { on_route, on_dispatch };
        if (!(ls = calloc(1, sizeof *ls))) {
            luaL_unref(L, LUA_REGISTRYINDEX, b->self_ref);
            b->self_ref = LUA_NOREF;
            return luaL_error(L, "perch.http.serve: out of memory");
        }
        rc = pr_http_server_create(&ls->s, env->loop, &o, &hooks, ls, err, sizeof err);
        if (rc < 0) {
            free(ls);
            luaL_unref(L, LUA_REGISTRYINDEX, b->self_ref);
            b->self_ref = LUA_NOREF;
            luaL_pushfail(L);
            lua_pushfstring(L, "perch.http.serve: %s", err);
            lua_pushstring(L, rc > -PR_EBASE && strerrorname_np(-rc) ? strerrorname_np(-rc)
                              : rc == PR_ENOMEM ? "ENOMEM" : "EINVAL");
            return 3;
        }
        ls->env = env;
        ls->asked = ss;
        ls->asked_len = sslen;
        pr_http_parse_listen(pr_http_server_address(ls->s), &ls->bound, &ls->bound_len);
        ls->next = env->http_servers;
        env->http_servers = ls;
        pr_log_info("http: serving on %s", pr_http_server_address(ls->s));
    } else {
        pr_log_info("http: %s goes on serving, with this version's routes",
                    pr_http_server_address(ls->s));
    }
    b->ls = ls;
    b->next = ls->bindings;
    ls->bindings = b;
    pr_http_server_set_limits(ls->s, &b->lim);
    b->res.close = binding_res_close;
    pr_host_own(b->h, &b->res);
    return 1;
}

void pr_l_http_server_open(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "route", s_route }, { "close", s_close }, { "address", s_address },
        { "stats", s_stats }, { NULL, NULL },
    };
    static const luaL_Reg meta[] = {
        { "__gc", s_close }, { "__close", s_close }, { "__tostring", s_tostring },
        { "__index", NULL }, { NULL, NULL },
    };
    luaL_newmetatable(L, SERVER_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    /* perch.http is l_http.c's table: serve joins request and stats. */
    lua_getfield(L, -1, "http");
    lua_pushcfunction(L, l_serve);
    lua_setfield(L, -2, "serve");
    lua_pop(L, 1);
}
