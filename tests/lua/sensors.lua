-- perch.sensors on whatever this machine's /sys holds: the shapes of
-- read() and inputs(), and the on_sample handle (raises on misuse, closes
-- once, at most PR_SAMPLER_MAX_SUBS).  Values from a fake tree are checked
-- in tests/runtime/sensors.t.
local t = require "perch.test"
local S = perch.sensors

t.plan(16)

local r = S.read()
t.is(type(r), "table", "read() returns a table")
t.ok(type(r.supplies) == "table" and type(r.zones) == "table" and type(r.cpufreq) == "table",
     "supplies, zones, cpufreq lists")
t.is(type(r.throttled.present), "boolean", "throttled.present said either way")
t.ok(r.summary.has_battery == not r.summary.no_battery
     and r.summary.has_thermal == not r.summary.no_thermal, "summary: has_* and no_* agree")
t.ok(r.age >= 0 and r.root == "/sys", "snapshot age and root")
local shapes = true
for _, z in ipairs(r.zones) do
  if z.temp and (type(z.temp.value) ~= "number" or type(z.temp.age) ~= "number"
                 or type(z.temp.stale) ~= "boolean" or type(z.temp.stuck) ~= "boolean") then
    shapes = false
  end
end
t.ok(shapes, "each zone temp is { value, age, stale, stuck }")

local i = S.inputs()
local allowed = { time = "number", battery = "number", on_ac = "boolean", charging = "boolean",
                  power_w = "number", temp = "number", temp_crit = "number",
                  throttled = "boolean", stale = "table" }
local bad = {}
for k, v in pairs(i) do
  if allowed[k] ~= type(v) then bad[#bad + 1] = k end
end
t.is(table.concat(bad, ","), "", "inputs(): only the contract's sensor fields, with their types")
local why_ok = true
for k, why in pairs(i.stale) do
  if i[k] ~= nil or not (why == "missing" or why == "stale" or why == "stuck") then why_ok = false end
end
t.ok(why_ok, "every stale[name] is a reason for a nil value")
for _, k in ipairs({ "battery", "on_ac", "charging", "power_w", "temp", "temp_crit", "throttled" }) do
  if i[k] == nil and i.stale[k] == nil then why_ok = false end
end
t.ok(why_ok, "every nil input has its reason")
t.ok(math.abs(i.time - perch.now()) < 1, "inputs().time is perch.now()")

t.raises(function() S.on_sample("soon") end, "function expected", "on_sample needs a function")
local sub = S.on_sample(function() end)
t.like(tostring(sub), "^perch%.sensors%.sub %(.*sensors%.lua:%d+%)$", "__tostring names where")
sub:close()
sub:close()
t.like(tostring(sub), "closed", "closed twice, harmlessly")
do
  local _ <close> = S.on_sample(function() end)
end
-- The runtime holds some slots itself (the safety floor): a script gets at
-- least 8, then a clear error.
local subs, err = {}, nil
while #subs <= 64 do
  local ok, s = pcall(S.on_sample, function() end)
  if not ok then err = s; break end
  subs[#subs + 1] = s
end
t.ok(#subs >= 8 and #subs < 64, "the <close> one was released; at least 8 fit, then a limit")
t.like(tostring(err), "at most %d+ subscribers", "over the limit raises, naming it")
for _, s in ipairs(subs) do s:close() end
t.ok(S.on_sample(function() end) ~= nil, "closing frees the slots")

t.done()
