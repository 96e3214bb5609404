-- Tasks: spawn, sleep ordering, arguments and results, join, cancel (with
-- <close> variables), status, errors, bare yields, misuse outside a task.
local t = require "perch.test"
local perch = require "perch"

t.plan(35)

-- Misuse raises, naming the problem.
t.raises(function() perch.sleep(10) end, "perch.sleep: not inside a task %(use perch.spawn%)",
         "sleep outside a task raises")
t.raises(function() perch.spawn(42) end, "function expected", "spawn needs a function")
t.raises(function() perch.spawn(function() end):join() end, "task:join: not inside a task",
         "join outside a task raises")
perch.spawn(function()
  t.raises(function() perch.sleep(-1) end, "ms must be >= 0", "negative sleep rejected")
  t.raises(function() perch.sleep(0 / 0) end, "ms must be >= 0", "NaN sleep rejected")
  -- A coroutine of the script's own inside a task is not the task.
  local co = coroutine.wrap(function() perch.sleep(1) end)
  t.raises(co, "not inside a task", "sleep in a nested coroutine raises")
  -- Nor can it wait inside a function called from C (no yield across it).
  t.raises(function() table.sort({ 3, 1, 2 }, function(a, b) perch.sleep(1); return a < b end) end,
           "perch.sleep: cannot wait here", "sleep from a sort comparator raises")
end)

-- Tasks start at the next loop turn, not inside spawn().
local started = false
local first = perch.spawn(function(a, b) started = true; return a + b, "sum" end, 40, 2)
t.ok(not started, "spawn() does not run the task at once")
t.is(first:status(), "ready", "a new task is ready")
t.like(tostring(first), "^perch%.task %(ready, .*tasks%.lua:%d+%)", "__tostring names its source")

-- Sleep ordering: wake-ups come in due order whatever the spawn order.
local order = {}
for _, ms in ipairs({ 30, 10, 20, 0 }) do
  perch.spawn(function() perch.sleep(ms); order[#order + 1] = ms end)
end

-- A task whose handle is dropped still runs.
local dropped_ran = false
do perch.spawn(function() perch.sleep(5); dropped_ran = true end) end
collectgarbage(); collectgarbage()

-- Failures are logged by the host (tests/runtime/tasks.t checks the log)
-- and reach join() as nil, message, "failed".
local boom = perch.spawn(function() perch.sleep(1); error("boom") end)

-- Cancel a waiting task: its <close> variables close, it never resumes.
local closed_var, resumed = false, false
local sleeper = perch.spawn(function()
  local guard <close> = setmetatable({}, { __close = function() closed_var = true end })
  perch.sleep(10000)
  resumed = true
end)

-- A bare coroutine.yield() lets others run and goes on at the next turn.
local yields = 0
perch.spawn(function()
  for _ = 1, 3 do coroutine.yield("ignored"); yields = yields + 1 end
end)

-- Each slice has its own budget: many short slices add up past one budget.
local slices = 0
local long = perch.spawn(function()
  for _ = 1, 20 do
    for _ = 1, 200000 do end   -- ~0.6M instructions: under one 5M budget
    slices = slices + 1
    perch.sleep(10)          -- 20 slices take at least 200 ms
  end
  return slices
end)

perch.spawn(function()
  local t0 = perch.now()
  local ok, sum, word = first:join()
  t.ok(ok == true and sum == 42 and word == "sum", "join returns true and the results")
  t.is(first:status(), "done", "a finished task is done")
  t.ok(select("#", first:join()) == 3, "joining a finished task returns at once")

  perch.sleep(40)
  t.ok(perch.now() - t0 >= 0.039, "sleep(40) slept at least 40 ms")
  t.is(table.concat(order, ","), "0,10,20,30", "sleepers wake in due order")
  t.ok(dropped_ran, "a task whose handle was dropped ran")
  t.is(yields, 3, "bare yields resumed")

  local ok2, err, code = boom:join()
  t.ok(ok2 == nil and code == "failed", "join of a failed task: nil, msg, 'failed'")
  t.like(err, "tasks%.lua:%d+: boom", "the error names file:line")
  t.is(boom:status(), "failed", "status failed")

  t.is(sleeper:status(), "waiting", "a sleeping task is waiting")
  t.ok(sleeper:cancel(), "cancel() of a waiting task returns true")
  t.is(sleeper:status(), "cancelled", "status cancelled")
  t.ok(closed_var, "the cancelled task's <close> variable closed")
  t.ok(not sleeper:cancel(), "cancelling again returns false")
  local ok3, msg3, code3 = sleeper:join()
  t.ok(ok3 == nil and msg3 == "task cancelled" and code3 == "cancelled", "join of a cancelled task")


  -- A real wait in join(): long takes 20 slices of ~0.6M instructions, at
  -- least 200 ms; this runs about 40 ms after the start.
  t.is(long:status(), "waiting", "the long task is still going")
  local ok4, n = long:join()
  t.ok(ok4 and n == 20, "join waited for 20 slices (12M instructions, 5M budget each)")

  local me = coroutine.running()
  t.ok(me ~= nil, "tasks are coroutines")
  local self_handle
  self_handle = perch.spawn(function()
    t.raises(function() self_handle:cancel() end, "cannot cancel itself", "a task cannot cancel itself")
    t.raises(function() self_handle:join() end, "cannot join itself", "a task cannot join itself")
  end)
  perch.sleep(5)

  local never = perch.spawn(function() error("a cancelled ready task must not run") end)
  t.ok(never:cancel(), "cancel a task that has not started")

  do
    local scoped <close> = perch.spawn(function() perch.sleep(10000) end)
    perch.sleep(1)
    t.is(scoped:status(), "waiting", "<close> task waiting inside its scope")
  end
  local h = perch.spawn(function() end)
  h:close()
  t.raises(function() h:status() end, "task is closed", "a closed handle raises on use")
  t.like(tostring(h), "closed", "__tostring of a closed handle")
  perch.sleep(5)
  t.done()
end)
