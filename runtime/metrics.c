/* metrics.c - the metrics registry and the Prometheus text writer.
 *
 * Stored series live in one chained hash table per family, keyed by their
 * label values (length-prefixed, so any bytes are fine).  An exposition
 * collects samples into one text buffer per family, in the order families
 * first appear, and joins them at the end: that is what lets several
 * collectors add to one family (every open cache reports
 * perch_cache_hits_total) and still give one contiguous block per family,
 * as the format requires. */
#include "metrics.h"

#include "error.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- buffers -- */

typedef struct {
    char *p;
    size_t len, cap;
    int failed;
} buf_t;

static void put(buf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        char *np;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        if (!(np = realloc(b->p, ncap))) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf_t *b, const char *s) { put(b, s, strlen(s)); }

/* Label values: backslash, double quote and line feed escaped; HELP text:
 * backslash and line feed (format 0.0.4). */
static void put_escaped(buf_t *b, const char *s, int quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n"
                        : (*s == '"' && quote) ? "\\\"" : NULL;
        if (!esc)
            continue;
        put(b, run, (size_t)(s - run));
        puts_(b, esc);
        run = s + 1;
    }
    put(b, run, (size_t)(s - run));
}

/* Shortest of %.15g / %.17g that reads back as v; +Inf, -Inf, NaN. */
static void put_number(buf_t *b, double v)
{
    char tmp[40];
    if (isnan(v))
        puts_(b, "NaN");
    else if (isinf(v))
        puts_(b, v > 0 ? "+Inf" : "-Inf");
    else {
        snprintf(tmp, sizeof tmp, "%.15g", v);
        if (strtod(tmp, NULL) != v)
            snprintf(tmp, sizeof tmp, "%.17g", v);
        puts_(b, tmp);
    }
}

/* ------------------------------------------------------------ registry -- */

typedef struct series {
    struct series *next;
    uint32_t hash;
    char *key;             /* length-prefixed values, keylen bytes */
    size_t keylen;
    char **values;         /* nlabels, NUL-terminated copies */
    double value;          /* counter, gauge; histogram: sum */
    uint64_t count;        /* histogram observations */
    uint64_t *buckets;     /* histogram: nbuckets (non-cumulative) + 1 (+Inf) */
} series_t;

struct pr_metric {
    pr_metric_t *next;
    pr_metrics_t *m;
    int type;
    char *name, *help;
    int nlabels;
    char *labels[PR_METRICS_MAX_LABELS];
    int nbuckets;
    double bounds[PR_METRICS_MAX_BUCKETS];
    series_t **table;
    size_t nslots, nseries;
};

struct pr_metrics {
    pr_metric_t *families, **tail;   /* in creation order */
    pr_metrics_collector_t *collectors, *ctail;
    double dropped;                  /* series refused: PR_METRICS_MAX_SERIES */
};

int pr_metrics_create(pr_metrics_t **out)
{
    pr_metrics_t *m = calloc(1, sizeof *m);
    if (!m)
        return PR_ENOMEM;
    m->tail = &m->families;
    *out = m;
    return 0;
}

static void series_free(series_t *s, int nlabels)
{
    if (s->values)
        for (int i = 0; i < nlabels; i++)
            free(s->values[i]);
    free(s->values);
    free(s->key);
    free(s->buckets);
    free(s);
}

static void family_free(pr_metric_t *f)
{
    for (size_t i = 0; i < f->nslots; i++) {
        while (f->table[i]) {
            series_t *s = f->table[i];
            f->table[i] = s->next;
            series_free(s, f->nlabels);
        }
    }
    free(f->table);
    for (int i = 0; i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->name);
    free(f->help);
    free(f);
}

void pr_metrics_destroy(pr_metrics_t *m)
{
    if (!m)
        return;
    while (m->families) {
        pr_metric_t *f = m->families;
        m->families = f->next;
        family_free(f);
    }
    for (pr_metrics_collector_t *c = m->collectors; c; c = c->next)
        c->m = NULL;
    free(m);
}

int pr_metrics_valid_name(const char *name, int label)
{
    const char *p = name;
    if (!*p || (*p >= '0' && *p <= '9'))
        return 0;
    if (label && p[0] == '_' && p[1] == '_')
        return 0;
    for (; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (c == ':' && !label)))
            return 0;
    }
    return 1;
}

static pr_metric_t *find_family(pr_metrics_t *m, const char *name)
{
    for (pr_metric_t *f = m->families; f; f = f->next)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
}

static const char *const type_names[] = { "counter", "gauge", "histogram" };

int pr_metrics_family(pr_metrics_t *m, int type, const char *name, const char *help,
                      int nlabels, const char *const *labels, int nbuckets,
                      const double *buckets, pr_metric_t **out, char *err, size_t errlen)
{
    pr_metric_t *f;

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return PR_EINVAL; } while (0)
    if (!m || type < PR_METRIC_COUNTER || type > PR_METRIC_HISTOGRAM || !name)
        FAIL("bad arguments");
    if (!pr_metrics_valid_name(name, 0))
        FAIL("'%s' is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", name);
    if (nlabels < 0 || nlabels > PR_METRICS_MAX_LABELS)
        FAIL("%s: at most %d labels", name, PR_METRICS_MAX_LABELS);
    for (int i = 0; i < nlabels; i++) {
        if (!labels[i] || !pr_metrics_valid_name(labels[i], 1))
            FAIL("%s: '%s' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not __...)",
                 name, labels[i] ? labels[i] : "(null)");
        if (type == PR_METRIC_HISTOGRAM && !strcmp(labels[i], "le"))
            FAIL("%s: a histogram cannot have a label 'le'", name);
        for (int j = 0; j < i; j++)
            if (!strcmp(labels[i], labels[j]))
                FAIL("%s: label '%s' given twice", name, labels[i]);
    }
    if (type == PR_METRIC_HISTOGRAM) {
        if (nbuckets < 1 || nbuckets > PR_METRICS_MAX_BUCKETS)
            FAIL("%s: a histogram needs 1..%d bucket bounds", name, PR_METRICS_MAX_BUCKETS);
        for (int i = 0; i < nbuckets; i++)
            if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
                FAIL("%s: bucket bounds must be finite and strictly increasing", name);
    } else {
        nbuckets = 0;
    }

    if ((f = find_family(m, name))) {
        int same = f->type == type && f->nlabels == nlabels && f->nbuckets == nbuckets;
        for (int i = 0; same && i < nlabels; i++)
            same = !strcmp(f->labels[i], labels[i]);
        for (int i = 0; same && i < nbuckets; i++)
            same = f->bounds[i] == buckets[i];
        if (!same)
            FAIL("%s is already defined as a %s with %d label(s)%s", name, type_names[f->type],
                 f->nlabels, f->type == PR_METRIC_HISTOGRAM ? " and other buckets" : "");
        *out = f;
        return 0;
    }
#undef FAIL
    if (!(f = calloc(1, sizeof *f)))
        return PR_ENOMEM;
    f->m = m;
    f->type = type;
    f->nlabels = nlabels;
    f->nbuckets = nbuckets;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    for (int i = 0; i < nlabels; i++)
        f->labels[i] = strdup(labels[i]);
    for (int i = 0; i < nbuckets; i++)
        f->bounds[i] = buckets[i];
    f->nslots = 16;
    f->table = calloc(f->nslots, sizeof *f->table);
    if (!f->name || !f->help || !f->table) {
        family_free(f);
        return PR_ENOMEM;
    }
    for (int i = 0; i < nlabels; i++) {
        if (!f->labels[i]) {
            family_free(f);
            return PR_ENOMEM;
        }
    }
    *m->tail = f;
    m->tail = &f->next;
    *out = f;
    return 0;
}

int pr_metric_type(const pr_metric_t *f) { return f->type; }
int pr_metric_nlabels(const pr_metric_t *f) { return f->nlabels; }
const char *pr_metric_label(const pr_metric_t *f, int i) { return f->labels[i]; }
const char *pr_metric_name(const pr_metric_t *f) { return f->name; }

/* The lookup key of a set of label values: each value's length (4 bytes)
 * then its bytes. */
static size_t make_key(const pr_metric_t *f, const char *const *values, char *key, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < f->nlabels; i++) {
        const char *v = values && values[i] ? values[i] : "";
        uint32_t len = (uint32_t)strlen(v);
        if (n + 4 + len <= cap) {
            memcpy(key + n, &len, 4);
            memcpy(key + n + 4, v, len);
        }
        n += 4 + len;
    }
    return n;
}

static uint32_t fnv1a(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

static void grow(pr_metric_t *f)
{
    size_t nslots = f->nslots * 2;
    series_t **t = calloc(nslots, sizeof *t);
    if (!t)
        return;  /* longer chains, still correct */
    for (size_t i = 0; i < f->nslots; i++) {
        while (f->table[i]) {
            series_t *s = f->table[i];
            f->table[i] = s->next;
            s->next = t[s->hash & (nslots - 1)];
            t[s->hash & (nslots - 1)] = s;
        }
    }
    free(f->table);
    f->table = t;
    f->nslots = nslots;
}

/* The series for values, created if missing (create = 1).  *rc gets
 * PR_EFULL / PR_ENOMEM when it cannot be. */
static series_t *lookup(pr_metric_t *f, const char *const *values, int create, int *rc)
{
    char stack[256], *key = stack;
    size_t klen = make_key(f, values, stack, sizeof stack);
    uint32_t h;
    series_t *s;

    *rc = 0;
    if (klen > sizeof stack) {
        if (!(key = malloc(klen))) {
            *rc = PR_ENOMEM;
            return NULL;
        }
        make_key(f, values, key, klen);
    }
    h = fnv1a(key, klen);
    for (s = f->table[h & (f->nslots - 1)]; s; s = s->next)
        if (s->hash == h && s->keylen == klen && !memcmp(s->key, key, klen))
            goto out;
    if (!create)
        goto out;
    if (f->nseries >= PR_METRICS_MAX_SERIES) {
        f->m->dropped++;
        *rc = PR_EFULL;
        goto out;
    }
    if (!(s = calloc(1, sizeof *s)) || !(s->key = malloc(klen ? klen : 1)) ||
        (f->nlabels && !(s->values = calloc((size_t)f->nlabels, sizeof *s->values))) ||
        (f->type == PR_METRIC_HISTOGRAM &&
         !(s->buckets = calloc((size_t)f->nbuckets + 1, sizeof *s->buckets))))
        goto nomem;
    for (int i = 0; i < f->nlabels; i++)
        if (!(s->values[i] = strdup(values && values[i] ? values[i] : "")))
            goto nomem;
    memcpy(s->key, key, klen);
    s->keylen = klen;
    s->hash = h;
    if (f->nseries >= f->nslots)
        grow(f);
    s->next = f->table[h & (f->nslots - 1)];
    f->table[h & (f->nslots - 1)] = s;
    f->nseries++;
    goto out;
nomem:
    if (s)
        series_free(s, f->nlabels);
    s = NULL;
    *rc = PR_ENOMEM;
out:
    if (key != stack)
        free(key);
    return s;
}

int pr_metric_add(pr_metric_t *f, const char *const *values, double v)
{
    series_t *s;
    int rc;
    if (f->type == PR_METRIC_HISTOGRAM || isnan(v) || (f->type == PR_METRIC_COUNTER && v < 0))
        return PR_EINVAL;
    if (!(s = lookup(f, values, 1, &rc)))
        return rc;
    s->value += v;
    return 0;
}

int pr_metric_set(pr_metric_t *f, const char *const *values, double v)
{
    series_t *s;
    int rc;
    if (f->type != PR_METRIC_GAUGE)
        return PR_EINVAL;
    if (!(s = lookup(f, values, 1, &rc)))
        return rc;
    s->value = v;
    return 0;
}

int pr_metric_observe(pr_metric_t *f, const char *const *values, double v)
{
    series_t *s;
    int rc, i;
    if (f->type != PR_METRIC_HISTOGRAM || isnan(v))
        return PR_EINVAL;
    if (!(s = lookup(f, values, 1, &rc)))
        return rc;
    for (i = 0; i < f->nbuckets && v > f->bounds[i]; i++)
        ;
    s->buckets[i]++;
    s->count++;
    s->value += v;
    return 0;
}

double pr_metric_get(pr_metric_t *f, const char *const *values)
{
    int rc;
    series_t *s = lookup(f, values, 0, &rc);
    return s && f->type != PR_METRIC_HISTOGRAM ? s->value : 0;
}

/* ----------------------------------------------------------- collectors -- */

void pr_metrics_collector_add(pr_metrics_t *m, pr_metrics_collector_t *c,
                              pr_metrics_collect_fn fn, void *ud)
{
    c->m = m;
    c->fn = fn;
    c->ud = ud;
    c->prev = c->next = NULL;
    if (!m)
        return;
    c->prev = m->ctail;
    if (m->ctail)
        m->ctail->next = c;
    else
        m->collectors = c;
    m->ctail = c;
}

void pr_metrics_collector_remove(pr_metrics_collector_t *c)
{
    pr_metrics_t *m = c->m;
    if (!m)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        m->collectors = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        m->ctail = c->prev;
    c->prev = c->next = NULL;
    c->m = NULL;
}

/* ----------------------------------------------------------- exposition -- */

typedef struct ofam {
    char *name;
    int type;
    buf_t head;    /* HELP and TYPE */
    buf_t body;    /* samples, each line ending in \n */
} ofam_t;

struct pr_metrics_out {
    ofam_t *fams;
    size_t n, cap;
    int failed;
};

static ofam_t *out_family(pr_metrics_out_t *o, int type, const char *name, const char *help)
{
    ofam_t *f;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->fams[i].name, name))
            return &o->fams[i];
    if (o->n == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 32;
        ofam_t *nf = realloc(o->fams, ncap * sizeof *nf);
        if (!nf) {
            o->failed = 1;
            return NULL;
        }
        o->fams = nf;
        o->cap = ncap;
    }
    f = &o->fams[o->n];
    memset(f, 0, sizeof *f);
    if (!(f->name = strdup(name))) {
        o->failed = 1;
        return NULL;
    }
    o->n++;
    f->type = type;
    puts_(&f->head, "# HELP ");
    puts_(&f->head, name);
    puts_(&f->head, " ");
    put_escaped(&f->head, help ? help : "", 0);
    puts_(&f->head, "\n# TYPE ");
    puts_(&f->head, name);
    puts_(&f->head, " ");
    puts_(&f->head, type_names[type]);
    puts_(&f->head, "\n");
    return f;
}

/* name{l1="v1",...,extra="x"} value\n into b. */
static void put_sample(buf_t *b, const char *name, const char *suffix, int n,
                       const char *const *names, const char *const *values, const char *extra,
                       const char *extra_value, double v)
{
    puts_(b, name);
    puts_(b, suffix);
    if (n || extra) {
        puts_(b, "{");
        for (int i = 0; i < n; i++) {
            if (i)
                puts_(b, ",");
            puts_(b, names[i]);
            puts_(b, "=\"");
            put_escaped(b, values[i] ? values[i] : "", 1);
            puts_(b, "\"");
        }
        if (extra) {
            if (n)
                puts_(b, ",");
            puts_(b, extra);
            puts_(b, "=\"");
            puts_(b, extra_value);
            puts_(b, "\"");
        }
        puts_(b, "}");
    }
    puts_(b, " ");
    put_number(b, v);
    puts_(b, "\n");
}

void pr_metrics_emit(pr_metrics_out_t *o, int type, const char *name, const char *help,
                     int nlabels, const char *const *labels, double v)
{
    const char *names[PR_METRICS_MAX_LABELS], *values[PR_METRICS_MAX_LABELS];
    buf_t line = { 0 };
    ofam_t *f;

    if (o->failed || nlabels > PR_METRICS_MAX_LABELS || type == PR_METRIC_HISTOGRAM)
        return;
    if (!(f = out_family(o, type, name, help)))
        return;
    for (int i = 0; i < nlabels; i++) {
        names[i] = labels[2 * i];
        values[i] = labels[2 * i + 1];
    }
    put_sample(&line, name, "", nlabels, names, values, NULL, NULL, v);
    if (line.failed) {
        o->failed = 1;
        free(line.p);
        return;
    }
    /* The same series twice (two handles of one cache file): keep the
     * first.  Lines start at 0 or after a \n; compare up to the value. */
    {
        size_t keylen = (size_t)(strrchr(line.p, ' ') - line.p) + 1;
        const char *p = f->body.p;
        while (p && *p) {
            if (!strncmp(p, line.p, keylen)) {
                free(line.p);
                return;
            }
            p = strchr(p, '\n');
            p = p ? p + 1 : NULL;
        }
    }
    put(&f->body, line.p, line.len);
    free(line.p);
}

static void expose_family(pr_metrics_out_t *o, pr_metric_t *fam)
{
    ofam_t *f = out_family(o, fam->type, fam->name, fam->help);
    const char *const *names = (const char *const *)fam->labels;

    if (!f)
        return;
    for (size_t i = 0; i < fam->nslots; i++) {
        for (series_t *s = fam->table[i]; s; s = s->next) {
            const char *const *values = (const char *const *)s->values;
            if (fam->type != PR_METRIC_HISTOGRAM) {
                put_sample(&f->body, fam->name, "", fam->nlabels, names, values, NULL, NULL,
                           s->value);
                continue;
            }
            uint64_t cum = 0;
            for (int b = 0; b <= fam->nbuckets; b++) {
                buf_t le = { 0 };
                cum += s->buckets[b];
                if (b < fam->nbuckets)
                    put_number(&le, fam->bounds[b]);
                put_sample(&f->body, fam->name, "_bucket", fam->nlabels, names, values, "le",
                           b < fam->nbuckets ? (le.p ? le.p : "0") : "+Inf", (double)cum);
                free(le.p);
            }
            put_sample(&f->body, fam->name, "_sum", fam->nlabels, names, values, NULL, NULL,
                       s->value);
            put_sample(&f->body, fam->name, "_count", fam->nlabels, names, values, NULL, NULL,
                       (double)s->count);
        }
    }
}

int pr_metrics_expose(pr_metrics_t *m, char **text, size_t *len)
{
    pr_metrics_out_t o = { 0 };
    buf_t all = { 0 };

    for (pr_metric_t *f = m->families; f; f = f->next)
        expose_family(&o, f);
    for (pr_metrics_collector_t *c = m->collectors; c; c = c->next)
        c->fn(&o, c->ud);
    pr_metrics_emit(&o, PR_METRIC_COUNTER, "perch_metrics_series_dropped_total",
                    "Label sets refused because a family already had the most it may hold",
                    0, NULL, m->dropped);
    for (size_t i = 0; i < o.n; i++) {
        ofam_t *f = &o.fams[i];
        if (f->head.failed || f->body.failed)
            o.failed = 1;
        if (f->body.len) {  /* a family with no sample is left out */
            put(&all, f->head.p, f->head.len);
            put(&all, f->body.p, f->body.len);
        }
        free(f->name);
        free(f->head.p);
        free(f->body.p);
    }
    free(o.fams);
    if (o.failed || all.failed) {
        free(all.p);
        return PR_ENOMEM;
    }
    if (!all.p)
        puts_(&all, "");
    if (all.failed)
        return PR_ENOMEM;
    *text = all.p;
    *len = all.len;
    return 0;
}
