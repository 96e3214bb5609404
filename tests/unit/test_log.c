/* test_log.c - unit tests for runtime/log: level names, filtering, the
 * terminal record format ("TIME LEVEL file:line: message", continuation
 * lines indented), long records written whole, and the journald mode
 * ("<N>" syslog prefixes on every line) chosen by JOURNAL_STREAM.
 *
 * stderr is captured by dup2()ing a temporary file onto it.  pr_log_init()
 * decides the mode once per process: the terminal format is tested before
 * it is ever called, mismatching JOURNAL_STREAM values in forked children,
 * (this executable started again with --journal-child MODE, through
 * $PERCH_RUNNER under emulation, where fork() is unreliable), and the
 * journal mode last, in this process. */
#include "log.h"
#include "tap.h"

#include <fcntl.h>
#include <regex.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------- capture -- */

static int cap_saved = -1, cap_fd = -1;

static void cap_begin(void)
{
    char path[] = "/tmp/perch-test-log-XXXXXX";

    fflush(stderr);
    cap_fd = mkstemp(path);
    if (cap_fd < 0)
        bail_out("mkstemp");
    unlink(path);
    cap_saved = dup(STDERR_FILENO);
    if (cap_saved < 0 || dup2(cap_fd, STDERR_FILENO) < 0)
        bail_out("dup2");
}

/* The captured text (malloc'd, NUL-terminated); stderr restored. */
static char *cap_end(size_t *lenp)
{
    off_t len;
    char *buf;

    fflush(stderr);
    dup2(cap_saved, STDERR_FILENO);
    close(cap_saved);
    len = lseek(cap_fd, 0, SEEK_END);
    buf = malloc((size_t)len + 1);
    if (!buf || pread(cap_fd, buf, (size_t)len, 0) != len)
        bail_out("reading the captured log");
    buf[len] = 0;
    close(cap_fd);
    if (lenp)
        *lenp = (size_t)len;
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Whole-text match of an extended regex, ^ and $ at line boundaries. */
static int matches(const char *text, const char *re)
{
    regex_t rx;
    int rc;

    if (regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0)
        bail_out("bad regex in test");
    rc = regexec(&rx, text, 0, NULL, 0);
    regfree(&rx);
    return rc == 0;
}

/* Copy s into out with regex metacharacters escaped. */
static void re_escape(const char *s, char *out, size_t n)
{
    size_t j = 0;
    for (; *s && j + 3 < n; s++) {
        if (strchr(".[]()*+?{}|^$\\", *s))
            out[j++] = '\\';
        out[j++] = *s;
    }
    out[j] = 0;
}

#define TS "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "

/* --------------------------------------------------------------- names -- */

static void test_names(void)
{
    static const char *const bad[] = { "", "bogus", "warnx", "errors", "inf", "debug " };
    int rejected = 0;

    is_int(pr_log_level_parse("debug"), PR_LOG_DEBUG, "parse debug");
    is_int(pr_log_level_parse("info"), PR_LOG_INFO, "parse info");
    is_int(pr_log_level_parse("warn"), PR_LOG_WARN, "parse warn");
    is_int(pr_log_level_parse("warning"), PR_LOG_WARN, "parse warning");
    is_int(pr_log_level_parse("error"), PR_LOG_ERROR, "parse error");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        rejected += pr_log_level_parse(bad[i]) == -1;
    is_int(rejected, 6, "unknown names parse to -1");

    ok(!strcmp(pr_log_level_name(PR_LOG_DEBUG), "DEBUG") &&
       !strcmp(pr_log_level_name(PR_LOG_INFO), "INFO") &&
       !strcmp(pr_log_level_name(PR_LOG_WARN), "WARN") &&
       !strcmp(pr_log_level_name(PR_LOG_ERROR), "ERROR"), "level names");
    ok(!strcmp(pr_log_level_name(-1), "?") && !strcmp(pr_log_level_name(4), "?"),
       "out-of-range level name is '?'");

    is_int(pr_log_get_level(), PR_LOG_INFO, "default level is info");
    pr_log_set_level(PR_LOG_ERROR);
    is_int(pr_log_get_level(), PR_LOG_ERROR, "set_level error");
    pr_log_set_level(99);
    pr_log_set_level(-1);
    is_int(pr_log_get_level(), PR_LOG_ERROR, "out-of-range levels are ignored");
    ok(pr_log_enabled(PR_LOG_ERROR) && !pr_log_enabled(PR_LOG_WARN), "pr_log_enabled follows it");
    pr_log_set_level(PR_LOG_INFO);
}

/* ----------------------------------------------------------- filtering -- */

static void test_filter(void)
{
    char *out;
    int lines;

    pr_log_set_level(PR_LOG_WARN);
    cap_begin();
    pr_log_write(PR_LOG_DEBUG, "f.c", 1, "w-debug");
    pr_log_write(PR_LOG_INFO, "f.c", 1, "w-info");
    pr_log_write(PR_LOG_WARN, "f.c", 1, "w-warn");
    pr_log_write(PR_LOG_ERROR, "f.c", 1, "w-error");
    pr_log_raw(PR_LOG_DEBUG, "f.c", 1, "r-debug", 7);
    pr_log_raw(PR_LOG_INFO, "f.c", 1, "r-info", 6);
    pr_log_raw(PR_LOG_WARN, "f.c", 1, "r-warn", 6);
    pr_log_raw(PR_LOG_ERROR, "f.c", 1, "r-error", 7);
    pr_log_debug("m-debug");
    pr_log_info("m-info");
    pr_log_warn("m-warn");
    pr_log_error("m-error");
    out = cap_end(NULL);
    ok(!strstr(out, "w-debug") && !strstr(out, "w-info") && !strstr(out, "r-debug") &&
       !strstr(out, "r-info") && !strstr(out, "m-debug") && !strstr(out, "m-info"),
       "level warn: debug and info records are dropped");
    ok(strstr(out, "w-warn") && strstr(out, "w-error") && strstr(out, "r-warn") &&
       strstr(out, "r-error") && strstr(out, "m-warn") && strstr(out, "m-error"),
       "warn and error records are written (pr_log_write, pr_log_raw, macros)");
    lines = count_lines(out);
    is_int(lines, 6, "one line per record written");
    free(out);

    pr_log_set_level(PR_LOG_DEBUG);
    cap_begin();
    pr_log_debug("d1");
    pr_log_info("d2");
    pr_log_warn("d3");
    pr_log_error("d4");
    out = cap_end(NULL);
    ok(strstr(out, "d1") && strstr(out, "d2") && strstr(out, "d3") && strstr(out, "d4"),
       "level debug: all four written");
    free(out);

    pr_log_set_level(PR_LOG_ERROR);
    cap_begin();
    pr_log_warn("e1");
    pr_log_error("e2");
    out = cap_end(NULL);
    ok(!strstr(out, "e1") && strstr(out, "e2"), "level error: only errors");
    free(out);
    pr_log_set_level(PR_LOG_INFO);
}

/* -------------------------------------------------------------- format -- */

static void test_format(void)
{
    char *out, re[512], file_re[256], longsrc[301];
    int line;

    cap_begin();
    pr_log_write(PR_LOG_WARN, "src/foo.c", 42, "hello %d %s", 7, "world");
    out = cap_end(NULL);
    ok(matches(out, "^" TS "WARN  src/foo\\.c:42: hello 7 world\n$"),
       "'TIME WARN  file:line: message' and one newline");
    if (!matches(out, "^" TS "WARN  src/foo\\.c:42: hello 7 world\n$"))
        diag("  got: %s", out);
    free(out);

    cap_begin();
    pr_log_write(PR_LOG_INFO, "src/foo.c", 0, "no line");
    pr_log_write(PR_LOG_ERROR, NULL, 12, "no source");
    pr_log_raw(PR_LOG_INFO, "raw.c", 3, "raw message\n", 12);
    pr_log_write(PR_LOG_INFO, "t.c", 1, "trailing newlines\n\n");
    pr_log_write(PR_LOG_INFO, "t.c", 2, "%s", "");
    out = cap_end(NULL);
    ok(matches(out, "^" TS "INFO  src/foo\\.c: no line$"), "line 0: 'file: message'");
    ok(matches(out, "^" TS "ERROR no source$"), "NULL source: 'LEVEL message'");
    ok(matches(out, "^" TS "INFO  raw\\.c:3: raw message$"), "pr_log_raw, its newline not doubled");
    ok(matches(out, "^" TS "INFO  t\\.c:1: trailing newlines$"), "trailing newlines dropped");
    ok(matches(out, "^" TS "INFO  t\\.c:2: $"), "an empty message still makes a record");
    is_int(count_lines(out), 5, "5 records, 5 lines");
    free(out);

    cap_begin();
    line = __LINE__ + 1;
    pr_log_error("from the macro");
    out = cap_end(NULL);
    re_escape(__FILE__, file_re, sizeof file_re);
    snprintf(re, sizeof re, "^" TS "ERROR %s:%d: from the macro\n$", file_re, line);
    ok(matches(out, re), "the macros record __FILE__:__LINE__ (%s:%d)", __FILE__, line);
    free(out);

    /* A source name longer than the prefix buffer is cut, not overflowed. */
    memset(longsrc, 'a', 300);
    longsrc[300] = 0;
    cap_begin();
    pr_log_write(PR_LOG_WARN, longsrc, 1, "after a long source");
    out = cap_end(NULL);
    ok(strstr(out, "aaaaaaaaaa") && strstr(out, "after a long source") && count_lines(out) == 1,
       "a 300-character source name is cut and the message kept");
    free(out);
}

static void test_multiline(void)
{
    char *out;

    cap_begin();
    pr_log_write(PR_LOG_ERROR, "m.c", 9, "first\nsecond\n\nfourth\n");
    out = cap_end(NULL);
    is_int(count_lines(out), 4, "4 lines (trailing newline dropped, blank line kept)");
    ok(matches(out, "^" TS "ERROR m\\.c:9: first\n    second\n    \n    fourth\n$"),
       "first line has the full prefix, every continuation line is indented");
    ok(!matches(out, "\n" "[0-9]{4}-"), "continuation lines carry no time stamp");
    free(out);
}

static void test_long(void)
{
    size_t n = 100 * 1000, len;
    char *big = malloc(n + 1), *out, *multi;
    size_t mlen = 0;
    int all = 1;

    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = 0;
    cap_begin();
    pr_log_write(PR_LOG_WARN, "long.c", 1, "%s", big);
    out = cap_end(&len);
    ok(strstr(out, big) != NULL, "a 100 KB message is written whole");
    ok(len > n && len < n + 100 && out[len - 1] == '\n' && count_lines(out) == 1,
       "as one record of %zu bytes", len);
    free(out);

    cap_begin();
    pr_log_raw(PR_LOG_INFO, "long.c", 2, big, n);
    out = cap_end(&len);
    ok(strstr(out, big) != NULL && count_lines(out) == 1, "pr_log_raw: 100 KB written whole");
    free(out);

    /* 1000 lines of 100 characters: every one kept and indented. */
    multi = malloc(1000 * 101 + 1);
    for (int i = 0; i < 1000; i++)
        mlen += (size_t)sprintf(multi + mlen, "%04d%.96s\n", i, big);
    cap_begin();
    pr_log_raw(PR_LOG_INFO, "long.c", 3, multi, mlen);
    out = cap_end(&len);
    is_int(count_lines(out), 1000, "a 100 KB message of 1000 lines gives 1000 lines");
    for (int i = 1; i < 1000 && all; i++) {
        char want[128];
        snprintf(want, sizeof want, "\n    %04d%.96s\n", i, big);
        all = strstr(out, want) != NULL;
    }
    ok(all, "each continuation line is there, indented and whole");
    free(out);
    free(multi);
    free(big);
}

/* -------------------------------------------------------------- journal */

/* In a child: capture stderr, set JOURNAL_STREAM with `how`, init, log one
 * info record; exit 0 if it is in terminal format (no "<N>" prefix), or for
 * JS_MATCH (the control) in journal format. */
enum { JS_OTHER_FILE, JS_WRONG_INO, JS_GARBAGE, JS_EMPTY, JS_UNSET, JS_MATCH };

static int mismatch_child(int how)
{
    struct stat st;
    char js[64], other[] = "/tmp/perch-test-log-other-XXXXXX";
    int ofd = mkstemp(other), null = open("/dev/null", O_WRONLY), good;
    char *out;

    dup2(null, STDOUT_FILENO);  /* stdout is the parent's TAP stream */
    cap_begin();
    fstat(STDERR_FILENO, &st);
    switch (how) {
    case JS_OTHER_FILE: {
        struct stat ost;
        fstat(ofd, &ost);
        snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)ost.st_dev,
                 (unsigned long long)ost.st_ino);
        break;
    }
    case JS_WRONG_INO:
        snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino + 1);
        break;
    case JS_GARBAGE:
        snprintf(js, sizeof js, "journal");
        break;
    case JS_MATCH:
        snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
                 (unsigned long long)st.st_ino);
        break;
    default:
        js[0] = 0;
    }
    if (how == JS_UNSET)
        unsetenv("JOURNAL_STREAM");
    else
        setenv("JOURNAL_STREAM", js, 1);
    pr_log_init();
    pr_log_write(PR_LOG_INFO, "c.c", 1, "child record");
    out = cap_end(NULL);
    if (how == JS_MATCH)
        good = !strcmp(out, "<6>INFO  c.c:1: child record\n");
    else
        good = matches(out, "^" TS "INFO  c\\.c:1: child record\n$") && !strchr(out, '<');
    free(out);
    close(ofd);
    unlink(other);
    return good ? 0 : 1;
}

/* Start this executable again with two arguments, through $PERCH_RUNNER
 * (for example "qemu-aarch64 -L /usr/aarch64-linux-gnu") when set, and
 * wait for it.  Returns its exit status, 127 if it could not start. */
extern char **environ;
static const char *self_path;

static int run_self(const char *a1, const char *a2)
{
    char runner[256], *args[16], *save = NULL;
    const char *r = getenv("PERCH_RUNNER");
    int n = 0, ws;
    pid_t pid;

    if (r && *r) {
        snprintf(runner, sizeof runner, "%s", r);
        for (char *w = strtok_r(runner, " ", &save); w && n < 12; w = strtok_r(NULL, " ", &save))
            args[n++] = w;
        args[n++] = (char *)self_path;
    } else {
        args[n++] = (char *)"/proc/self/exe";
    }
    args[n++] = (char *)a1;
    args[n++] = (char *)a2;
    args[n] = NULL;
    fflush(stdout);
    if (posix_spawnp(&pid, args[0], NULL, NULL, args, environ) != 0)
        return 127;
    if (waitpid(pid, &ws, 0) != pid)
        return 127;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static void mismatch(int how, const char *name)
{
    char arg[16];
    int st;

    snprintf(arg, sizeof arg, "%d", how);
    st = run_self("--journal-child", arg);
    if (st == 127)
        ok(1, "# SKIP %s: cannot start a child (set PERCH_RUNNER under emulation)", name);
    else
        is_int(st, 0, name);
}

static void test_journal_mismatch(void)
{
    mismatch(JS_OTHER_FILE, "JOURNAL_STREAM naming another file: terminal format");
    mismatch(JS_WRONG_INO, "JOURNAL_STREAM with stderr's device, other inode: terminal format");
    mismatch(JS_GARBAGE, "JOURNAL_STREAM that does not parse: terminal format");
    mismatch(JS_EMPTY, "empty JOURNAL_STREAM: terminal format");
    mismatch(JS_UNSET, "no JOURNAL_STREAM: terminal format");
    mismatch(JS_MATCH, "control: a child whose JOURNAL_STREAM matches uses the journal format");
}

static void test_journal(void)
{
    struct stat st;
    char js[64], *out;

    cap_begin();
    if (fstat(STDERR_FILENO, &st) != 0)
        bail_out("fstat");
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    pr_log_init();
    pr_log_set_level(PR_LOG_DEBUG);
    pr_log_write(PR_LOG_INFO, "j.c", 1, "info record");
    pr_log_write(PR_LOG_WARN, "j.c", 2, "warn record");
    pr_log_write(PR_LOG_ERROR, "j.c", 3, "error record");
    pr_log_write(PR_LOG_DEBUG, "j.c", 4, "debug record");
    pr_log_write(PR_LOG_WARN, "j.c", 5, "line one\nline two\nline three");
    pr_log_raw(PR_LOG_ERROR, NULL, 0, "raw\nrecord", 10);
    out = cap_end(NULL);
    ok(matches(out, "^<6>INFO  j\\.c:1: info record$"), "info: '<6>INFO  file:line: message'");
    ok(matches(out, "^<4>WARN  j\\.c:2: warn record$"), "warn: '<4>'");
    ok(matches(out, "^<3>ERROR j\\.c:3: error record$"), "error: '<3>'");
    ok(matches(out, "^<7>DEBUG j\\.c:4: debug record$"), "debug: '<7>'");
    ok(matches(out, "^<4>WARN  j\\.c:5: line one\n<4>    line two\n<4>    line three$"),
       "continuation lines carry the prefix too");
    ok(matches(out, "^<3>ERROR raw\n<3>    record$"), "pr_log_raw without a source");
    ok(!matches(out, "[0-9]{2}:[0-9]{2}:[0-9]{2}\\."), "no time stamps (journald adds them)");
    ok(!matches(out, "^[^<]"), "every line starts with a prefix");
    is_int(count_lines(out), 9, "9 lines");
    free(out);

    /* The decision is made once: a second init, or stderr moving, keeps it. */
    cap_begin();
    pr_log_init();
    pr_log_write(PR_LOG_INFO, "j.c", 9, "still journal");
    out = cap_end(NULL);
    ok(matches(out, "^<6>INFO  j\\.c:9: still journal\n$"), "pr_log_init is idempotent");
    free(out);
    pr_log_set_level(PR_LOG_INFO);
    unsetenv("JOURNAL_STREAM");
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 3 && !strcmp(argv[1], "--journal-child"))
        return mismatch_child(atoi(argv[2]));
    alarm(300);
    unsetenv("JOURNAL_STREAM");
    /* No pr_log_init() yet: terminal format. */
    test_names();
    test_filter();
    test_format();
    test_multiline();
    test_long();
    test_journal_mismatch();
    test_journal();
    return exit_status();
}
