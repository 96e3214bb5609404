-- policies/framerate.lua: every row of the frame-rate table, the band
-- edges, unknown inputs, motion hold and band hysteresis.
local t = require "perch.test"
local fr = dofile("policies/framerate.lua")

local function fps(inputs, prev)
  inputs.time = inputs.time or 0
  local d, why = fr:decide(inputs, prev)
  return d.fps, why, d
end

-- battery, user_active, motion -> fps, exactly as in the table (fresh state).
local rows = {
  { 80, true, 0.5, 15, "> 60%, active, high motion" },
  { 80, true, 0.0, 10, "> 60%, active, low motion" },
  { 80, false, 0.0, 5, "> 60%, idle, low motion" },
  { 80, false, 0.5, 10, "> 60%, idle, high motion (the documented extra cell)" },
  { 45, true, 0.0, 10, "30-60%, active: 10" },
  { 45, false, 0.5, 10, "30-60%, high motion: 10" },
  { 45, false, 0.0, 5, "30-60%, idle, low motion: 5" },
  { 45, true, 0.5, 10, "30-60%, active and motion: 10" },
  { 20, true, 0.5, 5, "15-30%, active and motion: 5" },
  { 20, false, 0.0, 5, "15-30%, idle: 5" },
  { 10, true, 0.5, 1, "< 15%, active and motion: 1" },
  { 10, false, 0.0, 1, "< 15%, idle: 1" },
  -- edges: 60 is in 30-60, 30 in 30-60, 15 in 15-30
  { 60, true, 0.5, 10, "60% exactly is the 30-60 band" },
  { 60.5, true, 0.5, 15, "60.5% is above 60" },
  { 30, false, 0.0, 5, "30% exactly: 30-60 band, idle" },
  { 30, true, 0.0, 10, "30% exactly: 30-60 band, active" },
  { 29.9, true, 0.0, 5, "29.9%: 15-30 band" },
  { 15, true, 0.5, 5, "15% exactly is the 15-30 band" },
  { 14.9, true, 0.5, 1, "14.9%: below 15" },
}
t.plan(#rows + 14)

for _, r in ipairs(rows) do
  t.is(fps{ battery = r[1], user_active = r[2], motion = r[3] }, r[4], r[5])
end

-- motion threshold is a parameter: >= motion_high is high
t.is(fps{ battery = 80, user_active = true, motion = 0.05 }, 15, "motion == motion_high counts as high")
fr:set("motion_high", 0.3)
t.is(fps{ battery = 80, user_active = true, motion = 0.2 }, 10, "raised motion_high: 0.2 is low")
fr:reset()

-- Unknown inputs are conservative and the why says so.
local v, why = fps{ user_active = true, motion = 0.5, stale = { battery = "stuck" } }
t.is(v, 5, "unknown battery on battery power: the 15-30% row")
t.like(why, "battery unknown %(stuck%)", "why names the unknown battery and why")
v, why = fps{ battery = 80, motion = 0.0 }
t.is(v, 5, "unknown user_active counts as idle")
t.like(why, "user_active unknown %(missing%)", "why says user_active is unknown")
v, why = fps{ battery = 80, user_active = true }
t.is(v, 10, "unknown motion counts as low")
t.like(why, "motion unknown", "why says motion is unknown")
t.is(fps{ on_ac = true, user_active = true, motion = 0.5 }, 15, "no battery but on mains: as > 60%")

-- Motion stays high for motion_hold_s after the last high frame.
local _, _, d = fps{ time = 100, battery = 80, user_active = true, motion = 0.5 }
t.is(fps({ time = 105, battery = 80, user_active = true, motion = 0.0 }, d), 15, "motion held 5 s later")
t.is(fps({ time = 111, battery = 80, user_active = true, motion = 0.0 }, d), 10, "released after 10 s")

-- Band hysteresis: falls at once, rises only 2% past the edge and after the dwell.
_, _, d = fps{ time = 0, battery = 61, user_active = true, motion = 0.5 }
local a
a, _, d = fps({ time = 10, battery = 59.5, user_active = true, motion = 0.5 }, d)
t.is(a, 10, "draining below 60: down at once")
local seen = {}
for i = 1, 200 do
  local b = 60 + ((i % 2 == 0) and 1.5 or -0.5)
  a, _, d = fps({ time = 10 + i * 5, battery = b, user_active = true, motion = 0.5 }, d)
  seen[a] = true
end
t.ok(seen[10] and not seen[15], "oscillating 59.5..61.5 around 60 stays in the 30-60 band")
a = fps({ time = 2000, battery = 62.5, user_active = true, motion = 0.5 }, d)
t.is(a, 15, "2.5% above the edge and after the dwell: back up")
t.done()
