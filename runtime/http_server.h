/* http_server.h - an HTTP/1.1 server on perch's loop: libmicrohttpd in
 * external-loop mode, plus the built-in GET /metrics and GET /health.
 *
 * libmicrohttpd parses requests and writes responses; it runs no thread of
 * its own: its epoll descriptor is watched by one pr_io_t, its timeout is a
 * pr_timer_t, and MHD_run() runs from those loop callbacks only.  A request
 * the user does not answer at once is suspended (its connection is not
 * polled) until pr_http_req_respond() resumes it.
 *
 * Limits, all re-read at each new connection and request, so a reloaded
 * app can change them on a running server (pr_http_server_set_limits):
 *   - max_body: a body larger than this gets 413 (at once when the
 *     Content-Length says so; a chunked body that grows past it is read to
 *     its end into no memory and then refused, or the connection is closed
 *     once it runs another max_body (at least 64 KiB) over);
 *   - max_connections: further connections are accepted and closed at once
 *     (counted);
 *   - client_timeout_s: a client must send a whole request (headers and
 *     body) within this long of connecting or of its previous response,
 *     and an idle connection is closed after it: a slow or stalled client
 *     (slowloris) holds a connection for at most that long.
 * Request headers are capped by the per-connection memory limit (64 KiB;
 * 431 beyond); malformed requests get 400 from libmicrohttpd itself.  So a
 * server's memory is bounded by max_connections x (64 KiB + max_body).
 *
 * Built in, before the user's routes: GET (and HEAD) /metrics, the
 * Prometheus text exposition of opts.metrics (absent without one), and
 * /health (see pr_watchdog_healthy: 200 while the loop turns, 503 during
 * and for hold_s after a stall).  Every answered request is counted in
 * perch_http_requests_total{route,method,status} and
 * perch_http_request_duration_seconds{route,status} (headers in ->
 * response queued).
 *
 * Ownership: the server owns each request from its request line to the end
 * of its response; the user owns it between dispatch and
 * pr_http_req_respond().  Everything runs on the loop thread. */
#ifndef PR_HTTP_SERVER_H
#define PR_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"
#include "metrics.h"

typedef struct pr_http_server pr_http_server_t;
typedef struct pr_http_req pr_http_req_t;

typedef struct pr_http_limits {
    size_t max_body;            /* request body cap, bytes */
    unsigned max_connections;   /* open connections, 1..PR_HTTP_MAX_CONNECTIONS */
    unsigned client_timeout_s;  /* whole request / idle connection, >= 1 */
} pr_http_limits_t;

#define PR_HTTP_DEFAULT_LISTEN      "127.0.0.1:8080"
#define PR_HTTP_DEFAULT_MAX_BODY    (1u << 20)
#define PR_HTTP_DEFAULT_CONNECTIONS 256
#define PR_HTTP_DEFAULT_CLIENT_S    10
#define PR_HTTP_MAX_CONNECTIONS     10000

typedef struct pr_http_server_hooks {
    /* The request's headers are in.  Return 0 to take it (its body is read,
     * then dispatch runs), or a status to answer at once with a JSON error:
     * 404 (no such path), 405 (fill allow with the path's methods, "GET,
     * POST"), 503.  Set the route label for the metrics with
     * pr_http_req_set_route(). */
    int (*route)(void *ud, pr_http_req_t *req, char *allow, size_t allowlen);
    /* The whole request is in.  The user answers it with
     * pr_http_req_respond(), now or from a later loop callback. */
    void (*dispatch)(void *ud, pr_http_req_t *req);
} pr_http_server_hooks_t;

typedef struct pr_http_server_opts {
    const char *listen;         /* "127.0.0.1:8080", "[::1]:8080", "localhost:0" */
    pr_http_limits_t limits;
    double stall_s;             /* watchdog: a loop turn missing this long is a stall */
    double hold_s;              /* /health stays 503 this long after one */
    pr_metrics_t *metrics;      /* borrowed; NULL: no /metrics, no request metrics */
} pr_http_server_opts_t;

void pr_http_server_opts_default(pr_http_server_opts_t *o);

/* 1 if s is an HTTP token (RFC 9110 5.6.2: a header name, a method). */
int pr_http_is_token(const char *s);

/* Parse "ADDR:PORT": an IPv4 literal, "localhost" (127.0.0.1), "[IPv6]",
 * port 0..65535 (0: any free one).  Returns 0 or PR_EINVAL. */
int pr_http_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *sslen);

/* Bind, listen and start serving.  Returns 0; PR_EINVAL (bad options, with
 * a message in err); a negated errno from socket/bind/listen (-EADDRINUSE),
 * with "cannot listen on ADDR: strerror" in err; PR_ENOMEM. */
int pr_http_server_create(pr_http_server_t **out, pr_loop_t *loop,
                          const pr_http_server_opts_t *o, const pr_http_server_hooks_t *hooks,
                          void *ud, char *err, size_t errlen);
/* Stop listening and close every connection.  No request may be held by
 * the user (dispatched and not answered).  Called from inside a hook, it
 * completes when the server's loop callback returns.  Safe with NULL. */
void pr_http_server_destroy(pr_http_server_t *s);

void pr_http_server_set_limits(pr_http_server_t *s, const pr_http_limits_t *l);
/* "127.0.0.1:8080", "[::1]:43121": the bound address (the real port when
 * 0 was asked for). */
const char *pr_http_server_address(const pr_http_server_t *s);

typedef struct pr_http_server_stats {
    uint64_t requests;          /* answered (built-ins and errors included) */
    uint64_t connections;       /* accepted */
    uint64_t rejected;          /* closed at once: over max_connections */
    uint64_t slow_clients;      /* closed: no whole request within client_timeout_s */
    unsigned open;              /* connections open now */
    unsigned held;              /* requests dispatched and not answered yet */
} pr_http_server_stats_t;

void pr_http_server_stats(const pr_http_server_t *s, pr_http_server_stats_t *st);

/* ------------------------------------------------------------- requests
 *
 * Strings stay valid until the request is answered. */
const char *pr_http_req_method(const pr_http_req_t *r);
const char *pr_http_req_path(const pr_http_req_t *r);    /* as sent, without the query */
const char *pr_http_req_query(const pr_http_req_t *r);   /* after '?', as sent; "" if none */
const char *pr_http_req_body(const pr_http_req_t *r, size_t *len);
const char *pr_http_req_remote(const pr_http_req_t *r);  /* "127.0.0.1:50312" */
uint64_t pr_http_req_id(const pr_http_req_t *r);
/* Call fn for each request header, in order (names as sent).  Stops
 * early when fn returns nonzero. */
void pr_http_req_headers(pr_http_req_t *r,
                         int (*fn)(void *ud, const char *name, size_t nlen,
                                   const char *value, size_t vlen),
                         void *ud);
/* The route label of the request in the metrics (copied; cut at 95
 * bytes).  A response header X-Perch-Route overrides it. */
void pr_http_req_set_route(pr_http_req_t *r, const char *route);
/* The user's per-request pointer. */
void pr_http_req_set_ud(pr_http_req_t *r, void *ud);
void *pr_http_req_ud(const pr_http_req_t *r);

/* Answer a request: status 100..599, headers as name, value, ...,
 * NULL (may be NULL), body malloc'd and taken over (NULL if len is 0).
 * Returns 0; PR_EINVAL for a status out of range or a header libmicrohttpd
 * refuses (a line break in it): the request then gets a 500 instead; or
 * PR_ENOMEM (also answered 500 if at all possible).  Once only. */
int pr_http_req_respond(pr_http_req_t *r, int status, const char *const *headers, char *body,
                        size_t len);
/* Answer with {"error": message, "status": status, "request": id} as
 * application/json. */
int pr_http_req_respond_error(pr_http_req_t *r, int status, const char *message,
                              const char *const *headers);

#endif
