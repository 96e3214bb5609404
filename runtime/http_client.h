/* http_client.h - HTTP requests on perch's loop: libcurl's multi interface,
 * its sockets and timer driven by pr_io_t watchers and a pr_timer_t.  No
 * call blocks and no thread is started by perch (libcurl's resolver runs
 * getaddrinfo in a thread of its own; IP literals need none).
 *
 * One client holds one curl multi handle, so connections are kept alive and
 * reused across requests.  Requests to one upstream (scheme://host:port)
 * run at most max_per_host at a time; further ones wait in that upstream's
 * FIFO queue, up to max_queue of them; beyond that a request is refused at
 * once (PR_EFULL, counted as PR_HC_QUEUE_FULL).  A request's timeout covers
 * its time in the queue too.
 *
 * Ownership: the client allocates each request; the caller owns it from
 * pr_http_client_request() on and releases it with
 * pr_http_client_req_free() (which also cancels it if it is still going:
 * its callback then never runs).  The done callback runs once, from a loop
 * callback (never inside pr_http_client_request()); the result stays
 * readable until the request is freed.  Destroying the client completes
 * every request still going with PR_HC_CANCELLED (callbacks run); their
 * owners free them as usual, before or after. */
#ifndef PR_HTTP_CLIENT_H
#define PR_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

typedef struct pr_http_client pr_http_client_t;
typedef struct pr_http_client_req pr_http_client_req_t;

/* What became of a request.  The names (pr_http_client_code_name) are what
 * Lua sees as the third result of a failed perch.http.request. */
typedef enum pr_hc_code {
    PR_HC_OK = 0,      /* "ok": a response with status < 500 */
    PR_HC_TIMEOUT,     /* "timeout": the whole request took longer than allowed */
    PR_HC_CONNECT,     /* "connect": no connection (refused, unreachable) */
    PR_HC_DNS,         /* "dns": the host name did not resolve */
    PR_HC_RESET,       /* "reset": the connection broke (reset, closed mid-response, empty reply) */
    PR_HC_HTTP_5XX,    /* "http_5xx": a response with status >= 500 (still readable) */
    PR_HC_TOO_LARGE,   /* "too_large": body or headers over the cap */
    PR_HC_QUEUE_FULL,  /* "queue_full": refused, the upstream's queue is full */
    PR_HC_TLS,         /* "tls": handshake or certificate failure */
    PR_HC_PROTOCOL,    /* "protocol": not a valid HTTP response */
    PR_HC_CANCELLED,   /* "cancelled": freed or client destroyed before the end */
    PR_HC_OTHER,       /* "other": anything else; the message says what */
    PR_HC_NCODES
} pr_hc_code_t;

const char *pr_http_client_code_name(pr_hc_code_t code);

typedef struct pr_http_client_opts {
    int max_per_host;        /* concurrent requests per upstream, >= 1 */
    int max_queue;           /* waiting requests per upstream, >= 0 */
    size_t max_body;         /* response body cap, bytes */
    size_t max_headers;      /* response header bytes cap */
    long timeout_ms;         /* default timeout of a request (queue included) */
    long connect_timeout_ms; /* connecting (DNS + TCP + TLS) */
    int max_connections;     /* connections the pool keeps open */
} pr_http_client_opts_t;

#define PR_HTTP_CLIENT_DEFAULT_PER_HOST   4
#define PR_HTTP_CLIENT_DEFAULT_QUEUE      64
#define PR_HTTP_CLIENT_DEFAULT_MAX_BODY   (8u << 20)
#define PR_HTTP_CLIENT_DEFAULT_TIMEOUT_MS 30000
#define PR_HTTP_CLIENT_DEFAULT_CONNECT_MS 10000

void pr_http_client_opts_default(pr_http_client_opts_t *opts);

typedef struct pr_http_client_spec {
    const char *method;             /* NULL: "GET" */
    const char *url;                /* http:// or https:// */
    const char *const *headers;     /* "Name: value" lines, NULL-terminated; may be NULL */
    const void *body;               /* copied; NULL: no body */
    size_t body_len;
    long timeout_ms;                /* 0: the client's default */
} pr_http_client_spec_t;

typedef struct pr_http_client_result {
    pr_hc_code_t code;
    long status;                    /* HTTP status; 0 if no response */
    const char *message;            /* "" when ok; else what failed */
    const char *body;               /* NUL-terminated after body_len bytes */
    size_t body_len;
    size_t nheaders;
    long new_connections;           /* connections opened for it (0: reused one) */
    double total_s;                 /* from the request call to the end */
} pr_http_client_result_t;

typedef struct pr_http_client_stats {
    uint64_t requests;              /* accepted (started or queued) */
    uint64_t ok;                    /* ended with PR_HC_OK */
    uint64_t by_code[PR_HC_NCODES]; /* failures by code (queue_full included) */
    uint64_t connections;           /* connections opened */
    unsigned in_flight, queued, upstreams;
} pr_http_client_stats_t;

typedef void (*pr_http_client_cb)(pr_http_client_req_t *req, void *ud);

/* Returns 0, PR_EINVAL (bad options) or PR_ENOMEM.  The loop is borrowed. */
int pr_http_client_create(pr_http_client_t **out, pr_loop_t *loop,
                          const pr_http_client_opts_t *opts);
/* Completes every request still going with PR_HC_CANCELLED, closes every
 * connection.  Not from inside a done callback.  Safe with NULL. */
void pr_http_client_destroy(pr_http_client_t *c);

/* Start (or queue) a request.  Returns 0 with *out set; PR_EINVAL with a
 * message in err for a URL that is not http(s)://host... or bad spec;
 * PR_EFULL when the upstream's queue is full (counted); PR_ENOMEM. */
int pr_http_client_request(pr_http_client_t *c, const pr_http_client_spec_t *spec,
                           pr_http_client_cb cb, void *ud, pr_http_client_req_t **out,
                           char *err, size_t errlen);
/* Cancel if still going (no callback), then free.  Safe with NULL. */
void pr_http_client_req_free(pr_http_client_req_t *req);

/* Valid once the callback ran, until the request is freed. */
const pr_http_client_result_t *pr_http_client_req_result(const pr_http_client_req_t *req);
/* Response header i (< nheaders): name lower-cased, value trimmed; in the
 * order received, repeated names repeated. */
void pr_http_client_req_header(const pr_http_client_req_t *req, size_t i,
                               const char **name, const char **value);

void pr_http_client_stats(const pr_http_client_t *c, pr_http_client_stats_t *st);

#endif
