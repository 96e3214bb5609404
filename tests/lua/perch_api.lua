-- The perch module: clock, config, log, version, on_stop, and the host's
-- protection as seen from a script.
local t = require "perch.test"

t.plan(13)

local a = perch.now()
local b = perch.now()
t.ok(type(a) == "number" and b >= a, "perch.now() is a monotonic number")
t.like(perch.version, "^%d+%.%d+%.%d+$", "perch.version")
t.is(type(perch.config), "table", "perch.config is a table")
t.is(type(perch.log.info), "function", "perch.log.info exists")
t.raises(function() perch.log.warn("%d", "not a number") end, "bad argument #2 to '[%w.]*format' %(number expected",
  "log format errors name the argument")
t.is(perch.log.level(), "warn", "perch.log.level() reports the --log-level")
t.raises(function() perch.on_stop(42) end, "function expected", "on_stop needs a function")

-- Modules next to the script are found by require.
local ok, err = pcall(require, "no_such_module_here")
t.ok(not ok and err:find("no_such_module_here", 1, true), "missing module error names it")

-- pcall inside a callback still works for ordinary errors.
perch.after(1, function()
  local ok2, e = pcall(error, "caught")
  t.ok(not ok2 and e == "caught", "ordinary pcall works inside callbacks")
  -- coroutines work and are budgeted like the rest
  local co = coroutine.wrap(function(x) local y = coroutine.yield(x + 1); return y * 2 end)
  t.is(co(1), 2, "coroutine yields")
  t.is(co(5), 10, "coroutine resumes")
  -- Memory use is accounted: collectgarbage("count") works under the custom allocator.
  local before = collectgarbage("count")
  local big = string.rep("z", 1 << 20)
  t.ok(collectgarbage("count") - before >= 1000, "allocations are visible to the collector")
  big = nil
  -- A failing callback does not stop the test (the host catches it); the
  -- next timer still runs.
  perch.after(1, function() error("expected failure (logged)") end)
  perch.after(20, function()
    t.ok(true, "timers run after another callback failed")
    t.done()
  end)
end)
