#!/usr/bin/env bash
# The REPL driven like a person would, in a terminal (tmux): evaluate,
# tab-complete, a multi-line chunk, Ctrl-C on a runaway loop with the budget
# off (the app keeps ticking), :set seen in the next decision, :watch
# stopped by a key, and the history file.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
    echo "1..0 # SKIP tmux not installed"
    exit 0
fi
plan 18

app=$(script tuner <<'LUA'
ticks = 0
perch.every(50, function() ticks = ticks + 1 end)
-- A minimal policy-like object following the REPL's registry convention.
local p = { name = "framerate", params = { max_fps = 15 } }
function p:set(key, value)
  if self.params[key] == nil then error("framerate has no parameter '" .. key .. "'", 2) end
  if math.type(value) ~= "integer" or value < 1 then
    error(key .. " must be an integer >= 1", 2)
  end
  self.params[key] = value
end
package.loaded["perch.policy"] = { live = { framerate = p } }
perch.every(50, function()
  p.last = { decision = { fps = p.params.max_fps }, why = "max_fps is " .. p.params.max_fps }
end)
LUA
)
sock="$TMP/tuner.sock"
start app run "$app" --duration 600 --set lua.budget=0 --set repl.socket="$sock"
APP_PID=$PID
wait_for "$TMP/app.err" "repl: listening" 120

sess="perch-repl-test-$$"
export TMUX_TMPDIR="$TMP"   # a private tmux server
cleanup() { tmux kill-server 2>/dev/null; kill "$APP_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$TMP/home"
# shellcheck disable=SC2086
tmux new-session -d -s "$sess" -x 150 -y 50 \
    "env HOME=$TMP/home $PERCH_RUNNER $PERCH_BIN repl --socket $sock; sleep 30"

screen() { tmux capture-pane -t "$sess" -p -S -200 >"$TMP/screen"; }
# wait_screen REGEX: poll the pane until a line matches.
wait_screen() {
    local i=0
    while [ "$i" -lt 300 ]; do
        screen
        grep -Eq -- "$1" "$TMP/screen" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
# type TEXT: type literally (no key names), then Enter
type_line() { tmux send-keys -t "$sess" -l "$1"; tmux send-keys -t "$sess" Enter; }
check() { wait_screen "$1"; ok $? "$2" || { diag "screen:"; grep -v '^$' "$TMP/screen" | sed 's/^/#   /' | tail -15; }; }

check "^tuner> ?$" "the prompt names the app"
type_line 'x = 6 * 7'
type_line 'x, "s", {1, {a = true}}'
check '^42[[:space:]]+"s"[[:space:]]+\{ 1, \{ a = true \} \}$' "an expression prints its values"

tmux send-keys -t "$sess" -l 'perch.ev'
tmux send-keys -t "$sess" Tab
check '^tuner> perch\.every$' "tab completes a field of a live table"
tmux send-keys -t "$sess" C-u
tmux send-keys -t "$sess" -l 'string.form'
tmux send-keys -t "$sess" Tab
tmux send-keys -t "$sess" -l '("%03d", 7)'
tmux send-keys -t "$sess" Enter
check '^"007"$' "completed name runs"
type_line 'local s = "abc"'
tmux send-keys -t "$sess" -l 's:upp'
tmux send-keys -t "$sess" Tab
tmux send-keys -t "$sess" -l '()'
tmux send-keys -t "$sess" Enter
check '^"ABC"$' "tab completes a method (a:<TAB>), and a top-level local stays in the session"

type_line 'for i = 1, 3 do'
check '^tuner>> ?$' "an incomplete chunk asks for more"
type_line '  print("line " .. i)'
type_line 'end'
check '^line 3$' "the multi-line chunk runs once complete"

type_line 'error("boom")'
check '^repl:1: boom$' "errors print with their place"
screen
like "$TMP/screen" "stack traceback:" "... and a traceback"

type_line 'while true do end'
sleep 0.5
tmux send-keys -t "$sess" C-c
check 'repl:1: interrupted' "Ctrl-C interrupts a runaway loop (budget off)"
kill -0 "$APP_PID" 2>/dev/null
ok $? "the app is still running"
type_line 'before = ticks'
sleep 0.5
type_line 'ticks > before'
check '^true$' "its timer still ticks afterwards"

type_line ':set framerate.max_fps 5'
check '^framerate\.max_fps = 5 \(was 15\)$' ":set changes a policy parameter"
sleep 0.3
type_line ':policies'
check '^  why: max_fps is 5$' "the next decision uses it"
like "$TMP/app.err" "repl: uid 0 \(pid [0-9]+\) set framerate\.max_fps = 5 \(was 15\)" "... and it is logged with the uid"

type_line ':watch ticks 0.2'
wait_screen 'press a key to stop' && sleep 0.9
tmux send-keys -t "$sess" q
type_line '"after watch"'
check '^"after watch"$' ":watch stops at a key press and the prompt is back"
screen
n=$(grep -c '^-- [0-9][0-9]:[0-9][0-9]:[0-9][0-9]$' "$TMP/screen")
[ "$n" -ge 3 ]
ok $? ":watch reprinted the value ($n times)"

tmux send-keys -t "$sess" C-d
wait_screen '\^D' >/dev/null; sleep 0.5
# libedit's history format: spaces as \040
grep -q '^x.040=.0406.040\*.0407$' "$TMP/home/.perch_history"
ok $? "the history file keeps the lines"
