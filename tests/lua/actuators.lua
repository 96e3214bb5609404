-- perch.actuators from Lua: misuse raises naming the key (with file:line),
-- values out of range return nil, message, code and change nothing, get()
-- reports requested/effective/mode and the safety floor.  Only in-process
-- actuators are set here: this runs against the machine's real /sys.
local t = require "perch.test"
local perch = require "perch"
local act = perch.actuators

t.plan(22)
t.ok(type(act.set) == "function" and type(act.get) == "function", "perch.actuators.set/get")

t.raises(function() act.set{ fsp = 5 } end, "actuators%.lua:%d+: .*unknown actuator 'fsp'",
  "unknown key raises with file:line and the name")
t.raises(function() act.set{ fps = "fast" } end, "fps must be a number, got string",
  "wrong type for a number")
t.raises(function() act.set{ upstream_allowed = 1 } end, "upstream_allowed must be a boolean, got number",
  "wrong type for a boolean")
t.raises(function() act.set{ cpu_governor = true } end, "cpu_governor must be a string, got boolean",
  "wrong type for a string")
t.raises(function() act.set{ 5 } end, "keys must be actuator names", "array part raises")
t.raises(function() act.set(5) end, "expected a table of actuator values, got number", "non-table raises")

t.is(act.set{ fps = 12, jpeg_quality = 80.4, upstream_allowed = false }, true, "set in-process values")
local g = act.get()
t.is(g.fps.requested, 12, "fps requested")
t.ok(g.fps.effective == 12 or g.fps.clamped_by == "safety", "fps effective (unless the floor holds)")
t.is(g.jpeg_quality.requested, 80, "jpeg_quality rounded to a whole number")
t.is(g.upstream_allowed.effective, false, "upstream_allowed false")
t.is(g.fps.mode, "write", "mode write")
t.is(g.fps.min, 0, "fps range from 0")
t.is(g.fps.max, 1000, "to 1000")
t.is(type(g.safety.engaged), "boolean", "safety.engaged is a boolean")
t.ok(g.safety.samples >= 1, "the floor has seen a sample at start-up")
t.is(g.dry_run, false, "not in dry-run")

local ok, msg, code = act.set{ fps = 10, jpeg_quality = 500 }
t.is(ok, nil, "out of range: nil")
t.like(msg, "^jpeg_quality 500 is outside 1%.%.100$", "message names the value and range")
t.is(code, "ERANGE", "code ERANGE")
t.is(act.get().fps.requested, 12, "all or nothing: fps not changed either")
t.done()
