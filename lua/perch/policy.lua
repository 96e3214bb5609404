-- perch.policy - pure decision functions with checked parameters, and the
-- engine that runs several of them and arbitrates their votes.
--
--   local policy = require "perch.policy"       -- also perch.policy
--   local p = perch.policy{ name = "framerate",
--     params = { low_pct = { type = "number", min = 0, max = 100, default = 30 } },
--     decide = function(inputs, params, prev) return { fps = 10 }, "why" end }
--   p:set("low_pct", 25)                         -- checked; the REPL uses this
--   local eng = policy.engine{ policies = { p, ... } }
--   local r = eng:step(inputs)                   -- r.fps = { value, by, why }
--
-- decide(inputs, params, prev) must be pure: whatever it needs to remember
-- (a level and when it was entered, a smoothed value) goes into the
-- decision it returns and comes back as prev; time comes from inputs.time.
-- The helpers for that (levels, ewma, limit) are in perch.hysteresis and
-- re-exported here.  Inputs are CONTRACT section 1's flat table.

local H = require "perch.hysteresis"

local M = {}
for k, v in pairs(H) do M[k] = v end

-- Actuators the engine arbitrates, and how: the most restrictive vote wins.
M.ACTUATORS = { "fps", "jpeg_quality", "cpu_max_khz", "cpu_governor", "upstream_allowed" }
-- cpu_governor: the governor that saves most power is the most restrictive;
-- one not listed ranks just below performance.
local GOVERNOR_RANK = { powersave = 1, conservative = 2, schedutil = 3, ondemand = 3,
                        userspace = 4, performance = 5 }
local VOTE_CHECK = {
  fps = function(v) return type(v) == "number" and v >= 0 and v == v, "a number >= 0" end,
  jpeg_quality = function(v)
    return math.type(v) == "integer" and v >= 1 and v <= 100, "an integer 1..100"
  end,
  cpu_max_khz = function(v) return type(v) == "number" and v > 0, "a number > 0" end,
  cpu_governor = function(v) return type(v) == "string", "a string" end,
  upstream_allowed = function(v) return type(v) == "boolean", "a boolean" end,
  mode = function(v) return type(v) == "string", "a string" end,
}

local SOURCES = { ["@lua/perch/policy.lua"] = true, ["@lua/perch/hysteresis.lua"] = true }

-- "file:line: " of the first caller outside this library, for error messages.
local function where()
  for level = 3, 30 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.currentline and info.currentline > 0 and not SOURCES[info.source] then
      return ("%s:%d: "):format(info.short_src, info.currentline)
    end
  end
  return ""
end

local function fail(fmt, ...) error(where() .. fmt:format(...), 0) end

local function show(v)
  return type(v) == "string" and ("'%s'"):format(v) or tostring(v)
end

------------------------------------------------------------ the schema

local TYPES = { number = true, integer = true, boolean = true, string = true }
local SCHEMA_KEYS = { type = true, min = true, max = true, enum = true, default = true, doc = true }

-- nil if v fits schema entry s, else what is wrong with it.
local function check_param(s, v)
  if s.enum then
    for _, e in ipairs(s.enum) do
      if v == e then return nil end
    end
    local list = {}
    for _, e in ipairs(s.enum) do list[#list + 1] = show(e) end
    return ("= %s is not one of %s"):format(show(v), table.concat(list, ", "))
  end
  local ty = s.type
  local ok
  if ty == "integer" then ok = math.type(v) == "integer"
  elseif ty == "number" then ok = type(v) == "number" and v == v
  else ok = type(v) == ty end
  if not ok then
    return ("must be %s %s, got %s %s"):format(ty == "integer" and "an" or "a", ty, type(v), show(v))
  end
  if (s.min and v < s.min) or (s.max and v > s.max) then
    return ("= %s is out of range [%s, %s]"):format(show(v), tostring(s.min or "-inf"),
                                                    tostring(s.max or "inf"))
  end
  return nil
end

local function check_schema(name, params)
  local keys = {}
  for key, s in pairs(params) do
    if type(key) ~= "string" or type(s) ~= "table" then
      fail("policy '%s': params.%s must be a table { type =, default =, ... }", name, tostring(key))
    end
    for k in pairs(s) do
      if not SCHEMA_KEYS[k] then
        fail("policy '%s': params.%s: unknown schema field '%s' (type, min, max, enum, default, doc)",
             name, key, tostring(k))
      end
    end
    if not s.enum and not TYPES[s.type] then
      fail("policy '%s': params.%s: type must be number, integer, boolean or string (or give enum)",
           name, key)
    end
    if s.enum and (type(s.enum) ~= "table" or #s.enum == 0) then
      fail("policy '%s': params.%s: enum must be a non-empty list", name, key)
    end
    if s.default == nil then fail("policy '%s': params.%s has no default", name, key) end
    local bad = check_param(s, s.default)
    if bad then fail("policy '%s': params.%s: default %s", name, key, bad) end
    keys[#keys + 1] = key
  end
  table.sort(keys)
  return keys
end

------------------------------------------------------------ a policy

local Policy = {}
Policy.__index = Policy

local function unknown_key(self, key)
  fail("policy '%s': unknown parameter %s (known: %s)", self.name, show(key),
       #self.keys > 0 and table.concat(self.keys, ", ") or "none")
end

-- p:set(key, value) or p:set{ key = value, ... } -> true.  Raises naming the
-- policy, the key and what is wrong; on error nothing is changed.
function Policy:set(key, value)
  local changes = key
  if type(key) ~= "table" then
    if key == nil then fail("policy '%s': set needs a parameter name", self.name) end
    if not self.schema[key] then unknown_key(self, key) end
    if value == nil then
      fail("policy '%s': parameter '%s' must be %s, got nil", self.name, key,
           self.schema[key].enum and "one of its values" or "a " .. self.schema[key].type)
    end
    changes = { [key] = value }
  end
  local new = {}
  for k, v in pairs(self.values) do new[k] = v end
  for k, v in pairs(changes) do
    local s = self.schema[k]
    if not s then unknown_key(self, k) end
    -- Whole floats are fine for integers: "--set x=3" may arrive as 3.0.
    if s.type == "integer" and math.type(v) == "float" and math.tointeger(v) then
      v = math.tointeger(v)
    end
    local bad = check_param(s, v)
    if bad then fail("policy '%s': parameter '%s' %s", self.name, k, bad) end
    new[k] = v
  end
  if self.check then
    local bad = self.check(new)
    if bad then fail("policy '%s': %s", self.name, bad) end
  end
  for k, v in pairs(new) do self.values[k] = v end
  return true
end

-- Back to the schema's defaults.
function Policy:reset()
  local d = {}
  for k, s in pairs(self.schema) do d[k] = s.default end
  return self:set(d)
end

-- p:decide(inputs, prev) -> decision, why.  Raises if decide does, or if a
-- vote has the wrong type (the engine turns both into "no vote").
function Policy:decide(inputs, prev)
  local d, why = self.decide_fn(inputs, self.params, prev)
  if type(d) ~= "table" then
    error(("policy '%s': decide returned %s, not a decision table"):format(self.name, type(d)), 0)
  end
  for key, check in pairs(VOTE_CHECK) do
    local v = d[key]
    if v ~= nil then
      local ok, want = check(v)
      if not ok then
        error(("policy '%s': vote %s = %s must be %s"):format(self.name, key, show(v), want), 0)
      end
    end
  end
  if why == nil then why = d.why end
  return d, why == nil and "" or tostring(why)
end

function Policy:__tostring()
  return ("perch.policy %s (%d params)"):format(self.name, #self.keys)
end

-- Values go through set (checked) even when assigned: p.params.x = 3.
local function params_proxy(self)
  return setmetatable({}, {
    __index = self.values,
    __newindex = function(_, k, v) self:set(k, v) end,
    __pairs = function() return next, self.values, nil end,
    __len = function() return 0 end,
  })
end

local SPEC_KEYS = { name = true, params = true, decide = true, check = true, doc = true, values = true }

-- new{ name, params = schema, decide, check = fn(params) -> nil | message,
--      doc, values = initial overrides } -> policy
function M.new(spec)
  if type(spec) ~= "table" then fail("perch.policy: expected a table { name =, params =, decide = }") end
  local name = spec.name
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    fail("perch.policy: name must be an identifier, got %s", show(name))
  end
  for k in pairs(spec) do
    if not SPEC_KEYS[k] then
      fail("policy '%s': unknown field %s (name, params, decide, check, doc, values)", name, show(k))
    end
  end
  if type(spec.decide) ~= "function" then fail("policy '%s': decide must be a function", name) end
  if spec.check ~= nil and type(spec.check) ~= "function" then
    fail("policy '%s': check must be a function", name)
  end
  local schema = spec.params or {}
  if type(schema) ~= "table" then fail("policy '%s': params must be a table", name) end
  local self = setmetatable({
    name = name, doc = spec.doc, schema = schema, keys = check_schema(name, schema),
    decide_fn = spec.decide, check = spec.check, values = {},
  }, Policy)
  for k, s in pairs(schema) do self.values[k] = s.default end
  if self.check then
    local bad = self.check(self.values)
    if bad then fail("policy '%s': defaults: %s", name, bad) end
  end
  self.params = params_proxy(self)
  if spec.values then self:set(spec.values) end
  return self
end

function M.is(x) return getmetatable(x) == Policy end

-- Schema entries in one line: num(min, max, default, doc), int(...).
function M.num(min, max, default, doc) return { type = "number", min = min, max = max, default = default, doc = doc } end
function M.int(min, max, default, doc) return { type = "integer", min = min, max = max, default = default, doc = doc } end

-- charge_band(prev, inputs, edges, opts) -> levels state, note
-- The battery bands of the frame-rate and quality tables: above edges[1]
-- is band 1, from edges[2] up to edges[1] (both included) band 2, from
-- edges[3] band 3, below it band 4.  A band falls at once and rises only
-- opts.hysteresis past its edge and after opts.dwell seconds in it.  An
-- unknown charge counts as band 1 on mains and band 3 otherwise; note
-- says so (nil when the charge is known).  opts.names names the bands.
function M.charge_band(prev, inputs, edges, opts)
  local b, note = inputs.battery, nil
  if b == nil then
    local mains = inputs.on_ac or inputs.charging
    b = mains and 100 or (edges[2] + edges[3]) / 2
    note = ("%s%s: as %s"):format(M.unknown(inputs, "battery"), mains and ", on mains" or "",
                                   opts.names[mains and 1 or 3])
  end
  local bands = H.levels{
    names = opts.names, higher_is_worse = false, hysteresis = opts.hysteresis, dwell = opts.dwell,
    classify = function(x)
      if x > edges[1] then return 1 end
      if x >= edges[2] then return 2 end
      if x >= edges[3] then return 3 end
      return 4
    end,
  }
  return bands:step(prev, b, inputs.time), note
end

-- "temp unknown (stuck)": for the why of a policy that met a nil input.
function M.unknown(inputs, field)
  local why = type(inputs.stale) == "table" and inputs.stale[field] or "missing"
  return ("%s unknown (%s)"):format(field, why)
end

------------------------------------------------------------ arbitration

local function more_restrictive(act, a, b)
  if act == "upstream_allowed" then return a == false and b == true end
  if act == "cpu_governor" then return (GOVERNOR_RANK[a] or 4.5) < (GOVERNOR_RANK[b] or 4.5) end
  return a < b
end

-- arbitrate(list of { name, decision, why }) -> actuator -> { value, by, why }
-- For each actuator the most restrictive vote wins; on a tie the first
-- policy in the list.  Actuators nobody voted on are absent.
function M.arbitrate(votes)
  local out = {}
  for _, act in ipairs(M.ACTUATORS) do
    local best
    for _, v in ipairs(votes) do
      local x = v.decision[act]
      if x ~= nil and (not best or more_restrictive(act, x, best.value)) then
        best = { value = x, by = v.name, why = v.why }
      end
    end
    out[act] = best
  end
  return out
end

------------------------------------------------------------ the engine

local Engine = {}
Engine.__index = Engine

-- engine{ policies = { p, ... }, mode_from = "power" } -> engine
-- mode_from names the policy whose decision.mode is r.mode (default
-- "power"; if it has none, the first policy with a mode).
function M.engine(opts)
  if type(opts) ~= "table" or type(opts.policies) ~= "table" then
    fail("policy.engine: expected { policies = { p, ... } }")
  end
  local self = setmetatable({ policies = {}, prev = {}, errors = {}, steps = 0,
                              mode_from = opts.mode_from or "power" }, Engine)
  for i, p in ipairs(opts.policies) do
    if not M.is(p) then
      -- { require "a", require "b" }: the last require also yields its path.
      local hint = type(p) == "string" and i == #opts.policies and i > 1
        and "; a require last in a list also returns its file name: write (require \"...\")" or ""
      fail("policy.engine: policies[%d] is not a policy (%s)%s", i, type(p), hint)
    end
    self:add(p, true)
  end
  return self
end

-- Add p, replacing the policy of the same name (its state is dropped).
function Engine:add(p, fresh)
  if not M.is(p) then fail("engine:add: not a policy (%s)", type(p)) end
  for i, q in ipairs(self.policies) do
    if q.name == p.name then
      if fresh then fail("policy.engine: two policies named '%s'", p.name) end
      self.policies[i] = p
      self.prev[p.name] = nil
      return p
    end
  end
  self.policies[#self.policies + 1] = p
  return p
end

function Engine:policy(name)
  for _, p in ipairs(self.policies) do
    if p.name == name then return p end
  end
  return nil
end

-- Run every policy protected and arbitrate.  Never raises: a policy that
-- errors gives no vote, keeps its last good state, and its message is in
-- r.policies[name].error (and counted in engine.errors[name]).
function Engine:step(inputs)
  local r = { time = type(inputs) == "table" and inputs.time or nil, policies = {} }
  local votes = {}
  for _, p in ipairs(self.policies) do
    local ok, d, why = pcall(p.decide, p, inputs, self.prev[p.name])
    if ok then
      self.prev[p.name] = d
      r.policies[p.name] = { decision = d, why = why }
      votes[#votes + 1] = { name = p.name, decision = d, why = why }
    else
      r.policies[p.name] = { error = tostring(d) }
      self.errors[p.name] = (self.errors[p.name] or 0) + 1
    end
  end
  for act, v in pairs(M.arbitrate(votes)) do r[act] = v end
  local from = r.policies[self.mode_from]
  if from and from.decision and from.decision.mode then
    r.mode = from.decision.mode
  else
    for _, v in ipairs(votes) do
      if v.decision.mode then r.mode = v.decision.mode; break end
    end
  end
  self.steps = self.steps + 1
  self.last = r
  return r
end

------------------------------------------------------------ live

-- The policies running live (perch.policy.run), by name: the REPL's
-- :policies and :set look here.
M.live = {}

-- Live glue (sensors -> engine -> actuators) is in perch.runner; a tail
-- call, so its argument errors name the caller's line.
function M.run(opts) return require("perch.runner").run(opts) end

return setmetatable(M, { __call = function(_, spec) return M.new(spec) end })
