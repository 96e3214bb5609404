/* repl_client.c - `perch repl`: a terminal (or a script) talking to a
 * running app's REPL socket.  Line editing, history and tab completion come
 * from libedit; completions are asked of the live process.  Ctrl-C while an
 * input runs sends an interrupt message; :watch repeats an expression until
 * a key is pressed.  The protocol is described in repl.h. */
#include "repl.h"

#include "error.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include <editline/readline.h>

static const char client_usage[] =
    "usage: perch repl [--socket PATH] [-e CODE] [APP]\n"
    "  connects to the REPL of a running app: APP's socket in the default\n"
    "  directory ($XDG_RUNTIME_DIR/perch, else /tmp/perch-UID), or the only one\n"
    "  there, or PATH.  -e CODE evaluates CODE (Lua or a :command), prints the\n"
    "  result and exits (1 on an error).\n";

static volatile sig_atomic_t got_sigint;

static void on_sigint(int sig)
{
    (void)sig;
    got_sigint = 1;
}

typedef struct client {
    int fd;
    int interrupted;    /* an 'I' went out for the request in flight */
    char app[64];
    char pid[16];
} client_t;

static client_t *completing;  /* readline's completion callbacks have no ud */

/* ---------------------------------------------------------------- frames */

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_frame(client_t *c, int type, const char *p, size_t len)
{
    unsigned char hdr[5] = { (unsigned char)type, (unsigned char)(len >> 24),
                             (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                             (unsigned char)len };
    if (len > PR_REPL_MAX_IN) {
        fprintf(stderr, "perch repl: input too long (%zu bytes, at most %u)\n", len,
                PR_REPL_MAX_IN);
        return -2;
    }
    if (write_all(c->fd, hdr, 5) < 0 || (len && write_all(c->fd, p, len) < 0))
        return -1;
    return 0;
}

/* Blocking read; Ctrl-C meanwhile sends one interrupt for the request. */
static int read_all(client_t *c, void *p, size_t n)
{
    char *d = p;
    while (n) {
        ssize_t r = recv(c->fd, d, n, 0);
        if (r < 0 && errno == EINTR) {
            if (got_sigint && !c->interrupted) {
                got_sigint = 0;
                c->interrupted = 1;
                if (isatty(1))
                    fputs("\n", stdout);  /* past the terminal's ^C */
                if (send_frame(c, 'I', NULL, 0) < 0)
                    return -1;
            }
            continue;
        }
        if (r <= 0)
            return -1;
        d += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One reply: its type, and a NUL-terminated payload to free. */
static int recv_frame(client_t *c, int *type, char **text, size_t *len)
{
    unsigned char hdr[5];
    size_t n;
    char *p;

    if (read_all(c, hdr, 5) < 0)
        return -1;
    n = (size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 8 | hdr[4];
    if (n > PR_REPL_MAX_OUT || !(p = malloc(n + 1)))
        return -1;
    if (read_all(c, p, n) < 0) {
        free(p);
        return -1;
    }
    p[n] = '\0';
    *type = hdr[0];
    *text = p;
    *len = n;
    return 0;
}

/* Send a request and wait for its reply. */
static int request(client_t *c, int type, const char *p, char **text, int *rtype)
{
    size_t len;
    int rc;
    c->interrupted = 0;
    got_sigint = 0;
    if ((rc = send_frame(c, type, p, strlen(p))) < 0)
        return rc;
    return recv_frame(c, rtype, text, &len);
}

static void lost(void)
{
    fprintf(stderr, "perch repl: the connection to the app was lost\n");
}

/* ------------------------------------------------------------ connecting */

static int resolve(const char *app, char *path, size_t len)
{
    char dir[256], err[512];
    struct dirent *e;
    DIR *d;
    int found = 0;
    char names[512] = "";

    if (app && strchr(app, '/')) {
        snprintf(path, len, "%s", app);
        return 0;
    }
    if (pr_repl_default_dir(dir, sizeof dir, 0, err, sizeof err) < 0) {
        fprintf(stderr, "perch repl: %s\n", err);
        return -1;
    }
    if (app) {
        size_t n = strlen(app);
        if (n > 4 && !strcmp(app + n - 4, ".lua"))
            n -= 4;
        if (snprintf(path, len, "%s/%.*s.sock", dir, (int)n, app) >= (int)len)
            path[0] = '\0';
        return 0;
    }
    if (!(d = opendir(dir))) {
        fprintf(stderr, "perch repl: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 5 || strcmp(e->d_name + n - 5, ".sock"))
            continue;
        if (found++ == 0 && snprintf(path, len, "%s/%s", dir, e->d_name) >= (int)len)
            path[0] = '\0';
        if (strlen(names) + n + 3 < sizeof names) {
            if (names[0])
                strcat(names, ", ");
            strncat(names, e->d_name, n - 5);
        }
    }
    closedir(d);
    if (found == 1)
        return 0;
    if (found == 0)
        fprintf(stderr, "perch repl: no running app has a REPL socket in %s "
                "(use --socket PATH)\n", dir);
    else
        fprintf(stderr, "perch repl: several apps have a REPL in %s (%s): name one, "
                "perch repl APP\n", dir, names);
    return -1;
}

static int connect_to(client_t *c, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char *text;
    size_t len;
    int type;

    if (!path[0] || strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "perch repl: socket path too long (at most %zu bytes)\n",
                sizeof sa.sun_path - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        if (e == ENOENT)
            fprintf(stderr, "perch repl: no REPL at %s (is the app running, with "
                    "repl.enabled?)\n", path);
        else if (e == EACCES || e == EPERM)
            fprintf(stderr, "perch repl: permission denied on %s: the REPL accepts only "
                    "the uid that runs the app, and root\n", path);
        else if (e == ECONNREFUSED)
            fprintf(stderr, "perch repl: nobody listens on %s (the app is gone)\n", path);
        else
            fprintf(stderr, "perch repl: %s: %s\n", path, strerror(e));
        return -1;
    }
    if (recv_frame(c, &type, &text, &len) < 0) {
        fprintf(stderr, "perch repl: %s closed the connection\n", path);
        return -1;
    }
    if (type != 'H') {
        fprintf(stderr, "perch repl: %s\n", type == 'X' ? text : "unexpected greeting");
        free(text);
        return -1;
    }
    /* "perch VERSION\tAPP\tPID" */
    {
        char *app = strchr(text, '\t'), *pid = app ? strchr(app + 1, '\t') : NULL;
        if (app && pid) {
            snprintf(c->app, sizeof c->app, "%.*s", (int)(pid - app - 1), app + 1);
            snprintf(c->pid, sizeof c->pid, "%s", pid + 1);
        }
    }
    free(text);
    return 0;
}

/* ------------------------------------------------------------ completion */

static char *comp_list, *comp_pos;

static char *comp_next(const char *word, int state)
{
    char *nl, *r;
    size_t n;
    int type;

    if (state == 0) {
        free(comp_list);
        comp_list = comp_pos = NULL;
        if (request(completing, 'C', word, &comp_list, &type) < 0 || type != 'C') {
            free(comp_list);
            comp_list = NULL;
        }
        comp_pos = comp_list;
    }
    if (!comp_pos || !*comp_pos)
        return NULL;
    nl = strchr(comp_pos, '\n');
    n = nl ? (size_t)(nl - comp_pos) : strlen(comp_pos);
    if ((r = malloc(n + 1))) {
        memcpy(r, comp_pos, n);
        r[n] = '\0';
    }
    comp_pos = nl ? nl + 1 : comp_pos + n;
    return r;
}

static char **complete(const char *word, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;  /* no file names */
    return rl_completion_matches(word, comp_next);
}

/* ---------------------------------------------------------------- output */

static void show(FILE *f, const char *text)
{
    size_t n = strlen(text);
    if (!n)
        return;
    fputs(text, f);
    if (text[n - 1] != '\n')
        fputc('\n', f);
    fflush(f);
}

/* :watch EXPR [SECONDS]: evaluate and print every SECONDS until a key (or
 * Ctrl-C) stops it. */
static int watch(client_t *c, const char *args)
{
    char expr[4096], *last, *end;
    double secs = 1;
    struct termios saved, raw;
    int tty = isatty(0) && tcgetattr(0, &saved) == 0;
    int rc = 0;

    snprintf(expr, sizeof expr, "%s", args);
    for (end = expr + strlen(expr); end > expr && (end[-1] == ' ' || end[-1] == '\t');)
        *--end = '\0';
    last = strrchr(expr, ' ');
    if (last) {
        char *num_end;
        double v = strtod(last + 1, &num_end);
        if (num_end != last + 1 && *num_end == '\0') {
            if (!(v >= 0.05 && v <= 86400)) {
                printf("watch: SECONDS must be between 0.05 and 86400\n");
                return 0;
            }
            secs = v;
            *last = '\0';
        }
    }
    if (!expr[strspn(expr, " \t")]) {
        printf("usage: :watch EXPR [SECONDS]\n");
        return 0;
    }
    if (tty) {
        raw = saved;
        raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &raw);
    }
    printf("watching %s every %g s; press a key to stop\n", expr, secs);
    for (;;) {
        struct pollfd pfd = { .fd = 0, .events = POLLIN };
        char stamp[16], *text;
        time_t now = time(NULL);
        int type, ready;

        if ((rc = request(c, 'E', expr, &text, &type)) < 0) {
            if (rc == -2)
                rc = 0;
            else
                lost();
            break;
        }
        strftime(stamp, sizeof stamp, "%H:%M:%S", localtime(&now));
        printf("-- %s\n", stamp);
        show(stdout, text);
        free(text);
        if (c->interrupted)
            break;
        got_sigint = 0;
        ready = poll(&pfd, 1, (int)(secs * 1000));
        if (ready != 0) {
            char junk[64];
            if (ready > 0)
                (void)!read(0, junk, sizeof junk);
            break;
        }
    }
    if (tty)
        tcsetattr(0, TCSANOW, &saved);
    return rc;
}

/* --------------------------------------------------------------- the loop */

static int interactive(client_t *c, const char *path)
{
    char hist[1024] = "", prompt[80];
    const char *home = getenv("HOME");
    int pending = 0, rc = 0;

    completing = c;
    rl_readline_name = "perch";
    rl_attempted_completion_function = complete;
    /* Keep a.b.c and obj:meth in one word: '.' and ':' do not break. */
    rl_basic_word_break_characters = " \t\n\"'`<>=;+-*/%^~#&|,(){}[]";
    rl_completer_word_break_characters = (char *)rl_basic_word_break_characters;
    rl_completion_append_character = '\0';
    using_history();
    stifle_history(1000);
    if (home && *home) {
        snprintf(hist, sizeof hist, "%s/.perch_history", home);
        read_history(hist);
    }
    printf("perch repl: %s (pid %s) on %s; :help for help, Ctrl-D to leave\n",
           c->app, c->pid, path);
    for (;;) {
        char *line, *text;
        int type;

        snprintf(prompt, sizeof prompt, pending ? "%s>> " : "%s> ", c->app);
        got_sigint = 0;
        line = readline(prompt);
        if (!line) {
            if (got_sigint) {  /* Ctrl-C at the prompt: drop the chunk */
                printf("\n");
                if (pending && request(c, 'K', "", &text, &type) == 0)
                    free(text);
                pending = 0;
                continue;
            }
            printf("\n");
            break;
        }
        if (*line)
            add_history(line);
        if (!pending && (!strcmp(line, ":quit") || !strcmp(line, ":q"))) {
            free(line);
            break;
        }
        if (!pending && !strncmp(line, ":watch", 6) && (line[6] == ' ' || !line[6])) {
            rc = watch(c, line + 6);
            free(line);
            if (rc < 0)
                break;
            continue;
        }
        if ((rc = request(c, 'L', line, &text, &type)) < 0) {
            free(line);
            if (rc == -2) {  /* too long: said so, nothing was sent */
                rc = 0;
                continue;
            }
            lost();
            break;
        }
        free(line);
        pending = type == 'M';
        show(stdout, text);
        free(text);
    }
    if (hist[0])
        write_history(hist);
    free(comp_list);
    return rc < 0 ? 1 : 0;
}

int pr_repl_client_main(int argc, char **argv)
{
    const char *sock = NULL, *app = NULL, *code = NULL;
    char path[1024];
    struct sigaction sa;
    client_t c = { .fd = -1, .app = "app", .pid = "?" };
    int rc;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--socket") || !strncmp(a, "--socket=", 9)) {
            sock = a[8] == '=' ? a + 9 : i + 1 < argc ? argv[++i] : NULL;
            if (!sock || !*sock) {
                fprintf(stderr, "perch repl: --socket needs a PATH\n\n%s", client_usage);
                return 2;
            }
        } else if (!strcmp(a, "-e")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "perch repl: -e needs CODE\n\n%s", client_usage);
                return 2;
            }
            code = argv[++i];
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(client_usage, stdout);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "perch repl: unknown option '%s'\n\n%s", a, client_usage);
            return 2;
        } else if (!app) {
            app = a;
        } else {
            fprintf(stderr, "perch repl: unexpected argument '%s'\n\n%s", a, client_usage);
            return 2;
        }
    }
    if (sock) {
        if (snprintf(path, sizeof path, "%s", sock) >= (int)sizeof path)
            path[0] = '\0';
    } else if (resolve(app, path, sizeof path) < 0) {
        return 1;
    }

    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;  /* no SA_RESTART: a blocked read returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    if (connect_to(&c, path) < 0)
        return 1;
    if (code) {
        char *text;
        int type;
        if ((rc = request(&c, 'E', code, &text, &type)) < 0) {
            if (rc == -1)
                lost();
            close(c.fd);
            return 1;
        }
        show(type == 'R' ? stdout : stderr, text);
        free(text);
        close(c.fd);
        return type == 'R' ? 0 : 1;
    }
    rc = interactive(&c, path);
    close(c.fd);
    return rc;
}
