#!/usr/bin/env bash
# perch repl -e for scripts, and the REPL socket's rules: session scope,
# the budget on input, :policies/:set, the socket's place and modes, stale
# and live sockets, removal on exit, and connections from another uid.
. "$(dirname "$0")/lib.sh"
plan 44

app=$(script probe <<'LUA'
ticks = 0
perch.every(50, function() ticks = ticks + 1 end)
local p = { name = "quality", params = { jpeg = 80, mode = "day" } }
function p:set(key, value)
  if key == "jpeg" then
    if math.type(value) ~= "integer" or value < 1 or value > 100 then
      error("jpeg must be an integer in 1..100", 2)
    end
  elseif key ~= "mode" then
    error("quality has no parameter '" .. key .. "'", 2)
  end
  self.params[key] = value
end
package.loaded["perch.policy"] = { live = { quality = p } }
perch.every(50, function()
  p.last = { decision = { jpeg_quality = p.params.jpeg }, why = "mode " .. p.params.mode }
end)
LUA
)
sock="$TMP/probe.sock"
start app run "$app" --duration 600 --set repl.socket="$sock"
APP_PID=$PID
wait_for "$TMP/app.err" "repl: listening on $sock" 120
ok $? "the app listens on repl.socket"

r() { perch repl --socket "$sock" "$@"; }

is "$(r -e '1 + 1')" "2" "-e prints an expression's value"
is "$(r -e 'local t = {} for i = 1, 3 do t[i] = i * i end return t')" "{ 1, 4, 9 }" "-e runs statements"
is "$(r -e '"a\tb"')" '"a\tb"' "strings are quoted"
r -e 'local t = { list = {} } t.list.up = t return t' >"$TMP/cyc.out"
like "$TMP/cyc.out" '^\{ list = \{ up = <cycle: table: 0x[0-9a-f]+> \} \}$' "cycles are marked"
r -e 'error("nope")' >"$TMP/e.out" 2>"$TMP/e.err"
is "$?" 1 "-e exits 1 on an error"
like "$TMP/e.err" '^repl:1: nope$' "the error goes to stderr with its place"
r -e 'for i = 1,' >/dev/null 2>"$TMP/inc.err"
like "$TMP/inc.err" "incomplete input" "-e says when the chunk is incomplete"

is "$(r -e 'x = 5; return x')" "5" "a new name in a session"
is "$(r -e 'return x')" "nil" "... stays in that session"
is "$(r -e '_G.shared = 7')" "" "_G.name = v writes a global"
is "$(r -e 'return shared')" "7" "... seen by other sessions"
is "$(r -e 'return ticks > 0')" "true" "input sees the app's globals"

r -e 'while true do end' 2>"$TMP/run.err"
is "$?" 1 "a runaway input fails"
like "$TMP/run.err" 'repl:1: instruction budget exceeded' "... stopped by the instruction budget"
is "$(r -e 'return ticks > 0')" "true" "the app is fine afterwards"

r -e ':policies' >"$TMP/pol.out"
like "$TMP/pol.out" '^quality: \{ jpeg_quality = 80 \}$' ":policies shows the last decision"
like "$TMP/pol.out" '^  why: mode day$' "... its why"
like "$TMP/pol.out" '^  params: \{ jpeg = 80, mode = "day" \}$' "... and its params"
is "$(r -e ':set quality.jpeg 60')" "quality.jpeg = 60 (was 80)" ":set applies a value"
is "$(r -e ':set quality.mode "night"')" 'quality.mode = "night" (was "day")' ":set takes Lua values"
r -e ':set quality.jpeg 500' 2>"$TMP/set.err"
is "$?" 1 ":set out of range fails"
like "$TMP/set.err" 'jpeg must be an integer in 1\.\.100' "... with the policy's message naming the key"
r -e ':set quality.fps 5' 2>"$TMP/set2.err"
like "$TMP/set2.err" "no parameter 'fps'" "an unknown parameter is refused"
r -e ':set nope.x 1' 2>"$TMP/set3.err"
like "$TMP/set3.err" "no live policy 'nope' \(live: quality\)" "an unknown policy is refused"
sleep 0.2
r -e ':policies' >"$TMP/pol2.out"
like "$TMP/pol2.out" '^quality: \{ jpeg_quality = 60 \}$' "the next decision uses the new value"
like "$TMP/app.err" 'repl: uid 0 \(pid [0-9]+\) set quality\.jpeg = 60 \(was 80\)' "a :set is logged with the uid"

r -e ':metrics' >"$TMP/m.out"
like "$TMP/m.out" '^timers +3 active$' ":metrics shows the timers (the app's two, --duration's)"
like "$TMP/m.out" '^memory +[0-9]+ KiB used' "... and memory"
r -e ':reload' >"$TMP/rl.out" 2>&1
like "$TMP/rl.out" "^reloaded: version 2 running" ":reload swaps in a new version and says which"
r -e 'return perch.reload.stats().version' >"$TMP/rl2.out"
like "$TMP/rl2.out" "^2$" "... and the session now talks to it"

is "$(stat -c %a "$sock")" 600 "the socket is mode 0600"

# Another uid: the socket's mode already keeps it out; with the mode opened
# up, the peer credentials check refuses it.
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
    for i in 1 2 3; do echo "ok $((_n + i)) # SKIP needs root and setpriv"; done
    _n=$((_n + 3))
else
    chmod 755 "$TMP"
    # shellcheck disable=SC2086
    setpriv --reuid=nobody --regid=nogroup --clear-groups $PERCH_RUNNER "$PERCH_BIN" repl --socket "$sock" \
        -e '1' >/dev/null 2>"$TMP/nobody.err"
    like "$TMP/nobody.err" "permission denied on .*: the REPL accepts only the uid that runs the app" \
        "another uid cannot open the 0600 socket"
    chmod 666 "$sock"
    # shellcheck disable=SC2086
    setpriv --reuid=nobody --regid=nogroup --clear-groups $PERCH_RUNNER "$PERCH_BIN" repl --socket "$sock" \
        -e '1' >/dev/null 2>"$TMP/nobody2.err"
    like "$TMP/nobody2.err" "connection refused: uid 65534 may not use this REPL" \
        "a peer of another uid is refused (SO_PEERCRED)"
    like "$TMP/app.err" "repl: refused a connection from uid 65534" "... and the refusal is logged"
    chmod 600 "$sock"
    chmod 700 "$TMP"
fi

# A second app on the same socket does not take it over.
start app2 run "$app" --duration 600 --set repl.socket="$sock"
wait_for "$TMP/app2.err" "repl: not listening" 120
like "$TMP/app2.err" "another process serves a REPL on" "a live socket is not replaced"
kill "$PID"; wait "$PID" 2>/dev/null
is "$(r -e 'return 3')" "3" "the first app still answers"

kill -TERM "$APP_PID"
wait_exit "$APP_PID" 120
[ ! -e "$sock" ]
ok $? "the socket is removed on exit"

# A stale socket (its process died) is replaced; the default place is
# $XDG_RUNTIME_DIR/perch/APP.sock in a 0700 directory.
mkdir -m 700 "$TMP/xdg"
/usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
    "$TMP/stale.sock"
start stale run "$app" --duration 600 --set repl.socket="$TMP/stale.sock"
wait_for "$TMP/stale.err" "repl: listening" 120
like "$TMP/stale.err" "removing the stale socket" "a stale socket is replaced"
kill "$PID"; wait "$PID" 2>/dev/null

XDG_RUNTIME_DIR="$TMP/xdg" start xdg run "$app" --duration 600
wait_for "$TMP/xdg.err" "repl: listening" 120
is "$(stat -c %a "$TMP/xdg/perch")" 700 "the default socket directory is 0700"
is "$(XDG_RUNTIME_DIR="$TMP/xdg" perch repl -e 'return 1 + 2')" 3 \
    "perch repl finds the only app's socket"
is "$(XDG_RUNTIME_DIR="$TMP/xdg" perch repl probe -e ':help' | head -1 | cut -c1-8)" "Lua inpu" \
    "... or the one named"
kill "$PID"; wait "$PID" 2>/dev/null

start off run "$app" --duration 1 --set repl.enabled=false --set repl.socket="$TMP/off.sock"
wait_exit "$PID" 120
[ ! -e "$TMP/off.sock" ]
ok $? "repl.enabled=false: no socket"
perch run "$app" --set repl.enabled=maybe >/dev/null 2>"$TMP/bad.err"
is "$?" 2 "a bad repl.enabled is a usage error"
