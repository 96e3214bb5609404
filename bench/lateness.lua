-- lateness.lua - how late a 100 Hz timer fires: for each firing, perch.now()
-- at the start of the callback minus the time it was due (t:info().due, the
-- same CLOCK_MONOTONIC seconds as perch.now()).  After the run (30 s, or
-- --set seconds=N) prints p50/p99/max in microseconds, appends them to
-- $BENCH_JSON when set, and stops.
--
--   perch run bench/lateness.lua --duration 40

local perch = require "perch"

local PERIOD_MS = 10
local seconds = tonumber(perch.config.seconds) or 30
local want = math.floor(seconds * 1000 / PERIOD_MS)

local samples, n = {}, 0
local missed = 0

-- Nearest-rank percentile of a sorted array.
local function pct(sorted, p)
  local i = math.ceil(p / 100 * #sorted)
  return sorted[math.max(1, math.min(#sorted, i))]
end

local report = require("report").report

local function finish()
  table.sort(samples)
  report("timer.lateness.p50", pct(samples, 50), "us")
  report("timer.lateness.p99", pct(samples, 99), "us")
  report("timer.lateness.max", samples[#samples], "us")
  report("timer.missed", missed, "count")
  io.stdout:flush()
  perch.stop()
end

perch.every(PERIOD_MS, function(t)
  local now = perch.now()  -- first, so reading info() is not counted
  local info = t:info()
  n = n + 1
  samples[n] = (now - info.due) * 1e6
  missed = info.missed
  if n >= want then
    t:stop()
    finish()
  end
end)
