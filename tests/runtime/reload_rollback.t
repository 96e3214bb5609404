#!/usr/bin/env bash
# Automatic rollback: a new version whose callbacks keep failing right after
# the swap is replaced by the previous version, rebuilt from the source it
# ran (the file on disk still holds the bad one) with the state it saved.
# reload.rollback_failures=0 turns this off.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/proj"
app=$TMP/proj/app.lua

good() {
    cat <<'LUA'
local V = "good"
count = 0
perch.every(20, function() count = count + 1 end)
function on_save() return { from = V, count = count } end
function on_reload(s)
  count = s and s.count or 0
  print(("reloaded %s from %s"):format(V, s and s.from)); io.stdout:flush()
end
perch.after(0, function()
  local st = perch.reload.stats()
  print(("stats %s ok=%d rolled_back=%d version=%d"):format(V, st.ok, st.rolled_back, st.version))
  io.stdout:flush()
end)
LUA
}

bad() {
    cat <<'LUA'
local V = "bad"
local sensor
perch.every(20, function() return sensor.value + 1 end)
function on_reload(s) print("reloaded bad from " .. tostring(s and s.from)); io.stdout:flush() end
LUA
}

good >"$app"
start run run "$app" --duration 120
wait_for "$TMP/run.out" "^stats good ok=0" 30
ok $? "the good version starts"
# A second good version, so that the rolled-back one is a reloaded version.
{ good; echo '-- second'; } >"$app"
wait_for "$TMP/run.out" "^reloaded good from good$" 20
ok $? "a second good version swaps in"

bad >"$app"
wait_for "$TMP/run.out" "^reloaded bad from good$" 20
ok $? "the bad version loads (its load-time code is fine)"
wait_for "$TMP/run.err" "rolled back: the previous source runs again as version 4" 20
ok $? "its failing callbacks roll it back"
like "$TMP/run.err" "proj/app.lua:3: attempt to index a nil value \(upvalue 'sensor'\)" \
    "the failures are logged with file:line"
like "$TMP/run.err" "3 callback failures within 10 s of the reload: rolling back" \
    "the log says why it rolled back"
wait_for "$TMP/run.out" "^stats good ok=2 rolled_back=1 version=4$" 10
ok $? "the good version runs again, and perch.reload.stats() counts the rollback"
is "$(count "$TMP/run.out" '^reloaded good from good$')" 2 \
    "it got back the state it saved at the swap"
kill -TERM "$PID"
wait_exit "$PID" 30
is "$STATUS" 0 "exit status 0"

# Rollback off: the failing callback is only disabled (after lua.max_failures).
good >"$app"
start off run "$app" --set reload.rollback_failures=0 --duration 120
wait_for "$TMP/off.out" "^stats good" 30
bad >"$app"
wait_for "$TMP/off.err" "disabled after 5 consecutive failures" 20
ok $? "with reload.rollback_failures=0 the bad callback is disabled ..."
unlike "$TMP/off.err" "rolling back" "... and nothing is rolled back"
kill -TERM "$PID"
wait_exit "$PID" 30
done_testing
