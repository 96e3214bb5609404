/* http_client.c - libcurl's multi interface on perch's loop.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * it next needs a call (CURLMOPT_TIMERFUNCTION); a pr_io_t per socket and
 * one pr_timer_t feed the events back with curl_multi_socket_action(), and
 * finished transfers are collected after each action.  curl is only ever
 * called from loop callbacks or the public functions, never from inside
 * its own callbacks, and the done callbacks run after curl has returned,
 * so they may start or free requests.  See http_client.h for the contract. */
#include "http_client.h"

#include "error.h"
#include "log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* A request is queued or active, then done with its callback pending (on
 * the done list), then done. */
enum { REQ_QUEUED, REQ_ACTIVE, REQ_DONE_PENDING, REQ_DONE };

/* Growable byte buffer, NUL-terminated. */
typedef struct buf {
    char *p;
    size_t len, cap;
} buf_t;

struct upstream {
    struct upstream *next;
    int in_flight;
    int nqueued;
    pr_http_client_req_t *qhead, *qtail;
    char key[];              /* "scheme://host:port" */
};

struct sockw {
    pr_io_t io;
    pr_http_client_t *c;
    curl_socket_t fd;
    struct sockw *prev, *next;
};

struct pr_http_client_req {
    pr_http_client_t *c;     /* NULL once the client is gone */
    struct upstream *up;
    CURL *easy;
    struct curl_slist *hdrs;
    int state;
    pr_http_client_req_t *qnext;       /* in up's queue */
    pr_http_client_req_t *prev, *next; /* client's list of requests not done */
    pr_http_client_req_t *dnext;       /* on the done list */
    pr_timer_t qtimer;                 /* deadline while queued */
    pr_http_client_cb cb;
    void *ud;
    int64_t t0_ns, deadline_ns;
    int too_large;                     /* 1: body, 2: headers over the cap */
    buf_t body;
    buf_t hdr;                         /* "name\0value\0" pairs */
    size_t *hoff;                      /* offset of each name in hdr */
    size_t hcap;
    char errbuf[CURL_ERROR_SIZE];
    char msg[CURL_ERROR_SIZE + 64];
    pr_http_client_result_t res;
};

struct pr_http_client {
    pr_loop_t *loop;
    CURLM *multi;
    pr_timer_t timer;
    pr_http_client_opts_t opts;
    struct upstream *ups;
    pr_http_client_req_t *reqs;        /* not done (callback not run yet) */
    pr_http_client_req_t *done_head, *done_tail;  /* callbacks to run */
    pr_timer_t kick;                   /* dispatch() from the loop */
    struct sockw *socks;
    pr_http_client_stats_t st;
};

static const char *const code_names[PR_HC_NCODES] = {
    "ok", "timeout", "connect", "dns", "reset", "http_5xx", "too_large",
    "queue_full", "tls", "protocol", "cancelled", "other",
};

const char *pr_http_client_code_name(pr_hc_code_t code)
{
    return (unsigned)code < PR_HC_NCODES ? code_names[code] : "?";
}

void pr_http_client_opts_default(pr_http_client_opts_t *o)
{
    o->max_per_host = PR_HTTP_CLIENT_DEFAULT_PER_HOST;
    o->max_queue = PR_HTTP_CLIENT_DEFAULT_QUEUE;
    o->max_body = PR_HTTP_CLIENT_DEFAULT_MAX_BODY;
    o->max_headers = 64 << 10;
    o->timeout_ms = PR_HTTP_CLIENT_DEFAULT_TIMEOUT_MS;
    o->connect_timeout_ms = PR_HTTP_CLIENT_DEFAULT_CONNECT_MS;
    o->max_connections = 32;
}

/* ---------------------------------------------------------------- bufs -- */

static int buf_add(buf_t *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        char *np;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        np = realloc(b->p, ncap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* ------------------------------------------------------- curl callbacks -- */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    pr_http_client_req_t *r = ud;
    size_t len = size * n;

    if (r->body.len + len > r->c->opts.max_body) {
        r->too_large = 1;
        return 0;  /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    return buf_add(&r->body, data, len) ? 0 : len;
}

/* One header line per call: a status line starts a response (an interim
 * 100 or a redirect's headers are dropped), "name: value" lines are kept,
 * the empty line ends the block. */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    pr_http_client_req_t *r = ud;
    size_t len = size * n, nlen, vstart, vend;
    const char *colon;

    if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
        r->hdr.len = 0;
        r->res.nheaders = 0;
        return len;
    }
    if (r->hdr.len + len > r->c->opts.max_headers) {
        r->too_large = 2;
        return 0;
    }
    colon = memchr(data, ':', len);
    if (!colon || colon == data)
        return len;  /* the final empty line, or a malformed one: skipped */
    nlen = (size_t)(colon - data);
    vstart = nlen + 1;
    vend = len;
    while (vstart < vend && (data[vstart] == ' ' || data[vstart] == '\t'))
        vstart++;
    while (vend > vstart && isspace((unsigned char)data[vend - 1]))
        vend--;
    if (r->res.nheaders == r->hcap) {
        size_t ncap = r->hcap ? r->hcap * 2 : 16;
        size_t *np = realloc(r->hoff, ncap * sizeof *np);
        if (!np)
            return 0;
        r->hoff = np;
        r->hcap = ncap;
    }
    r->hoff[r->res.nheaders] = r->hdr.len;
    if (buf_add(&r->hdr, data, nlen) || buf_add(&r->hdr, "", 1) ||
        buf_add(&r->hdr, data + vstart, vend - vstart) || buf_add(&r->hdr, "", 1))
        return 0;
    for (size_t i = 0; i < nlen; i++) {
        char *ch = r->hdr.p + r->hoff[r->res.nheaders] + i;
        *ch = (char)tolower((unsigned char)*ch);
    }
    r->res.nheaders++;
    return len;
}

static void on_io(pr_io_t *io, int revents, void *ud);

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    pr_http_client_t *c = userp;
    struct sockw *s = socketp;
    int events = 0;
    (void)e;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            pr_io_stop(&s->io);
            if (s->prev)
                s->prev->next = s->next;
            else
                c->socks = s->next;
            if (s->next)
                s->next->prev = s->prev;
            curl_multi_assign(c->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;  /* curl fails the transfers on this socket */
        s->c = c;
        s->fd = fd;
        pr_io_init(&s->io, on_io, s);
        s->next = c->socks;
        if (c->socks)
            c->socks->prev = s;
        c->socks = s;
        curl_multi_assign(c->multi, fd, s);
    }
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= PR_IO_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= PR_IO_WRITE;
    /* Sockets keep the loop running only while a request waits on them:
     * an idle pooled connection must not keep an app alive. */
    pr_io_set_weak(&s->io, c->st.in_flight == 0);
    return pr_io_start(c->loop, &s->io, fd, events) < 0 ? -1 : 0;
}

static int on_timer_change(CURLM *m, long timeout_ms, void *userp)
{
    pr_http_client_t *c = userp;
    (void)m;
    if (timeout_ms < 0)
        pr_timer_stop(&c->timer);
    else if (pr_timer_start(c->loop, &c->timer, (double)timeout_ms / 1000.0, 0) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ requests -- */

static void set_weak_all(pr_http_client_t *c)
{
    for (struct sockw *s = c->socks; s; s = s->next)
        pr_io_set_weak(&s->io, c->st.in_flight == 0);
}

static void queue_remove(struct upstream *up, pr_http_client_req_t *r)
{
    pr_http_client_req_t **pp = &up->qhead, *last = NULL;
    while (*pp && *pp != r) {
        last = *pp;
        pp = &(*pp)->qnext;
    }
    if (!*pp)
        return;
    *pp = r->qnext;
    if (up->qtail == r)
        up->qtail = last;
    r->qnext = NULL;
    up->nqueued--;
}

static void set_failure(pr_http_client_req_t *r, pr_hc_code_t code, const char *msg)
{
    r->res.code = code;
    if (msg != r->msg)
        snprintf(r->msg, sizeof r->msg, "%s", msg);
    r->res.message = r->msg;
}

/* Take r out of its upstream's accounting and out of curl (its connection
 * stays in the pool), and record the outcome.  With notify, r joins the
 * done list, whose callbacks dispatch() runs; without, nobody is told. */
static void complete(pr_http_client_req_t *r, int notify)
{
    pr_http_client_t *c = r->c;
    struct upstream *up = r->up;

    if (r->state == REQ_ACTIVE) {
        curl_multi_remove_handle(c->multi, r->easy);
        up->in_flight--;
        if (--c->st.in_flight == 0)
            set_weak_all(c);
    } else if (r->state == REQ_QUEUED) {
        queue_remove(up, r);
        c->st.queued--;
    }
    pr_timer_stop(&r->qtimer);
    if (r->easy) {
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
    }
    r->up = NULL;
    r->res.total_s = (double)(pr_time_ns() - r->t0_ns) * 1e-9;
    r->res.body = r->body.p ? r->body.p : "";
    r->res.body_len = r->body.len;
    if (r->res.code == PR_HC_OK)
        c->st.ok++;
    else
        c->st.by_code[r->res.code]++;
    r->state = REQ_DONE_PENDING;
    if (notify) {
        r->dnext = NULL;
        if (c->done_tail)
            c->done_tail->dnext = r;
        else
            c->done_head = r;
        c->done_tail = r;
    }
}

/* Hand a queued request to curl, with what is left of its deadline. */
static void activate(pr_http_client_t *c, struct upstream *up, pr_http_client_req_t *r)
{
    int64_t left_ms = (r->deadline_ns - pr_time_ns()) / 1000000;
    CURLMcode mrc;

    if (left_ms <= 0) {
        set_failure(r, PR_HC_TIMEOUT, "timed out waiting in the queue");
        complete(r, 1);
        return;
    }
    queue_remove(up, r);
    c->st.queued--;
    pr_timer_stop(&r->qtimer);
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)left_ms);
    r->state = REQ_ACTIVE;
    up->in_flight++;
    if (c->st.in_flight++ == 0)
        set_weak_all(c);
    mrc = curl_multi_add_handle(c->multi, r->easy);
    if (mrc != CURLM_OK) {
        set_failure(r, PR_HC_OTHER, curl_multi_strerror(mrc));
        complete(r, 1);  /* removing a handle curl never took is harmless */
    }
}

static void list_unlink(pr_http_client_t *c, pr_http_client_req_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

/* After every event: start what the queues may start, forget idle
 * upstreams, then tell the owners of finished requests (last, so their
 * callbacks may start or free requests freely). */
static void dispatch(pr_http_client_t *c)
{
    struct upstream **pp = &c->ups;

    for (struct upstream *up = c->ups; up; up = up->next)
        while (up->qhead && up->in_flight < c->opts.max_per_host)
            activate(c, up, up->qhead);
    while (*pp) {
        struct upstream *up = *pp;
        if (up->in_flight || up->nqueued) {
            pp = &up->next;
            continue;
        }
        *pp = up->next;
        free(up);
        c->st.upstreams--;
    }
    while (c->done_head) {
        pr_http_client_req_t *r = c->done_head;
        c->done_head = r->dnext;
        if (!c->done_head)
            c->done_tail = NULL;
        r->state = REQ_DONE;
        list_unlink(c, r);
        r->cb(r, r->ud);
    }
}

static pr_hc_code_t classify(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return PR_HC_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return PR_HC_DNS;
    case CURLE_COULDNT_CONNECT:
        return PR_HC_CONNECT;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
        return PR_HC_RESET;
    case CURLE_FILESIZE_EXCEEDED:
        return PR_HC_TOO_LARGE;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return PR_HC_TLS;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return PR_HC_PROTOCOL;
    default:
        return PR_HC_OTHER;
    }
}

static void transfer_done(pr_http_client_t *c, CURL *e, CURLcode rc)
{
    pr_http_client_req_t *r = NULL;
    long conns = 0;

    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
    if (!r || r->state != REQ_ACTIVE)
        return;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->res.status);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
    r->res.new_connections = conns;
    c->st.connections += (uint64_t)conns;
    if (r->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        int hdrs = r->too_large == 2;
        snprintf(r->msg, sizeof r->msg, "response %s larger than %zu bytes",
                 hdrs ? "headers" : "body", hdrs ? c->opts.max_headers : c->opts.max_body);
        set_failure(r, PR_HC_TOO_LARGE, r->msg);
    } else if (rc != CURLE_OK) {
        set_failure(r, classify(rc), r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
    } else if (r->res.status >= 500) {
        snprintf(r->msg, sizeof r->msg, "HTTP status %ld", r->res.status);
        set_failure(r, PR_HC_HTTP_5XX, r->msg);
    } else {
        r->res.code = PR_HC_OK;
        r->res.message = "";
    }
    complete(r, 1);
}

static void collect(pr_http_client_t *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)))
        if (m->msg == CURLMSG_DONE)
            transfer_done(c, m->easy_handle, m->data.result);
}

static void on_io(pr_io_t *io, int revents, void *ud)
{
    struct sockw *s = ud;
    pr_http_client_t *c = s->c;
    int running, mask = 0;
    (void)io;
    if (revents & PR_IO_READ)
        mask |= CURL_CSELECT_IN;
    if (revents & PR_IO_WRITE)
        mask |= CURL_CSELECT_OUT;
    /* s may be freed inside (CURL_POLL_REMOVE): only c from here on. */
    curl_multi_socket_action(c->multi, s->fd, mask, &running);
    collect(c);
    dispatch(c);
}

static void on_timer(pr_timer_t *t, void *ud)
{
    pr_http_client_t *c = ud;
    int running;
    (void)t;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect(c);
    dispatch(c);
}

/* A slot freed outside a loop callback (a request freed from Lua): start
 * the next queued one from the loop, where its outcome may be reported. */
static void on_kick(pr_timer_t *t, void *ud)
{
    (void)t;
    dispatch(ud);
}

static void on_queue_deadline(pr_timer_t *t, void *ud)
{
    pr_http_client_req_t *r = ud;
    pr_http_client_t *c = r->c;
    (void)t;
    set_failure(r, PR_HC_TIMEOUT, "timed out waiting in the queue");
    complete(r, 1);
    dispatch(c);
}

/* "scheme://host:port" of url, or -1 with a message. */
static int upstream_key(const char *url, char *key, size_t keylen, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    CURLUcode uc;
    int rc = -1;

    if (!u) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (uc != CURLUE_OK) {
        snprintf(err, errlen, "bad url '%s': %s", url, curl_url_strerror(uc));
    } else if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
        snprintf(err, errlen, "bad url '%s': only http:// and https:// are supported", url);
    } else {
        for (char *p = host; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        snprintf(key, keylen, "%s://%s:%s", scheme, host, port);
        rc = 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static int valid_method(const char *m)
{
    if (!*m || strlen(m) > 32)
        return 0;
    for (; *m; m++)
        if (!isupper((unsigned char)*m) && *m != '-' && *m != '_')
            return 0;
    return 1;
}

static int setup_easy(pr_http_client_t *c, pr_http_client_req_t *r,
                      const pr_http_client_spec_t *s)
{
    const char *method = s->method ? s->method : "GET";
    CURL *e = curl_easy_init();
    CURLcode rc = CURLE_OK;

    if (!e)
        return PR_ENOMEM;
    r->easy = e;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, s->url);
    SET(CURLOPT_PRIVATE, (char *)r);
    SET(CURLOPT_ERRORBUFFER, r->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, r);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->opts.max_body);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    if (!strcmp(method, "HEAD")) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (s->body || !strcmp(method, "POST")) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(s->body ? s->body_len : 0));
        SET(CURLOPT_COPYPOSTFIELDS, s->body ? (const char *)s->body : "");
        if (strcmp(method, "POST"))
            SET(CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET")) {
        SET(CURLOPT_CUSTOMREQUEST, method);
    }
    /* No "Expect: 100-continue" round trip before a body. */
    r->hdrs = curl_slist_append(NULL, "Expect:");
    for (const char *const *h = s->headers; r->hdrs && h && *h; h++) {
        struct curl_slist *n = curl_slist_append(r->hdrs, *h);
        if (!n) {
            curl_slist_free_all(r->hdrs);
            r->hdrs = NULL;
            break;
        }
        r->hdrs = n;
    }
    if (!r->hdrs)
        return PR_ENOMEM;
    SET(CURLOPT_HTTPHEADER, r->hdrs);
#undef SET
    return rc == CURLE_OK ? 0 : (rc == CURLE_OUT_OF_MEMORY ? PR_ENOMEM : PR_EINVAL);
}

static void req_release(pr_http_client_req_t *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    free(r->body.p);
    free(r->hdr.p);
    free(r->hoff);
    free(r);
}

int pr_http_client_request(pr_http_client_t *c, const pr_http_client_spec_t *s,
                           pr_http_client_cb cb, void *ud, pr_http_client_req_t **out,
                           char *err, size_t errlen)
{
    char key[512];
    struct upstream *up;
    pr_http_client_req_t *r;
    long timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : c->opts.timeout_ms;
    int rc;

    err[0] = '\0';
    if (!s->url || !cb) {
        snprintf(err, errlen, "no url");
        return PR_EINVAL;
    }
    if (s->method && !valid_method(s->method)) {
        snprintf(err, errlen, "bad method '%s' (upper-case letters)", s->method);
        return PR_EINVAL;
    }
    if (upstream_key(s->url, key, sizeof key, err, errlen) < 0)
        return PR_EINVAL;
    for (up = c->ups; up && strcmp(up->key, key); up = up->next)
        ;
    if (up && up->in_flight >= c->opts.max_per_host && up->nqueued >= c->opts.max_queue) {
        c->st.by_code[PR_HC_QUEUE_FULL]++;
        snprintf(err, errlen, "queue full for %s (%d in flight, %d waiting)", key,
                 up->in_flight, up->nqueued);
        return PR_EFULL;
    }
    r = calloc(1, sizeof *r);
    if (!r)
        return PR_ENOMEM;
    rc = setup_easy(c, r, s);
    if (rc < 0) {
        snprintf(err, errlen, "%s", rc == PR_ENOMEM ? "out of memory" : "request options refused");
        req_release(r);
        return rc;
    }
    if (!up) {
        size_t klen = strlen(key) + 1;
        up = calloc(1, sizeof *up + klen);
        if (!up) {
            req_release(r);
            return PR_ENOMEM;
        }
        memcpy(up->key, key, klen);
        up->next = c->ups;
        c->ups = up;
        c->st.upstreams++;
    }
    r->c = c;
    r->up = up;
    r->cb = cb;
    r->ud = ud;
    r->t0_ns = pr_time_ns();
    r->deadline_ns = r->t0_ns + (int64_t)timeout_ms * 1000000;
    r->res.message = "";
    pr_timer_init(&r->qtimer, on_queue_deadline, r);
    if (up->in_flight < c->opts.max_per_host) {
        curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
        if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
            snprintf(err, errlen, "curl refused the request");
            req_release(r);
            return PR_ENOMEM;  /* the upstream, if new and idle, goes at the next dispatch */
        }
        r->state = REQ_ACTIVE;
        up->in_flight++;
        if (c->st.in_flight++ == 0)
            set_weak_all(c);
    } else {
        r->state = REQ_QUEUED;
        if (up->qtail)
            up->qtail->qnext = r;
        else
            up->qhead = r;
        up->qtail = r;
        up->nqueued++;
        c->st.queued++;
        pr_timer_start(c->loop, &r->qtimer, (double)timeout_ms / 1000.0, 0);
    }
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    c->st.requests++;
    *out = r;
    return 0;
}

void pr_http_client_req_free(pr_http_client_req_t *r)
{
    pr_http_client_t *c;

    if (!r)
        return;
    c = r->c;
    if (c && r->state == REQ_DONE_PENDING) {
        /* Finished, callback not run yet: it never will. */
        pr_http_client_req_t **pp = &c->done_head, *last = NULL;
        while (*pp && *pp != r) {
            last = *pp;
            pp = &(*pp)->dnext;
        }
        if (*pp) {
            *pp = r->dnext;
            if (c->done_tail == r)
                c->done_tail = last;
        }
        list_unlink(c, r);
    } else if (c && r->state != REQ_DONE) {
        int freed_slot = r->state == REQ_ACTIVE;
        struct upstream *up = r->up;
        set_failure(r, PR_HC_CANCELLED, "cancelled");
        complete(r, 0);
        list_unlink(c, r);
        if (freed_slot && up->qhead)
            pr_timer_start(c->loop, &c->kick, 0, 0);
    }
    req_release(r);
}

const pr_http_client_result_t *pr_http_client_req_result(const pr_http_client_req_t *r)
{
    return &r->res;
}

void pr_http_client_req_header(const pr_http_client_req_t *r, size_t i, const char **name,
                               const char **value)
{
    *name = r->hdr.p + r->hoff[i];
    *value = *name + strlen(*name) + 1;
}

void pr_http_client_stats(const pr_http_client_t *c, pr_http_client_stats_t *st)
{
    *st = c->st;
}

/* -------------------------------------------------------------- client -- */

static int global_init(void)
{
    static int done;
    if (!done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return -1;
        atexit(curl_global_cleanup);
        done = 1;
    }
    return 0;
}

int pr_http_client_create(pr_http_client_t **out, pr_loop_t *loop,
                          const pr_http_client_opts_t *opts)
{
    pr_http_client_t *c;

    if (!loop || (opts && (opts->max_per_host < 1 || opts->max_queue < 0 ||
                           opts->timeout_ms <= 0 || opts->connect_timeout_ms <= 0 ||
                           opts->max_connections < 1)))
        return PR_EINVAL;
    if (global_init() < 0)
        return PR_ENOMEM;
    c = calloc(1, sizeof *c);
    if (!c)
        return PR_ENOMEM;
    if (opts)
        c->opts = *opts;
    else
        pr_http_client_opts_default(&c->opts);
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return PR_ENOMEM;
    }
    pr_timer_init(&c->timer, on_timer, c);
    pr_timer_init(&c->kick, on_kick, c);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->opts.max_connections);
    *out = c;
    return 0;
}

void pr_http_client_destroy(pr_http_client_t *c)
{
    if (!c)
        return;
    /* Everything still going ends as cancelled; every owner hears of its
     * request (cancelled, or finished with its callback not yet run). */
    for (pr_http_client_req_t *r = c->reqs; r; r = r->next) {
        if (r->state != REQ_DONE_PENDING) {
            set_failure(r, PR_HC_CANCELLED, "cancelled: the HTTP client was closed");
            complete(r, 1);
        }
    }
    while (c->done_head) {
        pr_http_client_req_t *r = c->done_head;
        c->done_head = r->dnext;
        r->state = REQ_DONE;
        list_unlink(c, r);
        r->c = NULL;
        r->cb(r, r->ud);
    }
    curl_multi_cleanup(c->multi);  /* closes pooled connections */
    pr_timer_stop(&c->timer);
    pr_timer_stop(&c->kick);
    while (c->socks) {
        struct sockw *s = c->socks;
        c->socks = s->next;
        pr_io_stop(&s->io);
        free(s);
    }
    while (c->ups) {
        struct upstream *up = c->ups;
        c->ups = up->next;
        free(up);
    }
    free(c);
}
