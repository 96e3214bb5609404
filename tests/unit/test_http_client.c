/* test_http_client.c - unit tests for runtime/http_client against the test
 * upstream (tests/runtime/http_upstream.py on 127.0.0.1, started here):
 * option and URL checks, a GET with its headers and result, callbacks
 * never running inside pr_http_client_request(), FIFO order through one
 * slot, freeing an active request (no callback; the next queued one still
 * starts), queue_full, and destroying the client with requests in flight
 * and queued (each completes as cancelled; ASan checks nothing leaks).
 * alarm() is the backstop against a hang. */
#include "error.h"
#include "http_client.h"
#include "loop.h"
#include "tap.h"

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static pr_loop_t *loop;
static char base[64];

static pid_t start_upstream(void)
{
    char *argv[] = { "/usr/bin/python3", "tests/runtime/http_upstream.py", "--lifetime", "60", NULL };
    posix_spawn_file_actions_t fa;
    int fds[2];
    pid_t pid;
    char port[16] = "";
    FILE *f;

    if (pipe(fds) < 0)
        bail_out("pipe");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        bail_out("cannot start /usr/bin/python3 tests/runtime/http_upstream.py");
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (!f || !fgets(port, sizeof port, f) || !port[0])
        bail_out("the test upstream printed no port");
    fclose(f);
    port[strcspn(port, "\n")] = '\0';
    snprintf(base, sizeof base, "http://127.0.0.1:%s", port);
    return pid;
}

/* ------------------------------------------------------------ helpers -- */

#define MAXREQ 16

struct run {
    pr_http_client_t *c;
    pr_http_client_req_t *req[MAXREQ];
    int order[MAXREQ];      /* indexes in completion order */
    int ndone, want;
    int calls[MAXREQ];      /* callbacks per request */
    pr_hc_code_t code[MAXREQ];
};

static struct run R;

static void on_done(pr_http_client_req_t *req, void *ud)
{
    int i = (int)(intptr_t)ud;
    R.calls[i]++;
    R.code[i] = pr_http_client_req_result(req)->code;
    R.order[R.ndone++] = i;
    if (R.ndone == R.want)
        pr_loop_stop(loop);
}

static int submit(int i, const char *path, long timeout_ms)
{
    char url[128], err[256];
    pr_http_client_spec_t spec = { 0 };
    snprintf(url, sizeof url, "%s%s", base, path);
    spec.url = url;
    spec.timeout_ms = timeout_ms;
    return pr_http_client_request(R.c, &spec, on_done, (void *)(intptr_t)i, &R.req[i], err, sizeof err);
}

static void reset_run(pr_http_client_t *c, int want)
{
    memset(&R, 0, sizeof R);
    R.c = c;
    R.want = want;
}

static void free_all(void)
{
    for (int i = 0; i < MAXREQ; i++) {
        pr_http_client_req_free(R.req[i]);
        R.req[i] = NULL;
    }
}

static void stop_loop(pr_timer_t *t, void *ud)
{
    (void)t;
    pr_loop_stop(ud);
}

static void run_for(int ms)
{
    pr_timer_t t;
    pr_timer_init(&t, stop_loop, loop);
    pr_timer_start(loop, &t, ms / 1000.0, 0);
    pr_loop_run(loop);
    pr_timer_stop(&t);
}

/* -------------------------------------------------------------- tests -- */

static void test_checks(void)
{
    pr_http_client_opts_t o;
    pr_http_client_t *c = NULL;
    pr_http_client_req_t *req = NULL;
    pr_http_client_spec_t spec = { 0 };
    char err[256];

    pr_http_client_opts_default(&o);
    o.max_per_host = 0;
    is_int(pr_http_client_create(&c, loop, &o), PR_EINVAL, "max_per_host 0 refused");
    is_int(pr_http_client_create(&c, NULL, NULL), PR_EINVAL, "no loop refused");
    is_int(pr_http_client_create(&c, loop, NULL), 0, "create with defaults");
    spec.url = "gopher://127.0.0.1/";
    is_int(pr_http_client_request(c, &spec, on_done, NULL, &req, err, sizeof err), PR_EINVAL,
           "a non-http scheme is refused");
    ok(strstr(err, "only http:// and https://") != NULL, "... with a message: %s", err);
    spec.url = "http://";
    is_int(pr_http_client_request(c, &spec, on_done, NULL, &req, err, sizeof err), PR_EINVAL,
           "a bad url is refused");
    spec.url = base;
    spec.method = "get";
    is_int(pr_http_client_request(c, &spec, on_done, NULL, &req, err, sizeof err), PR_EINVAL,
           "a lower-case method is refused");
    ok(!strcmp(pr_http_client_code_name(PR_HC_QUEUE_FULL), "queue_full") &&
       !strcmp(pr_http_client_code_name(PR_HC_HTTP_5XX), "http_5xx"), "code names");
    pr_http_client_destroy(c);
}

static void test_get(void)
{
    pr_http_client_t *c;
    const pr_http_client_result_t *r;
    const char *name, *value;
    int found = 0;

    pr_http_client_create(&c, loop, NULL);
    reset_run(c, 1);
    is_int(submit(0, "/echo?q=1", 0), 0, "GET accepted");
    is_int(R.calls[0], 0, "the callback does not run inside pr_http_client_request");
    pr_loop_run(loop);
    is_int(R.calls[0], 1, "the callback ran once");
    r = pr_http_client_req_result(R.req[0]);
    ok(r->code == PR_HC_OK && r->status == 200, "ok, status 200 (%ld, %s)", r->status, r->message);
    ok(r->body_len == 14 && !memcmp(r->body, "GET /echo?q=1\n", 14) && r->body[14] == '\0',
       "the body, NUL-terminated");
    for (size_t i = 0; i < r->nheaders; i++) {
        pr_http_client_req_header(R.req[0], i, &name, &value);
        found += !strcmp(name, "x-multi") && (!strcmp(value, "a") || !strcmp(value, "b"));
    }
    is_int(found, 2, "repeated headers come one by one, lower-cased");
    is_int(r->new_connections, 1, "one new connection");
    free_all();
    pr_http_client_destroy(c);
}

static void test_queue(void)
{
    pr_http_client_opts_t o;
    pr_http_client_t *c;
    pr_http_client_stats_t st;

    pr_http_client_opts_default(&o);
    o.max_per_host = 1;
    o.max_queue = 3;
    pr_http_client_create(&c, loop, &o);
    reset_run(c, 2);
    /* 0 in flight, 1-3 queued, 4 refused; freeing 0 lets 1 start. */
    is_int(submit(0, "/delay?ms=2000", 0), 0, "first request in flight");
    submit(1, "/echo?1", 0);
    submit(2, "/delay?ms=30", 0);
    submit(3, "/echo?3", 0);
    is_int(submit(4, "/echo?4", 0), PR_EFULL, "the fifth is refused: queue full");
    pr_http_client_stats(c, &st);
    ok(st.in_flight == 1 && st.queued == 3 && st.by_code[PR_HC_QUEUE_FULL] == 1,
       "stats: 1 in flight, 3 queued, 1 queue_full");
    pr_http_client_req_free(R.req[0]);
    R.req[0] = NULL;
    R.want = 3;
    pr_loop_run(loop);
    is_int(R.calls[0], 0, "a freed request never calls back");
    ok(R.ndone == 3 && R.order[0] == 1 && R.order[1] == 2 && R.order[2] == 3,
       "the queue ran in FIFO order through one slot");
    pr_http_client_stats(c, &st);
    ok(st.in_flight == 0 && st.queued == 0 && st.ok == 3 && st.by_code[PR_HC_CANCELLED] == 1,
       "stats: 3 ok, 1 cancelled, nothing left");
    ok(st.connections <= 2, "connections reused (%llu opened for 4 requests)",
       (unsigned long long)st.connections);
    free_all();
    pr_http_client_destroy(c);
}

static void test_destroy(void)
{
    pr_http_client_opts_t o;
    pr_http_client_t *c;
    int cancelled = 0;

    pr_http_client_opts_default(&o);
    o.max_per_host = 2;
    pr_http_client_create(&c, loop, &o);
    reset_run(c, 100);
    for (int i = 0; i < 5; i++)
        submit(i, "/delay?ms=3000", 0);
    run_for(200);  /* the two in flight reach the upstream */
    pr_http_client_destroy(c);
    for (int i = 0; i < 5; i++)
        cancelled += R.calls[i] == 1 && R.code[i] == PR_HC_CANCELLED;
    is_int(cancelled, 5, "destroy: every request (2 in flight, 3 queued) completed as cancelled");
    ok(!strcmp(pr_http_client_req_result(R.req[0])->message, "cancelled: the HTTP client was closed"),
       "... saying why");
    free_all();  /* owners free them after the client is gone */
    ok(1, "freeing requests after the client is gone is fine");
}

int main(void)
{
    pid_t server;
    int status;

    alarm(60);
    setenv("no_proxy", "127.0.0.1", 1);  /* libcurl honours http_proxy */
    server = start_upstream();
    if (pr_loop_create(&loop) < 0)
        bail_out("no loop");
    plan(25);
    test_checks();
    test_get();
    test_queue();
    test_destroy();
    pr_loop_destroy(loop);
    kill(server, SIGTERM);
    waitpid(server, &status, 0);
    return exit_status();
}
