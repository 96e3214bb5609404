#!/usr/bin/env bash
# Hot reload of a running app: a good edit swaps in the new version with the
# old one's state; a syntax error, a runtime error at load, a failing
# check() and a deleted file each keep the old version running and log the
# error with file:line; editing a required module reloads; SIGHUP reloads;
# --no-watch turns watching off; perch.reload.stats() counts it all.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/proj"
app=$TMP/proj/app.lua
mod=$TMP/proj/helper.lua

# version V [EXTRA]: an app that says which version it is, the helper's
# word, where its state came from, and the reload counters once it runs.
version() {
    cat <<LUA
local V = "$1"
local helper = require "helper"
ticks = 0
perch.every(20, function() ticks = ticks + 1 end)
function on_save() return { from = V, ticks = ticks } end
function on_reload(s)
  ticks = s and s.ticks or 0
  print(("reloaded %s from %s"):format(V, s and s.from)); io.stdout:flush()
end
perch.after(0, function()
  local st = perch.reload.stats()
  print(("stats %s ok=%d failed=%d version=%d"):format(V, st.ok, st.failed, st.version))
  io.stdout:flush()
end)
print("version " .. V .. " " .. helper.word); io.stdout:flush()
${2:-}
LUA
}

echo 'return { word = "one" }' >"$mod"
version v1 >"$app"
start run run "$app" --duration 120
wait_for "$TMP/run.out" "^version v1 one$" 30
ok $? "version 1 starts"

# A good edit.
version v2 >"$app"
wait_for "$TMP/run.out" "^reloaded v2 from v1$" 20
ok $? "a good edit swaps in version 2 with version 1's on_save() state"
wait_for "$TMP/run.out" "^stats v2 ok=1 failed=0 version=2$" 10
ok $? "perch.reload.stats() counts it"
like "$TMP/run.err" "app.lua: reloaded \(file changed\) in [0-9.]+ ms: version 2 running" \
    "the log says so"

# failing WHAT REGEX N: wait for the N-th failed reload; its line matches REGEX.
failing() {
    wait_for "$TMP/run.err" "reload \(file changed\) failed" 20
    local i=0
    while [ "$(count "$TMP/run.err" 'reload \(file changed\) failed')" -lt "$3" ] && [ $i -lt 200 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    is "$(count "$TMP/run.err" 'reload \(file changed\) failed')" "$3" "$1: the reload fails"
    like "$TMP/run.err" "$2" "$1: the log names the problem"
}

printf 'local V = "v3"\nperch.every(20, function() end\n' >"$app"
failing "a syntax error" "failed: .*proj/app.lua:3: '\)' expected .*version 2 keeps running" 1

printf 'local V = "v3"\nlocal cfg = nil\nprint(cfg.fps)\n' >"$app"
failing "a runtime error at load" "failed: .*proj/app.lua:3: attempt to index a nil value" 2

printf 'local V = "v3"\nfunction check() return false, "camera not found" end\n' >"$app"
failing "a failing check()" "check\(\) at .*proj/app.lua:2 returned false: camera not found" 3

rm -f "$app"
failing "a deleted file" "cannot read .*proj/app.lua: No such file" 4
# Restored as it was: nothing to reload, version 2 still runs.
version v2 >"$app"
sleep 0.5
is "$(count "$TMP/run.err" 'reloaded \(')" 1 "restoring the running text reloads nothing"

version v3 >"$app"
wait_for "$TMP/run.out" "^reloaded v3 from v2$" 20
ok $? "after all that, version 2 was still the one running (v3 got its state)"
wait_for "$TMP/run.out" "^stats v3 ok=2 failed=4 version=3$" 10
ok $? "counters: 2 ok, 4 failed"

# A required module changes: the app reloads with it.
echo 'return { word = "two" }' >"$mod"
wait_for "$TMP/run.out" "^version v3 two$" 20
ok $? "editing a required module reloads the app"

# SIGHUP reloads even with nothing changed.
kill -HUP "$PID"
wait_for "$TMP/run.err" "reloaded \(SIGHUP\)" 20
ok $? "SIGHUP reloads"
is "$(count "$TMP/run.out" '^reloaded v3 from v3$')" 2 "the SIGHUP version got the state too"

kill -TERM "$PID"
wait_exit "$PID" 30
is "$STATUS" 0 "exit status 0 after the reloads"
like "$TMP/run.err" "reloads: 4 ok, 4 failed, 0 rolled back; version 5" "the exit log sums up"

# --no-watch: edits are not picked up; SIGHUP still reloads.
version w1 >"$app"
start nowatch run "$app" --no-watch --duration 120
wait_for "$TMP/nowatch.out" "^version w1" 30
version w2 >"$app"
sleep 0.6
is "$(count "$TMP/nowatch.out" '^version w2')" 0 "--no-watch: an edit is not reloaded"
kill -HUP "$PID"
wait_for "$TMP/nowatch.out" "^reloaded w2 from w1$" 20
ok $? "--no-watch: SIGHUP reloads"
kill -TERM "$PID"
wait_exit "$PID" 30

# reload.watch=false is --no-watch; stats() says whether files are watched.
w=$(script watching <<'LUA'
print("watching", perch.reload.stats().watching)
LUA
)
is "$(perch run "$w" 2>/dev/null)" "$(printf 'watching\ttrue')" "files are watched by default"
is "$(perch run "$w" --set reload.watch=false 2>/dev/null)" "$(printf 'watching\tfalse')" \
    "--set reload.watch=false turns watching off"

# Bad reload settings are usage errors.
perch run "$app" --set reload.debounce_ms=soon >/dev/null 2>"$TMP/bad.err"
is "$?" 2 "a bad reload.debounce_ms is a usage error"
like "$TMP/bad.err" "reload.debounce_ms=soon: expected milliseconds" "naming the key"
perch run "$app" --set reload.nonsense=1 >/dev/null 2>"$TMP/bad2.err"
like "$TMP/bad2.err" "unknown reload key" "an unknown reload.* key is refused"
done_testing
