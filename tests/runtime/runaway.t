#!/usr/bin/env bash
# A runaway callback is aborted by the instruction budget, even when the
# script tries to swallow the abort with pcall, and the next tick runs.
. "$(dirname "$0")/lib.sh"
plan 10

app=$(script loop <<'LUA'
local n = 0
perch.every(20, function()
  n = n + 1
  print("tick " .. n); io.stdout:flush()
  if n == 2 then
    while true do end                                  -- line 6
  elseif n == 3 then
    -- try to swallow the abort: every further line raises again
    for i = 1, 1e9 do pcall(function() while true do end end) end
    print("swallowed"); io.stdout:flush()
  elseif n == 4 then
    local co = coroutine.wrap(function() while true do end end)
    pcall(co)
    print("swallowed in coroutine"); io.stdout:flush()
  elseif n == 5 then
    -- a pcall whose result goes straight back to C: nothing is left to raise
    return pcall(function() while true do end end)
  elseif n == 6 then
    perch.stop()
  end
end)
LUA
)
start loop run "$app" --duration 120 --set lua.budget=200000
wait_exit "$PID" 120
is "$STATUS" 0 "perch exits 0"
like "$TMP/loop.err" "loop\.lua:6: instruction budget exceeded" "runaway loop aborted, logged with file:line"
is "$(count "$TMP/loop.err" "instruction budget exceeded")" 4 "four aborts logged, once each"
like "$TMP/loop.err" "loop\.lua:17: instruction budget exceeded .*the script caught the error" "an abort caught by a tail-called pcall still fails the callback"
unlike "$TMP/loop.out" "^swallowed$" "pcall in the script did not swallow the abort"
unlike "$TMP/loop.out" "swallowed in coroutine" "pcall around a coroutine did not swallow it"
like "$TMP/loop.out" "^tick 3$" "tick after the first abort ran"
like "$TMP/loop.out" "^tick 6$" "loop kept ticking"
like "$TMP/loop.err" "4 budget aborts" "aborts counted"
unlike "$TMP/loop.err" "disabled after" "four failures in a row do not disable (limit 5)"
