/* l_http.c - perch.http: requests from tasks on the runtime's HTTP client.
 *
 *   local res, err, code = perch.http.request{ method = "POST", url = ...,
 *       headers = { ["content-type"] = "text/plain" }, body = "...",
 *       timeout_ms = 2000 }
 *
 * Inside a task the call waits (the task yields; the loop goes on) and
 * returns res = { status, headers, body, time } for any response with a
 * status below 500.  A failure returns nil, message, code, where code is a
 * pr_http_client_code_name(): "timeout", "connect", "dns", "reset",
 * "too_large", "queue_full", ...; a 5xx response is a failure too
 * ("http_5xx": the upstream did not do the job, and a retry policy treats
 * it like a broken connection), with the response as a fourth result so its
 * headers and body stay readable.  Wrong arguments raise.
 *
 * The client is created at the first request from perch.config.http (see
 * read_opts) and is a host resource: closing the app cancels every request
 * still going.  A request is owned by the task waiting for it: cancelling
 * the task frees it. */
#include "perch.h"

#include "app.h"
#include "error.h"
#include "http_client.h"
#include "http_server.h"
#include "l_task.h"
#include "metrics.h"

#include <math.h>
#include <string.h>

#include <lauxlib.h>

#include "lopt.h"

#define CLIENT_MT "perch.http.client"

typedef struct lclient {
    pr_res_t res;            /* first: the host's resource list links this */
    pr_http_client_t *c;     /* NULL once closed */
    pr_host_t *h;
    pr_metrics_collector_t collector;   /* its stats on /metrics */
} lclient_t;

static void client_close(lclient_t *lc)
{
    if (!lc->c)
        return;
    pr_host_disown(lc->h, &lc->res);
    pr_metrics_collector_remove(&lc->collector);
    pr_http_client_destroy(lc->c);
    lc->c = NULL;
}

static void client_res_close(pr_res_t *r) { client_close((lclient_t *)r); }

static int client_gc(lua_State *L)
{
    client_close(luaL_checkudata(L, 1, CLIENT_MT));
    return 0;
}

/* An integer config value http.<key> in [lo, hi], or dflt if unset. */
static lua_Integer opt_int(lua_State *L, int cfg, const char *key, lua_Integer lo,
                           lua_Integer hi, lua_Integer dflt)
{
    lua_Integer v;
    int isint;

    if (cfg == 0 || lua_getfield(L, cfg, key) == LUA_TNIL) {
        if (cfg)
            lua_pop(L, 1);
        return dflt;
    }
    v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < lo || v > hi)
        luaL_error(L, "perch.http: config http.%s must be a whole number in %I..%I, got '%s'",
                   key, lo, hi, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return v;
}

/* perch.config.http.{max_per_host, max_queue, max_body, timeout_ms,
 * connect_timeout_ms, max_connections}. */
static void read_opts(lua_State *L, pr_http_client_opts_t *o)
{
    int cfg = 0;

    pr_http_client_opts_default(o);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "perch") == LUA_TTABLE && lua_getfield(L, -1, "config") == LUA_TTABLE &&
        lua_getfield(L, -1, "http") == LUA_TTABLE)
        cfg = lua_gettop(L);
    o->max_per_host = (int)opt_int(L, cfg, "max_per_host", 1, 1000, o->max_per_host);
    o->max_queue = (int)opt_int(L, cfg, "max_queue", 0, 1000000, o->max_queue);
    o->max_body = (size_t)opt_int(L, cfg, "max_body", 1, (lua_Integer)1 << 40, (lua_Integer)o->max_body);
    o->timeout_ms = (long)opt_int(L, cfg, "timeout_ms", 1, 86400000, o->timeout_ms);
    o->connect_timeout_ms = (long)opt_int(L, cfg, "connect_timeout_ms", 1, 86400000,
                                          o->connect_timeout_ms);
    o->max_connections = (int)opt_int(L, cfg, "max_connections", 1, 10000, o->max_connections);
}

static const char CLIENT_KEY[] = "perch.http.client";

static void collect(pr_metrics_out_t *o, void *ud)
{
    lclient_t *lc = ud;
    pr_http_client_stats_t st;

    pr_http_client_stats(lc->c, &st);
#define C(name, help, v) pr_metrics_emit(o, PR_METRIC_COUNTER, name, help, 0, NULL, (double)(v))
#define G(name, help, v) pr_metrics_emit(o, PR_METRIC_GAUGE, name, help, 0, NULL, (double)(v))
    C("perch_http_client_requests_total", "Requests started or queued by perch.http.request",
      st.requests);
    C("perch_http_client_ok_total", "... that got a response below 500", st.ok);
    for (int i = 1; i < PR_HC_NCODES; i++) {
        const char *l[] = { "code", pr_http_client_code_name((pr_hc_code_t)i) };
        pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_http_client_errors_total",
                        "... that failed, by code", 1, l, (double)st.by_code[i]);
    }
    G("perch_http_client_in_flight", "Requests on the wire now", st.in_flight);
    G("perch_http_client_queued", "Requests waiting for a connection slot", st.queued);
    G("perch_http_client_upstreams", "Upstreams (scheme://host:port) seen", st.upstreams);
    C("perch_http_client_connections_total", "Connections opened", st.connections);
#undef C
#undef G
}

/* The app's client, or NULL if none was created (create = 0). */
static pr_http_client_t *get_client(lua_State *L, int create)
{
    pr_http_client_opts_t opts;
    lclient_t *lc;
    int top = lua_gettop(L), rc;

    if (lua_getfield(L, LUA_REGISTRYINDEX, CLIENT_KEY) == LUA_TUSERDATA) {
        lc = lua_touserdata(L, -1);
        lua_settop(L, top);
        if (!lc->c && create)
            luaL_error(L, "perch.http: the HTTP client is closed (the app is stopping)");
        return lc->c;
    }
    if (!create) {
        lua_settop(L, top);
        return NULL;
    }
    read_opts(L, &opts);
    lc = lua_newuserdatauv(L, sizeof *lc, 0);
    lc->c = NULL;
    lc->h = pr_host_of(L);
    memset(&lc->collector, 0, sizeof lc->collector);
    luaL_setmetatable(L, CLIENT_MT);
    rc = pr_http_client_create(&lc->c, pr_host_loop(lc->h), &opts);
    if (rc < 0)
        luaL_error(L, "perch.http: cannot create the HTTP client: %s", pr_strerror(rc));
    lc->res.close = client_res_close;
    pr_host_own(lc->h, &lc->res);
    {
        pr_app_env_t *env = pr_app_env_of(L);
        pr_metrics_collector_add(env ? env->metrics : NULL, &lc->collector, collect, lc);
    }
    lua_setfield(L, LUA_REGISTRYINDEX, CLIENT_KEY);
    lua_settop(L, top);
    return lc->c;
}

/* --------------------------------------------------------------- request */

static void on_done(pr_http_client_req_t *req, void *ud)
{
    (void)req;
    pr_task_wake(ud);
}

static void req_cancel(void *ud) { pr_http_client_req_free(ud); }

static void push_response(lua_State *L, pr_http_client_req_t *req)
{
    const pr_http_client_result_t *r = pr_http_client_req_result(req);

    lua_createtable(L, 0, 4);
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, r->body, r->body_len);
    lua_setfield(L, -2, "body");
    lua_pushnumber(L, r->total_s);
    lua_setfield(L, -2, "time");
    lua_createtable(L, 0, (int)r->nheaders);
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *name, *value;
        pr_http_client_req_header(req, i, &name, &value);
        if (lua_getfield(L, -1, name) == LUA_TSTRING) {
            /* A repeated header: one value, comma-joined (RFC 9110 5.3). */
            lua_pushliteral(L, ", ");
            lua_pushstring(L, value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, value);
        }
        lua_setfield(L, -2, name);
    }
    lua_setfield(L, -2, "headers");
}

/* Runs in the task once the request is over. */
static int request_k(lua_State *L, int status, lua_KContext ctx)
{
    pr_http_client_req_t *req = (pr_http_client_req_t *)ctx;
    const pr_http_client_result_t *r = pr_http_client_req_result(req);
    pr_task_t *t = pr_task_check(L, "perch.http.request");
    int n;
    (void)status;

    if (r->code == PR_HC_OK) {
        push_response(L, req);
        n = 1;
    } else {
        luaL_pushfail(L);
        lua_pushstring(L, r->message);
        lua_pushstring(L, pr_http_client_code_name(r->code));
        n = 3;
        if (r->code == PR_HC_HTTP_5XX) {
            push_response(L, req);
            n = 4;
        }
    }
    /* Everything is pushed: only now is the request no longer the wait's
     * (had a push failed, cancelling the wait would free it). */
    pr_task_unwait(t);
    pr_http_client_req_free(req);
    return n;
}

/* Collect headers = { name = value } into "Name: value" lines anchored in a
 * table left on the stack; lines[] gets pointers into it. */
static const char **header_lines(lua_State *L, int idx)
{
    const char **lines;
    int n = 0;

    lua_newtable(L);  /* anchors the strings */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *name, *value;
        size_t vlen;
        if (lua_type(L, -2) != LUA_TSTRING || !pr_http_is_token(lua_tostring(L, -2)))
            luaL_error(L, "perch.http.request: header names must be tokens (letters, "
                          "digits, -), got '%s'", luaL_tolstring(L, -2, NULL));
        name = lua_tostring(L, -2);
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "perch.http.request: header '%s' must be a string, got %s", name,
                       luaL_typename(L, -1));
        value = lua_tolstring(L, -1, &vlen);
        if (strlen(value) != vlen || strpbrk(value, "\r\n"))
            luaL_error(L, "perch.http.request: header '%s' contains a line break or NUL", name);
        lua_pushfstring(L, "%s: %s", name, value);
        lua_rawseti(L, -4, ++n);
        lua_pop(L, 1);
    }
    lines = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *lines, 0);
    lua_rawseti(L, -2, n + 1);  /* anchored with the strings */
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        lines[i - 1] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    lines[n] = NULL;
    return lines;
}

static int l_request(lua_State *L)
{
    static const char *const fields[] = { "method", "url", "headers", "body", "timeout_ms", NULL };
    pr_http_client_spec_t spec = { 0 };
    pr_http_client_req_t *req;
    pr_http_client_t *c;
    pr_task_t *t;
    char err[600];
    int rc;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    pr_lopt_keys(L, 1, "perch.http.request", fields);
    if (lua_getfield(L, 1, "url") != LUA_TSTRING)
        return luaL_error(L, "perch.http.request: url must be a string");
    spec.url = lua_tostring(L, -1);
    if (lua_getfield(L, 1, "body") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "perch.http.request: body must be a string");
        spec.body = lua_tolstring(L, -1, &spec.body_len);
    }
    switch (lua_getfield(L, 1, "method")) {
    case LUA_TNIL:
        spec.method = spec.body ? "POST" : "GET";
        break;
    case LUA_TSTRING:
        spec.method = lua_tostring(L, -1);
        break;
    default:
        return luaL_error(L, "perch.http.request: method must be a string");
    }
    if (lua_getfield(L, 1, "timeout_ms") != LUA_TNIL) {
        int isnum;
        lua_Number ms = lua_tonumberx(L, -1, &isnum);
        if (!isnum || !isfinite(ms) || ms < 1 || ms > 86400000)
            return luaL_error(L, "perch.http.request: timeout_ms must be a number in 1..86400000");
        spec.timeout_ms = (long)ms;
    }
    if (lua_getfield(L, 1, "headers") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TTABLE)
            return luaL_error(L, "perch.http.request: headers must be a table of name = value");
        spec.headers = header_lines(L, lua_gettop(L));
    }
    t = pr_task_check(L, "perch.http.request");
    c = get_client(L, 1);
    rc = pr_http_client_request(c, &spec, on_done, t, &req, err, sizeof err);
    if (rc == PR_EINVAL)
        return luaL_error(L, "perch.http.request: %s", err);
    if (rc < 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err[0] ? err : pr_strerror(rc));
        lua_pushstring(L, pr_http_client_code_name(rc == PR_EFULL ? PR_HC_QUEUE_FULL : PR_HC_OTHER));
        return 3;
    }
    return pr_task_wait(L, t, req_cancel, req, request_k, (lua_KContext)req);
}

/* ----------------------------------------------------------------- stats */

static int l_stats(lua_State *L)
{
    pr_http_client_t *c = get_client(L, 0);
    pr_http_client_stats_t st;
    uint64_t failed = 0;

    memset(&st, 0, sizeof st);
    if (c)
        pr_http_client_stats(c, &st);
    lua_createtable(L, 0, 8);
    lua_createtable(L, 0, PR_HC_NCODES);
    for (int i = 1; i < PR_HC_NCODES; i++) {
        lua_pushinteger(L, (lua_Integer)st.by_code[i]);
        lua_setfield(L, -2, pr_http_client_code_name((pr_hc_code_t)i));
        failed += st.by_code[i];
    }
    lua_setfield(L, -2, "errors");
#define FIELD(name, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, name))
    FIELD("requests", st.requests);
    FIELD("ok", st.ok);
    FIELD("failed", failed);
    FIELD("in_flight", st.in_flight);
    FIELD("queued", st.queued);
    FIELD("upstreams", st.upstreams);
    FIELD("connections", st.connections);
#undef FIELD
    return 1;
}

void pr_l_http_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "request", l_request }, { "stats", l_stats }, { NULL, NULL },
    };
    luaL_newmetatable(L, CLIENT_MT);
    lua_pushcfunction(L, client_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "http");
}
