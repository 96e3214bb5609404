-- policies/power.lua, thermal.lua and quality.lua: their levels and votes,
-- hysteresis against flapping, and unknown inputs.
local t = require "perch.test"
local power = dofile("policies/power.lua")
local thermal = dofile("policies/thermal.lua")
local quality = dofile("policies/quality.lua")

t.plan(28)

local function run(p, seq)
  local d, why
  for i, inputs in ipairs(seq) do
    inputs.time = inputs.time or i
    d, why = p:decide(inputs, d)
  end
  return d, why
end

-- power
local d, why = run(power, { { battery = 80, on_ac = true } })
t.ok(d.mode == "full" and d.upstream_allowed == true, "on mains: full")
t.is(run(power, { { battery = 80, on_ac = false } }).mode, "normal", "on battery, 80%: normal")
d = run(power, { { battery = 25, on_ac = false } })
t.ok(d.mode == "saver" and d.cpu_governor == "powersave", "25%: saver, powersave governor")
d = run(power, { { battery = 5, on_ac = false } })
t.ok(d.mode == "critical" and d.upstream_allowed == false, "5%: critical, no uploads")
d, why = run(power, { { battery = 50 } })
t.like(why, "on_ac unknown %(missing%), taken as battery", "unknown supply: battery, said so")
d, why = run(power, { { on_ac = false, stale = { battery = "stale" } } })
t.is(d.mode, "saver", "unknown charge on battery: unknown_mode (saver)")
t.like(why, "battery unknown %(stale%)", "why says the charge is unknown")
local seq = { { battery = 29, on_ac = false, time = 0 } }
for i = 1, 50 do seq[#seq + 1] = { battery = (i % 2 == 0) and 29.5 or 31.5, on_ac = false, time = i * 100 } end
t.is(run(power, seq).mode, "saver", "charge hovering around 30%: stays saver (hysteresis 3)")
seq[#seq + 1] = { battery = 34, on_ac = false, time = 6000 }
t.is(run(power, seq).mode, "normal", "34%: back to normal")
d = run(power, { { battery = 20, on_ac = true, time = 0 }, { battery = 20, on_ac = false, time = 1 } })
t.is(d.mode, "saver", "unplugged at 20%: saver at once")
t.raises(function() power:set("critical_pct", 40) end, "critical_pct %(40%) must be below saver_pct",
         "check: critical below saver")

-- thermal
d = run(thermal, { { temp = 50, temp_crit = 85 } })
t.ok(d.level == "none" and d.fps == nil and d.cpu_max_khz == nil, "50 °C: none, no votes")
d = run(thermal, { { temp = 72, temp_crit = 85 } })
t.ok(d.level == "moderate" and d.cpu_max_khz == 1440000 and d.fps == 10, "72 °C: moderate, 80% cpu, fps 10")
d = run(thermal, { { temp = 81, temp_crit = 85 } })
t.ok(d.level == "critical" and d.fps == 2 and d.jpeg_quality == 50, "81 °C: critical")
d = run(thermal, { { temp = 84 } })
t.ok(d.level == "emergency" and d.upstream_allowed == false and d.cpu_max_khz == 600000,
     "84 °C with crit_c 85: emergency, cpu at its floor, no uploads")
t.is(run(thermal, { { temp = 84, temp_crit = 100 } }).level, "light", "the zone's trip point is used")
d, why = run(thermal, { { stale = { temp = "stuck" } } })
t.is(d.level, "moderate", "unknown temperature: at least moderate")
t.like(why, "temp unknown %(stuck%)", "why says the sensor is stuck")
d = run(thermal, { { temp = 50, throttled = true } })
t.is(d.level, "moderate", "firmware throttling: at least moderate")
seq = {}
for i = 0, 199 do seq[i + 1] = { temp = (i % 2 == 0) and 71.5 or 68.5, temp_crit = 85, time = i * 2 } end
local levels = {}
d = nil
for _, inp in ipairs(seq) do d = thermal:decide(inp, d); levels[d.level] = true end
t.ok(levels.moderate and not levels.light and not levels.severe, "noise around 70 °C: steady moderate")

-- quality
t.is(run(quality, { { battery = 80, link_quality = 1 } }).jpeg_quality, 85, "good battery and link: 85")
t.is(run(quality, { { battery = 45, link_quality = 1 } }).jpeg_quality, 75, "medium battery: 75")
t.is(run(quality, { { battery = 20, link_quality = 1 } }).jpeg_quality, 60, "low battery: 60")
t.is(run(quality, { { battery = 10, link_quality = 1 } }).jpeg_quality, 40, "emergency battery: 40")
t.is(run(quality, { { battery = 80, link_quality = 0.5 } }).jpeg_quality, 70, "fair link caps at 70")
d, why = run(quality, { { battery = 80, link_quality = 0.1 } })
t.ok(d.jpeg_quality == 50 and why:find("poor link"), "poor link caps at 50 and says so")
d, why = run(quality, { { battery = 80 } })
t.ok(d.jpeg_quality == 70 and why:find("link_quality unknown"), "unknown link: as fair, said so")
t.is(run(quality, { { on_ac = false, link_quality = 1 } }).jpeg_quality, 60, "unknown battery: as low")
t.done()
