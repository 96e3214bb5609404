#!/usr/bin/env bash
# A callback that fails 5 times in a row is disabled and says so; other
# timers go on; t:again() gives it another chance.
. "$(dirname "$0")/lib.sh"
plan 6

app=$(script dis <<'LUA'
local fails, other = 0, 0
local bad
bad = perch.every(10, function()
  fails = fails + 1
  error("failure " .. fails)
end)
perch.every(10, function()
  other = other + 1
  if other == 40 then
    print("fails=" .. fails .. " active=" .. tostring(bad:active()) ..
          " disabled=" .. tostring(bad:info().disabled)); io.stdout:flush()
    bad:again()
  elseif other == 80 then
    print("after again fails=" .. fails); io.stdout:flush()
    perch.stop()
  end
end)
LUA
)
start dis run "$app" --duration 120
wait_exit "$PID" 120
is "$STATUS" 0 "exit 0"
like "$TMP/dis.out" "^fails=5 active=false disabled=true$" "disabled after exactly 5 consecutive failures, timer stopped"
like "$TMP/dis.err" "dis\.lua:3 disabled after 5 consecutive failures" "the log says which callback was disabled"
like "$TMP/dis.out" "^after again fails=10$" "again() re-enabled it for another 5 tries"
is "$(count "$TMP/dis.err" "disabled after")" 2 "disabled twice in all"
like "$TMP/dis.err" "2 disabled" "disabling counted"
