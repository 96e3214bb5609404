-- generate.lua - writes the example sensor traces of policies/traces/.
--
--   perch run policies/traces/generate.lua --set lua.budget=0 \
--       --set trace.kind=discharge --set trace.step=60 --set trace.out=discharge.csv
--
-- kinds (the committed files were written with the step shown):
--   discharge  24 h: a full battery drains, charges on mains from hour 10
--              to 13, then drains to almost empty; motion bursts and user
--              sessions through the day                          (step 60)
--   thermal    1 h: the SoC heats to its throttling range, stays there,
--              cools back; the firmware reports throttling above 80 °C  (step 5)
--   noisy      1 h: a noisy temperature and battery hovering at policy
--              thresholds, stuck at one reading from minute 20 to 35, and
--              a few missing cells                               (step 2)
-- The pseudo-random numbers come from a fixed LCG, so the files are the
-- same on every machine.  `perch sim` reads them; tests/runtime/sim.t uses
-- the discharge kind at step 1 for a full-day replay.

local cfg = perch.config.trace or {}
local kind = cfg.kind or "discharge"
local step = tonumber(cfg.step) or 60
local out = cfg.out or (kind .. ".csv")

local seed = 12345
local function rand()  -- 0..1
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
end
local function noise(a) return (rand() + rand() + rand() - 1.5) * a end
local function clamp(x, lo, hi) return x < lo and lo or x > hi and hi or x end

local function fmt(v)
  if v == nil then return "" end
  if v == true then return "1" elseif v == false then return "0" end
  if v == math.floor(v) then return ("%d"):format(v) end
  return ("%.3f"):format(v):gsub("0+$", ""):gsub("%.$", "")
end

local kinds = {}

function kinds.discharge(t)
  local h = t / 3600
  local battery, on_ac, power
  if h < 10 then
    battery, on_ac, power = 100 - 7.5 * h, false, -3.5
  elseif h < 13 then
    battery, on_ac, power = 25 + 20 * (h - 10), true, 8
  else
    battery, on_ac, power = 85 - 7.45 * (h - 13), false, -3.5
  end
  -- Motion: a 3-minute burst every 20 minutes, busier by day (8 h - 20 h).
  local day = h >= 8 and h < 20
  local in_burst = (t % 1200) < 180 and (day or (t % 3600) < 180)
  local motion = clamp((in_burst and 0.2 or 0.01) + noise(0.01), 0, 1)
  local user = (h >= 8 and h < 9) or (h >= 14 and h < 15) or (h >= 19 and h < 20)
  return {
    battery = clamp(battery, 0, 100), on_ac = on_ac, charging = on_ac and battery < 100,
    power_w = power + noise(0.2), temp = 48 + 6 * math.sin(2 * math.pi * (h - 9) / 24) + noise(0.5),
    temp_crit = 85, motion = motion, user_active = user,
    link_quality = clamp(0.75 + 0.2 * math.sin(h) + noise(0.1), 0, 1),
  }
end

function kinds.thermal(t)
  local m = t / 60
  local temp
  if m < 25 then temp = 45 + 37 * m / 25
  elseif m < 35 then temp = 82 + 1.5 * math.sin(m)
  elseif m < 55 then temp = 82 - 37 * (m - 35) / 20
  else temp = 45 end
  temp = temp + noise(0.3)
  return { battery = 80, on_ac = true, charging = false, temp = temp, temp_crit = 85,
           throttled = temp >= 80, motion = 0.1, user_active = true, link_quality = 0.9 }
end

function kinds.noisy(t)
  local m = t / 60
  local temp = 70 + noise(4)
  if m >= 20 and m < 35 then temp = 71 end  -- the sensor is stuck
  local row = {
    battery = clamp(60 + noise(2), 0, 100), on_ac = false, temp = temp, temp_crit = 85,
    motion = clamp(0.05 + noise(0.04), 0, 1), user_active = false,
    link_quality = clamp(0.7 + noise(0.3), 0, 1),
  }
  -- A few readings lost.
  if m >= 45 and m < 46 then row.battery = nil end
  if m >= 50 and m < 50.5 then row.temp, row.link_quality = nil, nil end
  return row
end

local COLS = { "battery", "on_ac", "charging", "power_w", "temp", "temp_crit", "throttled",
               "motion", "user_active", "link_quality" }
local LENGTH = { discharge = 86400, thermal = 3600, noisy = 3600 }

local gen = kinds[kind]
if not gen then error("trace.kind must be discharge, thermal or noisy, not " .. tostring(kind)) end
local f = assert(io.open(out, "w"))
local used = {}
for _, c in ipairs(COLS) do
  if gen(0)[c] ~= nil then used[#used + 1] = c end
end
f:write("# ", kind, " trace, ", step, " s steps (policies/traces/generate.lua)\n")
f:write("time,", table.concat(used, ","), "\n")
local row = {}
for t = 0, LENGTH[kind], step do
  local r = gen(t)
  row[1] = fmt(t)
  for i, c in ipairs(used) do row[i + 1] = fmt(r[c]) end
  f:write(table.concat(row, ","), "\n")
end
f:close()
perch.stop()
