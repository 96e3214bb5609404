-- Timer handles: every/after, stop, again, close, <close>, GC, bad arguments.
local t = require "perch.test"
local perch = require "perch"

t.plan(23)
t.ok(perch == _G.perch, "require 'perch' is the preloaded global")

-- Bad arguments raise errors that name the problem.
t.raises(function() perch.every(0, function() end) end, "interval must be > 0 ms", "every(0) rejected")
t.raises(function() perch.every(-5, function() end) end, "interval must be > 0 ms", "negative interval rejected")
t.raises(function() perch.after(0 / 0, function() end) end, "interval must be >= 0 ms", "NaN rejected")
t.raises(function() perch.every(10) end, "function expected", "missing callback rejected")
t.raises(function() perch.every("soon", print) end, "number expected", "non-number interval rejected")

local order = {}
perch.after(30, function() order[#order + 1] = "30" end)
perch.after(10, function() order[#order + 1] = "10" end)
perch.after(20, function() order[#order + 1] = "20" end)

-- A dropped handle of an active timer keeps running (C holds it).
local dropped = 0
do perch.every(5, function(h) dropped = dropped + 1; if dropped == 3 then h:stop() end end) end
collectgarbage(); collectgarbage()

local ticks = 0
local ev = perch.every(5, function(h)
  ticks = ticks + 1
  if ticks == 3 then h:stop() end
end)
t.ok(ev:active(), "every() is active at once")
t.like(tostring(ev), "^perch%.timer %(every 5", "__tostring describes it")

local again_count = 0
local one = perch.after(5, function() again_count = again_count + 1 end)

local closed = perch.after(5, function() error("a closed timer must not fire") end)
closed:close()
t.raises(function() closed:again() end, "timer is closed", "a closed handle raises on use")
t.like(tostring(closed), "closed", "__tostring of a closed handle")
closed:close()  -- closing twice is fine

do
  local scoped <close> = perch.every(5, function() error("a <close> timer must not fire") end)
  t.ok(scoped:active(), "<close> timer active inside its scope")
end

local t0 = perch.now()
perch.after(150, function()
  local elapsed = perch.now() - t0
  t.ok(elapsed >= 0.149, ("after(150) fired after %.3f s"):format(elapsed))
  t.is(table.concat(order, ","), "10,20,30", "one-shots fire in due order")
  t.is(ticks, 3, "stop() inside the callback stopped it after 3 ticks")
  t.ok(not ev:active(), "stopped timer is inactive")
  t.is(dropped, 3, "timer whose handle was dropped still ran")
  t.is(again_count, 1, "after() fired once")
  t.ok(not one:active(), "a fired one-shot is inactive")
  local info = ev:info()
  t.is(info.fired, 3, "info().fired counts callbacks")
  t.ok(info["repeat"] == true and info.ms == 5, "info() describes the timer")
  one:again()
  t.ok(one:active(), "again() re-arms a fired one-shot")
  perch.after(50, function()
    t.is(again_count, 2, "re-armed one-shot fired again")
    -- A stopped, unreferenced timer is collected; nothing fires afterwards.
    local weak = setmetatable({}, { __mode = "v" })
    weak[1] = perch.after(1000, function() end):stop()
    collectgarbage(); collectgarbage()
    t.is(weak[1], nil, "a stopped handle nobody holds is collected")
    t.done()
  end)
end)
