/* test_metrics.c - the metrics registry and its Prometheus text exposition:
 * values, histograms (cumulative buckets, _sum, _count), escaping, one
 * block per family across collectors, duplicate series, bounds, and the
 * errors for bad names and conflicting definitions.  The runtime test
 * checks a live /metrics with promtool. */
#include "tap.h"

#include "error.h"
#include "http_server.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *expose(pr_metrics_t *m)
{
    char *text = NULL;
    size_t len;
    if (pr_metrics_expose(m, &text, &len) < 0 || strlen(text) != len)
        return NULL;
    return text;
}

static int has(const char *text, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "\n%s\n", line);
    return strstr(text, buf) || (!strncmp(text, line, strlen(line)) && text[strlen(line)] == '\n');
}

static void cache_collector(pr_metrics_out_t *o, void *ud)
{
    const char *l[] = { "cache", ud };
    pr_metrics_emit(o, PR_METRIC_COUNTER, "t_cache_hits_total", "Hits", 1, l, 3);
    pr_metrics_emit(o, PR_METRIC_GAUGE, "t_cache_entries", "Entries", 1, l, 7);
}

static void other_collector(pr_metrics_out_t *o, void *ud)
{
    (void)ud;
    pr_metrics_emit(o, PR_METRIC_GAUGE, "t_other", "Other", 0, NULL, NAN);
    pr_metrics_emit(o, PR_METRIC_GAUGE, "t_inf", "Inf", 0, NULL, INFINITY);
}

int main(void)
{
    pr_metrics_t *m;
    pr_metric_t *c, *c2, *g, *h, *x;
    char err[256], *text;
    const char *const route_l[] = { "route", "status" };
    int rc;

    plan(43);

    ok(pr_metrics_create(&m) == 0, "create");
    ok(pr_metrics_family(m, PR_METRIC_COUNTER, "t_requests_total", "Requests\nby \\route", 2,
                         route_l, 0, NULL, &c, err, sizeof err) == 0, "counter family");
    ok(pr_metrics_family(m, PR_METRIC_COUNTER, "t_requests_total", "again", 2, route_l, 0,
                         NULL, &c2, err, sizeof err) == 0 && c2 == c,
       "the same definition again gives the same family");
    rc = pr_metrics_family(m, PR_METRIC_GAUGE, "t_requests_total", "", 2, route_l, 0, NULL, &x,
                           err, sizeof err);
    ok(rc == PR_EINVAL && strstr(err, "already defined as a counter"),
       "another type under the same name is refused: %s", err);
    rc = pr_metrics_family(m, PR_METRIC_COUNTER, "t_requests_total", "", 1, route_l, 0, NULL, &x,
                           err, sizeof err);
    ok(rc == PR_EINVAL, "other labels under the same name are refused");
    rc = pr_metrics_family(m, PR_METRIC_GAUGE, "2bad", "", 0, NULL, 0, NULL, &x, err, sizeof err);
    ok(rc == PR_EINVAL && strstr(err, "not a valid metric name"), "bad name: %s", err);
    {
        const char *bad[] = { "__x" };
        rc = pr_metrics_family(m, PR_METRIC_GAUGE, "t_g", "", 1, bad, 0, NULL, &x, err,
                               sizeof err);
        ok(rc == PR_EINVAL && strstr(err, "not a valid label name"), "reserved label: %s", err);
    }
    {
        const char *le[] = { "le" };
        const double b[] = { 1 };
        rc = pr_metrics_family(m, PR_METRIC_HISTOGRAM, "t_h2", "", 1, le, 1, b, &x, err,
                               sizeof err);
        ok(rc == PR_EINVAL, "a histogram label 'le' is refused");
    }
    {
        const double b[] = { 1, 1 };
        rc = pr_metrics_family(m, PR_METRIC_HISTOGRAM, "t_h3", "", 0, NULL, 2, b, &x, err,
                               sizeof err);
        ok(rc == PR_EINVAL && strstr(err, "strictly increasing"), "unsorted buckets: %s", err);
    }

    {
        const char *v1[] = { "/a", "200" }, *v2[] = { "q\"uo\\te\nnl", "500" };
        ok(pr_metric_add(c, v1, 1) == 0 && pr_metric_add(c, v1, 2) == 0, "add");
        ok(pr_metric_add(c, v2, 1) == 0, "add with a label value to escape");
        ok(pr_metric_add(c, v1, -1) == PR_EINVAL, "a counter does not go down");
        ok(pr_metric_add(c, v1, NAN) == PR_EINVAL, "NaN refused");
        ok(pr_metric_set(c, v1, 1) == PR_EINVAL, "set is for gauges");
        ok(pr_metric_get(c, v1) == 3, "get: 3");
    }
    ok(pr_metrics_family(m, PR_METRIC_GAUGE, "t_temp", "Temp", 0, NULL, 0, NULL, &g, err,
                         sizeof err) == 0, "gauge family");
    ok(pr_metric_set(g, NULL, 0.1) == 0 && pr_metric_add(g, NULL, 0.1) == 0, "set, add");
    {
        const double b[] = { 0.01, 0.1, 1 };
        const char *hl[] = { "route" }, *hv[] = { "/a" };
        ok(pr_metrics_family(m, PR_METRIC_HISTOGRAM, "t_seconds", "Latency", 1, hl, 3, b, &h,
                             err, sizeof err) == 0, "histogram family");
        pr_metric_observe(h, hv, 0.005);
        pr_metric_observe(h, hv, 0.1);   /* on a bound: that bucket (le is <=) */
        pr_metric_observe(h, hv, 0.5);
        pr_metric_observe(h, hv, 30);
        ok(pr_metric_observe(g, NULL, 1) == PR_EINVAL, "observe is for histograms");
    }

    {
        pr_metrics_collector_t a, b, o;
        pr_metrics_collector_add(m, &a, cache_collector, "/tmp/one.mdb");
        pr_metrics_collector_add(m, &o, other_collector, NULL);
        pr_metrics_collector_add(m, &b, cache_collector, "/tmp/two.mdb");
        pr_metrics_collector_t dup;
        pr_metrics_collector_add(m, &dup, cache_collector, "/tmp/one.mdb");
        text = expose(m);
        ok(text != NULL, "expose");
        if (!text)
            bail_out("no exposition");
        ok(has(text, "# HELP t_requests_total Requests\\nby \\\\route"), "HELP escaped");
        ok(has(text, "# TYPE t_requests_total counter"), "TYPE line");
        ok(has(text, "t_requests_total{route=\"/a\",status=\"200\"} 3"), "counter sample");
        ok(has(text, "t_requests_total{route=\"q\\\"uo\\\\te\\nnl\",status=\"500\"} 1"),
           "label value escaped");
        ok(has(text, "t_temp 0.2"), "gauge value in its shortest exact form: 0.2");
        ok(has(text, "t_seconds_bucket{route=\"/a\",le=\"0.01\"} 1") &&
           has(text, "t_seconds_bucket{route=\"/a\",le=\"0.1\"} 2") &&
           has(text, "t_seconds_bucket{route=\"/a\",le=\"1\"} 3") &&
           has(text, "t_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4"), "cumulative buckets");
        ok(has(text, "t_seconds_sum{route=\"/a\"} 30.605") &&
           has(text, "t_seconds_count{route=\"/a\"} 4"), "_sum and _count");
        ok(has(text, "# TYPE t_seconds histogram"), "histogram TYPE");
        {
            /* Both caches' samples sit in one block under one TYPE line. */
            const char *t1 = strstr(text, "# TYPE t_cache_hits_total counter");
            const char *one = strstr(text, "t_cache_hits_total{cache=\"/tmp/one.mdb\"} 3");
            const char *two = strstr(text, "t_cache_hits_total{cache=\"/tmp/two.mdb\"} 3");
            const char *other = strstr(text, "# TYPE t_other");
            const char *entries = strstr(text, "# TYPE t_cache_entries");
            ok(t1 && one && two && t1 < one && one < two, "collectors' samples grouped");
            ok(!strstr(t1 + 1, "# TYPE t_cache_hits_total"), "one TYPE line per family");
            ok(other && entries && (two < entries || two < other),
               "no other family inside the block");
            ok(strstr(one + 1, "t_cache_hits_total{cache=\"/tmp/one.mdb\"}") == NULL,
               "a duplicate series is dropped");
        }
        ok(has(text, "t_other NaN") && has(text, "t_inf +Inf"), "NaN and +Inf spelled out");
        ok(has(text, "perch_metrics_series_dropped_total 0"), "dropped count exported");
        free(text);
        pr_metrics_collector_remove(&b);
        pr_metrics_collector_remove(&b);  /* idempotent */
        pr_metrics_collector_remove(&a);
        pr_metrics_collector_remove(&dup);
        pr_metrics_collector_remove(&o);
        text = expose(m);
        ok(text && !strstr(text, "t_cache"), "removed collectors are gone");
        free(text);
    }

    /* Bounded: PR_METRICS_MAX_SERIES label sets, then refused and counted. */
    {
        const char *l[] = { "k" };
        char v[32];
        const char *vv[] = { v };
        int full = 0, okc = 0;
        pr_metrics_family(m, PR_METRIC_COUNTER, "t_many_total", "", 1, l, 0, NULL, &x, err,
                          sizeof err);
        for (int i = 0; i < PR_METRICS_MAX_SERIES + 10; i++) {
            snprintf(v, sizeof v, "%d", i);
            rc = pr_metric_add(x, vv, 1);
            okc += rc == 0;
            full += rc == PR_EFULL;
        }
        ok(okc == PR_METRICS_MAX_SERIES && full == 10, "series capped at %d (%d refused)",
           PR_METRICS_MAX_SERIES, full);
        snprintf(v, sizeof v, "%d", 5);
        ok(pr_metric_add(x, vv, 1) == 0 && pr_metric_get(x, vv) == 2,
           "existing series still count");
        text = expose(m);
        ok(text && has(text, "perch_metrics_series_dropped_total 10"), "refusals counted");
        free(text);
    }
    pr_metrics_collector_add(NULL, &(pr_metrics_collector_t){ 0 }, other_collector, NULL);
    ok(1, "a collector on no registry is a no-op");
    pr_metrics_destroy(m);
    pr_metrics_destroy(NULL);

    /* Listen addresses. */
    {
        struct sockaddr_storage ss;
        unsigned len;
        ok(pr_http_parse_listen("127.0.0.1:8080", &ss, &len) == 0 && ss.ss_family == AF_INET &&
           ntohs(((struct sockaddr_in *)&ss)->sin_port) == 8080, "IPv4:port");
        ok(pr_http_parse_listen("[::1]:0", &ss, &len) == 0 && ss.ss_family == AF_INET6,
           "[IPv6]:port");
        ok(pr_http_parse_listen("localhost:9", &ss, &len) == 0 &&
           ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
           "localhost is 127.0.0.1");
        ok(pr_http_parse_listen("127.0.0.1", &ss, &len) < 0 &&
           pr_http_parse_listen("127.0.0.1:70000", &ss, &len) < 0 &&
           pr_http_parse_listen("::1:80", &ss, &len) < 0 &&
           pr_http_parse_listen("example.org:80", &ss, &len) < 0 &&
           pr_http_parse_listen("1.2.3.4:-1", &ss, &len) < 0 &&
           pr_http_parse_listen("[::1]80", &ss, &len) < 0, "bad addresses refused");
    }
    return exit_status();
}
