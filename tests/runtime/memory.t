#!/usr/bin/env bash
# A memory bomb is stopped at the state's ceiling as a Lua memory error; the
# runtime keeps running and the next tick runs with memory given back.
. "$(dirname "$0")/lib.sh"
plan 7

app=$(script bomb <<'LUA'
local n = 0
local keep = { "data accepted before the bomb" }
perch.every(20, function()
  n = n + 1
  print("tick " .. n); io.stdout:flush()
  if n == 2 then
    local t = {}
    for i = 1, 1e9 do t[i] = string.rep("x", 65536) .. i end
  elseif n == 3 then
    print("kept: " .. keep[1]); io.stdout:flush()
    local s = string.rep("y", 1024 * 1024)   -- 1 MiB still allocates fine
    print("allocated " .. #s); io.stdout:flush()
  elseif n == 4 then
    perch.stop()
  end
end)
LUA
)
start bomb run "$app" --duration 120 --set lua.max_mb=16
wait_exit "$PID" 120
is "$STATUS" 0 "perch exits 0"
like "$TMP/bomb.err" "bomb\.lua:3 failed: memory ceiling of 16384 KiB reached" "memory bomb stopped at the ceiling, callback named with file:line"
like "$TMP/bomb.err" "memory ceiling of 16384 KiB reached at .*bomb\.lua:8" "the log names the line that hit the ceiling"
like "$TMP/bomb.out" "^kept: data accepted before the bomb$" "data held before the bomb is intact"
like "$TMP/bomb.out" "^allocated 1048576$" "allocation works again after the bomb"
like "$TMP/bomb.out" "^tick 4$" "loop kept ticking"
like "$TMP/bomb.err" "1 memory errors" "memory error counted"
