/* metrics.h - a small metrics registry and its Prometheus text exposition
 * (format 0.0.4), for GET /metrics.
 *
 * Two kinds of figures reach an exposition:
 *   - stored families (counters, gauges, histograms with labels) that code
 *     updates as things happen: the HTTP server's requests, the ones a
 *     script defines with perch.metrics;
 *   - collectors: callbacks that emit samples of values kept elsewhere
 *     (host stats, reload counters, cache stats ...) when an exposition is
 *     written.  Modules add one while the thing they report exists.
 * The exposition groups every sample of a family together under one HELP
 * and one TYPE line, whoever emitted it, and drops a second sample with
 * the same name and labels (two collectors reporting one shared thing).
 *
 * Bounded: a stored family holds at most PR_METRICS_MAX_SERIES label sets;
 * further ones are refused (PR_EFULL) and counted in
 * perch_metrics_series_dropped_total.
 *
 * Ownership: the registry owns its families (they live as long as it does,
 * so a handle from pr_metrics_family() stays valid across app versions);
 * collectors are embedded in the caller's structs, like loop watchers.
 * Not thread-safe: the loop thread does everything. */
#ifndef PR_METRICS_H
#define PR_METRICS_H

#include <stddef.h>

typedef struct pr_metrics pr_metrics_t;
typedef struct pr_metric pr_metric_t;           /* a stored family */
typedef struct pr_metrics_out pr_metrics_out_t; /* an exposition being written */

enum { PR_METRIC_COUNTER, PR_METRIC_GAUGE, PR_METRIC_HISTOGRAM };

#define PR_METRICS_MAX_LABELS  8
#define PR_METRICS_MAX_BUCKETS 32
#define PR_METRICS_MAX_SERIES  2000

int pr_metrics_create(pr_metrics_t **out);
/* Frees every family.  Collectors still added are forgotten.  NULL ok. */
void pr_metrics_destroy(pr_metrics_t *m);

/* 1 if name is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), label 1 for
 * a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"). */
int pr_metrics_valid_name(const char *name, int label);

/* Get or create a stored family.  A family of that name already there is
 * returned if it has the same type, label names and buckets (a reloaded
 * app defining its counters again goes on counting); otherwise PR_EINVAL
 * with the difference in err.  buckets: upper bounds, strictly increasing,
 * finite (+Inf is implied); histograms only.  Returns 0, PR_EINVAL or
 * PR_ENOMEM. */
int pr_metrics_family(pr_metrics_t *m, int type, const char *name, const char *help,
                      int nlabels, const char *const *labels, int nbuckets,
                      const double *buckets, pr_metric_t **out, char *err, size_t errlen);
int pr_metric_type(const pr_metric_t *f);
int pr_metric_nlabels(const pr_metric_t *f);
const char *pr_metric_label(const pr_metric_t *f, int i);
const char *pr_metric_name(const pr_metric_t *f);

/* Update the series with these label values (one per label name, in
 * order; NULL counts as "").  add: counters (v >= 0) and gauges; set:
 * gauges; observe: histograms.  Returns 0, PR_EINVAL (wrong kind of family,
 * a negative or NaN counter increment), PR_EFULL (too many series) or
 * PR_ENOMEM. */
int pr_metric_add(pr_metric_t *f, const char *const *values, double v);
int pr_metric_set(pr_metric_t *f, const char *const *values, double v);
int pr_metric_observe(pr_metric_t *f, const char *const *values, double v);
/* Current value of a counter or gauge series (0 if none), for tests. */
double pr_metric_get(pr_metric_t *f, const char *const *values);

/* ------------------------------------------------------------- collectors */

typedef void (*pr_metrics_collect_fn)(pr_metrics_out_t *o, void *ud);

typedef struct pr_metrics_collector pr_metrics_collector_t;
struct pr_metrics_collector {
    /* private: */
    pr_metrics_collector_t *prev, *next;
    pr_metrics_t *m;
    pr_metrics_collect_fn fn;
    void *ud;
};

/* Call fn at every exposition until removed.  m may be NULL (nothing
 * happens; removing is then a no-op too). */
void pr_metrics_collector_add(pr_metrics_t *m, pr_metrics_collector_t *c,
                              pr_metrics_collect_fn fn, void *ud);
/* Idempotent. */
void pr_metrics_collector_remove(pr_metrics_collector_t *c);

/* From a collector: one sample of family `name` (counters: the name ends
 * in _total, as the exposition writes it).  labels: nlabels name/value
 * pairs, {"cache", "/var/cache.mdb", ...}.  Memory errors drop the sample
 * and make the exposition fail. */
void pr_metrics_emit(pr_metrics_out_t *o, int type, const char *name, const char *help,
                     int nlabels, const char *const *labels, double v);

/* Write the exposition of everything: stored families, then collectors in
 * the order they were added.  *text is malloc'd (the caller frees it),
 * NUL-terminated.  Returns 0 or PR_ENOMEM. */
int pr_metrics_expose(pr_metrics_t *m, char **text, size_t *len);

#endif
