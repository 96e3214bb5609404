/* log.c - formats log records and writes each with one write(2). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int log_level = PR_LOG_INFO;
static int log_journal;          /* stderr is the journal: "<N>" prefixes */
static int log_inited;

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };
static const int syslog_prio[] = { 7, 6, 4, 3 };  /* debug info warning err */

void pr_log_init(void)
{
    const char *js;
    unsigned long long dev, ino;
    struct stat st;

    if (log_inited)
        return;
    log_inited = 1;
    /* systemd sets JOURNAL_STREAM=dev:ino for the stream it connected; it is
     * only ours if stderr is still that very file (a child may inherit the
     * variable with stderr redirected elsewhere). */
    js = getenv("JOURNAL_STREAM");
    if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
        fstat(STDERR_FILENO, &st) == 0 &&
        (unsigned long long)st.st_dev == dev &&
        (unsigned long long)st.st_ino == ino)
        log_journal = 1;
}

void pr_log_set_level(int level)
{
    if (level >= PR_LOG_DEBUG && level <= PR_LOG_ERROR)
        log_level = level;
}

int pr_log_get_level(void) { return log_level; }

int pr_log_level_parse(const char *name)
{
    if (!strcmp(name, "debug")) return PR_LOG_DEBUG;
    if (!strcmp(name, "info")) return PR_LOG_INFO;
    if (!strcmp(name, "warn") || !strcmp(name, "warning")) return PR_LOG_WARN;
    if (!strcmp(name, "error")) return PR_LOG_ERROR;
    return -1;
}

const char *pr_log_level_name(int level)
{
    return level >= PR_LOG_DEBUG && level <= PR_LOG_ERROR ? level_names[level] : "?";
}

/* Growable output buffer: a stack buffer first, the heap for long records
 * (tracebacks).  If the heap fails the record is truncated, never lost. */
typedef struct {
    char *p;
    size_t len, cap;
    int heap;
} outbuf_t;

static void out_put(outbuf_t *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t ncap = (b->len + n) * 2;
        char *np = b->heap ? realloc(b->p, ncap) : malloc(ncap);
        if (!np) {
            n = b->cap - b->len;  /* truncate */
        } else {
            if (!b->heap)
                memcpy(np, b->p, b->len);
            b->p = np;
            b->cap = ncap;
            b->heap = 1;
        }
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void out_prefix(outbuf_t *b, int level, const char *src, int line, int first)
{
    char pre[160];
    int n;

    if (log_journal) {
        n = snprintf(pre, sizeof pre, "<%d>", syslog_prio[level]);
        out_put(b, pre, (size_t)n);
        if (!first) {
            out_put(b, "    ", 4);
            return;
        }
    } else {
        if (!first) {
            out_put(b, "    ", 4);
            return;
        }
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        n = (int)strftime(pre, sizeof pre, "%Y-%m-%d %H:%M:%S", &tm);
        n += snprintf(pre + n, sizeof pre - (size_t)n, ".%03ld ", ts.tv_nsec / 1000000);
        out_put(b, pre, (size_t)n);
    }
    n = snprintf(pre, sizeof pre, "%-5s ", level_names[level]);
    out_put(b, pre, (size_t)n);
    if (src) {
        n = line > 0 ? snprintf(pre, sizeof pre, "%s:%d: ", src, line)
                     : snprintf(pre, sizeof pre, "%s: ", src);
        if (n >= (int)sizeof pre)
            n = (int)sizeof pre - 1;
        out_put(b, pre, (size_t)n);
    }
}

void pr_log_raw(int level, const char *src, int line, const char *msg, size_t len)
{
    char stackbuf[1024];
    outbuf_t b = { stackbuf, 0, sizeof stackbuf, 0 };
    const char *p = msg, *end = msg + len;
    int first = 1;

    if (level < PR_LOG_DEBUG || level > PR_LOG_ERROR)
        level = PR_LOG_ERROR;
    if (level < log_level)
        return;
    while (len > 0 && msg[len - 1] == '\n')
        end = msg + --len;
    do {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        out_prefix(&b, level, src, line, first);
        out_put(&b, p, (size_t)(stop - p));
        out_put(&b, "\n", 1);
        first = 0;
        p = nl ? nl + 1 : end;
    } while (p < end);

    /* One write per record; retry on short writes and EINTR only. */
    for (size_t off = 0; off < b.len;) {
        ssize_t w = write(STDERR_FILENO, b.p + off, b.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        off += (size_t)w;
    }
    if (b.heap)
        free(b.p);
}

void pr_log_write(int level, const char *src, int line, const char *fmt, ...)
{
    char stackbuf[1024];
    char *msg = stackbuf;
    va_list ap;
    int n;

    if (level < log_level)
        return;
    va_start(ap, fmt);
    n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof stackbuf) {
        char *big = malloc((size_t)n + 1);
        if (big) {
            va_start(ap, fmt);
            vsnprintf(big, (size_t)n + 1, fmt, ap);
            va_end(ap);
            msg = big;
        } else {
            n = sizeof stackbuf - 1;
        }
    }
    pr_log_raw(level, src, line, msg, (size_t)n);
    if (msg != stackbuf)
        free(msg);
}
