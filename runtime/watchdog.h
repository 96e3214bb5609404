/* watchdog.h - is the loop still turning?  A heartbeat timer on the loop
 * and a small thread that watches it.
 *
 * The loop stamps a heartbeat every period (a weak timer: it keeps no app
 * alive).  The watchdog thread wakes every period and compares: a
 * heartbeat older than stall_s means the loop is stuck in one callback (a
 * long C call, a blocking read, a budget of 0 and an endless loop).  The
 * thread logs that while it happens ("loop stalled: no turn for 1200 ms so
 * far"), since the loop cannot; when the loop turns again the heartbeat
 * sees the gap, counts one stall and logs its length.
 *
 * pr_watchdog_healthy() is what GET /health answers: false while a stall
 * is going on (only another thread can see that) and for hold_s after one
 * ended, so a monitor polling every few seconds sees a stall that came and
 * went between two polls. */
#ifndef PR_WATCHDOG_H
#define PR_WATCHDOG_H

#include <stdint.h>

#include "loop.h"

typedef struct pr_watchdog pr_watchdog_t;

typedef struct pr_watchdog_state {
    int healthy;              /* see pr_watchdog_healthy() */
    int stalled;              /* a stall is going on (the thread sees it) */
    double heartbeat_age_s;   /* since the last heartbeat */
    double lag_s;             /* how late the last heartbeat fired */
    uint64_t stalls;          /* stalls that ended */
    double last_stall_s;      /* length of the last one; 0 if none */
    double last_stall_ago_s;  /* since it ended; -1 if none */
    double max_stall_s;
    double stall_s, hold_s;   /* the settings */
} pr_watchdog_state_t;

/* Start the heartbeat on loop (borrowed; must outlive it) and the thread.
 * stall_s: a heartbeat this old is a stall (>= 0.01); hold_s: how long
 * after a stall health stays bad (>= 0).  Returns 0, PR_EINVAL, PR_ENOMEM
 * or a negated errno from pthread_create. */
int pr_watchdog_create(pr_watchdog_t **out, pr_loop_t *loop, double stall_s, double hold_s);
/* Stops the timer and joins the thread.  Safe with NULL. */
void pr_watchdog_destroy(pr_watchdog_t *w);

int pr_watchdog_healthy(pr_watchdog_t *w);
void pr_watchdog_state(pr_watchdog_t *w, pr_watchdog_state_t *st);

#endif
