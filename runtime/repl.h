/* repl.h - the live REPL: a unix socket on the perch loop through which
 * `perch repl` evaluates Lua inside a running app.
 *
 * The server (repl.c) accepts connections on a unix stream socket and runs
 * each request in the app's Lua state from a loop callback, through the host
 * (pr_host_pcallx): same instruction budget and memory ceiling as callbacks,
 * and a poll of the client's socket from the count hook, so an interrupt
 * message stops `while true do end` even with the budget off.  The Lua side
 * (sessions, printing, completion, :policies, :set) is the embedded module
 * perch.repl (lua/perch/repl.lua).
 *
 * Security: the socket lives in a directory of mode 0700 (created if
 * missing; a default directory that is not ours or is open to others is
 * refused), the socket itself is 0600, and every connection's peer
 * credentials (SO_PEERCRED) must be the process's own uid or root.  There is
 * no TCP listener.  A stale socket left by a crashed process (nobody accepts
 * on it) is replaced; a live one is not.  The socket is removed on destroy.
 *
 * Wire protocol.  Both directions send frames:
 *
 *     +------+---------------------+-----------------+
 *     | type | length, u32 big-end | length bytes    |
 *     | 1 B  | 4 B                 | payload (UTF-8) |
 *     +------+---------------------+-----------------+
 *
 * Client to server (payload at most PR_REPL_MAX_IN bytes):
 *   'L'  a line of interactive input: a :command, or Lua, possibly one line
 *        of a multi-line chunk
 *   'E'  a whole chunk (or a :command) at once: no continuation lines
 *   'C'  complete this word (the text before the cursor, from the last
 *        separator): "perch.ev", "t:ag", "pri"
 *   'K'  cancel a pending multi-line chunk
 *   'I'  interrupt the request being evaluated (no payload, no reply;
 *        ignored when nothing runs)
 * Server to client:
 *   'H'  hello, on connect: "perch VERSION\tAPP\tPID"
 *   'R'  result: the output text (may be empty)
 *   'X'  error: the message, with a traceback.  Also a refusal (wrong uid,
 *        too many sessions), after which the server closes the connection
 *   'M'  more: the chunk is incomplete, send the next line
 *   'C'  completions, one per line
 * Every request except 'I' gets exactly one reply ('R', 'X', 'M' or 'C'),
 * in order.  Commands (in 'L' and 'E'): :help, :reload, :policies,
 * :set POLICY.PARAM VALUE, :metrics; :watch is the client's (it repeats 'E').
 *
 * Ownership: the server owns its sockets and the session buffers; the host
 * is looked up through hooks->current_host() on every request, since a hot
 * reload replaces it (a session whose host changed starts a fresh scope).
 * Sessions keep their Lua scope in the host, in perch.repl's table. */
#ifndef PR_REPL_H
#define PR_REPL_H

#include <stddef.h>

#include "host.h"
#include "loop.h"

#define PR_REPL_MAX_IN   (64u << 10)  /* largest client frame payload */
#define PR_REPL_MAX_OUT  (1u << 20)   /* largest server frame payload */
#define PR_REPL_MAX_SESSIONS 8

typedef struct pr_repl pr_repl_t;

typedef struct pr_repl_hooks {
    /* The host requests run in; required.  May change between calls. */
    pr_host_t *(*current_host)(void *ud);
    /* Reload the app now.  0 on success, or negative with a message in msg
     * (len bytes, NUL-terminated).  NULL: ":reload" says it is not
     * available. */
    int (*reload)(void *ud, char *msg, size_t len);
} pr_repl_hooks_t;

typedef struct pr_repl_opts {
    int enabled;           /* repl.enabled, default 1 */
    const char *path;      /* repl.socket; NULL: the default for app_name */
    const char *app_name;  /* "camera" (the script's basename without .lua) */
} pr_repl_opts_t;

/* Fill opts from --set values: repl.enabled (true/false), repl.socket
 * (path).  app_path names the default socket.  opts->path points into sets.
 * Returns 0, or PR_EINVAL with a message in err. */
int pr_repl_config(char *const *sets, int nsets, const char *app_path,
                   pr_repl_opts_t *opts, char *err, size_t errlen);

/* The default socket directory: $XDG_RUNTIME_DIR/perch, else
 * /tmp/perch-UID.  With create, make it (mode 0700) if missing.  Checks it
 * is a directory of ours closed to others: PR_EINVAL with a message in err
 * if not, a negated errno if it cannot be made or read. */
int pr_repl_default_dir(char *buf, size_t len, int create, char *err, size_t errlen);

/* Listen.  Returns 0, or a negative code with a message in err (the app
 * goes on without a REPL).  hooks and ud are borrowed. */
int pr_repl_create(pr_repl_t **out, pr_loop_t *loop, const pr_repl_opts_t *opts,
                   const pr_repl_hooks_t *hooks, void *ud, char *err, size_t errlen);
/* Close every session and the socket, and remove the socket file (if it is
 * still the one this server made).  Safe with NULL. */
void pr_repl_destroy(pr_repl_t *r);
const char *pr_repl_path(const pr_repl_t *r);
int pr_repl_sessions(const pr_repl_t *r);

/* The client side (repl_client.c): `perch repl [--socket PATH] [-e CODE]
 * [APP]`.  argv[0] is "repl"'s position.  Returns the exit code. */
int pr_repl_client_main(int argc, char **argv);

#endif
