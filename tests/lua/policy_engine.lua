-- perch.policy: definition and parameter checks (errors name the policy,
-- the key and the caller's file:line), live tuning, the engine's
-- arbitration, and policies that fail.
local t = require "perch.test"
local policy = require "perch.policy"

t.plan(34)

t.is(perch.policy, policy, "perch.policy is the embedded module")
t.is(package.loaded["perch.policy"], policy, "and the same as require 'perch.policy'")
t.is(perch.no_such_module, nil, "other absent perch keys stay nil")

local function cap(name, votes, why)
  return perch.policy{
    name = name,
    params = {
      limit = { type = "number", min = 0, max = 100, default = 50, doc = "a limit" },
      steps = { type = "integer", min = 1, max = 10, default = 3 },
      on = { type = "boolean", default = true },
      style = { enum = { "soft", "hard" }, default = "soft" },
    },
    decide = function(inputs, params, prev)
      local d = {}
      for k, v in pairs(votes) do d[k] = v end
      d.count = (prev and prev.count or 0) + 1
      return d, why or (name .. " says so")
    end,
  }
end

local p = cap("a", { fps = 10 })
t.is(p.name, "a", "p.name")
t.is(p.params.limit, 50, "p.params has the defaults")

-- Parameter errors: message names the policy, the key, and where.
local line = debug.getinfo(1, "l").currentline
local ok, err = pcall(p.set, p, "limt", 3)
t.like(err, "^tests/lua/policy_engine%.lua:" .. (line + 1) .. ": policy 'a': unknown parameter 'limt'",
       "unknown key: file:line, policy and key")
t.like(err, "known: limit, on, steps, style", "unknown key: lists the known ones")
t.raises(function() p:set("limit", 150) end, "policy 'a': parameter 'limit' = 150 is out of range %[0, 100%]",
         "out of range names key, value and range")
t.raises(function() p:set("limit", "high") end, "parameter 'limit' must be a number, got string 'high'",
         "wrong type")
t.raises(function() p:set("steps", 2.5) end, "parameter 'steps' must be an integer", "integer checked")
t.raises(function() p:set("style", "medium") end, "parameter 'style' = 'medium' is not one of 'soft', 'hard'",
         "enum checked")
t.raises(function() p:set("on", nil) end, "parameter 'on' must be a boolean, got nil", "nil refused")
t.raises(function() p:set{ limit = 20, bogus = 1 } end, "unknown parameter 'bogus'", "table form checked")
t.is(p.params.limit, 50, "a failed set changes nothing")
t.ok(p:set("limit", 20) and p.params.limit == 20, "p:set changes a value")
t.ok(p:set("steps", 4.0) and math.type(p.params.steps) == "integer", "whole float accepted for integer")
p.params.limit = 30
t.is(p.params.limit, 30, "assigning p.params.x goes through set")
t.raises(function() p.params.limit = -1 end, "out of range", "and is checked")

-- Definition errors.
t.raises(function() perch.policy{ name = "b", decide = print, params = { x = { type = "number" } } } end,
         "policy_engine%.lua:%d+: policy 'b': params.x has no default", "schema without default")
t.raises(function()
  perch.policy{ name = "b", decide = print, params = { x = { type = "number", min = 0, max = 1, default = 2 } } }
end, "params.x: default = 2 is out of range", "default out of its own range")
t.raises(function() perch.policy{ name = "b", decide = print, parms = {} } end, "unknown field 'parms'",
         "unknown spec field")
t.raises(function() perch.policy{ name = "b" } end, "decide must be a function", "decide required")
t.raises(function()
  perch.policy{ name = "b", decide = print, params = { lo = { type = "number", default = 1 } },
                check = function(v) if v.lo > 5 then return "lo must be <= 5" end end }:set("lo", 6)
end, "policy 'b': lo must be <= 5", "cross-parameter check runs on set")

-- Engine: most restrictive vote wins; winner and why recorded.
local fast = cap("fast", { fps = 15, jpeg_quality = 85, upstream_allowed = true, cpu_governor = "performance" })
local slow = cap("slow", { fps = 5, upstream_allowed = false, mode = "saver" }, "battery low")
local mid = cap("mid", { fps = 10, jpeg_quality = 60, cpu_max_khz = 1200000, cpu_governor = "powersave" })
local boom = perch.policy{ name = "boom", decide = function(inputs) return { fps = 1 + inputs.nothing } end }
local eng = policy.engine{ policies = { fast, slow, mid, boom } }
local r = eng:step{ time = 0 }
t.ok(r.fps.value == 5 and r.fps.by == "slow" and r.fps.why == "battery low",
     "fps: lowest wins, with its policy and why")
t.ok(r.jpeg_quality.value == 60 and r.jpeg_quality.by == "mid", "jpeg_quality: lowest wins")
t.ok(r.upstream_allowed.value == false and r.upstream_allowed.by == "slow", "upstream_allowed: false wins")
t.ok(r.cpu_max_khz.value == 1200000 and r.cpu_governor.value == "powersave", "cpu votes arbitrated")
t.is(r.mode, "saver", "mode from the first policy with one (no 'power' policy here)")
t.like(r.policies.boom.error, "policy_engine%.lua:%d+: attempt to perform arithmetic on a nil value",
       "an erroring policy: its error is recorded with file:line")
t.ok(r.policies.boom.decision == nil and r.fps.value ~= 1, "and it gives no vote")
r = eng:step{ time = 1 }
t.is(r.policies.fast.decision.count, 2, "decisions come back as prev")
t.is(eng.errors.boom, 2, "errors counted per policy")
local bad = perch.policy{ name = "bad", decide = function() return { jpeg_quality = 0 } end }
r = policy.engine{ policies = { bad } }:step{}
t.like(r.policies.bad.error, "vote jpeg_quality = 0 must be an integer 1..100", "bad vote types are errors")
t.raises(function() policy.engine{ policies = { fast, fast } } end, "two policies named 'fast'", "unique names")
t.done()
