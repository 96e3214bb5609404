#!/usr/bin/env bash
# A script error in a timer callback is logged once with file:line, counted,
# and the loop keeps ticking.
. "$(dirname "$0")/lib.sh"
plan 6

app=$(script err <<'LUA'
local n = 0
perch.every(20, function()
  n = n + 1
  print("tick " .. n)
  io.stdout:flush()
  if n == 2 then
    local t = nil
    return t.field          -- line 8: attempt to index a nil value
  end
  if n == 5 then perch.stop() end
end)
LUA
)
start err run "$app" --duration 60
wait_exit "$PID" 60
is "$STATUS" 0 "perch exits 0 after perch.stop()"
like "$TMP/err.err" "ERROR .*err\.lua:8: attempt to index a nil value" "error logged with file:line"
is "$(count "$TMP/err.err" "attempt to index a nil value")" 1 "error logged once"
like "$TMP/err.err" "stack traceback" "log carries a traceback"
like "$TMP/err.out" "^tick 5$" "loop kept ticking after the error"
like "$TMP/err.err" "1 errors" "the error was counted"
