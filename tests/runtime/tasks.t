#!/usr/bin/env bash
# Tasks through the host: an error in a task is logged once with file:line
# and a traceback and counted; a runaway slice is aborted by the budget and
# a task outgrowing the memory ceiling fails, and the app goes on; tasks
# still waiting when the app stops are torn down without leaks (ASan) and
# never resume.
. "$(dirname "$0")/lib.sh"
plan 9

app=$(script taskerr <<'LUA'
perch.spawn(function()
  perch.sleep(5)
  local t = nil
  return t.field             -- line 4
end)
perch.spawn(function()
  perch.sleep(10)
  while true do end          -- line 8: runs out of budget
end)
perch.spawn(function()
  perch.sleep(15)
  local big = {}
  for i = 1, 1e8 do big[i] = ("x"):rep(64) .. i end   -- line 13
end)
-- Still waiting at shutdown: torn down, never resumed.
for i = 1, 20 do
  perch.spawn(function() perch.sleep(60000); print("resumed after teardown") end)
end
perch.spawn(function()
  perch.sleep(200)
  print("still running")
  io.stdout:flush()
  perch.stop()
end)
LUA
)
start taskerr run "$app" --duration 60 --set lua.max_mb=8
wait_exit "$PID" 60
is "$STATUS" 0 "perch exits 0 after perch.stop()"
like "$TMP/taskerr.err" "ERROR .*task .*taskerr\.lua:1 failed: .*taskerr\.lua:4: attempt to index a nil value" \
    "error in a task logged with the task's source and file:line"
is "$(count "$TMP/taskerr.err" "attempt to index a nil value")" 1 "logged once"
like "$TMP/taskerr.err" "stack traceback" "with a traceback"
like "$TMP/taskerr.err" "taskerr\.lua:8: instruction budget exceeded" "a runaway task slice is aborted by the budget"
like "$TMP/taskerr.err" "task .*taskerr\.lua:10 failed: memory ceiling of 8192 KiB reached at .*taskerr\.lua:13" \
    "a task over the memory ceiling fails, naming its line"
like "$TMP/taskerr.out" "^still running$" "the app went on"
like "$TMP/taskerr.err" "3 errors, 1 budget aborts, 1 memory errors" "the failures were counted"
unlike "$TMP/taskerr.out" "resumed after teardown" "waiting tasks never resume after teardown"
