/* http_server.c - libmicrohttpd driven by perch's loop; see http_server.h.
 *
 * How a request goes through:
 *   1. URI-log callback (request line parsed): allocate our request record;
 *      it becomes libmicrohttpd's per-request context.
 *   2. First access-handler call (headers in): built-ins, the user's route
 *      hook, the Content-Length check.  An error is answered at once.
 *   3. Further calls carry the body: appended up to max_body, discarded
 *      past it.
 *   4. Last call (no more data): dispatch.  If the user did not answer
 *      within dispatch, the connection is suspended.
 *   5. pr_http_req_respond() stores the response and, if suspended,
 *      resumes the connection and kicks MHD_run(); the next access-handler
 *      call queues it.
 *   6. Completion callback: metrics were recorded at respond; free.
 *
 * We bind the listening socket ourselves (SO_REUSEADDR, IPv6-only for
 * [::1]) and hand it to libmicrohttpd: the real port of "127.0.0.1:0" is
 * then ours to read, and IPv4 and IPv6 are the same code. */
#include "http_server.h"

#include "error.h"
#include "log.h"
#include "watchdog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#define CONN_MEMORY (16u << 10)   /* per connection: request line + headers (zeroed per request) */
#define MHD_BACKSTOP (PR_HTTP_MAX_CONNECTIONS + 64)

static const double latency_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

/* One per TCP connection (libmicrohttpd's socket context). */
typedef struct conn {
    struct conn *prev, *next;
    struct MHD_Connection *mc;
    int64_t phase_ns;     /* since when it owes us a whole request */
    int receiving;        /* it does: headers or body are still coming */
} conn_t;

struct pr_http_req {
    pr_http_server_t *s;
    struct MHD_Connection *mc;
    conn_t *conn;
    uint64_t id;
    int64_t t0_ns;              /* headers in */
    char *uri;                  /* as sent: path?query */
    const char *query;          /* inside uri */
    char method[16];
    char route[96];
    char remote[64];
    char *body;
    size_t len, cap, dropped;   /* dropped: body bytes over max_body */
    int started, dispatched, suspended, queued;
    struct MHD_Response *resp;  /* ready to queue */
    int status;
    void *ud;
};

struct pr_http_server {
    pr_loop_t *loop;
    struct MHD_Daemon *d;
    pr_http_server_hooks_t hooks;
    void *ud;
    pr_http_limits_t lim;
    pr_metrics_t *metrics;
    pr_metric_t *m_requests, *m_latency;
    pr_metrics_collector_t collector;
    pr_watchdog_t *wd;
    pr_io_t io;                 /* libmicrohttpd's epoll descriptor */
    pr_timer_t tick;            /* its timeout, and kicks after a resume */
    pr_timer_t sweep;           /* slow clients */
    conn_t *conns;
    int in_run, doomed;
    uint64_t next_id;
    pr_http_server_stats_t st;
    char addr[80];
};

/* --------------------------------------------------------------- options */

void pr_http_server_opts_default(pr_http_server_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->listen = PR_HTTP_DEFAULT_LISTEN;
    o->limits.max_body = PR_HTTP_DEFAULT_MAX_BODY;
    o->limits.max_connections = PR_HTTP_DEFAULT_CONNECTIONS;
    o->limits.client_timeout_s = PR_HTTP_DEFAULT_CLIENT_S;
    o->stall_s = 1.0;
    o->hold_s = 10.0;
}

int pr_http_is_token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              strchr(extra, *s)))
            return 0;
    return 1;
}

int pr_http_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *sslen)
{
    char host[64];
    const char *colon, *hs = s;
    size_t hlen;
    char *end;
    long port;

    memset(ss, 0, sizeof *ss);
    if (!s)
        return PR_EINVAL;
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return PR_EINVAL;
        hs = s + 1;
        hlen = (size_t)(rb - hs);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return PR_EINVAL;
        hlen = (size_t)(colon - s);
    }
    if (hlen >= sizeof host || !colon[1])
        return PR_EINVAL;
    memcpy(host, hs, hlen);
    host[hlen] = '\0';
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || *end || port < 0 || port > 65535 || colon[1] < '0' || colon[1] > '9')
        return PR_EINVAL;
    if (*s == '[') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return PR_EINVAL;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        *sslen = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        if (!strcmp(host, "localhost"))
            strcpy(host, "127.0.0.1");
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return PR_EINVAL;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        *sslen = sizeof *a;
    }
    return 0;
}

static void format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
    } else {
        snprintf(buf, len, "?");
    }
}

/* ------------------------------------------------------------- driving */

static void really_destroy(pr_http_server_t *s);

static void rearm(pr_http_server_t *s)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(s->d, &ms) == MHD_YES)
        pr_timer_start(s->loop, &s->tick, (double)ms / 1000.0, 0);
    else
        pr_timer_stop(&s->tick);
}

static void run(pr_http_server_t *s)
{
    s->in_run++;
    MHD_run(s->d);
    s->in_run--;
    if (s->doomed) {
        if (!s->in_run)
            really_destroy(s);
        return;
    }
    rearm(s);
}

static void on_io(pr_io_t *io, int revents, void *ud)
{
    (void)io;
    (void)revents;
    run(ud);
}

static void on_tick(pr_timer_t *t, void *ud)
{
    (void)t;
    run(ud);
}

static void kick(pr_http_server_t *s)
{
    if (!s->doomed)
        pr_timer_start(s->loop, &s->tick, 0, 0);
}

/* Connections that owe a whole request for longer than client_timeout_s:
 * shut the socket down; libmicrohttpd sees the end and closes it. */
static void on_sweep(pr_timer_t *t, void *ud)
{
    pr_http_server_t *s = ud;
    int64_t now = pr_time_ns(), limit = (int64_t)s->lim.client_timeout_s * 1000000000;
    (void)t;

    for (conn_t *c = s->conns; c; c = c->next) {
        const union MHD_ConnectionInfo *ci;
        if (!c->receiving || now - c->phase_ns <= limit)
            continue;
        c->receiving = 0;
        ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci) {
            shutdown(ci->connect_fd, SHUT_RDWR);
            s->st.slow_clients++;
            pr_log_debug("http %s: closing a connection that sent no whole request in %u s",
                         s->addr, s->lim.client_timeout_s);
        }
    }
}

/* ----------------------------------------------------------- responses */

static const char *method_label(const char *m)
{
    static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                         "OPTIONS", NULL };
    for (int i = 0; known[i]; i++)
        if (!strcmp(m, known[i]))
            return known[i];
    return "other";
}

static void record(pr_http_req_t *r)
{
    pr_http_server_t *s = r->s;
    char status[8];
    const char *route = r->route[0] ? r->route : "unmatched";

    s->st.requests++;
    if (!s->metrics)
        return;
    snprintf(status, sizeof status, "%d", r->status);
    {
        const char *v[] = { route, method_label(r->method), status };
        pr_metric_add(s->m_requests, v, 1);
    }
    {
        const char *v[] = { route, status };
        pr_metric_observe(s->m_latency, v, (double)(pr_time_ns() - r->t0_ns) / 1e9);
    }
}

static int set_response(pr_http_req_t *r, int status, struct MHD_Response *resp)
{
    r->resp = resp;
    r->status = status;
    if (r->dispatched && r->s->st.held)
        r->s->st.held--;
    record(r);
    if (r->suspended) {
        r->suspended = 0;
        MHD_resume_connection(r->mc);
        kick(r->s);
    }
    return 0;
}

static int is_header(const char *a, const char *b) { return !strcasecmp(a, b); }

static struct MHD_Response *build(int status, const char *const *headers, char *body,
                                  size_t len, pr_http_req_t *r, int *rc)
{
    struct MHD_Response *resp;

    *rc = 0;
    if (status < 100 || status > 599) {
        free(body);
        *rc = PR_EINVAL;
        return NULL;
    }
    resp = len ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
               : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        if (len)
            free(body);
        *rc = PR_ENOMEM;
        return NULL;
    }
    if (!len)
        free(body);
    for (int i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
        if (MHD_add_response_header(resp, headers[i], headers[i + 1]) != MHD_YES) {
            MHD_destroy_response(resp);
            *rc = PR_EINVAL;
            return NULL;
        }
        if (is_header(headers[i], "x-perch-route"))
            pr_http_req_set_route(r, headers[i + 1]);
    }
    return resp;
}

/* JSON string body of an error, with the message escaped. */
static char *error_body(int status, const char *msg, uint64_t id, size_t *len)
{
    size_t n = strlen(msg), cap = n * 6 + 96, o = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    o += (size_t)snprintf(b, cap, "{\"error\":\"");
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p == '"' || *p == '\\') {
            b[o++] = '\\';
            b[o++] = (char)*p;
        } else if (*p < 0x20) {
            o += (size_t)snprintf(b + o, cap - o, "\\u%04x", *p);
        } else {
            b[o++] = (char)*p;
        }
    }
    o += (size_t)snprintf(b + o, cap - o, "\",\"status\":%d,\"request\":%llu}\n", status,
                          (unsigned long long)id);
    *len = o;
    return b;
}

int pr_http_req_respond_error(pr_http_req_t *r, int status, const char *message,
                              const char *const *headers)
{
    const char *h[16];
    int n = 0;
    size_t len;
    char *body = error_body(status, message, r->id, &len);

    h[n++] = "Content-Type";
    h[n++] = "application/json";
    for (int i = 0; headers && headers[i] && headers[i + 1] && n < 14; i += 2) {
        h[n++] = headers[i];
        h[n++] = headers[i + 1];
    }
    h[n] = NULL;
    if (!body)
        len = 0;
    return pr_http_req_respond(r, status, h, body, len);
}

int pr_http_req_respond(pr_http_req_t *r, int status, const char *const *headers, char *body,
                        size_t len)
{
    struct MHD_Response *resp;
    int rc;

    if (r->resp || r->queued) {
        free(body);
        return PR_EINVAL;
    }
    resp = build(status, headers, body, len, r, &rc);
    if (!resp) {
        /* Whatever went wrong, the client still gets an answer. */
        static const char msg[] = "{\"error\":\"the handler's response could not be sent\"}\n";
        struct MHD_Response *e = MHD_create_response_from_buffer(
            sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        if (!e)
            return rc;
        MHD_add_response_header(e, "Content-Type", "application/json");
        pr_log_warn("http %s: %s %s (request %llu): response refused (%s): answering 500",
                    r->s->addr, r->method, r->uri, (unsigned long long)r->id,
                    rc == PR_EINVAL ? "status out of range or a header with a line break"
                                    : pr_strerror(rc));
        set_response(r, 500, e);
        return rc;
    }
    return set_response(r, status, resp);
}

static enum MHD_Result queue(pr_http_req_t *r)
{
    enum MHD_Result ok = MHD_queue_response(r->mc, (unsigned)r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    r->queued = 1;
    if (r->conn)
        r->conn->receiving = 0;
    return ok;
}

/* ------------------------------------------------------------ built-ins */

static void serve_metrics(pr_http_req_t *r)
{
    static const char *const h[] = { "Content-Type", "text/plain; version=0.0.4; charset=utf-8",
                                     NULL };
    char *text;
    size_t len;
    if (pr_metrics_expose(r->s->metrics, &text, &len) < 0) {
        pr_http_req_respond_error(r, 500, "out of memory writing the metrics", NULL);
        return;
    }
    pr_http_req_respond(r, 200, h, text, len);
}

static void serve_health(pr_http_req_t *r)
{
    static const char *const h[] = { "Content-Type", "application/json", "Cache-Control",
                                     "no-store", NULL };
    pr_watchdog_state_t w;
    char *b = malloc(512);
    int n;

    pr_watchdog_state(r->s->wd, &w);
    if (!b) {
        pr_http_req_respond(r, w.healthy ? 200 : 503, h, NULL, 0);
        return;
    }
    n = snprintf(b, 512,
                 "{\"status\":\"%s\",\"loop_lag_ms\":%.3f,\"stalls\":%llu,"
                 "\"last_stall_ms\":%.0f,\"last_stall_ago_s\":%.1f,\"stall_ms\":%.0f,"
                 "\"hold_s\":%.0f}\n",
                 w.healthy ? "ok" : "stalled", w.lag_s * 1000, (unsigned long long)w.stalls,
                 w.last_stall_s * 1000, w.last_stall_ago_s, w.stall_s * 1000, w.hold_s);
    pr_http_req_respond(r, w.healthy ? 200 : 503, h, b, (size_t)n);
}

/* GET /metrics, GET /health: 1 if answered. */
static int builtin(pr_http_req_t *r, const char *path)
{
    int metrics = !strcmp(path, "/metrics") && r->s->metrics, health = !strcmp(path, "/health");
    static const char *const allow[] = { "Allow", "GET, HEAD", NULL };

    if (!metrics && !health)
        return 0;
    pr_http_req_set_route(r, path);
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        pr_http_req_respond_error(r, 405, "method not allowed", allow);
    else if (metrics)
        serve_metrics(r);
    else
        serve_health(r);
    return 1;
}

/* ------------------------------------------------ libmicrohttpd callbacks */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
    pr_http_server_t *s = cls;
    pr_http_req_t *r = calloc(1, sizeof *r);
    const union MHD_ConnectionInfo *ci;
    char *q;

    if (!r)
        return NULL;
    if (!(r->uri = strdup(uri))) {
        free(r);
        return NULL;
    }
    r->s = s;
    r->mc = mc;
    r->id = ++s->next_id;
    q = strchr(r->uri, '?');
    if (q)
        *q++ = '\0';
    r->query = q ? q : "";
    ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    format_addr(ci ? ci->client_addr : NULL, r->remote, sizeof r->remote);
    ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    r->conn = ci ? ci->socket_context : NULL;
    return r;
}

static int first_call(pr_http_req_t *r, const char *method)
{
    pr_http_server_t *s = r->s;
    char allow[64] = "", msg[160];
    const char *cl;
    int status;

    r->started = 1;
    r->t0_ns = pr_time_ns();
    snprintf(r->method, sizeof r->method, "%s", method);
    if (builtin(r, r->uri))
        return 1;
    /* Once destroyed from inside a hook, the user is gone: no more hooks. */
    status = s->doomed ? 503 : s->hooks.route(s->ud, r, allow, sizeof allow);
    if (status == 405) {
        const char *h[] = { "Allow", allow, NULL };
        snprintf(msg, sizeof msg, "method %s not allowed (allowed: %s)", method, allow);
        pr_http_req_respond_error(r, 405, msg, h);
        return 1;
    }
    if (status) {
        pr_http_req_respond_error(r, status, status == 404 ? "not found" : "not available",
                                  NULL);
        return 1;
    }
    cl = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->lim.max_body) {
        snprintf(msg, sizeof msg, "request body over %zu bytes", s->lim.max_body);
        pr_http_req_respond_error(r, 413, msg, NULL);
        return 1;
    }
    return 0;
}

static void take_body(pr_http_req_t *r, const char *data, size_t n)
{
    size_t max = r->s->lim.max_body;

    if (r->dropped || r->len + n > max) {
        r->dropped += n;
        return;
    }
    if (r->len + n > r->cap) {
        size_t ncap = r->cap ? r->cap : 4096;
        char *nb;
        while (ncap < r->len + n)
            ncap *= 2;
        if (ncap > max)
            ncap = max;
        if (!(nb = realloc(r->body, ncap + 1))) {
            r->dropped += n;  /* answered 413-like below: no memory for it */
            return;
        }
        r->body = nb;
        r->cap = ncap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
}

static int body_coming(struct MHD_Connection *mc)
{
    const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    return MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
           (cl && strtoull(cl, NULL, 10) > 0);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
{
    pr_http_server_t *s = cls;
    pr_http_req_t *r = *req_cls;
    (void)url;
    (void)version;

    if (!r)
        return MHD_NO;  /* no memory for it at the request line: close */
    if (!r->started) {
        if (!first_call(r, method))
            return MHD_YES;
        if (!r->resp)
            return MHD_NO;
        /* Answered from the headers alone.  With a body on its way, queue
         * now: libmicrohttpd sends it without reading the body and closes
         * the connection.  Without, queue at the next call, when the
         * request is complete, and the connection stays open. */
        if (body_coming(mc))
            return queue(r);
        return MHD_YES;
    }
    if (r->resp)
        return queue(r);
    if (r->queued || r->dispatched)
        return MHD_YES;
    if (*upload_data_size) {
        take_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* A body that goes on well past the cap is not worth reading. */
        return r->len + r->dropped > s->lim.max_body + (s->lim.max_body > 65536
                                                        ? s->lim.max_body : 65536)
                   ? MHD_NO : MHD_YES;
    }
    if (r->dropped) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body over %zu bytes", s->lim.max_body);
        pr_http_req_respond_error(r, 413, msg, NULL);
        return queue(r);
    }
    if (s->doomed) {
        pr_http_req_respond_error(r, 503, "not available", NULL);
        return queue(r);
    }
    r->dispatched = 1;
    s->st.held++;
    if (r->conn)
        r->conn->receiving = 0;
    s->hooks.dispatch(s->ud, r);
    if (r->resp)
        return queue(r);
    r->suspended = 1;
    MHD_suspend_connection(mc);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    pr_http_req_t *r = *req_cls;
    conn_t *c;
    (void)cls;
    (void)toe;

    if (!r)
        return;
    *req_cls = NULL;
    c = r->conn;
    if (c && c->mc == mc) {
        c->receiving = 1;        /* now it owes us the next request */
        c->phase_ns = pr_time_ns();
    }
    if (r->resp)
        MHD_destroy_response(r->resp);
    free(r->body);
    free(r->uri);
    free(r);
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    pr_http_server_t *s = cls;
    conn_t *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        if (!(c = calloc(1, sizeof *c)))
            return;
        c->mc = mc;
        c->receiving = 1;
        c->phase_ns = pr_time_ns();
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        *socket_context = c;
        s->st.open++;
        s->st.connections++;
        MHD_set_connection_option(mc, MHD_CONNECTION_OPTION_TIMEOUT, s->lim.client_timeout_s);
        return;
    }
    if (!c)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->st.open--;
    *socket_context = NULL;
    free(c);
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    pr_http_server_t *s = cls;
    (void)addr;
    (void)addrlen;
    if (s->st.open >= s->lim.max_connections) {
        s->st.rejected++;
        return MHD_NO;
    }
    return MHD_YES;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    pr_http_server_t *s = cls;
    char msg[256];
    size_t n;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    pr_log_debug("http %s: libmicrohttpd: %s", s->addr, msg);
}

/* ------------------------------------------------------------- metrics */

static void collect(pr_metrics_out_t *o, void *ud)
{
    pr_http_server_t *s = ud;
    pr_watchdog_state_t w;
    const char *l[] = { "listen", s->addr };

    pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_http_connections",
                    "Connections open now", 1, l, s->st.open);
    pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_http_connections_total",
                    "Connections accepted", 1, l, (double)s->st.connections);
    pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_http_connections_rejected_total",
                    "Connections closed at once: over the connection limit", 1, l,
                    (double)s->st.rejected);
    pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_http_slow_clients_total",
                    "Connections closed: no whole request within the client timeout", 1, l,
                    (double)s->st.slow_clients);
    pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_http_requests_held",
                    "Requests handed to a handler and not answered yet", 1, l, s->st.held);

    pr_watchdog_state(s->wd, &w);
    pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_loop_healthy",
                    "1 while the event loop turns (what /health says)", 0, NULL, w.healthy);
    pr_metrics_emit(o, PR_METRIC_COUNTER, "perch_loop_stalls_total",
                    "Times the event loop did not turn for longer than the stall limit", 0,
                    NULL, (double)w.stalls);
    pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_loop_last_stall_seconds",
                    "Length of the last stall", 0, NULL, w.last_stall_s);
    pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_loop_max_stall_seconds",
                    "Longest stall seen", 0, NULL, w.max_stall_s);
    pr_metrics_emit(o, PR_METRIC_GAUGE, "perch_loop_lag_seconds",
                    "How late the last heartbeat timer fired", 0, NULL, w.lag_s);
}

/* ------------------------------------------------------------ lifecycle */

static int listen_on(const char *spec, char *addr, size_t addrlen, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    unsigned sslen;
    socklen_t blen;
    int fd, one = 1, rc;

    if (pr_http_parse_listen(spec, &ss, &sslen) < 0) {
        snprintf(err, errlen, "bad listen address '%s' (IPv4:PORT, localhost:PORT or "
                 "[IPv6]:PORT)", spec ? spec : "(null)");
        return PR_EINVAL;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 511) < 0)
        goto fail;
    blen = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &blen);
    format_addr((struct sockaddr *)&ss, addr, addrlen);
    return fd;
fail:
    rc = -errno;
    if (fd >= 0)
        close(fd);
    snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(-rc));
    return rc;
}

int pr_http_server_create(pr_http_server_t **out, pr_loop_t *loop,
                          const pr_http_server_opts_t *o, const pr_http_server_hooks_t *hooks,
                          void *ud, char *err, size_t errlen)
{
    pr_http_server_t *s;
    const union MHD_DaemonInfo *di;
    int fd, rc;

    if (!out || !loop || !o || !hooks || !hooks->route || !hooks->dispatch) {
        snprintf(err, errlen, "bad arguments");
        return PR_EINVAL;
    }
    if (!(s = calloc(1, sizeof *s))) {
        snprintf(err, errlen, "out of memory");
        return PR_ENOMEM;
    }
    s->loop = loop;
    s->hooks = *hooks;
    s->ud = ud;
    s->metrics = o->metrics;
    pr_http_server_set_limits(s, &o->limits);
    pr_timer_init(&s->tick, on_tick, s);
    pr_timer_set_weak(&s->tick, 1);
    pr_timer_init(&s->sweep, on_sweep, s);
    pr_timer_set_weak(&s->sweep, 1);
    pr_io_init(&s->io, on_io, s);
    if (s->metrics) {
        static const char *const rl[] = { "route", "method", "status" };
        static const char *const ll[] = { "route", "status" };
        if ((rc = pr_metrics_family(s->metrics, PR_METRIC_COUNTER, "perch_http_requests_total",
                                    "HTTP requests answered, by route, method and status", 3,
                                    rl, 0, NULL, &s->m_requests, err, errlen)) < 0 ||
            (rc = pr_metrics_family(s->metrics, PR_METRIC_HISTOGRAM,
                                    "perch_http_request_duration_seconds",
                                    "From request headers in to response queued, by route "
                                    "and status", 2, ll,
                                    (int)(sizeof latency_buckets / sizeof *latency_buckets),
                                    latency_buckets, &s->m_latency, err, errlen)) < 0) {
            free(s);
            return rc;
        }
    }
    if ((rc = pr_watchdog_create(&s->wd, loop, o->stall_s, o->hold_s)) < 0) {
        snprintf(err, errlen, "cannot start the loop watchdog: %s", pr_strerror(rc));
        free(s);
        return rc;
    }
    if ((fd = listen_on(o->listen, s->addr, sizeof s->addr, err, errlen)) < 0) {
        pr_watchdog_destroy(s->wd);
        free(s);
        return fd;
    }
    s->d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO, 0,
        on_accept, s, on_access, s,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MHD_BACKSTOP,
        MHD_OPTION_CONNECTION_TIMEOUT, s->lim.client_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
        MHD_OPTION_STRICT_FOR_CLIENT, 1,   /* RFC 9112: HTTP/1.1 needs Host, ... */
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_END);
    if (!s->d) {
        close(fd);
        pr_watchdog_destroy(s->wd);
        free(s);
        snprintf(err, errlen, "cannot start the HTTP server on %s (libmicrohttpd refused)",
                 o->listen);
        return PR_ENOMEM;
    }
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!di || (rc = pr_io_start(loop, &s->io, di->epoll_fd, PR_IO_READ)) < 0) {
        MHD_stop_daemon(s->d);
        close(fd);
        pr_watchdog_destroy(s->wd);
        free(s);
        snprintf(err, errlen, "cannot watch the HTTP server's descriptor");
        return PR_EINVAL;
    }
    pr_timer_start(loop, &s->sweep, 0.5, 0.5);
    pr_metrics_collector_add(s->metrics, &s->collector, collect, s);
    rearm(s);
    *out = s;
    return 0;
}

static void really_destroy(pr_http_server_t *s)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_LISTEN_FD);
    int fd = di ? di->listen_fd : -1;

    pr_io_stop(&s->io);
    pr_timer_stop(&s->tick);
    pr_timer_stop(&s->sweep);
    pr_metrics_collector_remove(&s->collector);
    MHD_stop_daemon(s->d);
    /* A socket given with MHD_OPTION_LISTEN_SOCKET stays ours to close. */
    if (fd >= 0)
        close(fd);
    pr_watchdog_destroy(s->wd);
    free(s);
}

void pr_http_server_destroy(pr_http_server_t *s)
{
    if (!s)
        return;
    if (s->in_run) {
        s->doomed = 1;
        pr_io_stop(&s->io);
        pr_timer_stop(&s->tick);
        return;
    }
    really_destroy(s);
}

void pr_http_server_set_limits(pr_http_server_t *s, const pr_http_limits_t *l)
{
    s->lim = *l;
    if (s->lim.max_connections < 1)
        s->lim.max_connections = 1;
    if (s->lim.max_connections > PR_HTTP_MAX_CONNECTIONS)
        s->lim.max_connections = PR_HTTP_MAX_CONNECTIONS;
    if (s->lim.client_timeout_s < 1)
        s->lim.client_timeout_s = 1;
}

const char *pr_http_server_address(const pr_http_server_t *s) { return s->addr; }

void pr_http_server_stats(const pr_http_server_t *s, pr_http_server_stats_t *st) { *st = s->st; }

/* ------------------------------------------------------------- requests */

const char *pr_http_req_method(const pr_http_req_t *r) { return r->method; }
const char *pr_http_req_path(const pr_http_req_t *r) { return r->uri; }
const char *pr_http_req_query(const pr_http_req_t *r) { return r->query; }
const char *pr_http_req_remote(const pr_http_req_t *r) { return r->remote; }
uint64_t pr_http_req_id(const pr_http_req_t *r) { return r->id; }
void pr_http_req_set_ud(pr_http_req_t *r, void *ud) { r->ud = ud; }
void *pr_http_req_ud(const pr_http_req_t *r) { return r->ud; }

const char *pr_http_req_body(const pr_http_req_t *r, size_t *len)
{
    *len = r->len;
    return r->body ? r->body : "";
}

void pr_http_req_set_route(pr_http_req_t *r, const char *route)
{
    snprintf(r->route, sizeof r->route, "%s", route ? route : "");
}

struct header_iter {
    int (*fn)(void *, const char *, size_t, const char *, size_t);
    void *ud;
};

static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    struct header_iter *it = cls;
    (void)kind;
    return it->fn(it->ud, key, key_size, value ? value : "", value ? value_size : 0) ? MHD_NO
                                                                                      : MHD_YES;
}

void pr_http_req_headers(pr_http_req_t *r,
                         int (*fn)(void *ud, const char *name, size_t nlen,
                                   const char *value, size_t vlen),
                         void *ud)
{
    struct header_iter it = { fn, ud };
    MHD_get_connection_values_n(r->mc, MHD_HEADER_KIND, header_cb, &it);
}
