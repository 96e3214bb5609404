-- idle.lua - an app that does next to nothing: one 100 ms timer with a
-- trivial callback.  bench/run measures its resident memory and CPU use;
-- it runs until stopped (--duration, SIGINT/SIGTERM).

local perch = require "perch"

local ticks = 0
perch.every(100, function()
  ticks = ticks + 1
end)

perch.on_stop(function()
  perch.log.info("idle: %d ticks", ticks)
end)
