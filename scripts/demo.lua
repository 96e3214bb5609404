-- demo.lua - perch's default app until the camera app exists: a small
-- "sensor node" that shows the runtime at work.
--
--   perch run scripts/demo.lua --duration 10 [--set demo.hz=20] [--set demo.faulty=true]
--
-- A 'sensor' timer samples a synthetic temperature signal, a 'report' timer
-- logs a moving average once a second, and on_stop prints a summary.  With
-- demo.faulty=true a third callback misbehaves (an error, a runaway loop, a
-- memory bomb) to show the host catching each one while the rest goes on.

local cfg = perch.config.demo or {}
local hz = tonumber(cfg.hz) or 10
local window = {}
local samples, reports = 0, 0
local t0 = perch.now()

local function read_sensor(t)
  -- 40 °C baseline, a slow 0.05 Hz swing and a little deterministic ripple
  return 40 + 5 * math.sin(2 * math.pi * 0.05 * t) + 0.3 * math.sin(17 * t)
end

perch.every(1000 / hz, function()
  samples = samples + 1
  window[#window + 1] = read_sensor(perch.now() - t0)
  if #window > hz then table.remove(window, 1) end
end)

perch.every(1000, function()
  reports = reports + 1
  local sum = 0
  for _, v in ipairs(window) do sum = sum + v end
  perch.log.info("t=%4.1fs  temperature avg %.2f C over %d samples  (Lua heap %.0f KiB)",
                 perch.now() - t0, sum / math.max(#window, 1), #window, collectgarbage("count"))
end)

if cfg.faulty then
  local n = 0
  perch.every(1500, function()
    n = n + 1
    if n == 1 then error("a plugin bug") end
    if n == 2 then while true do end end
    if n == 3 then local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(1 << 16) end end
  end)
end

perch.on_stop(function()
  perch.log.info("demo done: %d samples at %d Hz, %d reports", samples, hz, reports)
end)

perch.log.info("demo started: sampling at %d Hz (perch %s)", hz, perch.version)
