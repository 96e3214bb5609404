/* log.h - leveled logging to stderr, journald-aware.
 *
 * Lines go to stderr as "TIME LEVEL source:line: message".  When stderr is
 * connected to the systemd journal (JOURNAL_STREAM names stderr's device and
 * inode), every line instead starts with a "<N>" syslog priority prefix and
 * carries no time, so journald keeps the level and stamps the time itself.
 * Each record is written with a single write(2), so lines from concurrent
 * writers do not interleave. */
#ifndef PR_LOG_H
#define PR_LOG_H

#include <stddef.h>

enum { PR_LOG_DEBUG, PR_LOG_INFO, PR_LOG_WARN, PR_LOG_ERROR };

/* Detect the journal on stderr.  Call once at start-up; idempotent. */
void pr_log_init(void);

void pr_log_set_level(int level);
int pr_log_get_level(void);
/* "debug", "info", "warn"/"warning", "error" -> level, or -1. */
int pr_log_level_parse(const char *name);
const char *pr_log_level_name(int level);
static inline int pr_log_enabled(int level) { return level >= pr_log_get_level(); }

/* Format and write one record.  src may be NULL; line <= 0 omits it.
 * Multi-line messages keep the prefix (journal) or indent (terminal) on
 * every line. */
void pr_log_write(int level, const char *src, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Write an already formatted message of len bytes. */
void pr_log_raw(int level, const char *src, int line, const char *msg, size_t len);

#define pr_log_debug(...) \
    do { if (pr_log_enabled(PR_LOG_DEBUG)) pr_log_write(PR_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__); } while (0)
#define pr_log_info(...)  pr_log_write(PR_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define pr_log_warn(...)  pr_log_write(PR_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define pr_log_error(...) pr_log_write(PR_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif
