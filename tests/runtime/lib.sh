# tests/runtime/lib.sh - TAP and process helpers for the runtime tests.
#
# Each runtime test starts the real perch binary on a script, then checks
# its output, exit code and behaviour from outside.  Sourced by *.t files.
# PERCH_BUILD and PERCH_RUNNER come from tests/run.

set -u
: "${PERCH_BUILD:=build/test}"
: "${PERCH_RUNNER:=}"
PERCH_BIN="$PERCH_BUILD/perch"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/perch-test.XXXXXX")
# At exit: stop what start_upstream and start left running, then clean up.
UPSTREAM_PID=
PID=
trap 'kill $UPSTREAM_PID $PID 2>/dev/null; rm -rf "$TMP"' EXIT
_n=0
_failed=0

plan() { echo "1..$1"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
ok() {
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=$((_failed + 1)); fi
    return "$1"
}
# is GOT WANT NAME
is() {
    if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; diag "  got:  $1" "  want: $2"; fi
}
# like FILE REGEX NAME: FILE has a line matching the extended regex
like() {
    if grep -Eq -- "$2" "$1"; then ok 0 "$3"; else ok 1 "$3"; diag "  no line matching: $2" "  in $1:"; sed 's/^/#   /' "$1" | tail -20; fi
}
unlike() {
    if grep -Eq -- "$2" "$1"; then ok 1 "$3"; diag "  unexpected line matching: $2"; grep -E -- "$2" "$1" | sed 's/^/#   /' | head -5; else ok 0 "$3"; fi
}
# count FILE REGEX: number of matching lines
count() { grep -Ec -- "$2" "$1" || true; }
done_testing() { [ -n "${_planned:-}" ] || echo "1..$_n"; [ "$_failed" -eq 0 ]; }

# perch ARGS...: run perch in the foreground (through the runner).
perch() {
    # shellcheck disable=SC2086
    $PERCH_RUNNER "$PERCH_BIN" "$@"
}

# start NAME ARGS...: run perch in the background; stdout/stderr go to
# $TMP/NAME.out and $TMP/NAME.err; its pid is in PID.
start() {
    local name=$1
    shift
    # shellcheck disable=SC2086
    $PERCH_RUNNER "$PERCH_BIN" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PID=$!
}

# wait_for FILE REGEX [SECONDS]: poll until FILE has a matching line.
wait_for() {
    local file=$1 re=$2 limit=${3:-60} i=0
    while [ "$i" -lt $((limit * 10)) ]; do
        grep -Eq -- "$re" "$file" 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# wait_exit PID [SECONDS]: wait for the process; sets STATUS (or kills it
# and sets STATUS=timeout).
wait_exit() {
    local pid=$1 limit=${2:-60} i=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$i" -ge $((limit * 10)) ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            STATUS=timeout
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    wait "$pid"
    STATUS=$?
}

# script NAME: write stdin to $TMP/NAME.lua and print the path.
script() { cat >"$TMP/$1.lua"; echo "$TMP/$1.lua"; }

# subtest NAME FILE: FILE holds the TAP of one run (a Lua test's stdout);
# print it indented as a subtest and one ok line for it: it passes when the
# plan was printed, every planned test ran and none failed.
subtest() {
    local name=$1 file=$2 plan ran bad
    sed 's/^/    /' "$file"
    plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$file" | head -1)
    ran=$(grep -Ec '^(not )?ok ' "$file" || true)
    bad=$(grep -Ec '^not ok ' "$file" || true)
    if [ -n "$plan" ] && [ "$plan" -eq "$ran" ] && [ "$bad" -eq 0 ]; then
        ok 0 "$name"
    else
        ok 1 "$name"; diag "  plan ${plan:-none}, ran $ran, failed $bad"
    fi
}

# free_port: a loopback port nothing listens on (bound, then let go).
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_upstream: tests/runtime/http_upstream.py on a free loopback port
# for at most 120 s; sets UPSTREAM (its port) and UPSTREAM_PID, or bails
# out of the test.
start_upstream() {
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/http_upstream.py" --lifetime 120 \
        >"$TMP/upstream.port" 2>"$TMP/upstream.err" &
    UPSTREAM_PID=$!
    for _ in $(seq 100); do [ -s "$TMP/upstream.port" ] && break; sleep 0.1; done
    UPSTREAM=$(head -1 "$TMP/upstream.port")
    [ -n "$UPSTREAM" ] || { echo "Bail out! the test upstream did not start: $(cat "$TMP/upstream.err")"; exit 1; }
}
