#!/usr/bin/env bash
# A runaway callback is aborted by the instruction budget, even when the
# script tries to swallow the abort (pcall, a coroutine, a tail-called pcall,
# an xpcall whose handler runs away too), and the next tick runs.
. "$(dirname "$0")/lib.sh"
plan 14

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
    return pcall(function() while true do end end)   -- line 17
  elseif n == 6 then
    local ok, err = pcall(debug.sethook)
    print("sethook refused: " .. tostring(not ok and err:find("not available") ~= nil))
    local r = { xpcall(function(a, b) return a + b end, print, 2, 3) }
    print("xpcall still works: " .. tostring(r[1]) .. " " .. tostring(r[2]))
    io.stdout:flush()
  elseif n == 7 then
    -- the message handler runs away too (it would run with hooks off)
    xpcall(function() while true do end end, function(e) while true do end end)
    print("swallowed by xpcall"); io.stdout:flush()
  elseif n == 8 then
    perch.stop()
  end
end)
LUA
)
start loop run "$app" --duration 120 --set lua.budget=200000
wait_exit "$PID" 120
is "$STATUS" 0 "perch exits 0"
like "$TMP/loop.err" "loop\.lua:6: instruction budget exceeded" "runaway loop aborted, logged with file:line"
is "$(count "$TMP/loop.err" "instruction budget exceeded")" 5 "five aborts logged, once each"
like "$TMP/loop.err" "loop\.lua:17: instruction budget exceeded .*the script caught the error" "an abort caught by a tail-called pcall still fails the callback"
unlike "$TMP/loop.out" "^swallowed$" "pcall in the script did not swallow the abort"
unlike "$TMP/loop.out" "swallowed in coroutine" "pcall around a coroutine did not swallow it"
unlike "$TMP/loop.out" "swallowed by xpcall" "a runaway xpcall handler is stopped too"
like "$TMP/loop.out" "^sethook refused: true$" "debug.sethook cannot remove the budget"
like "$TMP/loop.out" "^xpcall still works: true 5$" "xpcall keeps its behaviour"
like "$TMP/loop.out" "^tick 3$" "tick after the first abort ran"
like "$TMP/loop.out" "^tick 8$" "loop kept ticking"
like "$TMP/loop.err" "5 budget aborts" "aborts counted"
unlike "$TMP/loop.err" "disabled after" "a success between failures resets the count (no disabling)"

# Five runaways in a row disable the callback.
app=$(script five <<'LUA'
local n = 0
perch.every(10, function() n = n + 1; while true do end end)
perch.after(2000, function() print("n=" .. n); io.stdout:flush(); perch.stop() end)
LUA
)
start five run "$app" --duration 120 --set lua.budget=100000
wait_exit "$PID" 120
like "$TMP/five.err" "five\.lua:2 disabled after 5 consecutive failures" "five runaways in a row disable the callback"
